import FPProfCore
import FPProfSymbols
import Foundation
import Testing

/// `ElfSymbolizer.entryFrame(for:)`: where the sampled function's return address is, from CFI for C and from
/// `.gopclntab`'s SP deltas and prologues for Go, at instructions whose frame state the code shows.
@Suite(.enabled(if: Tools.available("gcc") && Tools.available("go") && Tools.available("readelf"), "needs gcc, go"))
struct EntryFrameTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// The answer for link-time address `address` of `path`.
    static func rule(_ symbolizer: ElfSymbolizer, _ reference: ReferenceElf, _ path: String, _ address: UInt64)
        throws -> EntryFrame
    {
        let offset = try #require(reference.fileOffset(of: address))
        return symbolizer.entryFrame(for: NormalizedAddress(module: ModuleID(path: path), offset: FileOffset(offset)))
    }

    /// gcc -O2: frameless_leaf never pushes a record (CFA = rsp + 8 throughout); frameless_caller's record exists
    /// only after `mov %rsp,%rbp` (CFA = rsp + 8 at entry, rsp + 16 after the push, rbp + 16 after the move).
    @Test func cFromCFI() throws {
        let directory = try Fixtures.scratchDirectory("entry-c")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/frameless"
        try Tools.run(
            "gcc",
            [
                "-O2", "-g", "-fno-omit-frame-pointer", "-fno-optimize-sibling-calls", "-o", path,
                Self.fixtures.appendingPathComponent("c/frameless.c").path,
            ])
        let reference = try ReferenceElf(path: path)
        let symbolizer = ElfSymbolizer()
        let leaf = try #require(reference.symbol(named: "frameless_leaf"))
        for delta in [0, 4, 8, 16] where UInt64(delta) < (leaf.size ?? 0) {
            #expect(
                try Self.rule(symbolizer, reference, path, leaf.address + UInt64(delta))
                    == .returnAddressAtSP(offset: 0))
        }
        let caller = try #require(reference.symbol(named: "frameless_caller"))
        let code = try Tools.run("objdump", ["-d", "--no-show-raw-insn", path, "--disassemble=frameless_caller"])
        // Instruction addresses and texts of frameless_caller.
        let instructions: [(UInt64, String)] = code.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "\t", maxSplits: 1)
            guard parts.count == 2,
                let address = UInt64(parts[0].trimmingCharacters(in: .whitespaces).dropLast(), radix: 16)
            else { return nil }
            return (address, parts[1].trimmingCharacters(in: .whitespaces))
        }
        let move = try #require(instructions.firstIndex { $0.1.hasPrefix("mov") && $0.1.hasSuffix("%rsp,%rbp") })
        #expect(try Self.rule(symbolizer, reference, path, caller.address) == .returnAddressAtSP(offset: 0))
        #expect(try Self.rule(symbolizer, reference, path, instructions[1].0) == .returnAddressAtSP(offset: 8))
        #expect(try Self.rule(symbolizer, reference, path, instructions[move].0) == .returnAddressAtSP(offset: 8))
        #expect(try Self.rule(symbolizer, reference, path, instructions[move + 1].0) == .framePointer)
    }

    /// Go 1.19: main.leaf has no frame (SP never moves); main.caller's BP is saved and set by the two instructions
    /// after `SUBQ $n, SP`, and restored right before `ADDQ $n, SP; RET`.
    @Test func goFromPclntab() throws {
        let directory = try Fixtures.scratchDirectory("entry-go")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/leaf"
        let source = Self.fixtures.appendingPathComponent("go/leaf").path
        try Tools.run(
            "sh", ["-c", "cd \"$0\" && GOFLAGS= GOPROXY=off GOTOOLCHAIN=local go build -o \"$1\" .", source, path])
        let reference = try ReferenceElf(path: path)
        let symbolizer = ElfSymbolizer()
        let leaf = try #require(reference.symbol(named: "main.leaf"))
        for delta in [0, 2, 8] {
            #expect(
                try Self.rule(symbolizer, reference, path, leaf.address + UInt64(delta))
                    == .returnAddressAtSP(offset: 0))
        }
        let code = try Tools.run("go", ["tool", "objdump", "-s", "^main.caller$", path])
        let instructions: [(UInt64, String)] = code.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "\t").map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count >= 4, fields[1].hasPrefix("0x"), let address = UInt64(fields[1].dropFirst(2), radix: 16)
            else { return nil }
            return (address, fields[3])
        }
        let sub = try #require(instructions.firstIndex { $0.1.hasPrefix("SUBQ $") && $0.1.hasSuffix(", SP") })
        let size = try #require(Int(instructions[sub].1.dropFirst("SUBQ $0x".count).prefix { $0 != "," }, radix: 16))
        #expect(try Self.rule(symbolizer, reference, path, instructions[0].0) == .returnAddressAtSP(offset: 0))
        #expect(try Self.rule(symbolizer, reference, path, instructions[sub].0) == .returnAddressAtSP(offset: 0))
        #expect(try Self.rule(symbolizer, reference, path, instructions[sub + 1].0) == .returnAddressAtSP(offset: size))
        #expect(try Self.rule(symbolizer, reference, path, instructions[sub + 2].0) == .returnAddressAtSP(offset: size))
        #expect(try Self.rule(symbolizer, reference, path, instructions[sub + 3].0) == .framePointer)
        let add = try #require(instructions.firstIndex { $0.1.hasPrefix("ADDQ $") && $0.1.hasSuffix(", SP") })
        #expect(try Self.rule(symbolizer, reference, path, instructions[add - 1].0) == .framePointer)
        #expect(try Self.rule(symbolizer, reference, path, instructions[add].0) == .returnAddressAtSP(offset: size))
        #expect(try Self.rule(symbolizer, reference, path, instructions[add + 1].0) == .returnAddressAtSP(offset: 0))
    }
}
