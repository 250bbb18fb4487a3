import Foundation
import Testing

/// Unnamed code (issue 10, item 5): a library stripped of `.symtab` (and built without DWARF) is named per function
/// by the start of the function in the CFI's FDE table, `lib.so+0xFUNCSTART`. One capture is named twice, from the
/// library as built and, after `strip --strip-all` replaced it on disk (the build-id note stays, so `report` takes
/// the stripped file), from the stripped one: each hidden function becomes exactly one name, at the file offset of
/// its symbol, with the same sample total.
@Suite(.enabled(if: FPProf.isRoot, "needs root (perf events)"))
struct StrippedLibraryTests {
    static let source = """
        #include <stdlib.h>
        #include <time.h>
        #define HIDDEN __attribute__((visibility("hidden"), noinline))
        static volatile unsigned long sink;
        static double now(void) {
            struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9;
        }
        HIDDEN void lib_spin_a(unsigned long n) { for (unsigned long i = 0; i < n; i++) sink += i * 3; }
        HIDDEN void lib_spin_b(unsigned long n) { for (unsigned long i = 0; i < n; i++) sink ^= i + 7; }
        HIDDEN void lib_spin_c(unsigned long n) { for (unsigned long i = 0; i < n; i++) sink += i >> 1; }
        void lib_run(double seconds) {
            double end = now() + seconds;
            while (now() < end) { lib_spin_a(300000); lib_spin_b(200000); lib_spin_c(100000); }
        }
        """
    static let program = """
        #include <stdlib.h>
        void lib_run(double seconds);
        int main(int argc, char **argv) { lib_run(argc > 1 ? atof(argv[1]) : 1.0); return 0; }
        """

    @Test func strippedFunctionsAreNamedByTheirStartWithTheSameTotals() throws {
        let folder = FPProf.temporaryPath("stripped")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.source.write(toFile: folder + "/work.c", atomically: true, encoding: .utf8)
        try Self.program.write(toFile: folder + "/main.c", atomically: true, encoding: .utf8)
        let library = folder + "/libwork.so"
        for command in [
            ["gcc", "-O1", "-fno-omit-frame-pointer", "-fPIC", "-shared", "-o", library, folder + "/work.c"],
            [
                "gcc", "-O1", "-fno-omit-frame-pointer", "-o", folder + "/main", folder + "/main.c", library,
                "-Wl,-rpath," + folder,
            ],
        ] {
            let built = try FixtureCommand.run("/usr/bin/env", command)
            #expect(built.status == 0, "\(command): \(built.stderr)")
        }
        // Where each hidden function starts in the file: `nm` gives its address; in this library's first
        // executable segment addresses and file offsets differ by the segment's p_vaddr - p_offset.
        let starts = try Self.functionOffsets(library, ["lib_spin_a", "lib_spin_b", "lib_spin_c"])

        let raw = folder + "/capture.raw"
        let (named, result) = try FPProf.record(["-F", "999", "--raw", raw, "--", folder + "/main", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        let strip = try FixtureCommand.run("/usr/bin/strip", ["--strip-all", library])
        #expect(strip.status == 0, "\(strip.stderr)")
        let nm = try FixtureCommand.run("/usr/bin/nm", [library])
        #expect(nm.stderr.contains("no symbols"), "strip left a symbol table: \(nm.stdout)")
        let output = folder + "/stripped.folded"
        let report = try FPProf.run(["report", raw, "-o", output])
        #expect(report.status == 0, "\(report.stderr)")
        let unnamed = try Folded(parsing: String(contentsOfFile: output, encoding: .utf8))
        #expect(unnamed.total == named.total)

        // Totals by leaf: one name per function in both profiles, the same count under each.
        func leaves(_ folded: Folded) -> [String: Int] {
            folded.lines.reduce(into: [:]) { $0[$1.frames.last!, default: 0] += $1.count }
        }
        let before = leaves(named)
        let after = leaves(unnamed)
        let strippedNames = Set(after.keys.filter { $0.hasPrefix("libwork.so+0x") })
        for (function, offset) in starts.sorted(by: { $0.key < $1.key }) {
            let name = "libwork.so+0x" + String(offset, radix: 16)
            #expect((before[function] ?? 0) > 100, "too few samples in \(function): \(before)")
            #expect(after[name] == before[function], "\(function) as \(name): \(after)")
        }
        // Nothing of the library's own code is named any other way (lib_run keeps its .dynsym name).
        #expect(strippedNames == Set(starts.values.map { "libwork.so+0x" + String($0, radix: 16) }), "\(after)")
        #expect(after["lib_run"] == before["lib_run"])
    }

    /// The file offsets of `names` in `library`: their addresses (`SymbolizeCommandTests.functionEntries`, from
    /// `nm`) moved by the executable LOAD segment of `readelf -lW`.
    static func functionOffsets(_ library: String, _ names: [String]) throws -> [String: UInt64] {
        let addresses = try SymbolizeCommandTests.functionEntries(library).filter { names.contains($0.key) }
        let headers = try FixtureCommand.run("/usr/bin/readelf", ["-lW", library])
        // "LOAD 0x001000 0x0000000000001000 0x0000000000001000 0x000135 0x000135 R E 0x1000"
        guard
            let load = headers.stdout.split(separator: "\n").first(where: {
                $0.contains("LOAD") && $0.contains(" E ")
            }),
            case let fields = load.split(separator: " "), fields.count > 3,
            let offset = UInt64(fields[1].dropFirst(2), radix: 16),
            let vaddr = UInt64(fields[2].dropFirst(2), radix: 16)
        else { throw FixtureError(command: ["readelf", library], status: nil, message: headers.stdout) }
        #expect(addresses.count == names.count, "\(addresses)")
        return addresses.mapValues { $0 - vaddr + offset }
    }
}
