import Foundation
import Testing

/// `fpprof symbolize`, the command users get, against `eu-addr2line -a -f -i` on 1000 random code addresses of an
/// -O2 -g program whose helpers gcc inlines two levels deep: function, inline chain, file and line of every frame.
@Suite(
    .enabled(
        if: FixtureCommand.which("eu-addr2line") != nil && FixtureCommand.which("gcc") != nil, "needs elfutils and gcc")
)
struct SymbolizeCommandTests {
    /// One address's frames, innermost first, as `function` and `file:line`.
    typealias Block = [[String]]

    /// Splits `-a -f -i` output into blocks, one per address line. eu-addr2line's `inlined at ... in X` and the
    /// `:column` of its locations are dropped: fpprof prints neither.
    static func blocks(_ text: String) -> [Block] {
        var blocks: [Block] = []
        var pending: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("0x") && line.count == 18 {
                blocks.append([])
                pending = nil
            } else if let function = pending {
                var location = line
                let parts = line.split(separator: ":", omittingEmptySubsequences: false)
                if parts.count == 3 { location = parts[0] + ":" + parts[1] }
                blocks[blocks.count - 1].append([function, location])
                pending = nil
            } else if !blocks.isEmpty, !line.isEmpty {
                pending = line.components(separatedBy: " inlined at ").first ?? line
            }
        }
        return blocks
    }

    @Test func agreesWithEuAddr2line() throws {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/symbols/inlined.c").path
        let binary = FPProf.temporaryPath("inlined")
        defer { unlink(binary) }
        _ = try FixtureCommand.check("/usr/bin/gcc", ["-O2", "-g", "-o", binary, source])
        let (differing, inlined) = try Self.compare(binary: binary)
        #expect(differing.isEmpty, "\(differing.count) differ, e.g. \(differing.prefix(3))")
        #expect(inlined > 100, "the fixture should put many addresses under two inlined calls")
    }

    /// glibc (several MB of DWARF in libc6-dbg's separate debug file, found by build-id by both tools). A few
    /// addresses in code without DWARF may name a different alias of the same function (`__gttf2`/`__getf2`).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/lib/debug/.build-id"), "needs libc6-dbg"))
    func agreesWithEuAddr2lineOnGlibc() throws {
        let (differing, inlined) = try Self.compare(binary: "/lib/x86_64-linux-gnu/libc.so.6")
        // Also known (9 of 1,000 measured): a compatibility function (`__glob_lstat_compat`, exported as the old
        // version of `glob`) is named by its exported name, `glob`, as perf names it from `.dynsym`.
        #expect(differing.count <= 12, "\(differing.count) differ, e.g. \(differing.prefix(3))")
        #expect(inlined > 20, "glibc should have addresses under two inlined calls or more")
    }

    /// The addresses (with both answers) where the two tools differ, and how many have two inlined calls or more.
    static func compare(binary: String) throws -> (differing: [String], inlined: Int) {
        let sections = try FixtureCommand.check("/usr/bin/readelf", ["-SW", binary]).stdout
        let text = try #require(sections.split(separator: "\n").first { $0.contains(" .text ") })
        let fields = text.split(separator: " ").map(String.init)
        let index = try #require(fields.firstIndex(of: ".text"))
        let start = try #require(UInt64(fields[index + 2], radix: 16))
        let size = try #require(UInt64(fields[index + 4], radix: 16))
        var state: UInt64 = 7
        let addresses = (0..<1000).map { _ -> String in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return "0x" + String(start + (state >> 33) % size, radix: 16)
        }
        // fpprof names an address with a line but no function `module+0xOFFSET` where eu-addr2line prints `??`.
        let unnamed = URL(fileURLWithPath: binary).lastPathComponent + "+0x"
        let ours = Self.blocks(try FPProf.run(["symbolize", "--demangle", "full", "--exe", binary] + addresses).stdout)
            .map { $0.map { $0[0].hasPrefix(unnamed) ? ["??", $0[1]] : $0 } }
        var theirs = Self.blocks(
            try FixtureCommand.run("/usr/bin/eu-addr2line", ["-a", "-f", "-i", "-e", binary] + addresses).stdout)
        try #require(ours.count == 1000 && theirs.count == 1000)
        // eu-addr2line keeps symbol versions (`memcpy@@GLIBC_2.14`); fpprof drops them.
        theirs = theirs.map { $0.map { [$0[0].components(separatedBy: "@").first ?? $0[0], $0[1]] } }
        // Where nothing names an address (padding after a function), eu-addr2line takes its inline chain from the
        // start of the line-table row, not from the address: there only the first frame is compared.
        // fpprof shows the public name of a function where DWARF holds an internal alias (`read` for
        // `__GI___libc_read`): the real function (the last frame) agrees when both names have one entry.
        let entries = try Self.functionEntries(binary)
        func sameFunction(_ a: [[String]], _ b: [[String]]) -> Bool {
            guard a.count == b.count, let x = a.last, let y = b.last, a.dropLast() == b.dropLast(), x[1] == y[1],
                let entry = entries[y[0]]
            else { return false }
            return entries[x[0]] == entry
        }
        let differing = (0..<1000).filter { i in
            theirs[i].first?.first == "??"
                ? ours[i].prefix(1) != theirs[i].prefix(1) : ours[i] != theirs[i] && !sameFunction(ours[i], theirs[i])
        }
        let inlined = ours.filter { $0.count >= 3 }.count
        return (differing.map { "\(addresses[$0]): fpprof \(ours[$0]) eu-addr2line \(theirs[$0])" }, inlined)
    }

    /// Every function symbol's entry by name (version removed), from the separate debug file when there is one.
    static func functionEntries(_ binary: String) throws -> [String: UInt64] {
        var file = binary
        let notes = try FixtureCommand.check("/usr/bin/readelf", ["-n", binary]).stdout
        if let line = notes.split(separator: "\n").first(where: { $0.contains("Build ID:") }),
            let id = line.split(separator: " ").last, id.count > 2
        {
            let debug = "/usr/lib/debug/.build-id/\(id.prefix(2))/\(id.dropFirst(2)).debug"
            if FileManager.default.fileExists(atPath: debug) { file = debug }
        }
        var entries: [String: UInt64] = [:]
        for line in try FixtureCommand.check("/usr/bin/nm", ["--defined-only", file]).stdout.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let address = UInt64(fields[0], radix: 16), "TtWwi".contains(fields[1]) else {
                continue
            }
            // A compatibility version (`fmemopen@GLIBC_2.2.5`, one `@`) may be another function than the default
            // one: it counts only for a name that has no default version.
            let name = String(fields[2].prefix { $0 != "@" })
            if fields[2].contains("@") && !fields[2].contains("@@") && entries[name] != nil { continue }
            if !(fields[2].contains("@") && !fields[2].contains("@@")) || entries[name] == nil {
                entries[name] = address
            }
        }
        return entries
    }
}
