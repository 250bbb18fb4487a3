import FPProfCore
import FPProfSampler
import Foundation
import Testing

@Suite(.enabled(if: isRoot, "perf_event_open on other processes needs root here (perf_event_paranoid 2)"))
struct LaunchTests {
    @Test(.timeLimit(.minutes(1)))
    func launchedShellLoopIsSampledAndTheStreamEndsWhenItExits() async throws {
        let session = try SamplingSession(
            target: .launch(["sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"]))
        #expect(session.format == .amd64Profiling)
        #expect(session.initialRecords().bytes.isEmpty)
        let stream = try session.records()
        try session.start()
        let (records, endedByItself) = try await collect(session, stream)

        #expect(endedByItself)
        #expect(session.childExitStatus == .exited(0))
        #expect(records.decodeErrors.isEmpty)
        #expect(!records.samples.isEmpty)
        let pid = session.targetPID
        for sample in records.samples {
            #expect(sample.pid == pid)
            #expect(sample.userRegisters?.count == 20)
            #expect(sample.userStack.map { !$0.isEmpty } == true)
            #expect(sample.period.map { $0 > 0 } == true)
        }
        let shell = resolvedPath("/bin/sh")
        let image = records.mmaps.first { $0.filename == shell }
        #expect(image != nil, "no MMAP2 for \(shell) among \(records.mmaps.map(\.filename))")
        #expect(image?.pid == pid)
        #expect(image?.isExecutable == true)
        #expect(records.mmaps.contains { $0.filename.contains("libc.so") })
        #expect(records.comms.contains { $0.isExec && $0.pid == pid && $0.name == "sh" })
        #expect(records.exits.contains { $0.pid == pid })
        let stats = session.stats
        #expect(stats.bytesRead > 0)
        #expect(stats.batchesDropped == 0)
        #expect(stats.ringOverruns == 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func theKernelsBuildIDMatchesTheFile() async throws {
        let session = try SamplingSession(target: .launch(["/bin/sh", "-c", "exit 0"]))
        let stream = try session.records()
        try session.start()
        let (records, _) = try await collect(session, stream)
        let shell = resolvedPath("/bin/sh")
        let image = try #require(records.mmaps.first { $0.filename == shell })
        let expected = try readelfBuildID(shell)
        #expect(image.buildID?.description == expected)
    }

    @Test(.timeLimit(.minutes(1)))
    func exitStatusAndSignalAreKept() async throws {
        let exits = try SamplingSession(target: .launch(["sh", "-c", "exit 3"]))
        let exitStream = try exits.records()
        try exits.start()
        _ = try await collect(exits, exitStream)
        #expect(exits.childExitStatus == .exited(3))

        let killed = try SamplingSession(target: .launch(["sh", "-c", "kill -9 $$"]))
        let killedStream = try killed.records()
        try killed.start()
        _ = try await collect(killed, killedStream)
        #expect(killed.childExitStatus == .signaled(9))
    }

    @Test(.timeLimit(.minutes(1)))
    func stopEndsTheStreamWhileTheChildRuns() async throws {
        let session = try SamplingSession(target: .launch(["sleep", "30"]))
        let stream = try session.records()
        try session.start()
        session.stop()
        let (_, endedByItself) = try await collect(session, stream)
        #expect(endedByItself)  // ended by stop(), not by the watchdog
        #expect(session.childExitStatus == nil)
        kill(session.targetPID.rawValue, SIGKILL)
        var status: Int32 = 0
        #expect(waitpid(session.targetPID.rawValue, &status, 0) == session.targetPID.rawValue)
    }

    @Test(.timeLimit(.minutes(1)))
    func theChildStartsWithNoSignalBlockedOrIgnored() async throws {
        // The test runs on a Swift concurrency thread, which blocks most signals; the target must not inherit that.
        let session = try SamplingSession(target: .launch(["sleep", "30"]))
        let stream = try session.records()
        try session.start()
        let status = try String(contentsOfFile: "/proc/\(session.targetPID)/status", encoding: .utf8)
        let fields = Dictionary(
            uniqueKeysWithValues: status.split(separator: "\n").compactMap { line -> (String, String)? in
                let parts = line.split(separator: ":", maxSplits: 1)
                return parts.count == 2 ? (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces)) : nil
            })
        #expect(fields["SigBlk"] == "0000000000000000")
        #expect(fields["SigIgn"] == "0000000000000000")
        #expect(fields["Name"] == "sleep")
        kill(session.targetPID.rawValue, SIGTERM)
        _ = try await collect(session, stream)
        #expect(session.childExitStatus == .signaled(SIGTERM))
    }

    @Test func droppingAnUnstartedSessionKillsAndReapsItsChild() throws {
        var session: SamplingSession? = try SamplingSession(target: .launch(["sleep", "30"]))
        let pid = try #require(session?.targetPID.rawValue)
        #expect(kill(pid, 0) == 0)
        session = nil
        #expect(kill(pid, 0) == -1 && errno == ESRCH)
    }

    @Test(.timeLimit(.minutes(1)))
    func threadsOfALaunchedProgramAreSampled() async throws {
        // The launched shell forks `sleep`-free children; every process it creates inherits the events.
        let session = try SamplingSession(
            target: .launch(["sh", "-c", "(i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done) ; true"]))
        let stream = try session.records()
        try session.start()
        let (records, endedByItself) = try await collect(session, stream)
        #expect(endedByItself)
        let pid = session.targetPID
        let child = try #require(records.forks.first { $0.parentPID == pid && $0.pid != pid }?.pid)
        #expect(records.samples.contains { $0.pid == child })
    }
}

/// The build-id `readelf -n` prints for a file: an independent reading of the same note.
func readelfBuildID(_ path: String) throws -> String? {
    let pipe = Pipe()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/readelf")
    process.arguments = ["-n", path]
    process.standardOutput = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    for line in output.split(separator: "\n") where line.contains("Build ID:") {
        return line.split(separator: " ").last.map(String.init)
    }
    return nil
}

@Suite(.enabled(if: isRoot, "perf_event_open on other processes needs root here (perf_event_paranoid 2)"))
struct ReaderTests {
    @Test(.timeLimit(.minutes(1)))
    func aSmallRingWrapsManyTimesWithoutLosingFraming() async throws {
        let configuration = SamplerConfiguration(stackSize: 8192, ringPages: 8)
        let session = try SamplingSession(
            configuration: configuration,
            target: .launch(["sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"]))
        let stream = try session.records()
        let before = monotonicNanoseconds()
        try session.start()
        let (records, endedByItself) = try await collect(session, stream)
        let after = monotonicNanoseconds()
        #expect(endedByItself)
        #expect(records.decodeErrors.isEmpty)
        let stats = session.stats
        #expect(stats.ringOverruns == 0)
        let ringBytes = UInt64(8 * 4096)
        #expect(stats.bytesRead > 2 * ringBytes, "the ring should have wrapped: \(stats)")
        #expect(stats.ringHighWater <= ringBytes)
        // Records are stamped with CLOCK_MONOTONIC (use_clockid), so they line up with our own clock.
        #expect(records.samples.allSatisfy { ($0.time ?? 0) >= before && ($0.time ?? 0) <= after })
        #expect(records.samples.allSatisfy { ($0.userStack?.count ?? 0) <= 8192 })
    }

    @Test(.timeLimit(.minutes(1)))
    func batchesBeyondTheStreamBufferAreDroppedAndCounted() async throws {
        let session = try SamplingSession(
            configuration: SamplerConfiguration(ringPages: 16, streamBufferLimit: 1),
            target: .launch(["sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"]))
        let stream = try session.records()
        try session.start()
        // Do not consume until the child is gone: everything after the first batch overflows the buffer.
        while session.childExitStatus == nil { try await Task.sleep(for: .milliseconds(20)) }
        let (records, _) = try await collect(session, stream)
        let stats = session.stats
        #expect(stats.batchesDropped > 0, "\(stats)")
        #expect(stats.bytesDropped > 0)
        #expect(stats.batchesYielded == stats.batchesDropped + 1)
        #expect(records.samples.count + records.mmaps.count + records.comms.count > 0)
    }

    @Test(.timeLimit(.minutes(1)))
    func kernelCallchainsOnlyOnRequest() async throws {
        func run(includeKernel: Bool) async throws -> Collected {
            let session = try SamplingSession(
                configuration: SamplerConfiguration(includeKernelCallchain: includeKernel),
                target: .launch(["dd", "if=/dev/zero", "of=/dev/null", "bs=1M", "count=3000"]))
            let stream = try session.records()
            try session.start()
            return try await collect(session, stream).records
        }
        func hasKernelFrames(_ s: Sample) -> Bool { s.callchain?.contains(CallchainContext.kernel) ?? false }

        let with = try await run(includeKernel: true)
        let kernelSamples = with.samples.filter { $0.cpumode == .kernel }
        #expect(!kernelSamples.isEmpty, "dd spends its time in the kernel; samples there are kept")
        #expect(kernelSamples.contains(where: hasKernelFrames))
        // A sample taken in the kernel still carries the user registers and stack, for the user-space unwinder.
        #expect(kernelSamples.allSatisfy { $0.userRegisterABI != 0 && $0.userRegisters?.count == 20 })

        let without = try await run(includeKernel: false)
        #expect(without.samples.contains { $0.cpumode == .kernel })
        #expect(!without.samples.contains(where: hasKernelFrames))
    }

    /// The kernel's walk of the user frame pointers is taken only when asked for; without it the callchain field
    /// is still there (the record layout does not change), empty unless the kernel part was asked for.
    @Test(.timeLimit(.minutes(1)))
    func userCallchainsOnlyOnRequest() async throws {
        func run(includeUser: Bool) async throws -> Collected {
            let session = try SamplingSession(
                configuration: SamplerConfiguration(frequency: 999, includeUserCallchain: includeUser),
                target: .launch(["sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"]))
            let stream = try session.records()
            try session.start()
            return try await collect(session, stream).records
        }
        func hasUserFrames(_ s: Sample) -> Bool { s.callchain?.contains(CallchainContext.user) ?? false }

        let with = try await run(includeUser: true)
        #expect(with.samples.count > 20)
        #expect(with.samples.filter(hasUserFrames).count * 2 > with.samples.count)

        let without = try await run(includeUser: false)
        #expect(without.samples.count > 20)
        #expect(!without.samples.contains(where: hasUserFrames))
        #expect(without.samples.allSatisfy { $0.callchain?.isEmpty ?? false })
        // The stack copy and registers are there all the same, for fpprof's own walk.
        #expect(without.samples.allSatisfy { $0.userRegisterABI != 0 && !($0.userStack ?? []).isEmpty })
    }

    @Test func aThreadIDNamesItsProcess() throws {
        let threads = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(getpid())/task").compactMap {
            Int32($0)
        }
        let other = try #require(threads.first { $0 != getpid() }, "the test runner has more than one thread")
        let session = try SamplingSession(target: .pid(ProcessID(other)))
        #expect(session.targetPID == ProcessID(getpid()))
    }
}

func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
