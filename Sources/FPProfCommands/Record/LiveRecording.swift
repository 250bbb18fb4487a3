import FPProfCore
import FPProfEngine
import FPProfOutput
import FPProfSampler
import Foundation
import Logging
import Synchronization

/// A recording as the CLI runs it: one engine, stopped by `--duration` or SIGINT/SIGTERM, a status line on a
/// terminal while it samples, and one window for the whole run at the end.
struct LiveRecording {
    var engine: ProfilingEngine
    var window: EngineWindow
    /// The target's CPU time over the recording, to compare the samples with; nil when unknown.
    var cpuTime: CPUTime?

    static func run(
        target: SamplerTarget, settings: EngineSettings, duration: Double?, raw: StreamingFile?,
        formats: [RenderOptions]
    ) async throws(EngineError) -> LiveRecording {
        let cpuProbe = CPUTimeProbe.start(target)
        let engine = try ProfilingEngine(target: target, settings: settings, raw: raw, logger: CLILogger.logger)
        let signals = StopSignals { engine.stop() }
        defer { signals.finish() }
        let timer: Task<Void, Never>? = duration.map { seconds in
            Task {
                try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                if Task.isCancelled { return }
                engine.stop()
            }
        }
        defer { timer?.cancel() }
        let started = ContinuousClock.now
        var status = StatusLine()
        try await engine.run { progress in
            status.update(
                elapsed: ContinuousClock.now - started, samples: progress.samples, lost: progress.lostRecords)
        }
        status.clear()
        // After `run`: a launched command has been reaped, so its time is in fpprof's RUSAGE_CHILDREN.
        let cpuTime = cpuProbe.finish()
        return LiveRecording(engine: engine, window: try engine.cutWindow(formats: formats), cpuTime: cpuTime)
    }

    /// The end-of-recording report: totals, statuses, how the command ended, what could not be read.
    var summary: String {
        var text = Summary(
            stats: window.profile.stats, event: engine.event.rawValue, frequency: engine.settings.sampler.frequency,
            elapsed: window.duration, droppedBatches: window.droppedBatches
        ).text
        if let exit = engine.childExitStatus { text += "fpprof: the command \(exit)\n" }
        let stats = window.profile.stats
        text += CPUTimeCheck(
            samples: stats.samples, frequency: engine.settings.sampler.frequency, cpuTime: cpuTime,
            elapsed: window.duration, lostRecords: stats.lostRecords, sampledThreads: stats.threads.count,
            tasksStarted: stats.tasksStarted
        ).lines.joined()
        for warning in engine.warnings { text += "fpprof: warning: \(warning)\n" }
        if window.profile.modules.refused > 0 {
            text +=
                "fpprof: warning: more than \(ModuleTable.capacity) modules; frames of the \(window.profile.modules.refused) "
                + "past that are written [unknown]+0xOFFSET\n"
        }
        return text
    }

    /// Records the kernel dropped or batches fpprof dropped: the profile is written, but exits as partial.
    var lostData: Bool { window.lostRecords > 0 || window.droppedBatches > 0 }
}

/// The CLI's logger: the engine logs at debug level only, so nothing is printed unless `FPPROF_LOG` asks for it
/// (`debug`, `info`...); it writes to stderr, as stdout may carry the profile.
enum CLILogger {
    static let logger: Logger = {
        var logger = Logger(label: "fpprof") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel =
            ProcessInfo.processInfo.environment["FPPROF_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .warning
        return logger
    }()
}

/// Turns SIGINT, SIGTERM and SIGHUP (a closed terminal or ssh session) into a graceful stop: the samples taken so
/// far are still written. Once the recording has ended (`finish()`), another of them ends fpprof at once, removing
/// the temporary files of writes in progress (`PendingFiles`), so a stuck final write never needs SIGKILL and leaves
/// no partial file; the sources stay installed until the process exits.
final class StopSignals: Sendable {
    static let handled = [SIGINT, SIGTERM, SIGHUP]
    // Invariant: the sources are created and resumed in init and never released (a recording runs once per
    // process); DispatchSource is thread-safe.
    nonisolated(unsafe) private let sources: [any DispatchSourceSignal]
    private let finished = Atomic<Bool>(false)

    init(onSignal: @escaping @Sendable () -> Void) {
        var sources: [any DispatchSourceSignal] = []
        for sig in Self.handled {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            sources.append(source)
        }
        self.sources = sources
        for (sig, source) in zip(Self.handled, sources) {
            source.setEventHandler { [self] in
                if self.finished.load(ordering: .acquiring) {
                    PendingFiles.removeAll()
                    _exit(128 + sig)
                }
                onSignal()
            }
            source.resume()
        }
        Self.keep.withLock { $0.append(self) }
    }

    /// Kept for the life of the process: the sources must outlive the recording to handle the second signal.
    private static let keep = Locked<[StopSignals]>([])

    /// The recording is over: the next signal exits at once.
    func finish() { finished.store(true, ordering: .releasing) }
}
