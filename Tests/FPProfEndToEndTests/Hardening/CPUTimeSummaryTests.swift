import Foundation
import Testing

/// Issue 14, item 7: a run whose samples are far below the target's CPU time says why in the summary. Thousands
/// of threads that each live about 1 ms (a tenth of a sampling period at 99 Hz) keep the process busy, yet few of
/// them are ever sampled; fpprof said only "N samples" before, as if the shares were whole.
@Suite(.serialized, .enabled(if: FPProf.isRoot, "perf_event_open on a launched command needs root here"))
struct CPUTimeSummaryTests {
    static func buildShortThreads(in scratch: Scratch) throws -> String {
        let binary = scratch.file("shortthreads")
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/c/shortthreads.c").path
        let result = try Scratch.shell("gcc -O1 -pthread -o \(shellQuoted(binary)) \(shellQuoted(source))")
        try #require(result.status == 0, "\(result)")
        return binary
    }

    @Test func shortLivedThreadsAreNamedAsTheReason() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let binary = try Self.buildShortThreads(in: scratch)
        let result = try FPProf.run(["record", "-F", "99", "-o", scratch.file("out.folded"), "--", binary, "2"])
        #expect([0, 2].contains(result.status), "\(result)")
        let threads = result.stdout.split(separator: " ").last.flatMap {
            Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect((threads ?? 0) > 300, "\(result.stdout)")
        let warning = try #require(
            result.stderr.split(separator: "\n").first { $0.contains("expected: the target used") },
            "\(result.stderr)")
        #expect(warning.contains("s of CPU time"))
        #expect(warning.contains("threads or processes were started"), "\(warning)")
        #expect(warning.contains("shorter than a sampling period (10.1 ms)"), "\(warning)")
    }

    @Test func oneLongThreadIsNotBlamedOnShortThreads() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let result = try FPProf.run([
            "record", "-F", "99", "-o", scratch.file("out.folded"), "--", try FixtureBuilder.path(for: .shares), "1",
        ])
        #expect([0, 2].contains(result.status), "\(result)")
        // On a loaded machine the fixture may get little CPU, and the comparison may then warn; it must never
        // blame short-lived threads for one thread that lives throughout.
        #expect(!result.stderr.contains("threads or processes were started"), "\(result.stderr)")
    }

    @Test func idleTargetIsCalledIdle() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let result = try FPProf.run(["record", "-F", "99", "-o", scratch.file("out.folded"), "--", "sleep", "1"])
        #expect([0, 2].contains(result.status), "\(result)")
        #expect(result.stderr.contains("it ran little (idle, waiting, or not given a CPU)"), "\(result.stderr)")
        #expect(!result.stderr.contains("was the target running on a CPU"), "\(result.stderr)")
    }
}
