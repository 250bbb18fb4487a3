internal import Glibc

/// The Swift runtime's demangler, `swift_demangle` in libswiftCore (which every Swift program links), looked up
/// by its C name: the runtime exports it for tools (SwiftShims/Demangle.h), the standard library does not wrap it.
/// Looked up with `dlsym` and called through a C function pointer, so the call uses the C convention it is defined
/// with. Nil if the runtime does not export it.
private typealias SwiftDemangleFunction =
    @convention(c) (
        UnsafePointer<CChar>?, Int, UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<Int>?, UInt32
    ) -> UnsafeMutablePointer<CChar>?

// Invariant: the symbol is the runtime's `swift_demangle`, whose C signature the type above spells out; a global
// `let` is initialized once, under the runtime's lock, and the function stays loaded for the life of the process.
private let swiftRuntimeDemangle: SwiftDemangleFunction? = {
    guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "swift_demangle") else { return nil }
    return unsafeBitCast(symbol, to: SwiftDemangleFunction.self)
}()

enum SwiftDemangler {
    /// Whether `name` carries a Swift mangling prefix (`$s`, `_$s`, `$S`, `_$S`, `$e`, `_T0`).
    static func isMangled(_ name: String) -> Bool {
        name.hasPrefix("$s") || name.hasPrefix("_$s") || name.hasPrefix("$S") || name.hasPrefix("_$S")
            || name.hasPrefix("$e") || name.hasPrefix("_$e") || name.hasPrefix("_T0")
    }

    /// The fully demangled name, or nil when the runtime cannot read it.
    static func demangle(_ name: String) -> String? {
        var copy = name
        return copy.withUTF8 { bytes -> String? in
            // Invariant: `bytes` is valid for the call; the runtime returns a malloc'd NUL-terminated string or NULL.
            guard let base = bytes.baseAddress, let demangle = swiftRuntimeDemangle else { return nil }
            let result = base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                demangle($0, bytes.count, nil, nil, 0)
            }
            guard let result else { return nil }
            defer { free(result) }
            let text = String(cString: result)
            return text.isEmpty || text == name ? nil : text
        }
    }
}
