// Checks that the fixtures are what the end-to-end tests assume: they build, run and exit cleanly; every named
// function owns a frame record; the broken frame chains of fploop and fpcycle are really there; and, where perf
// can run, perf's own profile shows the promised shares and chains.

import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Fixtures")
struct FixtureTests {
    @Test("builds and runs briefly with exit status 0", arguments: Fixture.allCases)
    func buildsAndRuns(_ fixture: Fixture) throws {
        let path = try FixtureBuilder.path(for: fixture)
        let result = try FixtureCommand.run(path, ["0.3"], timeout: 30)
        Fixture.removeJITMaps(listedIn: result.stdout)
        #expect(result.status == 0, "\(fixture) exited with \(result.status): \(result.stderr)")
    }

    @Test("rejects a malformed duration with exit status 2", arguments: Fixture.allCases)
    func rejectsBadDuration(_ fixture: Fixture) throws {
        let path = try FixtureBuilder.path(for: fixture)
        let result = try FixtureCommand.run(path, ["soon"], timeout: 30)
        #expect(result.status == 2)
    }

    @Test(
        "every named C function starts with push %rbp; mov %rsp,%rbp", arguments: Fixture.allCases.filter { !$0.isGo })
    func everyFunctionHasAFrameRecord(_ fixture: Fixture) throws {
        let functions = try Disassembly(of: FixtureBuilder.path(for: fixture))
        for name in fixture.functionNames {
            let body = try #require(functions[name], "\(name) missing from \(fixture)")
            #expect(Array(body.prefix(2)) == ["push %rbp", "mov %rsp,%rbp"], "\(fixture): \(name) \(body.prefix(3))")
        }
    }

    /// The fixtures of code without frame pointers: every function the C names is there (not inlined away) and none
    /// makes a frame record; main may save BP, as a register of its own.
    @Test(
        "shares-omitfp and go-cgo's C: every function is there, none with a frame record",
        arguments: [
            (Fixture.sharesOmitFP, Fixture.shares.functionNames), (Fixture.goCgo, ["c_outer", "c_middle", "c_leaf"]),
        ])
    func framelessFunctions(_ fixture: Fixture, names: [String]) throws {
        let functions = try Disassembly(of: FixtureBuilder.path(for: fixture))
        for name in names {
            let body = try #require(functions[name], "\(name) missing from \(fixture)")
            #expect(!body.contains("mov %rsp,%rbp"), "\(fixture): \(name) \(body.prefix(3))")
            #expect(body.contains { $0.hasPrefix("call") } || body.contains { $0.hasPrefix("imul") }, "\(name)")
        }
    }

    @Test("recursion: each recurse level is a 16-byte frame and the calls are not tail calls")
    func recursionFramesAreSmall() throws {
        let functions = try Disassembly(of: FixtureBuilder.path(for: .recursion))
        let recurse = try #require(functions["recurse"])
        #expect(recurse.filter { $0.hasPrefix("push") } == ["push %rbp"])
        #expect(!recurse.contains { $0.hasPrefix("sub") && $0.hasSuffix(",%rsp") })
        #expect(recurse.contains { $0.hasPrefix("call") && $0.hasSuffix("<recurse>") })
        #expect(recurse.contains { $0.hasPrefix("call") && $0.hasSuffix("<spin_at_bottom>") })
        #expect(
            !recurse.contains { $0.hasPrefix("jmp") && ($0.hasSuffix("<recurse>") || $0.hasSuffix("<spin_at_bottom>")) }
        )
    }

    @Test("fploop: loop_caller points %rbp at its callee's saved-BP slot")
    func loopCallerShape() throws {
        let functions = try Disassembly(of: FixtureBuilder.path(for: .fploop))
        let caller = try #require(functions["loop_caller"])
        let call = try #require(caller.firstIndex { $0.hasPrefix("call") && $0.hasSuffix("<loop_callee>") })
        #expect(call > 0 && caller[call - 1] == "lea -0x10(%rsp),%rbp")
        #expect(functions["loop_callee"] != nil)
    }

    @Test("fploop: loop_callee runs with [rbp] == rbp")
    func selfLoopHolds() throws {
        let path = try FixtureBuilder.path(for: .fploop)
        let result = try FixtureCommand.run(path, ["0.2"], environment: ["FPPROF_FIXTURE_CHECK": "1"], timeout: 30)
        #expect(result.status == 0)
        #expect(result.stdout == "selfloop ok\n")
    }

    @Test("fpcycle: cycle_caller builds two records and calls cycle_callee")
    func cycleCallerShape() throws {
        let functions = try Disassembly(of: FixtureBuilder.path(for: .fpcycle))
        let caller = try #require(functions["cycle_caller"])
        #expect(caller.contains { $0.hasPrefix("call") && $0.hasSuffix("<cycle_callee>") })
        #expect(caller.contains("mov %rsp,%rbp"))
        for name in ["cycle_frame_a", "cycle_frame_b"] {
            let body = try #require(functions[name], "\(name) missing")
            #expect(body.last == "ret")
        }
    }

    @Test("fpcycle: cycle_callee runs with [rbp] -> recA -> recB -> recA")
    func cycleHolds() throws {
        let path = try FixtureBuilder.path(for: .fpcycle)
        let result = try FixtureCommand.run(path, ["0.2"], environment: ["FPPROF_FIXTURE_CHECK": "1"], timeout: 30)
        #expect(result.status == 0)
        #expect(result.stdout == "cycle ok\n")
    }

    @Test("latethread: a thread named late-worker appears after the delay")
    func lateThreadAppears() throws {
        let path = try FixtureBuilder.path(for: .latethread)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["1.0", "0.2"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        let pid = process.processIdentifier
        let start = Date()
        var namesAtStart: [String] = []
        var sawLateWorker: Double?
        while process.isRunning && Date().timeIntervalSince(start) < 0.9 {
            let names = threadNames(of: pid)
            if namesAtStart.isEmpty { namesAtStart = names }
            if names.contains("late-worker") {
                sawLateWorker = Date().timeIntervalSince(start)
                break
            }
            usleep(20_000)
        }
        #expect(!namesAtStart.contains("late-worker"), "late-worker existed at start: \(namesAtStart)")
        let seenAt = try #require(sawLateWorker, "no late-worker thread within 0.9 s")
        #expect(seenAt >= 0.15)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test("go-shares: the work functions exist with frame records")
    func goFunctions() throws {
        let path = try FixtureBuilder.path(for: .goShares)
        let objdump = try #require(FixtureCommand.which("objdump"))
        for name in ["main.worker", "main.workA", "main.workB", "main.workC"] {
            let text = try FixtureCommand.check(objdump, ["-d", "--no-show-raw-insn", "--disassemble=\(name)", path])
            let body = try #require(Disassembly(parsing: text.stdout)[name], "\(name) missing")
            // Go's prologue: mov %rbp,N(%rsp); lea N(%rsp),%rbp.
            #expect(body.prefix(8).contains { $0.hasPrefix("lea ") && $0.hasSuffix("(%rsp),%rbp") }, "\(name)")
        }
    }

    private func threadNames(of pid: Int32) -> [String] {
        let tasks = "/proc/\(pid)/task"
        let tids = (try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? []
        return tids.compactMap { tid in
            (try? String(contentsOfFile: "\(tasks)/\(tid)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}

/// perf's own profile of the fixtures: the reference the end-to-end tests compare fpprof with.
@Suite("Fixtures under perf", .serialized, .enabled(if: PerfTool.usable, "needs /usr/bin/perf and root"))
struct FixturePerfTests {
    @Test("C and Go shares hold within 5 points", arguments: [Fixture.shares, .goShares])
    func shares(_ fixture: Fixture) throws {
        let stacks = try PerfTool.record(fixture, seconds: 1)
        try #require(stacks.count > 200, "only \(stacks.count) samples")
        for expected in fixture.expectedStacks {
            // Leaf-first, as perf writes them; perf names the goroutine root runtime.goexit.abi0.
            let want = expected.frames.reversed().map { $0 == "runtime.goexit" ? "runtime.goexit.abi0" : $0 }
            let matching = stacks.filter { Array($0.prefix(want.count)) == want }.count
            let share = Double(matching) / Double(stacks.count)
            #expect(abs(share - expected.share!) < 0.05, "\(expected.folded): \(share) of \(stacks.count)")
        }
    }

    @Test("fploop: perf repeats loop_caller to its depth limit")
    func fploop() throws {
        let stacks = try PerfTool.record(.fploop, seconds: 1)
        let looping = stacks.filter { $0.first == "loop_callee" }
        let share = Double(looping.count) / Double(max(stacks.count, 1))
        #expect(abs(share - 0.5) < 0.05, "loop_callee share \(share)")
        let stuck = looping.filter { $0.count >= 100 && $0.dropFirst().allSatisfy { $0 == "loop_caller" } }
        #expect(stuck.count >= looping.count * 9 / 10, "\(stuck.count) of \(looping.count) loop forever")
        let healthy = stacks.filter { $0.prefix(3) == ["healthy_leaf", "healthy_work", "main"] }
        #expect(abs(Double(healthy.count) / Double(max(stacks.count, 1)) - 0.5) < 0.05)
    }

    @Test("fpcycle: perf alternates cycle_frame_a and cycle_frame_b")
    func fpcycle() throws {
        let stacks = try PerfTool.record(.fpcycle, seconds: 1)
        let cycling = stacks.filter { $0.first == "cycle_callee" }
        let share = Double(cycling.count) / Double(max(stacks.count, 1))
        #expect(abs(share - 0.5) < 0.05, "cycle_callee share \(share)")
        let alternating = cycling.filter { stack in
            guard stack.count >= 100, stack[1] == "cycle_caller" else { return false }
            return stack.dropFirst(2).enumerated().allSatisfy { index, frame in
                frame == (index % 2 == 0 ? "cycle_frame_a" : "cycle_frame_b")
            }
        }
        #expect(alternating.count >= cycling.count * 9 / 10, "\(alternating.count) of \(cycling.count) alternate")
    }
}

/// `perf record --call-graph fp` of a fixture, read back with `perf script`.
enum PerfTool {
    static let path = "/usr/bin/perf"

    static var usable: Bool {
        FileManager.default.isExecutableFile(atPath: path) && geteuid() == 0
    }

    /// The user-space stacks of the fixture's samples, leaf-first, as symbol names.
    static func record(_ fixture: Fixture, seconds: Double) throws -> [[String]] {
        let executable = try FixtureBuilder.path(for: fixture)
        let data = FileManager.default.temporaryDirectory
            .appendingPathComponent("fpprof-fixture-\(getpid())-\(UUID().uuidString).data").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        try FixtureCommand.check(
            path,
            [
                "record", "-q", "-e", "cpu-clock:u", "-F", "999", "--call-graph", "fp", "-o", data, "--", executable,
                String(seconds),
            ],
            timeout: 60)
        let script = try FixtureCommand.check(path, ["script", "-i", data, "-F", "ip,sym"], timeout: 60)
        return parseScript(script.stdout)
    }

    /// `perf script -F ip,sym` output as stacks: one block of `ip symbol` lines per sample, leaf first.
    static func parseScript(_ text: String) -> [[String]] {
        var stacks: [[String]] = []
        var current: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.isEmpty {
                if !current.isEmpty { stacks.append(current) }
                current = []
            } else {
                current.append(fields.count > 1 ? String(fields[1]) : "[unknown]")
            }
        }
        if !current.isEmpty { stacks.append(current) }
        return stacks
    }
}

/// `objdump -d` of an executable: each function's instructions, whitespace normalized, comments dropped
/// (`push %rbp`, `mov %rsp,%rbp`, `call 11c2 <recurse>`).
struct Disassembly {
    private var functions: [String: [String]] = [:]

    init(of path: String) throws {
        guard let objdump = FixtureCommand.which("objdump") else {
            throw FixtureError(command: ["objdump"], status: nil, message: "objdump not found on PATH")
        }
        self.init(parsing: try FixtureCommand.check(objdump, ["-d", "--no-show-raw-insn", path]).stdout)
    }

    init(parsing text: String) {
        var name: String?
        for line in text.split(separator: "\n") {
            if line.hasSuffix(">:"), let open = line.firstIndex(of: "<") {
                name = String(line[line.index(after: open)..<line.index(line.endIndex, offsetBy: -2)])
                functions[name!] = []
            } else if let current = name, let tab = line.firstIndex(of: "\t") {
                var instruction = line[line.index(after: tab)...]
                if let comment = instruction.firstIndex(of: "#") { instruction = instruction[..<comment] }
                let normalized = instruction.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
                if !normalized.isEmpty { functions[current]!.append(normalized) }
            }
        }
    }

    subscript(name: String) -> [String]? { functions[name] }
}
