import FPProfCore
import FPProfSymbols
import Testing

/// Build-ids read from the notes, compared with `readelf -n`, and used to refuse a file that was replaced.
@Suite(.enabled(if: Fixtures.toolsAvailable, "needs gcc and readelf"))
struct BuildIDTests {
    /// The build-id `readelf -n` prints for `path`.
    func readelfBuildID(_ path: String) throws -> String {
        let notes = try Tools.run("readelf", ["-n", path])
        let line = try #require(notes.split(separator: "\n").first { $0.contains("Build ID:") })
        return String(line.split(separator: " ").last ?? "")
    }

    @Test("the note's bytes, as readelf shows them, stripped or not")
    func matchesReadelf() throws {
        let fixtures = try Fixtures.get()
        for (_, path) in fixtures.all {
            let expected = try readelfBuildID(path)
            #expect(expected.count == 40)
            #expect(ElfFile.buildID(path: path)?.description == expected)
            #expect(try ElfFile(path: path).buildID?.description == expected)
        }
        #expect(ElfFile.buildID(path: fixtures.pie) == ElfFile.buildID(path: fixtures.strippedPIE))
    }

    @Test("a module whose build-id differs from the file's gets no frames and one warning")
    func mismatchRefusesFile() throws {
        let fixtures = try Fixtures.get()
        let reference = try ReferenceElf(path: fixtures.pie)
        let main = try #require(reference.symbol(named: "main"))
        let offset = FileOffset(try #require(reference.fileOffset(of: main.address)))
        let actual = try #require(ElfFile.buildID(path: fixtures.pie))

        let symbolizer = ElfSymbolizer()
        let wrong = BuildID(bytes: [UInt8](repeating: 0xab, count: 20))
        let stale = NormalizedAddress(module: ModuleID(path: fixtures.pie, buildID: wrong), offset: offset)
        #expect(symbolizer.frames(for: stale).isEmpty)
        #expect(symbolizer.frames(for: stale).isEmpty)
        #expect(symbolizer.warnings.count == 1)
        #expect(symbolizer.warnings.first?.contains("build-id \(actual) differs") == true)

        // The right id names the function, also when zero-padded as in the kernel's fixed 20-byte field.
        let exact = NormalizedAddress(module: ModuleID(path: fixtures.pie, buildID: actual), offset: offset)
        #expect(symbolizer.frames(for: exact) == [SymbolFrame(function: "main")])
        let padded = BuildID(bytes: actual.bytes + [0, 0, 0, 0])
        let paddedAddress = NormalizedAddress(module: ModuleID(path: fixtures.pie, buildID: padded), offset: offset)
        #expect(symbolizer.frames(for: paddedAddress) == [SymbolFrame(function: "main")])
        #expect(symbolizer.warnings.count == 1)
    }
}
