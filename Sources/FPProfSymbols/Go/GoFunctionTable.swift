internal import FPProfCore

/// Names and lines from a Go binary's `.gopclntab`, for Go code that DWARF does not describe: binaries built with
/// `-ldflags=-w` or `-s -w`, and assembly functions. Names are Go's own (`runtime.goexit`, where the ELF symbol
/// table says `runtime.goexit.abi0`), as `go tool pprof` and `go tool addr2line` show them.
///
/// The table gives the function that holds the code and the innermost source position; the inline chain needs
/// Go's inline-tree funcdata, which this reader does not decode, so inlined code reads as its real function at the
/// inlined line (as `go tool addr2line` prints it).
final class GoFunctionTable {
    private let table: GoPclntab
    private var names: [Int: String] = [:]

    /// Nil when the file has no readable Go 1.18+ `.gopclntab`.
    init?(file: ElfFile) {
        guard let handle = try? ElfHandle(path: file.path), let section = handle.section(named: ".gopclntab"),
            let bytes = handle.bytes(of: section)
        else { return nil }
        let text = handle.section(named: ".text")?.header.sh_addr ?? 0
        guard let table = GoPclntab(bytes: bytes, textStart: text) else { return nil }
        self.table = table
    }

    /// One frame for `address`, or nil when no Go function holds it.
    func frames(at address: UInt64, inlineFrames: Bool) -> [SymbolFrame]? {
        guard let function = table.function(containing: address) else { return nil }
        let name: String
        if let known = names[function.record] {
            name = known
        } else {
            guard let read = table.name(of: function) else { return nil }
            name = read
            names[function.record] = read
        }
        let location = table.location(of: address, in: function)
        return [SymbolFrame(function: name, file: location?.file, line: location?.line)]
    }

    var byteCount: Int { table.byteCount + names.count * 48 }
}
