import FPProfCore
import FPProfEngine
import FPProfSampler
import FPProfSymbols
import Foundation
import Logging
import Testing

/// Windows cut from a live recording, through the real kernel: together they hold every sample the engine was
/// given, each once. The engine's raw capture is the record stream it consumed, so its one-shot replay is the
/// reference: the sum of the windows must equal it stack by stack.
@Suite(.enabled(if: geteuid() == 0, "opening perf events on another process needs root (or CAP_PERFMON)"))
struct LiveWindowTests {
    @Test func windowsCutEvery200MillisecondsLoseNothing() async throws {
        let capture = NSTemporaryDirectory() + "fpprof-engine-test-\(getpid())-\(UUID().uuidString).fpc"
        defer { unlink(capture) }
        let raw = try StreamingFile(path: capture)
        var settings = EngineSettings()
        settings.sampler.frequency = 499
        // Two busy processes (a shell and its child, which ends with its parent), so that windows interleave samples
        // of several threads and CPUs.
        let engine = try ProfilingEngine(
            target: .launch(["/bin/sh", "-c", "p=$$; (while kill -0 $p 2>/dev/null; do :; done) & while :; do :; done"]
            ),
            settings: settings,
            raw: raw, logger: Logger(label: "test"))
        let cutter = Task {
            var windows: [EngineWindow] = []
            for _ in 0..<10 {
                try await Task.sleep(for: .milliseconds(200))
                windows.append(try engine.cutWindow())
            }
            engine.stop()
            return windows
        }
        try await engine.run()
        var windows = try await cutter.value
        windows.append(try engine.cutWindow())
        try raw.commit()
        #expect(windows.last?.isFinal == true)
        #expect(windows.dropLast().allSatisfy { !$0.isFinal })

        var sum: [StackKey: StackWeight] = [:]
        for window in windows {
            for (key, weight) in window.profile.stacks {
                sum[key, default: StackWeight()].samples += weight.samples
                sum[key, default: StackWeight()].period &+= weight.period
            }
        }
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: capture)))
        let (header, chunks) = try Capture.decode(bytes)
        var reference = try PipelineSetup.builder(
            format: header.format, perThread: false, kernel: false, symbolizer: ElfSymbolizer())
        for chunk in chunks { reference.consume(chunk) }
        let oneShot = reference.finish()

        let total = windows.reduce(0) { $0 + $1.samples }
        #expect(oneShot.stats.samples > 100, "two busy processes at 499 Hz for 2 s (on a loaded machine)")
        #expect(oneShot.stats.processes.count == 2)
        #expect(total == oneShot.stats.samples)
        #expect(windows.reduce(0) { $0 + $1.profile.stacks.values.reduce(0) { $0 + $1.samples } } == total)
        #expect(windows.filter { $0.samples > 0 }.count >= 8, "most 200 ms windows hold samples")
        // The same stacks: the windows' keys and the replay's refer to the same names and modules, interned in
        // the same order from the same records.
        #expect(sum == oneShot.stacks)
        #expect(windows.reduce(UInt64(0)) { $0 + $1.lostRecords } == oneShot.stats.lostRecords)
    }
}
