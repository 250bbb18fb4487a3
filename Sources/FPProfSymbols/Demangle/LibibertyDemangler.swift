internal import CDemangle
internal import Glibc

/// C++ (Itanium ABI) and Rust (legacy and v0) names through libiberty's `cplus_demangle`, the demangler binutils
/// uses (`c++filt`, `c++filt -p` for `noParams`).
enum LibibertyDemangler {
    /// The longest name retried without libiberty's component limit. By default libiberty refuses any name of
    /// more than 1024 characters, because it keeps two components per character in arrays on the stack; real C++
    /// names pass that (the Swift runtime's `TrailingObjectsImpl` instances are 1300–1400 characters, and
    /// `c++filt -r` reads them). Up to this length those arrays take about 150 KiB, and libiberty's printer stops
    /// past 1024 nested levels whatever the options: the retry needs a few hundred KiB of stack at most.
    static let unlimitedLength = 2048

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
        if let text = run(name, options: options) { return text }
        guard name.utf8.count <= unlimitedLength else { return nil }
        return run(name, options: options | DMGL_NO_RECURSE_LIMIT)
    }

    private static func run(_ name: String, options: Int32) -> String? {
        // Invariant: cplus_demangle reads the NUL-terminated copy Swift passes and returns a malloc'd string (or
        // NULL) that is copied and freed here.
        guard let result = name.withCString({ cplus_demangle($0, options) }) else { return nil }
        defer { free(result) }
        let text = String(cString: result)
        return text.isEmpty ? nil : text
    }
}
