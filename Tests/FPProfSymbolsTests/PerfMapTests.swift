import FPProfCore
import FPProfSymbols
import Foundation
import Testing

/// `/tmp/perf-PID.map` parsing and lookup.
struct PerfMapTests {
    @Test("START SIZE NAME lines: hex with or without 0x, names with spaces, malformed lines counted")
    func parsing() {
        let map = PerfMapSymbols(
            text: """
                7f0000001000 40 LazyCompile:~foo /app/main.js:10
                0x7f0000001040 0x20 Interpreter
                garbage line
                7f0000002000 0 zero-sized

                7f0000003000 10 java.lang.String::hashCode()  
                """)
        #expect(map.entries.count == 3)
        #expect(map.malformedLines == 2)
        #expect(map.entries[0].name == "LazyCompile:~foo /app/main.js:10")
        #expect(map.entries[1] == .init(start: VirtualAddress(0x7f00_0000_1040), size: 0x20, name: "Interpreter"))
        #expect(map.entries[2].name == "java.lang.String::hashCode()")
    }

    @Test("lookups: inside, at the edges, between entries; the later of overlapping entries wins")
    func lookups() {
        let map = PerfMapSymbols(
            text: """
                1000 100 old
                1080 10 inner-old
                2000 10 b
                1000 40 new
                """)
        func name(_ address: UInt64) -> String? { map.entry(at: VirtualAddress(address))?.name }
        #expect(name(0xfff) == nil)
        #expect(name(0x1000) == "new")
        #expect(name(0x103f) == "new")
        #expect(name(0x1040) == "old")
        #expect(name(0x1085) == "inner-old")
        #expect(name(0x10ff) == "old")
        #expect(name(0x1100) == nil)
        #expect(name(0x200f) == "b")
        #expect(name(0x2010) == nil)
        #expect(map.frames(at: VirtualAddress(0x2000)) == [SymbolFrame(function: "b")])
        #expect(map.frames(at: VirtualAddress(0x3000)).isEmpty)
    }

    @Test("a process's map file is read from /tmp/perf-PID.map under the given root")
    func forProcess() throws {
        let root = try Fixtures.scratchDirectory("perfmap")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/tmp", withIntermediateDirectories: true)
        try Data("4000 20 jitted_function\n".utf8).write(to: URL(fileURLWithPath: root + "/tmp/perf-4242.map"))
        let map = try #require(PerfMapSymbols.forProcess(ProcessID(4242), root: root))
        #expect(map.entry(at: VirtualAddress(0x4010))?.name == "jitted_function")
        #expect(PerfMapSymbols.forProcess(ProcessID(4243), root: root) == nil)
    }

    /// The symbolizer names anonymous code from the map of the process it belongs to (under `rootPrefix`, as
    /// `--symfs`), and nothing where that process wrote no map or the map does not cover the address.
    @Test func symbolizerNamesAnonymousCodeFromItsProcesssMap() throws {
        let root = try Fixtures.scratchDirectory("perfmap-symbolizer")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/tmp", withIntermediateDirectories: true)
        try Data("7f0000004000 20 jitted_function\n".utf8).write(
            to: URL(fileURLWithPath: root + "/tmp/perf-4242.map"))
        let symbolizer = ElfSymbolizer(options: .init(rootPrefix: root))
        func frames(pid: Int32, _ address: UInt64) -> [SymbolFrame] {
            symbolizer.frames(
                for: NormalizedAddress(
                    module: ModuleID(path: ModuleID.anonymousPath, pidHint: ProcessID(pid)),
                    offset: FileOffset(address)))
        }
        #expect(frames(pid: 4242, 0x7f00_0000_4010) == [SymbolFrame(function: "jitted_function")])
        #expect(frames(pid: 4242, 0x7f00_0000_4020).isEmpty)
        #expect(frames(pid: 4243, 0x7f00_0000_4010).isEmpty)
        #expect(symbolizer.warnings.isEmpty)
    }

    @Test("the pid a process sees in its own namespace is the last NSpid field")
    func namespacePID() {
        #expect(PerfMapSymbols.namespacePID(status: "Name:\tnode\nNSpid:\t4242\t7\nNStgid:\t4242\t7\n") == 7)
        #expect(PerfMapSymbols.namespacePID(status: "Name:\tnode\nNSpid:\t4242\n") == 4242)
        #expect(PerfMapSymbols.namespacePID(status: "Name:\tnode\n") == nil)
    }
}
