// End-to-end tests on the 2023 Go mcall frame-pointer loop, re-created on Go 1.19 (GoMcallBugFixture.swift), and
// `fpprof fpcheck` on the C fixtures with broken chains.
//
// The buggy build's first phase runs `main.yieldLoop`, which yields (runtime.Gosched, inlined: mcall) and then calls
// the non-leaf `main.yieldWork`; with the patched mcall, yieldWork's frame record holds its own address. Its second
// phase (`main.steadyLoop;main.steadyWork`) never yields and keeps a whole chain. The stock build is the same program
// on the unchanged runtime.

import Foundation
import Testing

@Suite(
    .serialized,
    .enabled(
        if: FPProf.isRoot && GoMcallBug.isAvailable,
        "needs root (perf events), Debian's Go 1.19 tree (golang-1.19-go), cp and patch on x86-64"))
struct GoMcallBugTests {
    /// The process's own account (FPPROF_FIXTURE_CHECK=1) of its frame records: in the buggy build every call of
    /// yieldWork found `[BP] == BP`, no call of steadyWork did; in the stock build none did. This checks the fixture
    /// itself, with no profiler involved.
    @Test func fixtureSelfCheck() throws {
        let buggy = try selfCheck(.buggy)
        #expect(buggy.yield.calls > 100, "yieldWork ran too few times: \(buggy)")
        #expect(buggy.yield.selfLoops == buggy.yield.calls, "the patched mcall did not loop every record: \(buggy)")
        #expect(buggy.steady.calls > 100 && buggy.steady.selfLoops == 0, "\(buggy)")

        let stock = try selfCheck(.stock)
        #expect(stock.yield.calls > 100 && stock.steady.calls > 100, "\(stock)")
        #expect(stock.yield.selfLoops == 0 && stock.steady.selfLoops == 0, "\(stock)")
    }

    /// The reference: the kernel's frame-pointer walk (perf's `--call-graph fp`) repeats the looping function up to
    /// its depth limit in the buggy build's looping phase, and finds a short, whole chain in the stock build.
    @Test(.enabled(if: FixtureCommand.which("perf") != nil, "needs perf"))
    func perfRepeatsTheLoopingFunction() throws {
        let buggy = try perfLoopStacks(.buggy)
        #expect(buggy.count > 100, "too few looping-phase samples from perf: \(buggy.count)")
        let repeated = buggy.filter { $0.filter { $0 == GoMcallBug.loopFunction }.count >= 100 }
        #expect(
            Double(repeated.count) >= 0.95 * Double(buggy.count),
            "perf repeated \(GoMcallBug.loopFunction) 100+ times in only \(repeated.count) of \(buggy.count) samples")
        #expect((buggy.map(\.count).max() ?? 0) >= 120, "perf's deepest stack: \(buggy.map(\.count).max() ?? 0)")

        let stock = try perfLoopStacks(.stock)
        #expect(stock.count > 100, "too few looping-phase samples from perf: \(stock.count)")
        let whole = stock.filter { $0.filter { $0 == GoMcallBug.loopFunction }.count == 1 && $0.count < 20 }
        #expect(
            Double(whole.count) >= 0.95 * Double(stock.count),
            "stock build: only \(whole.count) of \(stock.count) perf stacks short with \(GoMcallBug.loopFunction) once")
    }

    /// `fpprof record` on the buggy build: at least 95 % of the looping phase's samples carry `[fp-loop]` right after
    /// the process name, followed by the real frames (yieldLoop once, then its callees); no frame repeats within a
    /// line (the program has no recursion), but for the rare prologue sample described below. The steady phase is not flagged. The same with `--unwind hybrid`.
    @Test(arguments: ["fp", "hybrid"]) func recordFlagsTheLoopingPhase(unwind: String) throws {
        let path = try GoMcallBug.path(for: .buggy)
        let (folded, result) = try FPProf.record(["-F", "999", "--unwind", unwind, "--", path, "3"])
        let loop = folded.lines.filter { $0.frames.contains(GoMcallBug.loopFunction) }
        let loopSamples = loop.reduce(0) { $0 + $1.count }
        #expect(loopSamples > 200, "too few looping-phase samples: \(loopSamples); \(result.stderr)")

        let flagged = loop.filter { $0.frames.count >= 2 && $0.frames[1] == "[fp-loop]" }
        let flaggedSamples = flagged.reduce(0) { $0 + $1.count }
        #expect(
            Double(flaggedSamples) >= 0.95 * Double(loopSamples),
            "[fp-loop] in \(flaggedSamples) of \(loopSamples) looping-phase samples:\n\(describe(loop))")
        #expect(flagged.allSatisfy { $0.frames[0] == GoMcallBug.Build.buggy.rawValue })
        // The walk's real frames up to the bad record: the record's return address into yieldLoop, then the stop.
        let withCallee = flagged.filter {
            $0.frames.count >= 4 && $0.frames[2] == GoMcallBug.loopFunction && $0.frames[3] == GoMcallBug.loopCallee
        }
        #expect(
            withCallee.reduce(0) { $0 + $1.count } >= flaggedSamples * 9 / 10,
            "most flagged lines should read [fp-loop];\(GoMcallBug.loopFunction);\(GoMcallBug.loopCallee):\n\(describe(flagged))"
        )

        // A sample in the prologue of yieldLoop's callee (before it saves BP) finds yieldLoop twice: at SP, by the
        // entry rule, and again in the looping record BP still points at, whose return address is into yieldLoop.
        // One CI run had one such sample (`[fp-loop];main.yieldLoop;main.yieldLoop;time.Now`); more than 1 % of
        // the looping samples would be the walk repeating frames.
        let repeating = loop.filter { line in
            Dictionary(grouping: line.frames, by: { $0 }).contains { $0.value.count > 1 }
        }
        #expect(
            repeating.reduce(0) { $0 + $1.count } * 100 <= loopSamples,
            "frames repeated within a line:\n\(describe(repeating))")

        let steady = folded.lines.filter { $0.frames.contains(GoMcallBug.steadyFunction) }
        #expect(steady.reduce(0) { $0 + $1.count } > 200, "too few steady-phase samples:\n\(describe(steady))")
        let steadyFlagged = steady.filter { $0.frames.contains("[fp-loop]") || $0.frames.contains("[fp-cycle]") }
        #expect(steadyFlagged.isEmpty, "the steady phase was flagged:\n\(describe(steadyFlagged))")
    }

    /// `fpprof record` on the stock build: no `[fp-loop]` or `[fp-cycle]` anywhere, and the looping phase's stacks
    /// are whole (rooted at runtime.goexit).
    @Test func recordOfStockBuildHasNoFlags() throws {
        let path = try GoMcallBug.path(for: .stock)
        let (folded, result) = try FPProf.record(["-F", "999", "--", path, "3"])
        let marked = folded.lines.filter { $0.frames.contains("[fp-loop]") || $0.frames.contains("[fp-cycle]") }
        #expect(marked.isEmpty, "flagged lines in the stock build:\n\(describe(marked))")

        let loop = folded.lines.filter { $0.frames.contains(GoMcallBug.loopFunction) }
        let loopSamples = loop.reduce(0) { $0 + $1.count }
        #expect(loopSamples > 200, "too few looping-phase samples: \(loopSamples); \(result.stderr)")
        let whole = loop.filter {
            Array($0.frames.prefix(3)) == [GoMcallBug.Build.stock.rawValue, "runtime.goexit", GoMcallBug.loopFunction]
        }
        #expect(
            whole.reduce(0) { $0 + $1.count } * 100 >= loopSamples * 95,
            "looping-phase stacks not rooted at runtime.goexit:\n\(describe(loop))")
    }

    /// `fpprof fpcheck` finds the loop in the buggy build, names the function whose record is bad (yieldWork) and
    /// the looping function it returns into (yieldLoop), and exits 3; on the stock build it exits 0.
    @Test func fpcheckNamesTheLoopingFunction() throws {
        let buggy = try FPCheckReport.run(["-F", "999", "--", try GoMcallBug.path(for: .buggy), "3"])
        #expect(buggy.status == 3, "fpcheck on the buggy build: \(buggy)")
        #expect(buggy.flagged.contains { $0.line.contains(GoMcallBug.loopFunction) }, "\(buggy)")
        #expect(
            buggy.flagged.contains {
                $0.kind == "self-loop" && $0.owner == GoMcallBug.loopCallee && $0.caller == GoMcallBug.loopFunction
            }, "no self-loop record of \(GoMcallBug.loopCallee) returning into \(GoMcallBug.loopFunction): \(buggy)")
        #expect(buggy.verdict.contains("loop"), "\(buggy)")
        #expect(!buggy.flagged.contains { $0.line.contains(GoMcallBug.steadyFunction) }, "\(buggy)")

        let stock = try FPCheckReport.run(["-F", "999", "--", try GoMcallBug.path(for: .stock), "3"])
        #expect(stock.status == 0, "fpcheck on the stock build: \(stock)")
        #expect(!stock.flagged.contains { $0.kind == "self-loop" || $0.kind == "cycle" }, "\(stock)")
        #expect(stock.verdict.contains("healthy"), "\(stock)")
    }

    /// `fpprof fpcheck` on the C fixtures: the self-referential record of fploop (loop_callee returning into
    /// loop_caller) and the two-record cycle of fpcycle give exit 3 and are named; shares is healthy.
    @Test func fpcheckOnCFixtures() throws {
        let fploop = try FPCheckReport.run(["-F", "999", "--", try FixtureBuilder.path(for: .fploop), "2"])
        #expect(fploop.status == 3, "\(fploop)")
        #expect(
            fploop.flagged.contains {
                $0.kind == "self-loop" && $0.owner == "loop_callee" && $0.caller == "loop_caller"
            },
            "\(fploop)")

        // The cycle callee -> recA -> recB -> recA: which record of it is "bad" is the reporter's choice (the one
        // that leads back down is recB, reached through cycle_frame_a's return address), so accept any record on the
        // fixture's walk (cycle_callee, cycle_caller, cycle_frame_a, cycle_frame_b), with both names from it.
        let fpcycle = try FPCheckReport.run(["-F", "999", "--", try FixtureBuilder.path(for: .fpcycle), "2"])
        let walk = Fixture.fpcycle.frameWalkBeforeMarker ?? []
        #expect(fpcycle.status == 3, "\(fpcycle)")
        #expect(
            fpcycle.flagged.contains { $0.kind == "cycle" && walk.contains($0.owner) && walk.contains($0.caller) },
            "no cycle record among \(walk): \(fpcycle)")
        #expect(!fpcycle.flagged.contains { $0.kind == "self-loop" }, "\(fpcycle)")

        let shares = try FPCheckReport.run(["-F", "999", "--", try FixtureBuilder.path(for: .shares), "2"])
        #expect(shares.status == 0, "\(shares)")
        #expect(!shares.flagged.contains { $0.kind == "self-loop" || $0.kind == "cycle" }, "\(shares)")
        #expect(shares.verdict.contains("healthy"), "\(shares)")
    }

    // MARK: - Helpers

    private struct SelfCheck: CustomStringConvertible {
        var yield: (selfLoops: Int, calls: Int)
        var steady: (selfLoops: Int, calls: Int)
        var description: String {
            "yieldWork \(yield.selfLoops)/\(yield.calls), steadyWork \(steady.selfLoops)/\(steady.calls)"
        }
    }

    /// Runs a build for a second with FPPROF_FIXTURE_CHECK=1 and reads its `NAME selfloop N/M` lines.
    private func selfCheck(_ build: GoMcallBug.Build) throws -> SelfCheck {
        let result = try FixtureCommand.check(
            try GoMcallBug.path(for: build), ["1"], environment: ["FPPROF_FIXTURE_CHECK": "1"], timeout: 60)
        var counts: [String: (Int, Int)] = [:]
        for line in result.stdout.split(separator: "\n") {
            let words = line.split(separator: " ")
            let numbers = words.count == 3 ? words[2].split(separator: "/").compactMap { Int($0) } : []
            if words.count == 3 && words[1] == "selfloop" && numbers.count == 2 {
                counts[String(words[0])] = (numbers[0], numbers[1])
            }
        }
        guard let yield = counts["yieldWork"], let steady = counts["steadyWork"] else {
            throw FixtureError(
                command: [build.rawValue, "1"], status: result.status, message: "no self-check in: \(result.stdout)")
        }
        return SelfCheck(yield: yield, steady: steady)
    }

    /// Records a build with `perf record -e cpu-clock -F 999 --call-graph fp` and returns the stacks (leaf first,
    /// function names) of the samples that contain the looping function.
    private func perfLoopStacks(_ build: GoMcallBug.Build) throws -> [[String]] {
        let perf = FixtureCommand.which("perf")!
        let data = FPProf.temporaryPath("perf.data")
        defer { unlink(data) }
        try FixtureCommand.check(
            perf,
            [
                "record", "-q", "-e", "cpu-clock", "-F", "999", "--call-graph", "fp", "-o", data, "--",
                try GoMcallBug.path(for: build), "2",
            ])
        let script = try FixtureCommand.check(perf, ["script", "-i", data, "-F", "comm,ip,sym"])
        var stacks: [[String]] = []
        for sample in script.stdout.components(separatedBy: "\n\n") {
            let frames = sample.split(separator: "\n").dropFirst().compactMap { line -> String? in
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                return fields.count >= 2 ? String(fields[1]) : nil
            }
            if frames.contains(GoMcallBug.loopFunction) { stacks.append(frames) }
        }
        return stacks
    }
}

/// What `fpprof fpcheck` printed: its exit status, the flagged frame records and the verdict.
///
/// The report (stdout):
///
///     fpcheck: N samples (event cpu-clock at 999 Hz)
///     unwind: complete A (x%), self-loop B (y%), cycle C, truncated D, bad-frame E
///     flagged frame records:
///       self-loop  <owner function>  returns into <caller function> (<module>+0x<offset>)  <count> samples
///     verdict: healthy | frame-pointer loops or cycles found
///
/// Only names and kinds are read, never spacing.
private struct FPCheckReport: CustomStringConvertible {
    struct Record {
        /// `self-loop`, `cycle`, `truncated` or `bad-frame`.
        var kind: String
        /// The function that owns the bad record (the callee that pushed it).
        var owner: String
        /// The function its return address points into ("" when the line has no `returns into`).
        var caller: String
        var line: String
    }

    var status: Int32
    var stdout: String
    var stderr: String
    var flagged: [Record]
    var verdict: String

    static func run(_ arguments: [String]) throws -> FPCheckReport {
        let result = try FPProf.run(["fpcheck"] + arguments, timeout: 120)
        return FPCheckReport(result)
    }

    init(_ result: CommandResult) {
        status = result.status
        stdout = result.stdout
        stderr = result.stderr
        flagged = []
        verdict = ""
        var inFlagged = false
        for raw in result.stdout.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("flagged frame records") {
                inFlagged = true
            } else if line.hasPrefix("verdict:") {
                inFlagged = false
                verdict = String(line.dropFirst("verdict:".count)).trimmingCharacters(in: .whitespaces)
            } else if inFlagged, let record = Self.parse(line) {
                flagged.append(record)
            }
        }
    }

    private static func parse(_ line: String) -> Record? {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard words.count >= 2, ["self-loop", "cycle", "truncated", "bad-frame"].contains(words[0]) else { return nil }
        var caller = ""
        if let into = words.firstIndex(of: "into"), into > 0, words[into - 1] == "returns", into + 1 < words.count {
            caller = words[into + 1]
        }
        return Record(kind: words[0], owner: words[1], caller: caller, line: line)
    }

    var description: String { "exit status \(status)\n\(stdout)\(stderr.isEmpty ? "" : "stderr: \(stderr)")" }
}
