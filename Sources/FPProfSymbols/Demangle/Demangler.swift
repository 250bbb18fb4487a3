/// Turns stored symbol names into the names a developer knows, per `DemangleMode`: C++ and Rust through libiberty,
/// Swift through the Swift runtime; anything else (C, Go) is returned as it is. Each distinct name is demangled
/// once and remembered (bounded: the cache starts over past `cacheLimit` names).
public struct Demangler: Sendable {
    public let mode: DemangleMode
    private var cache: [String: String] = [:]
    private let cacheLimit: Int

    public init(mode: DemangleMode, cacheLimit: Int = 1 << 18) {
        self.mode = mode
        self.cacheLimit = max(cacheLimit, 1)
    }

    /// `name` as `mode` shows it; the name itself when it is not mangled or cannot be demangled.
    public mutating func callAsFunction(_ name: String) -> String {
        guard mode != .none else { return name }
        if let known = cache[name] { return known }
        let result = Self.demangle(name, mode: mode) ?? name
        if cache.count >= cacheLimit { cache.removeAll(keepingCapacity: true) }
        cache[name] = result
        return result
    }

    /// One name, uncached; nil when it is not a mangled name fpprof reads.
    public static func demangle(_ name: String, mode: DemangleMode) -> String? {
        switch mode {
        case .none:
            return nil
        case .full, .noParams, .simplified:
            if LibibertyDemangler.isMangled(name) {
                let demangled = LibibertyDemangler.demangle(name, parameters: mode == .full)
                guard mode == .simplified, let demangled else { return demangled }
                return SwiftSimplifier.withoutLongTemplateArguments(demangled)
            }
            if SwiftDemangler.isMangled(name), let full = SwiftDemangler.demangle(name) {
                switch mode {
                case .full: return full
                case .simplified: return SwiftSimplifier.simplify(full)
                default: return SwiftSignature.withoutParameters(full)
                }
            }
            return nil
        }
    }
}
