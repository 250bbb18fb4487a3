import Foundation
import Testing

/// `fpprof record` on real processes through the real kernel interface. Serialized: each test keeps the two CPUs
/// busy, and the shares are judged on what the kernel sampled.
@Suite(.serialized, .enabled(if: FPProf.isRoot, "perf_event_open on other processes needs root here"))
struct RecordTests {
    /// Code a JIT wrote into anonymous memory is walked through (it keeps a frame record) and named from the
    /// /tmp/perf-PID.map the JIT wrote, as perf names it; perf's own profile of the fixture reads
    /// `main;run_jitted;jitted_hot;jit_leaf` the same way.
    @Test func jitCodeIsNamedFromItsPerfMap() throws {
        let (folded, result) = try FPProf.record(["-F", "999", "--", try FixtureBuilder.path(for: .jit), "1"])
        Fixture.removeJITMaps(listedIn: result.stdout)
        #expect(result.stdout.contains("/tmp/perf-"), "the fixture prints its map's path: \(result.stdout)")
        #expect(folded.total > 400)
        let expected = Fixture.jit.expectedStacks[0].frames
        #expect(folded.share(endingWith: expected) >= 0.95, "\(folded.lines.map(\.text))")
        #expect(folded.lines.contains { $0.frames.first == "jit" && Array($0.frames.suffix(4)) == expected })
    }

    /// A JIT in its own pid namespace (a container's) names its map by the pid it sees there: with `--pid` on the
    /// host's pid, the map is found under the namespace's pid while the process lives.
    @Test(.enabled(if: FixtureCommand.which("unshare") != nil, "needs unshare (util-linux)"))
    func jitMapInAnotherPIDNamespaceIsFound() throws {
        let jit = try FixtureBuilder.path(for: .jit)
        let launcher = Process()
        launcher.executableURL = URL(fileURLWithPath: FixtureCommand.which("unshare")!)
        launcher.arguments = ["--pid", "--fork", jit, "0"]
        let output = Pipe()
        launcher.standardOutput = output
        try launcher.run()
        defer {
            kill(launcher.processIdentifier, SIGKILL)
            launcher.waitUntilExit()
        }
        // The fixture prints its map's path once it is written: pid 1 inside, so /tmp/perf-1.map.
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        defer { Fixture.removeJITMaps(listedIn: line) }
        #expect(line == "/tmp/perf-1.map\n")
        let children = try String(
            contentsOfFile: "/proc/\(launcher.processIdentifier)/task/\(launcher.processIdentifier)/children",
            encoding: .utf8)
        let target = try #require(children.split(separator: " ").first.map(String.init))
        defer { kill(Int32(target) ?? 0, SIGKILL) }
        let (folded, _) = try FPProf.record(["-F", "999", "--pid", target, "--duration", "1"])
        let expected = Fixture.jit.expectedStacks[0].frames
        #expect(folded.share(endingWith: expected) >= 0.95, "\(folded.lines.map(\.text))")
    }

    /// Three call paths at different depths hold 50/30/20 % of the CPU: the shares hold within 5 points and the
    /// exact stacks appear, whole, under the C runtime's root frame.
    @Test func sharesOfThreeCallPaths() throws {
        let (folded, _) = try FPProf.record(["-F", "999", "--", try FixtureBuilder.path(for: .shares), "3"])
        #expect(folded.total > 400)
        for expected in Fixture.shares.expectedStacks {
            let share = folded.share(endingWith: expected.frames)
            #expect(abs(share - expected.share!) <= 0.05, "\(expected.folded): \(share)")
            let exact = folded.lines.filter { Array($0.frames.suffix(expected.frames.count)) == expected.frames }
            #expect(exact.contains { $0.frames.first == "shares" && Folded.markers.isDisjoint(with: $0.frames) })
        }
        // Only a rare sample of startup code before main (the dynamic loader, built without frame pointers, with
        // BP 0 in the register) may end without reaching a root, and then as [bad-frame]; nothing under main.
        let flaggedLines = folded.lines.filter { !Folded.markers.isDisjoint(with: $0.frames) }
        #expect(
            flaggedLines.allSatisfy { $0.frames.contains("[bad-frame]") && !$0.frames.contains("main") },
            "\(flaggedLines.map(\.text))")
        #expect(flaggedLines.reduce(0) { $0 + $1.count } <= 2)
    }

    /// 300 frames of recursion, all there, and complete (perf would stop at 127).
    @Test func deepRecursionKeepsEveryFrame() throws {
        let (folded, _) = try FPProf.record(["-F", "999", "--", try FixtureBuilder.path(for: .recursion), "2"])
        let bottom = folded.lines.filter { $0.frames.last == "spin_at_bottom" }
        let bottomSamples = bottom.reduce(0) { $0 + $1.count }
        #expect(Double(bottomSamples) > 0.9 * Double(folded.total))
        for line in bottom {
            #expect(line.frames.filter { $0 == "recurse" }.count == 300, "\(line.frames.count) frames")
            #expect(Folded.markers.isDisjoint(with: line.frames))
            #expect(Array(line.frames.suffix(302).prefix(1)) == ["main"])
        }
    }

    /// The shape of the Go mcall bug: the looping half reads `fploop;[fp-loop];loop_caller;loop_callee`, each
    /// frame once; the healthy half is complete. The same with `--unwind hybrid`: no CFI step hides the loop.
    @Test(arguments: ["fp", "hybrid"]) func selfReferentialFrameIsFlaggedOnce(unwind: String) throws {
        let (folded, _) = try FPProf.record([
            "-F", "999", "--unwind", unwind, "--", try FixtureBuilder.path(for: .fploop), "2",
        ])
        let looping = folded.lines.filter { $0.frames.contains("loop_callee") }
        #expect(!looping.isEmpty)
        for line in looping {
            #expect(line.text == "fploop;[fp-loop];loop_caller;loop_callee")
        }
        let loopShare = Double(looping.reduce(0) { $0 + $1.count }) / Double(folded.total)
        #expect(abs(loopShare - 0.5) <= 0.05)
        let healthy = folded.lines.filter { $0.frames.last == "healthy_leaf" }
        #expect(!healthy.isEmpty)
        for line in healthy {
            #expect(Folded.markers.isDisjoint(with: line.frames))
            #expect(Array(line.frames.suffix(3)) == ["main", "healthy_work", "healthy_leaf"])
        }
    }

    /// A two-record cycle: flagged `[fp-cycle]`, and no frame of the cycle repeated; with either unwinder.
    @Test(arguments: ["fp", "hybrid"]) func twoRecordCycleIsFlaggedOnce(unwind: String) throws {
        let (folded, _) = try FPProf.record([
            "-F", "999", "--unwind", unwind, "--", try FixtureBuilder.path(for: .fpcycle), "2",
        ])
        let cycling = folded.lines.filter { $0.frames.contains("cycle_callee") }
        #expect(!cycling.isEmpty)
        for line in cycling {
            #expect(line.frames.prefix(2) == ["fpcycle", "[fp-cycle]"])
            #expect(Set(line.frames).count == line.frames.count, "a frame repeats: \(line.text)")
            #expect(line.frames.suffix(2) == ["cycle_caller", "cycle_callee"])
        }
        let healthy = folded.lines.filter { $0.frames.last == "healthy_leaf" }
        #expect(healthy.allSatisfy { Folded.markers.isDisjoint(with: $0.frames) })
    }

    /// A thread created one second into the recording is sampled too (`inherit`), under its own name.
    @Test func threadCreatedAfterStartIsSampled() throws {
        let (folded, _) = try FPProf.record([
            "-F", "999", "--per-thread", "--", try FixtureBuilder.path(for: .latethread), "3", "1",
        ])
        let late = folded.count {
            $0.frames.count > 1 && $0.frames[1].hasPrefix("late-worker/") && $0.frames.contains("late_thread_work")
        }
        let main = folded.count { $0.frames.contains("main_spin") }
        // The worker runs for the last 2 of 3 seconds. Thresholds leave room for a loaded machine.
        #expect(late > 150)
        #expect(main > 300)
    }

    /// Go with frame pointers: goroutines' functions by name, shares within 5 points, nothing flagged as a loop.
    @Test func goSharesAndNames() throws {
        let (folded, _) = try FPProf.record(["-F", "999", "--", try FixtureBuilder.path(for: .goShares), "3"])
        for (name, share) in [("main.workA", 0.5), ("main.workB", 0.3), ("main.workC", 0.2)] {
            let n = folded.count { $0.frames.contains(name) }
            let measured = Double(n) / Double(folded.total)
            #expect(abs(measured - share) <= 0.05, "\(name): \(measured)")
        }
        let loops = folded.count { $0.frames.contains("[fp-loop]") || $0.frames.contains("[fp-cycle]") }
        #expect(loops == 0)
    }

    /// SIGTERM ends the recording, not the data: what was captured is written, and the launched command ends too.
    @Test func sigtermWritesWhatWasCaptured() throws {
        let output = FPProf.temporaryPath("folded")
        defer { unlink(output) }
        let fpprof = Process()
        fpprof.executableURL = URL(fileURLWithPath: FPProf.executable)
        fpprof.arguments = ["record", "-F", "999", "-o", output, "--", try FixtureBuilder.path(for: .shares), "0"]
        fpprof.standardError = FileHandle.nullDevice
        try fpprof.run()
        Thread.sleep(forTimeInterval: 1.5)
        kill(fpprof.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(20)
        while fpprof.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if fpprof.isRunning { kill(fpprof.processIdentifier, SIGKILL) }
        fpprof.waitUntilExit()
        #expect(fpprof.terminationStatus == 0)
        let folded = try Folded(parsing: String(contentsOfFile: output, encoding: .utf8))
        #expect(folded.total > 300)
        #expect(folded.count(endingWith: ["main", "path_a", "a1", "leaf_a"]) > 100)
    }

    /// Attaching to a running process gives the same shares as launching it.
    @Test func attachGivesTheSameSharesAsLaunch() throws {
        let path = try FixtureBuilder.path(for: .shares)
        let target = Process()
        target.executableURL = URL(fileURLWithPath: path)
        target.arguments = ["0"]
        try target.run()
        defer {
            // SIGKILL: a child spawned from a Swift concurrency thread inherits a mask that blocks SIGTERM.
            kill(target.processIdentifier, SIGKILL)
            target.waitUntilExit()
        }
        Thread.sleep(forTimeInterval: 0.2)
        let (folded, _) = try FPProf.record(["-F", "999", "--pid", "\(target.processIdentifier)", "--duration", "3"])
        #expect(target.isRunning, "attaching must not stop the target")
        #expect(folded.total > 400)
        for expected in Fixture.shares.expectedStacks {
            let share = folded.share(endingWith: expected.frames)
            #expect(abs(share - expected.share!) <= 0.05, "\(expected.folded): \(share)")
        }
    }
}

/// Each error gets one clear line and a non-zero exit, never a trap or a hang.
@Suite(.serialized) struct RecordErrorTests {
    @Test func noSuchPID() throws {
        let r = try FPProf.run(["record", "--pid", "999999", "--duration", "1"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("no such process: 999999"))
    }

    @Test func commandNotFound() throws {
        let r = try FPProf.run(["record", "--", "fpprof-no-such-command"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("command not found: fpprof-no-such-command"))
    }

    @Test func outputNotWritable() throws {
        let r = try FPProf.run(["record", "-o", "/nonexistent-dir/out.folded", "--", "/bin/true"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot write /nonexistent-dir/out.folded"))
    }

    /// The command runs at fpprof's own priority, though it is forked from a libdispatch worker thread, which
    /// libdispatch renices by QoS (default-qos to 0).
    @Test(.enabled(if: FPProf.isRoot, "perf_event_open needs root here"))
    func theCommandKeepsTheNiceValueFPProfWasStartedWith() throws {
        let output = FPProf.temporaryPath("nice")
        defer { unlink(output) }
        let r = try FixtureCommand.run(
            "/usr/bin/nice",
            ["-n", "7", FPProf.executable, "record", "-o", "/dev/null", "--", "/bin/sh", "-c", "nice > \(output)"],
            timeout: 60)
        #expect(r.status == 0, "\(r.stderr)")
        let nice = try String(contentsOfFile: output, encoding: .utf8)
        #expect(nice.trimmingCharacters(in: .whitespacesAndNewlines) == "7")
    }

    /// fpprof's own threads keep its nice value too. Before, the reader ran at the 0 of the libdispatch worker that
    /// started it: under `nice -n -19 fpprof record`, targets at -19 on every CPU starved it, the rings overflowed
    /// and about a fifth of the records were lost (1,948 to 2,684 of some 9,900 in 5 s on two CPUs). Now none are.
    @Test(.enabled(if: FPProf.isRoot, "nice -19 and perf_event_open need root here"))
    func busyTargetsAtTheSameNiceDoNotStarveTheReader() throws {
        let shares = try FixtureBuilder.path(for: .shares)
        let copies = max(2, ProcessInfo.processInfo.activeProcessorCount)
        let script = Array(repeating: "'\(shares)' 3 &", count: copies).joined(separator: " ") + " wait"
        let r = try FixtureCommand.run(
            "/usr/bin/nice",
            ["-n", "-19", FPProf.executable, "record", "-F", "999", "-o", "/dev/null", "--", "/bin/sh", "-c", script],
            timeout: 60)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("), 0 lost,"), "\(r.stderr)")
    }

    /// A full disk: a raw capture that cannot be written gets one clear error and leaves no partial file behind,
    /// and the profile, whose disk has room, is still written. A profile whose own disk is full leaves nothing at its
    /// path. The disk is a real 64 KiB tmpfs.
    @Test(.enabled(if: FPProf.isRoot && FixtureCommand.which("mount") != nil, "mounting a tmpfs needs root"))
    func aFullDiskIsAnErrorAndCostsNothingElse() throws {
        let disk = FPProf.temporaryPath("tinyfs")
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: false)
        defer { rmdir(disk) }
        let mounted = try FixtureCommand.run(
            FixtureCommand.which("mount")!, ["-t", "tmpfs", "-o", "size=64k", "tmpfs", disk])
        try #require(mounted.status == 0, "\(mounted.stderr)")
        defer { _ = try? FixtureCommand.run(FixtureCommand.which("umount")!, [disk]) }
        let shares = try FixtureBuilder.path(for: .shares)

        let profile = FPProf.temporaryPath("folded")
        defer { unlink(profile) }
        let raw = disk + "/capture.raw"
        let r = try FPProf.run(["record", "-F", "999", "--raw", raw, "-o", profile, "--", shares, "1"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("cannot write \(raw):") && r.stderr.contains("(disk full?)"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: disk).isEmpty)
        let folded = try Folded(parsing: String(contentsOfFile: profile, encoding: .utf8))
        #expect(folded.total > 500)

        // The same disk, filled up (`cat` stops at ENOSPC), as the profile's.
        _ = try FixtureCommand.run("/bin/sh", ["-c", "cat /dev/zero > '\(disk)/filler'"])
        let output = disk + "/profile.folded"
        let full = try FPProf.run(["record", "-F", "999", "-o", output, "--", shares, "0.5"])
        #expect(full.status == 1, "\(full.stderr)")
        #expect(full.stderr.contains("cannot write \(output)"), "\(full.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: disk) == ["filler"])
    }

    @Test func helpIsHelpNotACommand() throws {
        let r = try FPProf.run(["record", "--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("--per-thread"))
        #expect(r.stdout.contains("--user-callchain"))
    }

    /// `-o` naming a FIFO (or a device such as /dev/null) writes into it instead of renaming a file over it.
    @Test(.enabled(if: FPProf.isRoot, "perf_event_open needs root here"))
    func outputToAFIFOIsWrittenInPlace() throws {
        let fifo = FPProf.temporaryPath("fifo")
        defer { unlink(fifo) }
        #expect(mkfifo(fifo, 0o600) == 0)
        let copy = FPProf.temporaryPath("copy")
        defer { unlink(copy) }
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/sh")
        reader.arguments = ["-c", "cat \(fifo) > \(copy)"]
        try reader.run()
        let r = try FPProf.run(["record", "-F", "999", "-o", fifo, "--", try FixtureBuilder.path(for: .shares), "0.5"])
        reader.waitUntilExit()
        #expect(r.status == 0 || r.status == 2, "\(r.stderr)")
        var info = stat()
        #expect(stat(fifo, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO, "the FIFO must stay a FIFO")
        let folded = try Folded(parsing: String(contentsOfFile: copy, encoding: .utf8))
        #expect(folded.total > 50)
    }

    @Test func usageErrors() throws {
        let r = try FPProf.run(["record"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("nothing to profile"))
        let s = try FPProf.run(["record", "--stack-size", "100", "--", "/bin/true"])
        #expect(s.status == 64)
        #expect(s.stderr.contains("--stack-size must be a positive multiple of 8"))
    }

    /// An unprivileged user may not sample root's process with perf_event_paranoid 2: the message says what helps.
    @Test(.enabled(if: FPProf.isRoot && FixtureCommand.which("setpriv") != nil, "needs root to drop to nobody"))
    func permissionDenied() throws {
        let target = Process()
        target.executableURL = URL(fileURLWithPath: "/bin/sleep")
        target.arguments = ["30"]
        try target.run()
        defer {
            // SIGKILL: a child spawned from a Swift concurrency thread inherits a mask that blocks SIGTERM.
            kill(target.processIdentifier, SIGKILL)
            target.waitUntilExit()
        }
        let r = try FixtureCommand.run(
            "/usr/bin/setpriv",
            [
                "--reuid=65534", "--regid=65534", "--clear-groups", FPProf.executable, "record", "--pid",
                "\(target.processIdentifier)", "--duration", "1",
            ])
        #expect(r.status == 1)
        #expect(r.stderr.contains("permission denied"))
        #expect(r.stderr.contains("CAP_PERFMON"))
    }

    /// A target that exits mid-run is not an error: what was captured is written.
    @Test func targetExitingEarlyIsNotAnError() throws {
        let target = Process()
        target.executableURL = URL(fileURLWithPath: try FixtureBuilder.path(for: .shares))
        target.arguments = ["1"]
        try target.run()
        let (folded, result) = try FPProf.record(["--pid", "\(target.processIdentifier)", "--duration", "10"])
        target.waitUntilExit()
        #expect(result.status == 0)
        #expect(folded.total > 20)
    }
}
