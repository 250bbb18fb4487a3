import FPProfCore
import FPProfSymbols
import Foundation
import Testing

/// Damaged DWARF: seeded byte corruptions inside the debug sections of the inlining fixture, and truncations that
/// cut them. The symbolizer may answer anything for damaged data except crash; with the symbol table intact every
/// function still has a name, and it warns at most once per file about the ELF and once about the DWARF.
@Suite(.enabled(if: Fixtures.toolsAvailable, "needs gcc and readelf"))
struct CorruptDwarfTests {
    struct Section {
        var name: String
        var offset: Int
        var size: Int
    }

    /// The file ranges of the `.debug_*` sections, from readelf.
    static func debugSections(_ path: String) throws -> [Section] {
        try Tools.run("readelf", ["-SW", path]).split(separator: "\n").compactMap { line in
            guard let close = line.firstIndex(of: "]") else { return nil }
            let fields = line[line.index(after: close)...].split(separator: " ")
            guard fields.count >= 5, fields[0].hasPrefix(".debug_"), let offset = Int(fields[3], radix: 16),
                let size = Int(fields[4], radix: 16), size > 0
            else { return nil }
            return Section(name: String(fields[0]), offset: offset, size: size)
        }
    }

    /// Writes `bytes`, then asks a fresh symbolizer for every byte of the named functions.
    func exercise(_ bytes: [UInt8], at path: String, functions: [ReferenceElf.Symbol], expectNames: Bool) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let symbolizer = ElfSymbolizer()
        let module = ModuleID(path: path)
        for function in functions {
            for address in function.address..<function.address + (function.size ?? 1) {
                let frames = symbolizer.frames(atVirtualAddress: VirtualAddress(address), in: module)
                if expectNames { #expect(!frames.isEmpty) }
            }
        }
        #expect(symbolizer.warnings.count <= 2, "\(symbolizer.warnings)")
    }

    @Test("seeded corruption of .debug_info, .debug_abbrev, .debug_line, .debug_str and range lists")
    func corruptions() throws {
        let path = try DwarfFixtures.inlined.get()
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let sections = try Self.debugSections(path)
        try #require(sections.contains { $0.name == ".debug_info" } && sections.contains { $0.name == ".debug_line" })
        let functions = try ReferenceElf(path: path).symbols.filter { ($0.size ?? 0) > 0 }
        let directory = try Fixtures.scratchDirectory("corrupt-dwarf")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for seed in UInt64(0)..<200 {
            var generator = CorruptElfTests.SplitMix(state: seed)
            var bytes = original
            let section = sections[Int(seed) % sections.count]
            for _ in 0..<Int.random(in: 1...24, using: &generator) {
                bytes[section.offset + Int.random(in: 0..<section.size, using: &generator)] = UInt8.random(
                    in: 0...255, using: &generator)
            }
            try exercise(bytes, at: directory + "/corrupt", functions: functions, expectNames: true)
        }
    }

    @Test("the debug sections cut short: the file ends inside them")
    func truncations() throws {
        let path = try DwarfFixtures.inlined.get()
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let sections = try Self.debugSections(path)
        let functions = try ReferenceElf(path: path).symbols.filter { ($0.size ?? 0) > 0 }
        let directory = try Fixtures.scratchDirectory("truncated-dwarf")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for section in sections {
            for fraction in [0, 1, 2, 3] {
                let length = section.offset + section.size * fraction / 4
                // The section headers lie at the end: a cut file has none, so only the program headers and the
                // code remain; no names are promised then, only no crash.
                try exercise(
                    Array(original.prefix(length)), at: directory + "/cut", functions: functions, expectNames: false)
            }
        }
    }
}
