import FPProfDaemon
import Foundation
import Testing

/// The daemon parses a config's TOML in a child `fpprof daemon --vet-toml` first, so that toml++'s assertions
/// (kept in release builds) abort the child, never the daemon. Run against the built binary.
@Suite struct SyntaxVetterTests {
    static let vetter = SyntaxVetter(executable: FPProf.executable)

    /// An input the fuzzer found toml++ aborting on (`ConfigParser` refuses it first by its own check; the vetter is
    /// asked directly here): refused with the line whose prefix aborts, and the file name.
    @Test func anAbortingParseIsRefusedWithItsLine() {
        let text = "window = \"60s\"\n# a comment\nformats = [\"pprof\"]\na = [}\n[[target]]\nname = \"x\"\n"
        #expect(throws: ConfigError.self) { try Self.vetter.vet(text, file: "f.toml") }
        do {
            try Self.vetter.vet(text, file: "f.toml")
        } catch {
            #expect(error.file == "f.toml" && error.line == 4, "\(error)")
            #expect(error.message.contains("toml++"), "\(error)")
        }
    }

    /// A valid config and one with an ordinary syntax error both come back: the parser returned, and the parent's
    /// own parse reports the error (with its line) as before.
    @Test func returningParsesPass() throws {
        try Self.vetter.vet("[[target]]\nname = \"x\"\ncomm = \"y\"\n", file: "f.toml")
        try Self.vetter.vet("a = \n", file: "f.toml")
        do {
            _ = try ConfigParser.parse("a = \n", file: "f.toml", vetter: Self.vetter)
            Issue.record("a syntax error passed")
        } catch {
            #expect(error.line == 1 && error.message.hasPrefix("TOML syntax: ") && !error.message.contains("toml++"))
        }
    }

    /// Every example config passes the vetter and parses.
    @Test func theExamplesPass() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".toml") }
        #expect(!names.isEmpty)
        for name in names {
            _ = try ConfigParser.load(path: folder.appendingPathComponent(name).path, vetter: Self.vetter)
        }
    }

    /// A child that does not finish is killed at the timeout, and one that cannot run or fails refuses the config
    /// with the reason: nothing unchecked is applied.
    @Test func childrenThatHangOrFailRefuseTheConfig() {
        let hanging = SyntaxVetter(executable: "/bin/sleep", childArguments: ["30"], timeout: .milliseconds(300))
        let start = ContinuousClock.now
        #expect(hanging.run("a = 1\n") == .timedOut)
        #expect(ContinuousClock.now - start < .seconds(5))
        let failing = SyntaxVetter(executable: "/bin/false", childArguments: [])
        #expect(failing.run("a = 1\n") == .notRun("it exited with status 1"))
        let missing = SyntaxVetter(executable: "/nonexistent/fpprof")
        #expect(throws: ConfigError.self) { try missing.vet("a = 1\n", file: "f.toml") }
    }
}
