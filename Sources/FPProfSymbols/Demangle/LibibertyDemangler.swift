internal import CDemangle
internal import Glibc

/// C++ (Itanium ABI) and Rust (legacy and v0) names through libiberty's `cplus_demangle`, the demangler binutils
/// uses (`c++filt`, `c++filt -p` for `noParams`).
enum LibibertyDemangler {
    /// Whether `name` looks like an Itanium (`_Z...`) or Rust v0 (`_R...`) mangled name. Only those are handed to
    /// libiberty: its automatic mode would otherwise read some plain C names as GNAT or D names.
    static func isMangled(_ name: String) -> Bool {
        let utf8 = name.utf8
        guard utf8.count > 2, utf8.first == UInt8(ascii: "_") else { return false }
        let second = utf8[utf8.index(after: utf8.startIndex)]
        return second == UInt8(ascii: "Z") || second == UInt8(ascii: "R")
    }

    /// The demangled name, or nil when libiberty cannot read it.
    static func demangle(_ name: String, parameters: Bool) -> String? {
        var options = DMGL_ANSI | DMGL_AUTO
        if parameters { options |= DMGL_PARAMS }
        // Invariant: cplus_demangle reads the NUL-terminated copy Swift passes and returns a malloc'd string (or
        // NULL) that is copied and freed here.
        guard let result = name.withCString({ cplus_demangle($0, Int32(options)) }) else { return nil }
        defer { free(result) }
        let text = String(cString: result)
        return text.isEmpty ? nil : text
    }
}
