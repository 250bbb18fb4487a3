import FPProfCore
import FPProfSampler
import Foundation
import Testing

@Suite(.enabled(if: isRoot, "perf_event_open on other processes needs root here (perf_event_paranoid 2)"))
struct AttachTests {
    @Test(.timeLimit(.minutes(1)))
    func attachedBusyProcessIsSampledAndDescribedFromProc() async throws {
        let process = try startProcess("/bin/sh", ["-c", "while :; do :; done"])
        defer {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()  // Foundation keeps a Process alive until it has seen its child end
        }
        try waitForExec(process, resolvedPath("/bin/sh"))
        let pid = ProcessID(process.processIdentifier)
        let session = try SamplingSession(target: .pid(pid))
        #expect(session.targetPID == pid)
        let stream = try session.records()
        try session.start()

        let initial = session.initialRecords()
        var described = Collected()
        described.add(initial.bytes, decoder: try RecordDecoder(format: session.format))
        #expect(described.decodeErrors.isEmpty)
        #expect(described.comms.contains { $0.pid == pid && $0.tid.rawValue == pid.rawValue && $0.name == "sh" })
        let shell = resolvedPath("/bin/sh")
        let image = try #require(described.mmaps.first { $0.filename == shell })
        #expect(image.pid == pid && image.isExecutable)
        #expect(image.buildID?.description == (try readelfBuildID(shell)))
        #expect(described.mmaps.contains { $0.filename == "[vdso]" })
        #expect(described.mmaps.allSatisfy { $0.isExecutable })

        let (records, _) = try await collect(session, stream) { $0.samples.count >= 20 }
        #expect(records.samples.count >= 20)
        #expect(records.samples.allSatisfy { $0.pid == pid })
        #expect(records.samples.allSatisfy { $0.userRegisters?.count == 20 })
        #expect(session.childExitStatus == nil)
    }

    @Test(.timeLimit(.minutes(1)))
    func streamEndsByItselfWhenTheAttachedProcessExits() async throws {
        let process = try startProcess("/bin/sh", ["-c", "i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done"])
        let session = try SamplingSession(target: .pid(ProcessID(process.processIdentifier)))
        let stream = try session.records()
        try session.start()
        let (records, endedByItself) = try await collect(session, stream)
        #expect(endedByItself)
        #expect(!records.samples.isEmpty)
        process.waitUntilExit()
    }

    @Test(.timeLimit(.minutes(1)), .enabled(if: hasGCC, "needs gcc to build the threaded fixture"))
    func threadCreatedAfterAttachIsSampled() async throws {
        let program = try buildC(
            """
            #include <pthread.h>
            #include <time.h>
            #include <unistd.h>
            static double now(void) {
                struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + ts.tv_nsec / 1e9;
            }
            static void *spin(void *arg) {
                volatile unsigned long n = 0; double end = now() + 1.0;
                while (now() < end) n++;
                return arg;
            }
            int main(void) {
                usleep(500 * 1000);  /* time for the session to attach */
                pthread_t t; pthread_create(&t, 0, spin, 0); pthread_join(t, 0);
                return 0;
            }
            """, name: "late_thread")
        let process = try startProcess(program, [])
        try waitForExec(process, program)
        let pid = ProcessID(process.processIdentifier)
        let session = try SamplingSession(target: .pid(pid))
        let stream = try session.records()
        try session.start()
        let (records, endedByItself) = try await collect(session, stream)
        process.waitUntilExit()
        #expect(endedByItself)
        let thread = try #require(records.forks.first { $0.pid == pid && $0.tid.rawValue != pid.rawValue }?.tid)
        let samplesOfThread = records.samples.filter { $0.tid == thread }
        // One second of spinning at 99 Hz; other tests compete for the two CPUs, so ask for a few only.
        #expect(samplesOfThread.count >= 5, "\(samplesOfThread.count) samples of the late thread")
        #expect(samplesOfThread.allSatisfy { $0.pid == pid })
    }

    /// `wakeupEverySample` hands the reader each sample as it is written: batches of about one sample, where the
    /// quarter-ring default gathers several (a 128-page ring holds about 30 samples of 16 KiB: a quarter is 7).
    @Test(.timeLimit(.minutes(1)), arguments: [false, true])
    func wakeupEverySampleDeliversSamplesOneBatchAtATime(_ everySample: Bool) async throws {
        let process = try startProcess("/bin/sh", ["-c", "while :; do :; done"])
        defer {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try waitForExec(process, resolvedPath("/bin/sh"))
        var configuration = SamplerConfiguration(frequency: 199, ringPages: 128)
        configuration.wakeupEverySample = everySample
        let session = try SamplingSession(
            configuration: configuration, target: .pid(ProcessID(process.processIdentifier)))
        let stream = try session.records()
        try session.start()
        let (records, _) = try await collect(session, stream) { $0.samples.count >= 60 }
        let perBatch = Double(records.samples.count) / Double(max(1, records.batches))
        let counts = "\(records.samples.count) samples in \(records.batches) batches"
        if everySample {
            // A reader that is late (two CPUs, other tests) finds two or three waiting: a mean of 2 at most.
            #expect(perBatch <= 2, "\(counts)")
        } else {
            #expect(perBatch >= 4, "\(counts)")
        }
    }
}
