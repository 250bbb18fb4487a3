import Foundation
import Logging
import Testing

@testable import FPProfDaemon

@Suite struct DaemonLogHandlerTests {
    @Test func journalLinesCarryThePriorityAndNoTime() {
        let line = DaemonLogHandler.format(
            level: .error, message: "window skipped", metadata: ["target": "web", "error": "no space left"],
            style: .journal, date: Date(timeIntervalSince1970: 0))
        #expect(line == "<3>window skipped error=\"no space left\" target=web\n")
        let priorities = [Logger.Level.debug, .info, .notice, .warning, .error, .critical].map {
            DaemonLogHandler.priority($0)
        }
        #expect(priorities == [7, 6, 5, 4, 3, 2])
    }

    @Test func terminalLinesAreTimestamped() {
        let line = DaemonLogHandler.format(
            level: .info, message: "sampling", metadata: [:], style: .timestamped,
            date: Date(timeIntervalSince1970: 1_796_440_320.25))
        #expect(line == "2026-12-05T03:12:00.250Z info sampling\n")
    }

    @Test func theStyleFollowsJournalStream() {
        #expect(DaemonLogHandler.detectedStyle(environment: ["JOURNAL_STREAM": "8:1234"]) == .journal)
        #expect(DaemonLogHandler.detectedStyle(environment: [:]) == .timestamped)
    }
}

@Suite struct ProcessMatcherTests {
    let caddy = ProcessInfoSnapshot(pid: 10, parent: 1, comm: "caddy", executable: "/usr/local/bin/caddy")
    let kthread = ProcessInfoSnapshot(pid: 2, parent: 0, comm: "kthreadd", executable: nil)

    @Test func globsOnNameAndPath() {
        #expect(ProcessMatcher.matches(.comm("cad*"), caddy))
        #expect(!ProcessMatcher.matches(.comm("postgres"), caddy))
        #expect(ProcessMatcher.matches(.exe("*/caddy"), caddy))
        #expect(ProcessMatcher.matches(.exe("/usr/local/bin/caddy"), caddy))
        #expect(!ProcessMatcher.matches(.exe("/usr/bin/*"), caddy))
        #expect(ProcessMatcher.matches(.pid(10), caddy))
        #expect(!ProcessMatcher.matches(.pid(11), caddy))
        let deleted = ProcessInfoSnapshot(pid: 10, parent: 1, comm: "caddy", executable: "/opt/caddy (deleted)")
        #expect(ProcessMatcher.matches(.exe("/opt/caddy"), deleted))
    }

    @Test func kernelThreadsNeverMatch() {
        #expect(!ProcessMatcher.matches(.comm("kthreadd"), kthread))
        #expect(!ProcessMatcher.matches(.comm("*"), kthread))
    }

    @Test func statLinesWithParenthesesInTheName() {
        let parsed = ProcessScanner.parseStat("42 (my (odd) name) S 7 42 42 0 -1")
        #expect(parsed?.comm == "my (odd) name")
        #expect(parsed?.parent == 7)
    }

    @Test func childrenOfAttachedProcessesAreCovered() {
        let parents: [Int32: Int32] = [30: 20, 20: 10, 10: 1, 40: 1]
        #expect(TargetRunner.hasAncestor(30, in: [10], parents: parents))
        #expect(!TargetRunner.hasAncestor(40, in: [10], parents: parents))
        #expect(!TargetRunner.hasAncestor(10, in: [10], parents: parents))
    }

    @Test func theOwnProcessGroupIsFoundInCgroupV2() throws {
        try #require(
            FileManager.default.fileExists(atPath: "/proc/self/cgroup"), "needs /proc/self/cgroup")
        // The unified hierarchy's line is `0::/path`; a unit that does not exist resolves to nothing.
        #expect(UnitCgroup.resolve("no-such-unit-\(getpid()).service") == nil)
    }
}
