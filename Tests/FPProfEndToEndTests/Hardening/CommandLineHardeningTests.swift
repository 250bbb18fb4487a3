import FPProfCore
import Foundation
import Testing

/// Issue 14, items 4 and 6 and the silent answers: odd flags, hostile counts and failed writes end with a usage
/// error (64) or a failure (1) that names the problem, never a trap (SIGILL, 132) or a wrong exit 0.
struct CommandLineHardeningTests {
    static let fpprof = FPProf.executable

    /// Options end at `--` or the first operand, as in `perf record`; one ArgumentParser does not know is a usage
    /// error naming it, not a command to run ("command not found: --frequncy", exit 1, before).
    @Test(arguments: [
        ["record", "--frequncy", "999", "--", "true"],
        ["record", "-F", "99", "--bogus=1", "--", "true"],
        ["fpcheck", "--frequncy", "999", "--", "true"],
    ])
    func unknownOptionIsAUsageError(arguments: [String]) throws {
        let result = try FPProf.run(arguments)
        #expect(result.status == 64, "\(result)")
        #expect(
            result.stderr.contains(
                "unknown option '\(arguments.first { $0.hasPrefix("--b") || $0.hasPrefix("--f") }!)'"))
    }

    /// An option after the command belongs to the command (perf's rule): `record -- sh -c 'exit 3' -o x` runs
    /// sh with `-o x` as its arguments, and fpprof does not take `-o`.
    @Test func optionsAfterTheCommandAreTheCommands() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let marker = scratch.file("marker")
        let result = try FPProf.run(["record", "-F", "99", "--", "/bin/sh", "-c", "echo $0 > \(marker)", "-o"])
        #expect(result.status == 0 || result.status == 2, "\(result)")
        #expect(try String(contentsOfFile: marker, encoding: .utf8) == "-o\n")
    }

    /// `--duration inf` or 1e16 trapped converting to Int milliseconds (SIGILL); now a usage error.
    @Test(arguments: ["inf", "1e16", "nan", "-1"], ["record", "fpcheck"])
    func durationOutOfRangeIsAUsageError(duration: String, command: String) throws {
        let result = try FPProf.run([command, "--duration", duration, "--", "true"])
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("--duration"))
    }

    /// `-o ""` (an unset variable) is refused before the command runs, not after a whole recording.
    @Test func emptyOutputIsRefusedBeforeRecording() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let marker = scratch.file("ran")
        for option in ["-o", "--raw"] {
            let result = try FPProf.run(["record", option, "", "--", "/bin/touch", marker])
            #expect(result.status == 64, "\(result)")
            #expect(result.stderr.contains("needs a file name"))
        }
        let check = try FPProf.run(["fpcheck", "--folded", "", "--", "/bin/touch", marker])
        #expect(check.status == 64, "\(check)")
        #expect(!FileManager.default.fileExists(atPath: marker), "the command must not have run")
    }

    /// A failed write of the profile to stdout (a full device, a closed descriptor) is exit 1 with the reason;
    /// it trapped in `FileHandle.write` before (SIGILL). A closed stdout is held by /dev/null read-only, so the
    /// profile is not written into whatever file took descriptor 1.
    @Test func failedStandardOutputWriteIsAnError() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let folded = try scratch.write("in.folded", "a;b 3\n")
        let full = try Scratch.shell("\(shellQuoted(Self.fpprof)) report \(shellQuoted(folded)) >/dev/full")
        #expect(full.status == 1, "\(full)")
        #expect(full.stderr.contains("cannot write to standard output: No space left on device"))
        let closed = try Scratch.shell("\(shellQuoted(Self.fpprof)) report \(shellQuoted(folded)) >&-")
        #expect(closed.status == 1, "\(closed)")
        #expect(closed.stderr.contains("cannot write to standard output: Bad file descriptor"))
    }

    /// The same through `record`, whose stdout write came after a whole recording.
    @Test(.enabled(if: FPProf.isRoot, "perf_event_open on a launched command needs root here"))
    func recordToAFullStandardOutputIsAnError() throws {
        let shares = try FixtureBuilder.path(for: .shares)
        let result = try Scratch.shell(
            "\(shellQuoted(Self.fpprof)) record -F 999 -- \(shellQuoted(shares)) 0.3 >/dev/full")
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("cannot write to standard output: No space left on device"))
        #expect(result.stderr.contains("samples in"), "the summary is still written")
    }

    /// Counts that add past Int.max trapped (SIGILL) in every writer; they saturate with a warning.
    @Test(arguments: ["folded", "pprof", "svg", "speedscope"])
    func foldedCountsSaturate(format: String) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let folded = try scratch.write("big.folded", "a;b \(Int.max)\nc;d 1\na;b 1\n")
        let result = try FPProf.run(["report", folded, "--format", format, "-o", scratch.file("out")])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("add up past \(Int.max)"))
    }

    /// Bytes that are not UTF-8 are passed through (as U+FFFD) with a warning, as perf's scripts do.
    @Test func nonUTF8FoldedInputIsRead() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let folded = try scratch.write("latin1.folded", Array("main;caf".utf8) + [0xe9] + Array(" 4\nmain;ok 1\n".utf8))
        let result = try FPProf.run(["report", folded])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "main;caf\u{FFFD} 4\nmain;ok 1\n")
        #expect(result.stderr.contains("1 lines are not valid UTF-8"))
    }

    /// `report /dev/stdin` of a pipe, `report <(cmd)` and a named FIFO are read ("cannot read: Success" before).
    @Test func reportReadsPipes() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let fpprof = shellQuoted(Self.fpprof)
        let piped = try Scratch.shell("printf 'a;b 3\\n' | \(fpprof) report /dev/stdin")
        #expect(piped.status == 0 && piped.stdout == "a;b 3\n", "\(piped)")
        let dash = try Scratch.shell("printf 'a;b 3\\n' | \(fpprof) report -")
        #expect(dash.status == 0 && dash.stdout == "a;b 3\n", "\(dash)")
        let fifo = scratch.file("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let named = try Scratch.shell(
            "printf 'x;y 2\\n' > \(shellQuoted(fifo)) & \(fpprof) report \(shellQuoted(fifo))")
        #expect(named.status == 0 && named.stdout == "x;y 2\n", "\(named)")
    }

    /// A capture that holds its header and no record exits 0 and says so (it said nothing before).
    @Test func headerOnlyCaptureWarns() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let header = Capture.encodeHeader(
            CaptureHeader(format: .amd64Profiling, frequency: 99, stackSize: 8192, event: "cpu-clock"))
        let capture = try scratch.write("empty.fpc", header)
        let result = try FPProf.run(["report", capture])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("holds no samples"))
    }

    /// `symbolize` of a cut or garbage file exits 2 with the reason, as its help promises (it answered ?? with 0).
    @Test func symbolizeOfADamagedFileExitsTwo() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let whole = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "/bin/true")))
        for (name, bytes, reason) in [
            ("cut.elf", Array(whole.prefix(1000)), "truncated"), ("garbage.elf", Array("garbage\n".utf8), "not an ELF"),
        ] {
            let path = try scratch.write(name, bytes)
            let result = try FPProf.run(["symbolize", "--exe", path, "0x1000"])
            #expect(result.status == 2, "\(result)")
            #expect(result.stderr.contains(reason), "\(result.stderr)")
        }
        let intact = try FPProf.run(["symbolize", "--exe", "/bin/true", "0x1000"])
        #expect(intact.status == 0, "\(intact)")
    }
}
