import Foundation
import Testing

/// `fpprof report` of committed captures gives, byte for byte, the folded output recorded with them (see
/// Tests/Fixtures/golden/README.md): moving and splitting the pipeline must not change what it makes of a capture.
/// Needs no privileges: the captures and the binaries they name are files in the repository.
@Suite struct GoldenReportTests {
    static var golden: URL { FixtureBuilder.fixturesDirectory.appendingPathComponent("golden") }

    @Test(arguments: ["shares", "go-gcheavy"], [false, true])
    func replayMatchesGolden(capture: String, perThread: Bool) throws {
        let directory = Self.golden
        let expected = try String(
            contentsOf: directory.appendingPathComponent(capture + (perThread ? ".per-thread" : "") + ".folded"),
            encoding: .utf8)
        let output = FPProf.temporaryPath("folded")
        defer { unlink(output) }
        var arguments = [
            "report", directory.appendingPathComponent("\(capture).fpc").path,
            "--symfs", directory.appendingPathComponent("symfs").path, "-o", output,
        ]
        if perThread { arguments.append("--per-thread") }
        let result = try FPProf.run(arguments)
        #expect(result.status == 0, "\(result.stderr)")
        let actual = try String(contentsOfFile: output, encoding: .utf8)
        #expect(actual == expected)
        #expect(!expected.isEmpty)
    }
}
