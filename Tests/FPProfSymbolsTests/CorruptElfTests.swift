import FPProfCore
import FPProfSymbols
import Foundation
import Testing

/// Damaged copies of a real binary: every truncation point and many seeded byte corruptions. The symbolizer may
/// answer anything for them except crash, and it warns at most once per file.
@Suite(.enabled(if: Fixtures.toolsAvailable, "needs gcc to build the binary that is damaged"))
struct CorruptElfTests {
    /// A deterministic generator (SplitMix64), so a failing corruption can be reproduced from its seed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
    }

    /// Writes `bytes` (over the previous case: each gets a symbolizer of its own), then asks for frames and roots at offsets across the file and its build-id.
    func exercise(_ bytes: [UInt8], at path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let symbolizer = ElfSymbolizer()
        let module = ModuleID(path: path)
        for offset in stride(from: UInt64(0), to: UInt64(bytes.count) + 0x100, by: 0x40) {
            let address = NormalizedAddress(module: module, offset: FileOffset(offset))
            _ = symbolizer.frames(for: address)
            _ = symbolizer.isRoot(address)
        }
        _ = symbolizer.rootRanges(for: module)
        _ = ElfFile.buildID(path: path)
        #expect(symbolizer.warnings.count <= 1)
    }

    @Test("every truncation, 64 bytes apart")
    func truncations() throws {
        for name in ["pie", "shared library"] {
            let original = try [UInt8](
                Data(contentsOf: URL(fileURLWithPath: try #require(Fixtures.get().all.first { $0.name == name }?.path)))
            )
            let directory = try Fixtures.scratchDirectory("truncated")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            for length in stride(from: 0, to: original.count, by: 64) {
                try exercise(Array(original.prefix(length)), at: directory + "/cut")
            }
        }
    }

    @Test("seeded corruption of headers, tables and code")
    func corruptions() throws {
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try Fixtures.get().pie)))
        let directory = try Fixtures.scratchDirectory("corrupt")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for seed in UInt64(0)..<300 {
            var generator = SplitMix(state: seed)
            var bytes = original
            // A third of the runs aim at the ELF and program headers, a third at the end of the file where the
            // symbol, string and section header tables lie: there a flip changes most what libelf believes.
            let region: Range<Int>
            switch seed % 3 {
            case 0: region = 0..<min(bytes.count, 0x400)
            case 1: region = max(0, bytes.count - 0x1000)..<bytes.count
            default: region = 0..<bytes.count
            }
            for _ in 0..<Int.random(in: 1...16, using: &generator) {
                bytes[Int.random(in: region, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            try exercise(bytes, at: directory + "/corrupt")
        }
    }
}
