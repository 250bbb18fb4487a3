import FPProfCore
import FPProfSymbols
import Foundation
import Testing

/// `ElfSymbolizer.callFrameRules(for:)`: a module's whole CFI compiled into rules, checked at instructions whose
/// frame state the disassembly shows, and over Debian's liblzma, built without frame pointers.
@Suite(.enabled(if: Tools.available("gcc") && Tools.available("objdump"), "needs gcc and objdump"))
struct CallFrameRuleTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// gcc -O2 with frame pointers: frameless_leaf's rows are CFA = rsp + 8 (BP untouched); frameless_caller's
    /// body, after `mov %rsp,%rbp`, keeps a frame record. Built without them, no row of either keeps a record.
    @Test func rowsOfOneFile() throws {
        let directory = try Fixtures.scratchDirectory("cfi-rules")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for framePointers in [true, false] {
            let path = directory + "/frameless-\(framePointers)"
            try Tools.run(
                "gcc",
                [
                    "-O2", "-g", framePointers ? "-fno-omit-frame-pointer" : "-fomit-frame-pointer",
                    "-fno-optimize-sibling-calls", "-o", path,
                    Self.fixtures.appendingPathComponent("c/frameless.c").path,
                ])
            let reference = try ReferenceElf(path: path)
            let rules = try #require(ElfSymbolizer().callFrameRules(for: ModuleID(path: path)))
            func rule(_ address: UInt64) throws -> CallFrameRule? {
                rules.rule(at: try #require(reference.fileOffset(of: address)))
            }
            let leaf = try #require(reference.symbol(named: "frameless_leaf"))
            #expect(try rule(leaf.address) == .stack(cfa: 8, savedBP: nil))
            let caller = try #require(reference.symbol(named: "frameless_caller"))
            let last = caller.address + (caller.size ?? 1) - 1
            if framePointers {
                #expect(try rule(caller.address) == .stack(cfa: 8, savedBP: nil))
                #expect(try rule(caller.address + 1) == .stack(cfa: 16, savedBP: -16))
                let body = try (caller.address...last).map { try rule($0) }
                #expect(body.contains(.framePointer))
                #expect(!rules.allFramed)
            } else {
                #expect(try rule(caller.address) == .stack(cfa: 8, savedBP: nil))
                #expect(try rule(last) != .framePointer)
            }
            #expect(!rules.rules.contains(.unsupported) || rules.rules.filter { $0 == .unsupported }.count < 4)
        }
    }

    /// Debian builds liblzma without frame pointers: nearly all of its code has SP-based rules, its PLT included
    /// (see `procedureLinkageEntries`).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/lib/x86_64-linux-gnu/liblzma.so.5"), "needs liblzma"))
    func liblzmaKeepsNoFrameRecords() throws {
        let rules = try #require(
            ElfSymbolizer().callFrameRules(for: ModuleID(path: "/lib/x86_64-linux-gnu/liblzma.so.5")))
        #expect(rules.count > 500)
        var bytes: [String: UInt64] = [:]
        for i in 0..<rules.count {
            let kind: String
            switch rules.rules[i] {
            case .framePointer: kind = "fp"
            case .stack: kind = "sp"
            case .unsupported: kind = "unsupported"
            default: kind = "bp"
            }
            bytes[kind, default: 0] += rules.ends[i] - rules.starts[i]
        }
        let total = bytes.values.reduce(0, +)
        #expect(Double(bytes["sp", default: 0]) / Double(total) > 0.9, "\(bytes)")
        #expect(Double(bytes["unsupported", default: 0]) / Double(total) < 0.02, "\(bytes)")
    }

    /// The PLT's CFA is one expression of the IP for all its entries (binutils' `lazy PLT`): each 16-byte entry
    /// pushes its relocation index at +6 and jumps at +11, so CFA = RSP + 8 before +11 and RSP + 16 from it. A
    /// sample in a stub (sqlite3 calls its own exports through it) must walk on to the caller.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/lib/x86_64-linux-gnu/liblzma.so.5"), "needs liblzma"))
    func procedureLinkageEntries() throws {
        let path = "/lib/x86_64-linux-gnu/liblzma.so.5"
        let reference = try ReferenceElf(path: path)
        let plt = try #require(reference.executableSections.first { $0.name == ".plt" })
        try #require(plt.size >= 48, "\(plt)")
        let rules = try #require(ElfSymbolizer().callFrameRules(for: ModuleID(path: path)))
        // Entry 0 (the resolver's trampoline) has rules of its own; entries 1... share the expression.
        var entry = plt.address + 16
        while entry + 16 <= plt.address + plt.size {
            let offset = try #require(reference.fileOffset(of: entry))
            #expect(rules.rule(at: offset) == .stack(cfa: 8, savedBP: nil), "entry at \(entry)")
            #expect(rules.rule(at: offset + 10) == .stack(cfa: 8, savedBP: nil), "entry at \(entry)")
            #expect(rules.rule(at: offset + 11) == .stack(cfa: 16, savedBP: nil), "entry at \(entry)")
            #expect(rules.rule(at: offset + 15) == .stack(cfa: 16, savedBP: nil), "entry at \(entry)")
            entry += 16
        }
    }

    /// `rule(at:)` searches one page of rows through `PageDirectory`: over the rules of Debian's libc and liblzma
    /// (thousands of rows, many to a page), every row's first and last byte, and the bytes just outside it, get the
    /// answer a scan of all the rows gives.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/lib/x86_64-linux-gnu/liblzma.so.5"), "needs liblzma"))
    func pagedLookupMatchesAScanOfEveryRow() throws {
        for path in ["/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/liblzma.so.5"] {
            let rules = try #require(ElfSymbolizer().callFrameRules(for: ModuleID(path: path)))
            #expect(rules.count > 500 && rules.directory.byteCount > 0, "\(path): \(rules.count) rows")
            var probes: Set<UInt64> = []
            for i in 0..<rules.count {
                probes.formUnion([rules.starts[i], rules.ends[i] - 1, rules.ends[i], rules.starts[i] &- 1])
            }
            // A scan of the rows beside the ascending probes: rows are sorted and disjoint, so the first one ending
            // above an offset is the only one that may hold it.
            var row = 0
            var wrong = 0
            for offset in probes.sorted() {
                while row < rules.count, rules.ends[row] <= offset { row += 1 }
                let scanned = row < rules.count && rules.starts[row] <= offset ? rules.rules[row] : nil
                if rules.rule(at: offset) != scanned { wrong += 1 }
            }
            #expect(wrong == 0, "\(path): \(wrong) of \(probes.count) offsets")
        }
    }
}
