import FPProfCore
import FPProfOutput
import FPProfSampler
import FPProfSymbols
import Foundation
import Synchronization

/// One recording from start to profile: opens the sampler, feeds its batches to the pure pipeline (and to the raw
/// capture, when asked), stops at target exit, `--duration` or SIGINT/SIGTERM, names the frames and renders the
/// profile in the requested format.
struct Recording {
    var profile: RawProfile
    /// The profile in the requested format, ready to write.
    var output: [UInt8]
    var summary: String
    var lostData: Bool
    /// The event that was really sampled (`cycles` or `cpu-clock`).
    var event: String

    static func run(
        target: SamplerTarget, configuration: SamplerConfiguration, duration: Double?, perThread: Bool,
        raw: StreamingFile?, rendering: RenderOptions = RenderOptions(), symbols: SymbolSettings = SymbolSettings(),
        perGoroutine: Bool = false
    ) async throws -> Recording {
        if case .pid(let pid) = target {
            try PtraceAccess.check(pid: pid.rawValue)
        }
        let symbolizer = ElfSymbolizer(options: symbols.options)
        let kernelSymbols = try symbols.kernelSymbols()
        var configuration = configuration
        configuration.includeKernelCallchain = symbols.kernel
        let session = try SamplingSession(configuration: configuration, target: target)
        var builder = try PipelineSetup.builder(
            format: session.format, perThread: perThread, rendering: rendering, symbols: symbols,
            symbolizer: symbolizer, goroutines: perGoroutine ? GoroutineReader(symbolizer: symbolizer) : nil)
        raw?.write(
            Capture.encodeHeader(
                CaptureHeader(
                    format: session.format, frequency: configuration.frequency, stackSize: configuration.stackSize,
                    event: session.eventKind.rawValue)))

        let stop = StopRequest()
        let signals = StopSignals {
            stop.set(.signal)
            session.stop()
        }
        defer { signals.finish() }
        let timer: Task<Void, Never>? = duration.map { seconds in
            Task {
                try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                if Task.isCancelled { return }
                stop.set(.duration)
                session.stop()
            }
        }
        defer { timer?.cancel() }

        let batches = try session.records()
        let started = ContinuousClock.now
        let startedAt = Date()
        try session.start()
        let initial = session.initialRecords().bytes
        builder.consume(initial)
        if !initial.isEmpty { raw?.write(Capture.encodeRecords(initial)) }

        var status = StatusLine()
        for await batch in batches {
            ThreadPriority.matchProcess()
            builder.consume(batch.bytes)
            raw?.write(Capture.encodeRecords(batch.bytes))
            status.update(
                elapsed: ContinuousClock.now - started, samples: builder.profile.stats.samples,
                lost: builder.profile.stats.lostRecords)
        }
        status.clear()
        let elapsed = ContinuousClock.now - started
        if case .launch = target, stop.reason != nil, session.childExitStatus == nil {
            // The recording ended before the command did: end the command too, as `timeout` would, and reap it.
            endChild(session.targetPID.rawValue)
        }

        let profile = builder.finish()
        let metadata = ProfileMetadata(
            event: session.eventKind.rawValue, frequency: configuration.frequency,
            startNanos: Int64(startedAt.timeIntervalSince1970 * 1e9),
            durationNanos: elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        let output = try PipelineSetup.render(
            profile, symbolizer: symbolizer, kernelSymbols: kernelSymbols, metadata: metadata, rendering: rendering)
        let stats = session.stats
        var summary = Summary(
            stats: profile.stats, event: session.eventKind.rawValue, frequency: configuration.frequency,
            elapsed: elapsed, droppedBatches: Int(stats.batchesDropped)
        ).text
        if let exit = session.childExitStatus { summary += "fpprof: the command \(exit)\n" }
        for warning in symbolizer.warnings { summary += "fpprof: warning: \(warning)\n" }
        let lostData = profile.stats.lostRecords > 0 || stats.batchesDropped > 0
        return Recording(
            profile: profile, output: output, summary: summary, lostData: lostData, event: session.eventKind.rawValue)
    }
}

/// SIGTERM, up to two seconds' grace, then SIGKILL; always reaped, so no zombie outlives fpprof.
private func endChild(_ pid: Int32) {
    kill(pid, SIGTERM)
    var status: Int32 = 0
    for _ in 0..<40 {
        if waitpid(pid, &status, WNOHANG) != 0 { return }
        usleep(50_000)
    }
    kill(pid, SIGKILL)
    _ = waitpid(pid, &status, 0)
}

/// Why a recording stopped early, set from the signal handler or the timer and read once at the end.
final class StopRequest: Sendable {
    enum Reason: Sendable { case signal, duration }
    private let state = Mutex<Reason?>(nil)
    func set(_ r: Reason) { state.withLock { if $0 == nil { $0 = r } } }
    var reason: Reason? { state.withLock { $0 } }
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
    private static let keep = Mutex<[StopSignals]>([])

    /// The recording is over: the next signal exits at once.
    func finish() { finished.store(true, ordering: .releasing) }
}
