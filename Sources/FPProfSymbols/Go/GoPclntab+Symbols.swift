internal import CElfutils

extension GoPclntab {
    /// Every function in the table as `(entry, end, name)`, in address order; functions without a readable name
    /// are left out.
    func allFunctions() -> [(entry: UInt64, end: UInt64, name: String)] {
        var result: [(entry: UInt64, end: UInt64, name: String)] = []
        result.reserveCapacity(functionCount)
        for index in 0..<functionCount {
            guard let function = function(atIndex: index), let name = name(of: function) else { continue }
            result.append((function.entry, function.end, name))
        }
        return result
    }
}

extension ElfHandle {
    /// Whether the file has a full symbol table (`.symtab`), not only the exported `.dynsym`.
    var hasFullSymbolTable: Bool { sections.contains { $0.header.sh_type == UInt32(SHT_SYMTAB) } }

    /// The functions of a Go binary's `.gopclntab` as code symbols, for a binary stripped of `.symtab`
    /// (`-ldflags=-s`, and every Go program Debian ships). Go's runtime keeps this table for its own tracebacks,
    /// so it names every function, including the ones the unwinder must know by name: the roots
    /// (`runtime.goexit`, `runtime.mstart`) and the stack switches (`runtime.systemstack`, `runtime.mcall`). The
    /// names are Go's, without the `.abi0` suffix the ELF symbol table gives assembly functions. Empty for a file
    /// that has no readable Go 1.18+ table.
    func goFunctionSymbols() -> [CodeSymbol] {
        guard let section = section(named: ".gopclntab"), let bytes = bytes(of: section),
            let text = self.section(named: ".text")
        else { return [] }
        let textRange = text.header.sh_addr..<(text.header.sh_addr &+ text.header.sh_size)
        guard let table = GoPclntab(bytes: bytes, textStart: text.header.sh_addr) else { return [] }
        return table.allFunctions().map {
            CodeSymbol(
                name: $0.name, address: $0.entry, size: $0.end - $0.entry, kind: .function, binding: .global,
                section: textRange)
        }
    }
}
