import FPProfCore
import FPProfSymbols
import Testing

/// fpprof's names for real binaries, compared with binutils (`nm`, `addr2line`) and elfutils (`eu-addr2line`).
@Suite(.enabled(if: Fixtures.toolsAvailable, "needs gcc, nm, readelf, strip, addr2line and eu-addr2line"))
struct FixtureNameTests {
    static let unstripped = ["pie", "non-pie", "shared library"]
    static let everyFile = unstripped + ["stripped pie", "stripped shared library"]

    func path(_ name: String) throws -> String {
        try #require(try Fixtures.get().all.first { $0.name == name }?.path)
    }

    /// The frames fpprof gives for link-time address `address` of the file at `path`, through its file offset as
    /// the program headers (read by readelf) give it.
    func names(_ symbolizer: ElfSymbolizer, _ reference: ReferenceElf, _ addresses: [UInt64]) throws -> [String?] {
        try addresses.map { address in
            let offset = try #require(
                reference.fileOffset(of: address), "no segment holds 0x\(String(address, radix: 16))")
            let frames = symbolizer.frames(
                for: NormalizedAddress(module: ModuleID(path: reference.path), offset: FileOffset(offset)))
            #expect(frames.count <= 1)
            #expect(frames.allSatisfy { !$0.isInlined && $0.file == nil && $0.line == nil })
            // Code no symbol covers is named by the start of its function (`module+0xSTART`, from the CFI): for
            // the symbol-table questions here that is "no name", as the reference tools' `??`.
            let unnamed = ModuleID(path: reference.path).shortName + "+0x"
            return frames.first.map(\.function).flatMap { $0.hasPrefix(unnamed) ? nil : $0 }
        }
    }

    @Test("stripped code is named by the start of its function, the same name for every byte of it")
    func strippedCodeByFunctionStart() throws {
        let unstripped = try ReferenceElf(path: try path("pie"))
        let strippedPath = try path("stripped pie")
        let stripped = try ReferenceElf(path: strippedPath)
        let module = ModuleID(path: strippedPath)
        let symbolizer = ElfSymbolizer()
        var seen: [String: String] = [:]
        for name in ["main", "fx_static_leaf", "fx_exported_one", "fx_exported_two"] {
            let symbol = try #require(unstripped.symbol(named: name))
            let size = try #require(symbol.size)
            let start = try #require(stripped.fileOffset(of: symbol.address))
            let expected = "\(module.shortName)+0x\(String(start, radix: 16))"
            for address in symbol.address..<symbol.address + size {
                let offset = try #require(stripped.fileOffset(of: address))
                let frames = symbolizer.frames(for: NormalizedAddress(module: module, offset: FileOffset(offset)))
                #expect(frames.map(\.function) == [expected], "\(name) at 0x\(String(address, radix: 16))")
            }
            // One name per function: totals per function are those of the unstripped file.
            #expect(seen[expected] == nil, "\(name) and \(seen[expected] ?? "") share \(expected)")
            seen[expected] = name
        }
        #expect(symbolizer.warnings.isEmpty)
    }

    @Test(
        "first, middle and last byte of every sized function: the name nm gives, as addr2line and eu-addr2line do",
        arguments: everyFile)
    func sizedFunctions(file: String) throws {
        let path = try path(file)
        let reference = try ReferenceElf(path: path, dynamic: file.hasPrefix("stripped"))
        let sized = reference.symbols.filter { ($0.size ?? 0) > 0 }
        if file.hasPrefix("stripped") {
            #expect(sized.allSatisfy { $0.name != "fx_static_leaf" && $0.name != "main" })
        } else {
            #expect(Set(sized.map(\.name)).isSuperset(of: ["fx_static_leaf", "fx_exported_one", "fx_exported_two"]))
        }
        var addresses: [UInt64] = []
        var expected: [String?] = []
        for symbol in sized {
            let size = symbol.size ?? 0
            for address in [symbol.address, symbol.address + size / 2, symbol.address + size - 1] {
                addresses.append(address)
                expected.append(symbol.name)
            }
        }
        let symbolizer = ElfSymbolizer()
        #expect(try names(symbolizer, reference, addresses) == expected)
        #expect(try ReferenceNames.lookup(tool: "addr2line", path: path, addresses: addresses) == expected)
        #expect(try ReferenceNames.lookup(tool: "eu-addr2line", path: path, addresses: addresses) == expected)
        #expect(symbolizer.warnings.isEmpty)
    }

    @Test("every byte of every executable section: the same answer as eu-addr2line", arguments: everyFile)
    func everyByteMatchesElfutils(file: String) throws {
        let path = try path(file)
        let reference = try ReferenceElf(path: path)
        let addresses = reference.executableSections.flatMap { $0.address..<($0.address + $0.size) }
        #expect(addresses.count > 100)
        let symbolizer = ElfSymbolizer()
        let ours = try names(symbolizer, reference, addresses)
        let elfutils = try ReferenceNames.lookup(tool: "eu-addr2line", path: path, addresses: addresses)
        let differences = addresses.indices.filter { ours[$0] != elfutils[$0] }.map {
            "0x\(String(addresses[$0], radix: 16)): fpprof \(ours[$0] ?? "-"), eu-addr2line \(elfutils[$0] ?? "??")"
        }
        #expect(differences.isEmpty, "\(differences.prefix(20).joined(separator: "\n"))")
        #expect(symbolizer.warnings.isEmpty)
    }

    @Test("an assembly function without a size owns its bytes up to the next symbol", arguments: unstripped)
    func unsizedAssembly(file: String) throws {
        let path = try path(file)
        let reference = try ReferenceElf(path: path)
        let asm = try #require(reference.symbol(named: "fx_asm_unsized"))
        #expect(asm.size == nil)
        let next = try #require(reference.symbols.first { $0.address > asm.address })
        let addresses = Array(asm.address..<next.address)
        let expected = [String?](repeating: "fx_asm_unsized", count: addresses.count)
        #expect(try names(ElfSymbolizer(), reference, addresses) == expected)
        #expect(try ReferenceNames.lookup(tool: "addr2line", path: path, addresses: addresses) == expected)
    }

    @Test("padding between sized functions has no name", arguments: unstripped)
    func paddingIsUnnamed(file: String) throws {
        let reference = try ReferenceElf(path: try path(file))
        let leaf = try #require(reference.symbol(named: "fx_static_leaf"))
        let end = leaf.address + (leaf.size ?? 0)
        let next = try #require(reference.symbols.first { $0.address > leaf.address })
        try #require(end < next.address, "the fixture has no padding after fx_static_leaf to test")
        #expect(try names(ElfSymbolizer(), reference, Array(end..<next.address)).allSatisfy { $0 == nil })
    }

    @Test("a stripped executable names nothing of its own, without warnings")
    func strippedExecutable() throws {
        let unstripped = try ReferenceElf(path: try path("pie"))
        let stripped = try ReferenceElf(path: try path("stripped pie"))
        let symbolizer = ElfSymbolizer()
        for name in ["main", "fx_static_leaf", "fx_exported_one"] {
            let symbol = try #require(unstripped.symbol(named: name))
            #expect(try names(symbolizer, stripped, [symbol.address, symbol.address + 1]) == [nil, nil])
        }
        #expect(symbolizer.warnings.isEmpty)
    }

    @Test("a stripped library still names its exported functions from .dynsym, and never a local one")
    func strippedLibrary() throws {
        let unstripped = try ReferenceElf(path: try path("shared library"))
        let stripped = try ReferenceElf(path: try path("stripped shared library"))
        let symbolizer = ElfSymbolizer()
        for name in ["fx_exported_one", "fx_exported_two", "fx_calls_asm"] {
            let symbol = try #require(unstripped.symbol(named: name))
            #expect(try names(symbolizer, stripped, [symbol.address, symbol.address + 4]) == [name, name])
        }
        let leaf = try #require(unstripped.symbol(named: "fx_static_leaf"))
        #expect(try names(symbolizer, stripped, [leaf.address + 2]) != ["fx_static_leaf"])
        #expect(symbolizer.warnings.isEmpty)
    }

    @Test("file offsets and link-time addresses convert as the program headers say", arguments: unstripped)
    func addressTranslation(file: String) throws {
        let path = try path(file)
        let reference = try ReferenceElf(path: path)
        let elf = try ElfFile(path: path)
        for symbol in reference.symbols {
            let offset = try #require(reference.fileOffset(of: symbol.address))
            #expect(elf.fileOffset(forVirtualAddress: VirtualAddress(symbol.address)) == FileOffset(offset))
            #expect(elf.virtualAddress(forFileOffset: FileOffset(offset)) == VirtualAddress(symbol.address))
            if reference.executableSections.contains(where: {
                ($0.address..<$0.address + $0.size).contains(symbol.address)
            }) {
                #expect(elf.symbolName(at: VirtualAddress(symbol.address)) == symbol.name)
            }
        }
        if file == "non-pie" {
            // Link address and file offset differ here, so a missed translation cannot pass unnoticed.
            let main = try #require(reference.symbol(named: "main"))
            #expect(reference.fileOffset(of: main.address) != main.address)
        }
        // Past every segment's file bytes there is nothing to translate.
        let end = try #require(reference.segments.map { $0.offset + $0.fileSize }.max())
        #expect(elf.virtualAddress(forFileOffset: FileOffset(end + 0x10_0000)) == nil)
    }

    @Test("isRoot: true inside _start, false inside main and the fixture's functions", arguments: ["pie", "non-pie"])
    func rootFrames(file: String) throws {
        let reference = try ReferenceElf(path: try path(file))
        let symbolizer = ElfSymbolizer()
        func isRoot(_ name: String, plus delta: UInt64) throws -> Bool {
            let symbol = try #require(reference.symbol(named: name))
            let offset = try #require(reference.fileOffset(of: symbol.address + delta))
            return symbolizer.isRoot(
                NormalizedAddress(module: ModuleID(path: reference.path), offset: FileOffset(offset)))
        }
        #expect(try isRoot("_start", plus: 0))
        #expect(try isRoot("_start", plus: 0x10))
        #expect(try !isRoot("main", plus: 4))
        #expect(try !isRoot("fx_exported_two", plus: 4))
        #expect(try !isRoot("fx_asm_unsized", plus: 1))
    }

    @Test("rootRanges: exactly the file bytes of _start", arguments: ["pie", "non-pie"])
    func rootRanges(file: String) throws {
        let reference = try ReferenceElf(path: try path(file))
        let start = try #require(reference.symbol(named: "_start"))
        let offset = try #require(reference.fileOffset(of: start.address))
        let expected = FileOffset(offset)..<FileOffset(offset + (start.size ?? 0))
        #expect(ElfSymbolizer().rootRanges(for: ModuleID(path: reference.path)) == [expected])
        #expect(try ElfFile(path: reference.path).rootFileRanges == [expected])
        #expect(ElfSymbolizer().rootRanges(for: ModuleID(path: "/nonexistent/module")).isEmpty)
    }

    @Test("a root prefix finds module paths under another directory")
    func rootPrefix() throws {
        let fixtures = try Fixtures.get()
        let reference = try ReferenceElf(path: fixtures.pie)
        let main = try #require(reference.symbol(named: "main"))
        let offset = try #require(reference.fileOffset(of: main.address + 1))
        let symbolizer = ElfSymbolizer(options: .init(rootPrefix: fixtures.directory + "/"))
        let module = ModuleID(path: "/" + (fixtures.pie.split(separator: "/").last ?? ""))
        #expect(
            symbolizer.frames(for: NormalizedAddress(module: module, offset: FileOffset(offset))) == [
                SymbolFrame(function: "main")
            ])
        #expect(symbolizer.warnings.isEmpty)
    }

    @Test("answers stay right when the per-module answer cache is tiny and keeps starting over")
    func tinyAnswerCache() throws {
        let reference = try ReferenceElf(path: try path("pie"))
        let sized = reference.symbols.filter { ($0.size ?? 0) > 0 }
        let addresses = sized.flatMap { [$0.address, $0.address + 1] }
        let expected = sized.flatMap { [$0.name, $0.name] as [String?] }
        let symbolizer = ElfSymbolizer(options: .init(answersPerModule: 3))
        for _ in 0..<3 {
            #expect(try names(symbolizer, reference, addresses) == expected)
        }
    }
}
