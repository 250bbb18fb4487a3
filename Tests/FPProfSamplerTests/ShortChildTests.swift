import FPProfSampler
import Foundation
import Testing

/// `ShortChild` runs real processes: the input arrives whole on standard input, the exit status and the signal that
/// ended it come back, a child past its deadline is killed, and the environment is exactly the one given.
@Suite struct ShortChildTests {
    static func shell(
        _ script: String, input: String = "", environment: [String: String] = [:], timeout: Duration = .seconds(10)
    )
        -> ShortChild.Ending
    {
        ShortChild.run(
            path: "/bin/sh", arguments: ["-c", script], environment: environment, input: Array(input.utf8),
            timeout: timeout)
    }

    @Test func theInputArrivesWholeAndTheStatusComesBack() {
        #expect(Self.shell("read x; exit $x", input: "3\n") == .exited(3))
        // 200 KiB: more than a default pipe holds, read only after the child starts.
        let big = String(repeating: "0123456789abcdef", count: 200 << 6)
        #expect(Self.shell("test $(wc -c) -eq \(big.utf8.count)", input: big) == .exited(0))
    }

    @Test func aSignalThatEndsTheChildIsReported() {
        #expect(Self.shell("kill -ABRT $$") == .signaled(SIGABRT))
    }

    @Test func theEnvironmentIsTheOneGiven() {
        #expect(Self.shell("test \"$V\" = yes && test -z \"$HOME\"", environment: ["V": "yes"]) == .exited(0))
    }

    @Test func aChildPastItsDeadlineIsKilledAndReaped() {
        let start = ContinuousClock.now
        #expect(Self.shell("sleep 30", timeout: .milliseconds(200)) == .timedOut)
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func whatCannotStartSaysWhy() {
        let missing = ShortChild.run(
            path: "/nonexistent/tool", arguments: [], environment: [:], input: [], timeout: .seconds(1))
        #expect(missing == .notStarted("/nonexistent/tool: no such file or directory"))
        let tooBig = ShortChild.run(
            path: "/bin/true", arguments: [], environment: [:],
            input: [UInt8](repeating: 0, count: ShortChild.maxInput + 1),
            timeout: .seconds(1))
        if case .notStarted = tooBig {} else { Issue.record("\(tooBig)") }
    }
}
