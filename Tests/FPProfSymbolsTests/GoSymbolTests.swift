import FPProfCore
import FPProfSymbols
import Foundation
import Testing

/// Go binaries against `go tool addr2line`, which reads `.gopclntab`: built with DWARF (which elfutils 0.188 cannot
/// place: Go writes no `.debug_aranges`) and with `-ldflags=-s -w` (no DWARF, no symbol table).
@Suite(.enabled(if: Tools.available("go") && Tools.available("readelf"), "needs go and readelf"))
struct GoSymbolTests {
    /// `go tool addr2line`'s function and `file:line` for each address (`?` and `:-1` when it knows none).
    static func reference(_ path: String, _ addresses: [UInt64]) throws -> [(function: String, location: String)] {
        let input = addresses.map { "0x" + String($0, radix: 16) }.joined(separator: "\n") + "\n"
        let scratch = try Fixtures.scratchDirectory("goaddr")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try Data(input.utf8).write(to: URL(fileURLWithPath: scratch + "/in"))
        let output = try Tools.run("sh", ["-c", "go tool addr2line \"$0\" < \"$1\"", path, scratch + "/in"])
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return addresses.indices.map { (lines[2 * $0], lines[2 * $0 + 1]) }
    }

    /// Compares the outermost function (the one that holds the code, as the pclntab names it) and the innermost
    /// location (what the pclntab's line table gives) for 1000 random `.text` addresses.
    static func compare(_ path: String, referencePath: String, seed: UInt64) throws -> [String] {
        let reference = try ReferenceElf(path: referencePath)
        let text = try #require(reference.executableSections.first { $0.name == ".text" })
        var generator = CorruptElfTests.SplitMix(state: seed)
        let addresses = (0..<1000).map { _ in text.address + UInt64.random(in: 0..<text.size, using: &generator) }
        let expected = try Self.reference(referencePath, addresses)
        let symbolizer = ElfSymbolizer()
        let module = ModuleID(path: path)
        var differences: [String] = []
        for (address, want) in zip(addresses, expected) {
            let frames = symbolizer.frames(atVirtualAddress: VirtualAddress(address), in: module)
            var function = frames.first?.function ?? "?"
            if function.hasPrefix(module.shortName + "+0x") { function = "?" }
            let location = frames.last.flatMap { frame in frame.file.map { "\($0):\(frame.line ?? 0)" } } ?? ":-1"
            // DWARF spells out array lengths that Go 1.19's pclntab abbreviates: `type..eq.[5]T` vs `[...]`.
            func normalized(_ name: String) -> String {
                name.replacingOccurrences(of: "[...]", with: "[]").replacingOccurrences(
                    of: "\\[[0-9]+\\]", with: "[]", options: .regularExpression)
            }
            let wantFunction = normalized(want.function)
            let gotFunction = normalized(function)
            if gotFunction != wantFunction || location != want.location {
                differences.append(
                    "0x\(String(address, radix: 16)): go \(want.function) \(want.location), fpprof \(function) \(location)"
                )
            }
        }
        #expect(symbolizer.warnings.isEmpty)
        return differences
    }

    @Test("with DWARF: 1000 random PCs name the function and line go tool addr2line gives")
    func dwarfBuild() throws {
        let path = try DwarfFixtures.go.get()
        let differences = try Self.compare(path, referencePath: path, seed: 11)
        #expect(
            differences.count <= 3, "\(differences.count) differ:\n\(differences.prefix(10).joined(separator: "\n"))")
    }

    @Test("GoExecutable: Go builds, with and without symbols, are Go; C and the shell are not")
    func goExecutableDetection() throws {
        #expect(GoExecutable.isGo(path: try DwarfFixtures.go.get()))
        #expect(GoExecutable.isGo(path: try DwarfFixtures.goStripped.get()))
        #expect(!GoExecutable.isGo(path: try DwarfFixtures.inlined.get()))
        #expect(!GoExecutable.isGo(path: "/bin/sh"))
        #expect(!GoExecutable.isGo(path: "/nonexistent/program"))
    }

    @Test("built with -ldflags=-s -w: .gopclntab alone gives the same names and lines")
    func strippedBuild() throws {
        let stripped = try DwarfFixtures.goStripped.get()
        let full = try DwarfFixtures.go.get()
        // The two builds place every function at the same address; addr2line reads the unstripped one.
        let differences = try Self.compare(stripped, referencePath: full, seed: 12)
        #expect(differences.isEmpty, "\(differences.count) differ:\n\(differences.prefix(10).joined(separator: "\n"))")
    }

    @Test("main.* functions by name in both builds, Go's names for assembly (runtime.goexit, not .abi0)")
    func mainFunctions() throws {
        let full = try DwarfFixtures.go.get()
        let reference = try ReferenceElf(path: full)
        for path in [full, try DwarfFixtures.goStripped.get()] {
            let symbolizer = ElfSymbolizer()
            for name in ["main.mainWork", "main.withClosure", "main.main", "main.(*accumulator).add"] {
                let symbol = try #require(reference.symbol(named: name))
                let frames = symbolizer.frames(
                    atVirtualAddress: VirtualAddress(symbol.address + 1), in: ModuleID(path: path))
                #expect(frames.first?.function == name, "\(path)")
                #expect(frames.last?.file?.hasSuffix("/main.go") == true)
            }
            let goexit = try #require(reference.symbol(named: "runtime.goexit.abi0"))
            let frames = symbolizer.frames(atVirtualAddress: VirtualAddress(goexit.address), in: ModuleID(path: path))
            #expect(frames.first?.function == "runtime.goexit")
        }
    }

    @Test("built with -ldflags=-s -w: the inline tree in .gopclntab gives the chains DWARF gives, line for line")
    func strippedInlineChains() throws {
        let full = try DwarfFixtures.go.get()
        let stripped = try DwarfFixtures.goStripped.get()
        let text = try #require(try ReferenceElf(path: full).executableSections.first { $0.name == ".text" })
        var generator = CorruptElfTests.SplitMix(state: 13)
        let fromDwarf = ElfSymbolizer(options: .init(demangle: .none))
        let fromTable = ElfSymbolizer(options: .init(demangle: .none))
        var differences: [String] = []
        var inlined = 0
        for _ in 0..<1000 {
            let address = VirtualAddress(text.address + UInt64.random(in: 0..<text.size, using: &generator))
            func normalized(_ frames: [SymbolFrame]) -> [SymbolFrame] {
                frames.map {
                    var frame = $0
                    frame.function = frame.function.replacingOccurrences(
                        of: "\\[[0-9]+\\]", with: "[...]", options: .regularExpression)
                    return frame
                }
            }
            let dwarf = normalized(fromDwarf.frames(atVirtualAddress: address, in: ModuleID(path: full)))
            let table = normalized(fromTable.frames(atVirtualAddress: address, in: ModuleID(path: stripped)))
            if dwarf.count > 1 { inlined += 1 }
            if dwarf != table { differences.append("\(address): DWARF \(dwarf)\n  pclntab \(table)") }
        }
        #expect(inlined > 20)
        #expect(
            differences.count <= 3, "\(differences.count) differ:\n\(differences.prefix(5).joined(separator: "\n"))")
    }

    @Test("with DWARF, Go's inlined calls form a chain: main.square in main.addSquares in main.mainWork")
    func inlineChain() throws {
        let path = try DwarfFixtures.go.get()
        let work = try #require(try ReferenceElf(path: path).symbol(named: "main.mainWork"))
        let symbolizer = ElfSymbolizer()
        let chains = (work.address..<work.address + (work.size ?? 0)).map {
            symbolizer.frames(atVirtualAddress: VirtualAddress($0), in: ModuleID(path: path)).map(\.function)
        }
        #expect(chains.contains(["main.mainWork", "main.addSquares", "main.square"]))
    }
}

/// A Go binary stripped of `.symtab` (`-ldflags=-s -w`, as every Go program Debian ships) still tells the unwinder
/// where its roots and stack switches are, from `.gopclntab`: the same code ranges as the symbol table of the
/// unstripped build (both place every function at the same address).
@Suite(.enabled(if: Tools.available("go"), "needs the go command"))
struct StrippedGoSpecialCodeTests {
    @Test func rootAndSwitchRangesMatchTheUnstrippedBuild() throws {
        let full = try DwarfFixtures.go.get()
        let stripped = try DwarfFixtures.goStripped.get()
        let symbolizer = ElfSymbolizer()
        let expected = symbolizer.codeRanges(for: ModuleID(path: full))
        let found = symbolizer.codeRanges(for: ModuleID(path: stripped))
        // goexit, mstart, rt0_go, clone, sigtramp, sigreturn, _rt0_amd64(_linux): at least six roots.
        #expect(expected.roots.count >= 6, "\(expected.roots)")
        // Same functions; `.gopclntab` extends each to the next function's entry (the alignment padding).
        #expect(Self.covers(found.roots, expected.roots), "\(found.roots) vs \(expected.roots)")
        // systemstack, mcall, morestack, morestack_noctxt, asmcgocall, nanotime1, walltime, time.now (some inlined
        // away or absent in a small program): at least four.
        #expect(expected.stackSwitches.count >= 4, "\(expected.stackSwitches)")
        #expect(Self.covers(found.stackSwitches, expected.stackSwitches), "\(found.stackSwitches)")
    }

    /// One range per function, starting where the reference's does and holding all of it.
    static func covers(_ found: [Range<FileOffset>], _ expected: [Range<FileOffset>]) -> Bool {
        found.count == expected.count
            && zip(found, expected).allSatisfy { $0.lowerBound == $1.lowerBound && $0.upperBound >= $1.upperBound }
    }

    @Test func theUnwinderAsksByGosNames() throws {
        let stripped = try DwarfFixtures.goStripped.get()
        let reference = try ReferenceElf(path: try DwarfFixtures.go.get())
        let symbolizer = ElfSymbolizer()
        let module = ModuleID(path: stripped)
        let file = try ElfFile(path: stripped)
        for (name, traits) in [
            ("runtime.mcall", StackSwitchTraits(detaches: true, hidesCaller: true, runsCalleeOnG0: true)),
            ("runtime.systemstack", StackSwitchTraits(detaches: false, hidesCaller: true, runsCalleeOnG0: true)),
            ("runtime.morestack", StackSwitchTraits(detaches: true, hidesCaller: false, runsCalleeOnG0: true)),
            // Moves SP to g0's stack for the vdso; R14 stays the goroutine's.
            ("runtime.nanotime1", StackSwitchTraits()),
        ] {
            let symbol = try #require(reference.symbol(named: name + ".abi0") ?? reference.symbol(named: name))
            let offset = try #require(file.fileOffset(forVirtualAddress: VirtualAddress(symbol.address + 1)))
            #expect(
                symbolizer.stackSwitchSymbols.traits(NormalizedAddress(module: module, offset: offset)) == traits,
                "\(name)")
        }
        for name in ["runtime.goexit", "runtime.mstart", "runtime.rt0_go"] {
            let symbol = try #require(reference.symbol(named: name + ".abi0") ?? reference.symbol(named: name))
            let offset = try #require(file.fileOffset(forVirtualAddress: VirtualAddress(symbol.address)))
            #expect(symbolizer.isRoot(NormalizedAddress(module: module, offset: offset)), "\(name)")
        }
    }
}
