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

    /// Hand-written assembly keeps its entry SP in a stack slot and says so with a CFA expression: OpenSSL's
    /// `[SP + n] + 8` (Montgomery multiplication, SHA, AES-GCM), x86inc's `[BP + n]`. Against readelf's reading of
    /// every such row of Debian's libcrypto (and of the other libraries below where installed): the rule at the
    /// row's first byte is the same load (`.realigned` where BP is saved at [BP]: gcc's realigning prologue, in
    /// the realign fixture).
    @Test(.enabled(if: Tools.available("readelf"), "needs readelf"))
    func indirectCFAsMatchReadelf() throws {
        let candidates = [
            "/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "/usr/lib/x86_64-linux-gnu/libgnutls.so.30",
            "/usr/lib/x86_64-linux-gnu/libx265.so.199", "/usr/lib/x86_64-linux-gnu/libaom.so.3",
        ]
        try #require(
            FileManager.default.fileExists(atPath: candidates[0]), "needs Debian's libssl3 (scripts/packages.txt)")
        // And gcc's DRAP realignment, which Debian's libraries in CI may not hold.
        let directory = try Fixtures.scratchDirectory("cfi-realign")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let realign = directory + "/realign"
        let c = Self.fixtures.appendingPathComponent("c")
        try Tools.run(
            "gcc",
            [
                "-O2", "-g", "-fomit-frame-pointer", "-DFIXTURE_OMIT_FRAME_POINTER", "-I", c.path, "-o", realign,
                c.appendingPathComponent("realign.c").path,
            ])
        let paths = [realign] + candidates.filter { FileManager.default.fileExists(atPath: $0) }
        let fde = #/ FDE cie=[0-9a-f]+ pc=([0-9a-f]+)\.\./#
        let advance = #/DW_CFA_advance_loc[124]?: \d+ to ([0-9a-f]+)/#
        let load =
            #/DW_CFA_def_cfa_expression \(DW_OP_breg([67]) \(r[bs]p\): (-?\d+); DW_OP_deref(?:; DW_OP_plus_uconst: (\d+))?\)$/#
        for path in paths {
            let reference = try ReferenceElf(path: path)
            let rules = try #require(ElfSymbolizer().callFrameRules(for: ModuleID(path: path)))
            var location: UInt64 = 0
            var checked = 0
            var wrong: [String] = []
            for line in try Tools.run("readelf", ["--debug-dump=frames", path]).split(separator: "\n") {
                if let m = line.firstMatch(of: fde) {
                    location = UInt64(m.1, radix: 16) ?? 0
                } else if let m = line.firstMatch(of: advance) {
                    location = UInt64(m.1, radix: 16) ?? 0
                } else if let m = line.firstMatch(of: load), let offset = Int32(m.2) {
                    let add = m.3.flatMap { Int32($0) } ?? 0
                    let rule = reference.fileOffset(of: location).flatMap { rules.rule(at: $0) }
                    let matches: Bool
                    switch (m.1, rule) {
                    case ("7", .stackIndirect(let n, let k, _)), ("6", .baseIndirect(let n, let k, _)):
                        matches = n == offset && k == add
                    case ("6", .realigned(let n)): matches = n == offset && add == 0
                    default: matches = false
                    }
                    checked += 1
                    if !matches {
                        wrong.append("\(String(location, radix: 16)): \(line) -> \(String(describing: rule))")
                    }
                }
            }
            #expect(checked >= (path == candidates[0] ? 30 : 1), "\(path): \(checked) rows")
            if path == realign {
                #expect(rules.rules.contains { if case .realigned = $0 { true } else { false } })
            }
            #expect(wrong.isEmpty, "\(path): \(wrong.count) rows, such as\n\(wrong.prefix(5).joined(separator: "\n"))")
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
