import Testing

@testable import FPProfSymbols

/// The table's rules on symbols made up for each case, where a real toolchain would not produce them on demand.
struct SymbolTableTests {
    static let text: Range<UInt64> = 0x1000..<0x2000

    func symbol(
        _ name: String, _ address: UInt64, size: UInt64 = 0, kind: CodeSymbol.Kind = .function,
        binding: CodeSymbol.Binding = .global, section: Range<UInt64> = text
    ) -> CodeSymbol {
        CodeSymbol(name: name, address: address, size: size, kind: kind, binding: binding, section: section)
    }

    func name(_ table: SymbolTable, _ address: UInt64) -> String? { table.entry(containing: address)?.name }

    @Test("a sized symbol covers exactly [address, address + size)")
    func sizedRange() {
        let table = SymbolTable(symbols: [symbol("f", 0x1100, size: 0x20), symbol("g", 0x1140, size: 0x10)])
        #expect(name(table, 0x10ff) == nil)
        #expect(name(table, 0x1100) == "f")
        #expect(name(table, 0x111f) == "f")
        #expect(name(table, 0x1120) == nil)
        #expect(name(table, 0x1140) == "g")
        #expect(name(table, 0x1150) == nil)
    }

    @Test("nested sized ranges: the innermost wins, the outer one keeps the rest")
    func nested() {
        let table = SymbolTable(symbols: [
            symbol("outer", 0x1100, size: 0x100), symbol("inner", 0x1140, size: 0x10),
            symbol("same-start-inner", 0x1100, size: 0x8),
        ])
        #expect(name(table, 0x1104) == "same-start-inner")
        #expect(name(table, 0x1108) == "outer")
        #expect(name(table, 0x1144) == "inner")
        #expect(name(table, 0x1150) == "outer")
        #expect(name(table, 0x11ff) == "outer")
        #expect(name(table, 0x1200) == nil)
    }

    @Test("aliases: function over label, global over weak over local, fewer underscores, then alphabetical")
    func aliases() {
        func winner(_ symbols: [CodeSymbol]) -> String? {
            name(SymbolTable(symbols: symbols), 0x1100)
        }
        #expect(
            winner([symbol("label", 0x1100, size: 8, kind: .untyped), symbol("function", 0x1100, size: 8)])
                == "function")
        #expect(
            winner([symbol("weak", 0x1100, size: 8, binding: .weak), symbol("global", 0x1100, size: 8)]) == "global")
        #expect(
            winner([symbol("local", 0x1100, size: 8, binding: .local), symbol("weak", 0x1100, size: 8, binding: .weak)])
                == "weak")
        #expect(winner([symbol("__libc_malloc", 0x1100, size: 8), symbol("malloc", 0x1100, size: 8)]) == "malloc")
        #expect(winner([symbol("b", 0x1100, size: 8), symbol("a", 0x1100, size: 8)]) == "a")
        // `.symtab` and `.dynsym` both list exported functions: one entry, not two.
        let table = SymbolTable(symbols: [symbol("f", 0x1100, size: 8), symbol("f", 0x1100, size: 8)])
        #expect(table.count == 1)
    }

    @Test("an unsized symbol reaches to the next symbol or the end of its section")
    func unsizedExtension() {
        let table = SymbolTable(symbols: [
            symbol("asm_one", 0x1100), symbol("asm_two", 0x1180, kind: .untyped), symbol("sized", 0x1200, size: 0x10),
            symbol("tail", 0x1f00),
        ])
        #expect(name(table, 0x10ff) == nil)
        #expect(name(table, 0x1100) == "asm_one")
        #expect(name(table, 0x117f) == "asm_one")
        #expect(name(table, 0x1180) == "asm_two")
        #expect(name(table, 0x11ff) == "asm_two")
        #expect(name(table, 0x1200) == "sized")
        #expect(name(table, 0x1210) == nil)
        #expect(name(table, 0x1fff) == "tail")
        #expect(name(table, 0x2000) == nil)
    }

    @Test("an unsized label inside a sized function neither takes its bytes nor the padding after it")
    func labelInsideFunction() {
        let table = SymbolTable(symbols: [
            symbol("function", 0x1100, size: 0x40), symbol(".Lloop", 0x1120, kind: .untyped, binding: .local),
            symbol("next", 0x1180, size: 0x10),
        ])
        #expect(name(table, 0x1130) == "function")
        #expect(name(table, 0x1150) == nil)
        #expect(table.count == 2)
    }

    @Test("versions are removed, mapping symbols and empty names ignored, symbols outside their section dropped")
    func names() {
        let table = SymbolTable(symbols: [
            symbol("memcpy@@GLIBC_2.14", 0x1100, size: 0x10), symbol("memcpy@GLIBC_2.2.5", 0x1100, size: 0x10),
            symbol("$x", 0x1200, kind: .untyped, binding: .local), symbol("$d.12", 0x1300, kind: .untyped),
            symbol("", 0x1400, size: 0x10), symbol("outside", 0x3000, size: 0x10),
            symbol("clipped", 0x1ff0, size: 0x100),
        ])
        #expect(name(table, 0x1104) == "memcpy")
        #expect(table.count == 2)
        #expect(name(table, 0x1204) == nil)
        #expect(name(table, 0x1304) == nil)
        #expect(name(table, 0x1404) == nil)
        #expect(name(table, 0x1ff8) == "clipped")
        #expect(name(table, 0x2000) == nil)
    }

    @Test("unsized symbols in different sections stop at their own section's end")
    func sections() {
        let table = SymbolTable(symbols: [
            symbol("_init", 0x1000, section: 0x1000..<0x1017), symbol("text_start", 0x1020, section: 0x1020..<0x1100),
        ])
        #expect(name(table, 0x1016) == "_init")
        #expect(name(table, 0x1017) == nil)
        #expect(name(table, 0x10ff) == "text_start")
        #expect(name(table, 0x1100) == nil)
    }

    @Test(
        "root names",
        arguments: [
            ("_start", true), ("__libc_start_main", true), ("__libc_start_call_main", true), ("clone", true),
            ("__clone", true), ("clone3", true), ("__clone3", true), ("runtime.goexit", true),
            ("runtime.goexit.abi0", true),
            ("runtime.mstart", true), ("runtime.mstart.abi0", true), ("runtime.rt0_go", true),
            ("runtime.rt0_go.abi0", true), ("_rt0_amd64", true), ("_rt0_amd64_linux", true), ("_rt0_arm64_linux", true),
            ("runtime.clone", true), ("runtime.clone.abi0", true), ("runtime.newosproc", false),
            ("start_thread", false), ("main", false), ("runtime.main", false), ("runtime.goexit1", false),
            ("_start_c", false), ("runtime.mstart1", false),
        ])
    func roots(name: String, isRoot: Bool) {
        #expect(RootFrames.isRoot(name) == isRoot)
        let table = SymbolTable(symbols: [symbol(name + "@@GLIBC_2.34", 0x1100, size: 0x10)])
        #expect(table.index(containing: 0x1108).map(table.isRoot) == isRoot)
    }

    @Test("load segments translate both ways and only inside file bytes")
    func loadSegments() {
        let segments = LoadSegments(segments: [
            LoadSegment(fileOffset: 0, fileSize: 0x618, virtualAddress: 0x400000),
            LoadSegment(fileOffset: 0x1000, fileSize: 0x215, virtualAddress: 0x401000),
            LoadSegment(fileOffset: 0x2dd0, fileSize: 0x248, virtualAddress: 0x403dd0),
        ])
        #expect(segments.virtualAddress(forFileOffset: 0x1010) == 0x401010)
        #expect(segments.virtualAddress(forFileOffset: 0x1215) == nil)
        #expect(segments.virtualAddress(forFileOffset: 0x2dd8) == 0x403dd8)
        #expect(segments.fileOffset(forVirtualAddress: 0x401214) == 0x1214)
        #expect(segments.fileOffset(forVirtualAddress: 0x404018) == nil)
        #expect(segments.fileOffset(forVirtualAddress: 0x3ff000) == nil)
    }
}
