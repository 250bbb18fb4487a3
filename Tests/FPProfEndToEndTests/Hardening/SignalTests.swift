import Foundation
import Testing

/// Issue 14, item 5: fpprof's end never leaves the launched command running nor secrets readable. SIGKILL of
/// fpprof orphaned the child (no parent-death signal) and left 0644 temporary captures; SIGHUP lost the profile.
@Suite(.serialized, .enabled(if: FPProf.isRoot, "perf_event_open on a launched command needs root here"))
struct SignalTests {
    /// Starts `record` of a fixture that runs until killed, waits until it samples, and returns fpprof's process
    /// and the child's pid.
    static func startRecording(in scratch: Scratch, output: String? = nil) throws -> (Process, Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: FPProf.executable)
        process.arguments = [
            "record", "-F", "999", "--raw", scratch.file("run.fpc"), "-o", output ?? scratch.file("run.folded"), "--",
            try FixtureBuilder.path(for: .shares), "0",
        ]
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        var child: Int32?
        for _ in 0..<200 where child == nil {
            usleep(20_000)
            child = childPID(of: process.processIdentifier)
        }
        usleep(500_000)
        return (process, try #require(child, "the command was launched"))
    }

    static func childPID(of pid: Int32) -> Int32? {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return nil }
        for task in tasks {
            if let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8),
                let first = text.split(separator: " ").first, let child = Int32(first)
            {
                return child
            }
        }
        return nil
    }

    /// Alive and not a zombie (an orphan's zombie is its new parent's to reap).
    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return !stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
    }

    /// The acceptance test: SIGKILL during `record -- CMD`; the child is gone within a second and nothing left
    /// in the folder is readable by others.
    @Test func sigkillTakesTheChildAndLeavesNothingReadable() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (fpprof, child) = try Self.startRecording(in: scratch)
        defer { kill(child, SIGKILL) }
        #expect(Self.isRunning(child))
        kill(fpprof.processIdentifier, SIGKILL)
        fpprof.waitUntilExit()
        var gone = false
        for _ in 0..<20 where !gone {
            usleep(50_000)
            gone = !Self.isRunning(child)
        }
        #expect(gone, "the command outlived fpprof by more than a second")
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.path)
        for name in left {
            let mode = try #require(Scratch.mode(scratch.file(name)))
            #expect(mode & 0o077 == 0, "\(name) is \(String(mode, radix: 8))")
        }
    }

    /// A second SIGINT or SIGTERM while the profile is being written ends fpprof at once (exit 128+signal), and no
    /// temporary file is left. The write is made to hang by naming a FIFO nobody reads as the output: fpprof
    /// writes a FIFO in place, and opening it waits for a reader.
    @Test(arguments: [SIGINT, SIGTERM])
    func secondSignalDuringTheFinalWriteExitsAtOnce(signal: Int32) throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let fifo = scratch.file("profile.fifo")
        try #require(mkfifo(fifo, 0o600) == 0)
        let (process, launched) = try Self.startRecording(in: scratch, output: fifo)
        defer { kill(launched, SIGKILL) }
        kill(process.processIdentifier, signal)
        // The recording ends, the capture is committed (renamed into place), then the profile's open waits.
        var committed = false
        for _ in 0..<250 where !committed {
            usleep(20_000)
            committed = FileManager.default.fileExists(atPath: scratch.file("run.fpc")) && !Self.isRunning(launched)
        }
        try #require(committed, "the recording ended and the capture was written")
        usleep(300_000)
        #expect(process.isRunning, "fpprof waits for a reader of the FIFO")
        let sent = ContinuousClock.now
        kill(process.processIdentifier, signal)
        var exited = false
        while !exited, ContinuousClock.now - sent < .seconds(5) {
            usleep(10_000)
            exited = !process.isRunning
        }
        if !exited { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let took = ContinuousClock.now - sent
        #expect(exited && took < .seconds(1), "fpprof took \(took) after the second signal")
        #expect(process.terminationReason == .exit && process.terminationStatus == 128 + signal)
        // Only the committed capture and the FIFO: no hidden temporary file, no partial profile.
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.path).sorted()
        #expect(left == ["profile.fifo", "run.fpc"])
        #expect(Scratch.kind(fifo) == S_IFIFO)
    }

    /// SIGHUP (a closed terminal) ends the recording like SIGTERM: profile and capture written, command ended.
    @Test func sighupEndsTheRecordingGracefully() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (fpprof, child) = try Self.startRecording(in: scratch)
        defer { kill(child, SIGKILL) }
        kill(fpprof.processIdentifier, SIGHUP)
        fpprof.waitUntilExit()
        #expect(fpprof.terminationReason == .exit && [0, 2].contains(fpprof.terminationStatus))
        #expect(!Self.isRunning(child))
        #expect(try String(contentsOfFile: scratch.file("run.folded"), encoding: .utf8).contains("shares;"))
        #expect(Scratch.mode(scratch.file("run.fpc")) == 0o600)
    }
}
