internal import CElfutils

/// Reading `.symtab` and `.dynsym`. Both are read and merged: a stripped library keeps only `.dynsym` (its
/// exported functions), an unstripped one has both and `SymbolTable` removes the duplicates.
extension ElfHandle {
    /// The symbols that may name code: functions, indirect functions and untyped labels defined in an executable,
    /// allocated section. Data, files, sections and undefined (imported) symbols are left out here, before their
    /// names are copied, because a large binary has many of them.
    /// In a separate debug file (`debugFile`) the code sections are `SHT_NOBITS`: their headers keep the addresses
    /// and flags of the original, only the bytes are gone, so they still say which symbols name code.
    func codeSymbols(debugFile: Bool = false) -> [CodeSymbol] {
        var executable: [Int: Range<UInt64>] = [:]
        var symbolTables: [ElfSection] = []
        var extendedIndexes: [Int: OpaquePointer] = [:]
        for section in sections {
            let header = section.header
            switch header.sh_type {
            case UInt32(SHT_SYMTAB), UInt32(SHT_DYNSYM):
                symbolTables.append(section)
            case UInt32(SHT_SYMTAB_SHNDX):
                extendedIndexes[Int(header.sh_link)] = section.scn
            default:
                break
            }
            let flags = UInt64(SHF_ALLOC) | UInt64(SHF_EXECINSTR)
            let (end, overflow) = header.sh_addr.addingReportingOverflow(header.sh_size)
            if header.sh_flags & flags == flags, debugFile || header.sh_type != UInt32(SHT_NOBITS), !overflow {
                executable[section.index] = header.sh_addr..<end
            }
        }

        var symbols: [CodeSymbol] = []
        for table in symbolTables {
            readSymbols(
                from: table.scn, strings: Int(table.header.sh_link), extendedIndexes: extendedIndexes[table.index],
                executable: executable, into: &symbols)
        }
        return symbols
    }

    private func readSymbols(
        from scn: OpaquePointer, strings: Int, extendedIndexes: OpaquePointer?, executable: [Int: Range<UInt64>],
        into symbols: inout [CodeSymbol]
    ) {
        let entrySize = gelf_fsize(elf, ELF_T_SYM, 1, UInt32(EV_CURRENT))
        // Invariant: `data` and `extendedData` belong to `elf`, which outlives this call; libelf checked their
        // sizes against the file, and gelf_getsymshndx bounds-checks every index it is given.
        guard entrySize > 0, let data = elf_getdata(scn, nil) else { return }
        let extendedData = extendedIndexes.flatMap { elf_getdata($0, nil) }
        let count = data.pointee.d_size / entrySize
        guard count > 1, count <= Int(Int32.max) else { return }

        for index in 1..<count {
            var symbol = GElf_Sym()
            var extendedIndex: GElf_Word = 0
            guard gelf_getsymshndx(data, extendedData, Int32(index), &symbol, &extendedIndex) != nil else { continue }
            let kind: CodeSymbol.Kind
            switch Int32(symbol.st_info & 0xf) {
            case STT_FUNC, STT_GNU_IFUNC: kind = .function
            case STT_NOTYPE: kind = .untyped
            default: continue
            }
            let sectionIndex: Int
            switch Int32(symbol.st_shndx) {
            case SHN_UNDEF: continue
            case SHN_XINDEX: sectionIndex = Int(extendedIndex)
            case SHN_LORESERVE...: continue
            default: sectionIndex = Int(symbol.st_shndx)
            }
            guard let section = executable[sectionIndex] else { continue }
            // Invariant: elf_strptr returns nil for an offset outside the string table and otherwise a
            // NUL-terminated string inside libelf's copy of it, which is copied into a Swift String right here.
            guard let cName = elf_strptr(elf, strings, Int(symbol.st_name)), cName.pointee != 0 else { continue }
            let binding: CodeSymbol.Binding
            switch Int32(symbol.st_info >> 4) {
            case STB_GLOBAL, STB_GNU_UNIQUE: binding = .global
            case STB_WEAK: binding = .weak
            default: binding = .local
            }
            symbols.append(
                CodeSymbol(
                    name: String(cString: cName), address: symbol.st_value, size: symbol.st_size, kind: kind,
                    binding: binding, section: section))
        }
    }
}
