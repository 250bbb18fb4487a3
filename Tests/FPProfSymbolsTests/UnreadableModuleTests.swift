import FPProfCore
import FPProfSymbols
import Foundation
import Testing

/// Files that are not usable ELF: never a crash, no frames, one warning per module however often it is asked.
final class UnreadableModuleTests {
    /// Asks `symbolizer` for several offsets of `path` (and whether they are roots) and returns what it said.
    func ask(_ symbolizer: ElfSymbolizer, _ path: String, buildID: BuildID? = nil) -> [[SymbolFrame]] {
        let module = ModuleID(path: path, buildID: buildID)
        return [0, 1, 0x40, 0x1000, 0x1234, 0x10_0000].map { (offset: UInt64) in
            let address = NormalizedAddress(module: module, offset: FileOffset(offset))
            #expect(!symbolizer.isRoot(address))
            return symbolizer.frames(for: address)
        }
    }

    /// A scratch directory that the test removes when it ends.
    let directory: String

    init() throws { directory = try Fixtures.scratchDirectory("unreadable") }
    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func write(_ bytes: [UInt8], named name: String) throws -> String {
        let path = directory + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(
        "truncated, garbage, empty, missing, directory: no frames and exactly one warning each",
        .enabled(if: Fixtures.toolsAvailable, "needs gcc to build the fixture that is truncated"))
    func unreadableFiles() throws {
        let fixture = try Data(contentsOf: URL(fileURLWithPath: try Fixtures.get().pie))
        let truncated = try write(Array(fixture.prefix(100)), named: "truncated")
        let headerOnly = try write(Array(fixture.prefix(64)), named: "header-only")
        var generator = SystemRandomNumberGenerator()
        let garbage = try write((0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }, named: "garbage")
        let elfMagicGarbage = try write(
            [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1] + [UInt8](repeating: 0xff, count: 200), named: "magic-garbage")
        let empty = try write([], named: "empty")
        let missing = directory + "/does-not-exist.so"

        let cases: [(path: String, reason: String)] = [
            (truncated, "truncated or corrupt ELF"), (headerOnly, "truncated or corrupt ELF"),
            (garbage, "not an ELF file"), (elfMagicGarbage, "ELF"), (empty, "not an ELF file"),
            (directory, "not a regular file"), (missing, "no such file or directory"),
        ]
        let symbolizer = ElfSymbolizer()
        for (index, item) in cases.enumerated() {
            for _ in 0..<2 {
                #expect(ask(symbolizer, item.path).allSatisfy { $0.isEmpty }, "\(item.path)")
            }
            #expect(symbolizer.warnings.count == index + 1)
            let warning = symbolizer.warnings.last ?? ""
            #expect(warning.hasPrefix("cannot read ELF \(item.path): "), "\(warning)")
            #expect(warning.contains(item.reason), "\(warning)")
            let shortName = item.path.split(separator: "/").last.map(String.init) ?? ""
            #expect(warning.hasSuffix("; frames in it are written \(shortName)+0xOFFSET"), "\(warning)")
        }
    }

    @Test("ElfFile reports why a file cannot be read")
    func elfFileErrors() throws {
        let garbage = try write(Array("#!/bin/sh\necho not elf\n".utf8), named: "script")
        #expect(throws: ElfReadError(path: garbage, reason: .notELF)) { try ElfFile(path: garbage) }
        #expect(throws: ElfReadError(path: "/nonexistent/x", reason: .cannotOpen(errno: ENOENT))) {
            try ElfFile(path: "/nonexistent/x")
        }
        #expect(ElfFile.buildID(path: garbage) == nil)
        #expect(ElfFile.buildID(path: "/nonexistent/x") == nil)
    }

    /// The vdso is the exception: it is read from fpprof's own copy (see `VdsoTests` for its names).
    @Test("pseudo-files such as [vsyscall] have no frames and are not worth a warning")
    func pseudoFiles() {
        let symbolizer = ElfSymbolizer()
        for path in ["[vsyscall]", "//anon", "[heap]"] {
            #expect(ask(symbolizer, path).allSatisfy { $0.isEmpty })
        }
        #expect(symbolizer.warnings.isEmpty)
    }
}
