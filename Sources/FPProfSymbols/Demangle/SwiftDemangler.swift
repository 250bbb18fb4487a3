internal import Glibc

/// The Swift runtime's demangler (`swift_demangle` in libswiftCore, which every Swift program links). Declared here
/// by its C name: the runtime exports it for tools, the standard library does not wrap it.
// Invariant: the signature is the one the runtime exports (SwiftShims/Demangle.h's `swift_demangle`): a name and
// its length, an optional output buffer (NULL: the runtime mallocs the result), and flags that must be 0.
@_silgen_name("swift_demangle")
private func swiftRuntimeDemangle(
    _ mangledName: UnsafePointer<CChar>?, _ mangledNameLength: Int, _ outputBuffer: UnsafeMutablePointer<CChar>?,
    _ outputBufferSize: UnsafeMutablePointer<Int>?, _ flags: UInt32
) -> UnsafeMutablePointer<CChar>?

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
            guard let base = bytes.baseAddress else { return nil }
            let result = base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                swiftRuntimeDemangle($0, bytes.count, nil, nil, 0)
            }
            guard let result else { return nil }
            defer { free(result) }
            let text = String(cString: result)
            return text.isEmpty || text == name ? nil : text
        }
    }
}
