// fpprof-bench soak: one ProfilingEngine over a command for SECONDS at 99 Hz, a window cut (and rendered as pprof)
// every CUT_SECONDS, as a daemon would run it. One line per cut: elapsed time, the window's samples, processes
// and stacks, and this process's resident memory (VmRSS), so that growth over a long run shows.

import FPProfCore
import FPProfEngine
import FPProfOutput
import FPProfSampler
import Foundation
import Logging

struct SoakArguments {
    var seconds: Double
    var cut: Double
    var command: [String]

    init(_ args: ArraySlice<String>) throws {
        let parts = Array(args)
        guard parts.count >= 4, let seconds = Double(parts[0]), let cut = Double(parts[1]), parts[2] == "--",
            seconds > 0, cut > 0
        else { throw Usage(description: usage) }
        self.seconds = seconds
        self.cut = cut
        command = Array(parts[3...])
    }
}

/// This process's resident set in KiB, from /proc/self/status.
func residentKiB() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }
    return -1
}

func soak(_ a: SoakArguments) async throws {
    var settings = EngineSettings()
    settings.sampler.frequency = 99
    settings.perThread = true
    let engine = try ProfilingEngine(target: .launch(a.command), settings: settings, logger: Logger(label: "soak"))
    let started = ContinuousClock.now
    let cutter = Task {
        var total = 0
        while ContinuousClock.now - started < .seconds(a.seconds) {
            try await Task.sleep(for: .seconds(a.cut))
            let window = try engine.cutWindow(formats: [RenderOptions(format: .pprof)])
            total += window.samples
            let elapsed = seconds(ContinuousClock.now - started)
            FileHandle.standardOutput.write(
                Data(
                    ("cut t=\(String(format: "%.0f", elapsed)) samples=\(window.samples) "
                        + "processes=\(window.processes.count) stacks=\(window.profile.stacks.count) "
                        + "pprof_bytes=\(window.outputs[.pprof]?.count ?? 0) rss_kib=\(residentKiB())\n").utf8))
        }
        engine.stop()
        return total
    }
    try await engine.run()
    let total = try await cutter.value + engine.cutWindow().samples
    print("RESULT samples=\(total) lost=\(engine.progress.lostRecords) rss_kib=\(residentKiB())")
}
