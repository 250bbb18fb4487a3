import Foundation
import Testing

/// Issue 14, item 7: without ptrace access to a `--pid` target fpprof says which right is missing and exits 1,
/// before sampling (it exited 0 with 0 samples and asked whether the target was running).
@Suite(
    .enabled(
        if: FPProf.isRoot && FixtureCommand.which("setpriv") != nil,
        "needs root to start a target as root and setpriv (util-linux) to run fpprof as nobody"))
struct PermissionTests {
    @Test func noPtraceAccessIsNamed() throws {
        let target = Process()
        target.executableURL = URL(fileURLWithPath: try FixtureBuilder.path(for: .shares))
        target.arguments = ["0"]
        try target.run()
        defer {
            // SIGKILL: the fixture inherits the test runner's blocked SIGTERM and would outlive terminate().
            kill(target.processIdentifier, SIGKILL)
            target.waitUntilExit()
        }
        let result = try FixtureCommand.run(
            FixtureCommand.which("setpriv")!,
            [
                "--reuid", "65534", "--regid", "65534", "--clear-groups", FPProf.executable, "record", "--pid",
                String(target.processIdentifier), "--duration", "1", "-o", "/dev/null",
            ], timeout: 30)
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("no ptrace access to pid \(target.processIdentifier)"), "\(result.stderr)")
        #expect(result.stderr.contains("CAP_SYS_PTRACE") && result.stderr.contains("uid 0"), "\(result.stderr)")
    }
}
