public import FPProfCore
public import FPProfOutput
public import FPProfSampler
public import FPProfSymbols
public import Foundation
public import Logging
import Synchronization

/// One recording from start to profiles: opens the sampler, feeds its batches to the pure pipeline (and to the raw
/// capture, when asked), and cuts windows: the profile of the samples since the previous cut, rendered, while the
/// recording goes on with its process table, interned names and symbol caches.
///
/// `run()` samples until `stop()` or until the target is gone; `cutWindow` may be called from another task while it
/// runs, and once more after it returns for the final window. One lock owns the pipeline and the symbolizer (libdw
/// handles have one owner at a time): a cut renders under it, while the reader thread keeps draining the rings
/// into the stream's buffer (`SamplerConfiguration.streamBufferLimit` batches).
public final class ProfilingEngine: Sendable {
    /// The layout of every record: what the events were opened with.
    public let format: RecordFormat
    /// The event really sampled (`cycles` or `cpu-clock`).
    public let event: EventKind
    /// The launched child or the process attached to.
    public let targetPID: ProcessID
    public let target: SamplerTarget
    public let settings: EngineSettings

    private let session: SamplingSession
    private let logger: Logger
    private let state: Locked<State>
    private let stopRequested = Atomic<Bool>(false)

    /// Everything the pipeline owns, behind the lock.
    fileprivate struct State {
        var builder: ProfileBuilder
        let symbolizer: ElfSymbolizer
        let kernelSymbols: KernelSymbols?
        var raw: StreamingFile?
        /// When the current window began (run's start for the first one).
        var windowStart: Date
        var windowInstant: ContinuousClock.Instant
        /// When `run()` stopped reading: the final window ends there, not when it is cut.
        var ended: ContinuousClock.Instant?
        /// Samples and lost records of windows already cut, for `progress`.
        var carriedSamples = 0
        var carriedLost: UInt64 = 0
        /// The sampler's dropped-batch count at the previous cut.
        var droppedAtCut: UInt64 = 0
    }

    /// Opens every event (nothing counts until `run()`) and writes the capture's header to `raw`. For `.launch`, the
    /// command is forked and held at a gate until `run()`.
    public init(target: SamplerTarget, settings: EngineSettings, raw: StreamingFile? = nil, logger: Logger)
        throws(EngineError)
    {
        var configuration = settings.sampler
        configuration.includeKernelCallchain = settings.symbols.kernel
        // Goroutine ids are read from the live process when a sample is processed: as soon after it as can be.
        if settings.perGoroutine { configuration.wakeupEverySample = true }
        let symbolizer = ElfSymbolizer(options: settings.symbols.options)
        let kernelSymbols = try settings.symbols.kernelSymbols()
        let session: SamplingSession
        do { session = try SamplingSession(configuration: configuration, target: target) } catch {
            throw EngineError(error)
        }
        let builder: ProfileBuilder
        do {
            builder = try PipelineSetup.builder(
                format: session.format, perThread: settings.perThread, kernel: settings.symbols.kernel,
                symbolizer: symbolizer, unwind: settings.unwind,
                goroutines: settings.perGoroutine ? GoroutineReader(symbolizer: symbolizer) : nil)
        } catch {
            throw EngineError(.sampler, "the sampler's record format cannot be decoded: \(error)")
        }
        raw?.write(
            Capture.encodeHeader(
                CaptureHeader(
                    format: session.format, frequency: configuration.frequency, stackSize: configuration.stackSize,
                    event: session.eventKind.rawValue)))
        self.session = session
        self.target = target
        self.settings = settings
        self.logger = logger
        format = session.format
        event = session.eventKind
        targetPID = session.targetPID
        state = Locked(
            State(
                builder: builder, symbolizer: symbolizer, kernelSymbols: kernelSymbols, raw: raw, windowStart: Date(),
                windowInstant: .now))
    }

    /// Starts sampling and feeds every batch to the pipeline until `stop()` or the target's exit; `progress` is
    /// called after each batch. A launched command still running when a stop was asked is sent SIGTERM (SIGKILL
    /// two seconds later) and reaped. The samples still waiting for time ordering are applied before it returns.
    public func run(progress: ((EngineProgress) -> Void)? = nil) async throws(EngineError) {
        let batches: AsyncStream<RecordBatch>
        do { batches = try session.records() } catch { throw EngineError(error) }
        state.withLock {
            $0.windowStart = Date()
            $0.windowInstant = .now
        }
        do { try session.start() } catch { throw EngineError(error) }
        logger.debug("recording started", metadata: ["pid": "\(targetPID.rawValue)", "event": "\(event.rawValue)"])
        ingest(session.initialRecords().bytes)
        for await batch in batches {
            ThreadPriority.matchProcess()
            ingest(batch.bytes)
            if let progress { progress(self.progress) }
        }
        let ended = ContinuousClock.now
        if case .launch = target, stopRequested.load(ordering: .acquiring), session.childExitStatus == nil {
            // The recording ended before the command did: end the command too, as `timeout` would, and reap it.
            session.endLaunchedChild()
        }
        state.withLock {
            $0.builder.flush()
            $0.ended = ended
        }
        logger.debug("recording ended", metadata: ["pid": "\(targetPID.rawValue)"])
    }

    private func ingest(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        state.withLock {
            $0.builder.consume(bytes)
            $0.raw?.write(Capture.encodeRecords(bytes))
        }
    }

    /// Asks `run()` to end: sampling stops, the rings are drained once more. Thread-safe; later calls do nothing.
    public func stop() {
        stopRequested.store(true, ordering: .releasing)
        session.stop()
    }

    /// Whether `stop()` was called (as opposed to the target ending by itself).
    public var wasStopped: Bool { stopRequested.load(ordering: .acquiring) }

    /// The profile of the samples applied since the previous cut (or the start), rendered in each of `formats`;
    /// the recording goes on. Samples still waiting for time ordering belong to the next window, so no sample is
    /// lost or counted twice. After `run()` returns, the cut holds everything that was left.
    public func cutWindow(formats: [RenderOptions] = []) throws(EngineError) -> EngineWindow {
        let dropped = session.stats.batchesDropped
        return try state.withLock { s throws(EngineError) -> EngineWindow in
            let now = ContinuousClock.now
            let end = s.ended ?? now
            let profile = s.builder.cutWindow()
            // Perf maps are held for one window: a JIT keeps appending to its map, so each window reads the maps
            // anew (when it has JIT frames), and the maps of processes gone since go. The processes this cut forgot
            // are read now, while their /proc entries may still lead to their maps, for this window's names; a
            // front end naming this window later (`withSymbols`) finds them until the next cut.
            s.symbolizer.forgetAllPerfMaps()
            s.symbolizer.startWindow()
            s.symbolizer.readPerfMaps(of: s.builder.forgotten.releasedJITModules.compactMap(\.pidHint))
            // A process whose EXIT record the kernel dropped (a full ring) would be kept for ever: one that /proc
            // no longer shows is marked now and forgotten at the next cut, one window later, so that its samples
            // still waiting for time ordering find its mappings.
            s.builder.markVanished(s.builder.table.processesNotExited.filter { !Self.processExists($0) })
            let duration = end - s.windowInstant
            let start = s.windowStart
            var window = EngineWindow(
                start: start, duration: duration, profile: profile,
                droppedBatches: Int(dropped &- s.droppedAtCut), isFinal: s.ended != nil,
                tracked: EngineTrackedState(s))
            let metadata = ProfileMetadata(
                event: event.rawValue, frequency: settings.sampler.frequency,
                startNanos: Int64(start.timeIntervalSince1970 * 1e9),
                durationNanos: duration.components.seconds * 1_000_000_000 + duration.components.attoseconds
                    / 1_000_000_000)
            for options in formats {
                window.outputs[options.format] = try PipelineSetup.render(
                    profile, symbolizer: s.symbolizer, kernelSymbols: s.kernelSymbols, metadata: metadata,
                    rendering: options)
            }
            s.droppedAtCut = dropped
            s.carriedSamples += profile.stats.samples
            s.carriedLost &+= profile.stats.lostRecords
            s.windowStart = start.addingTimeInterval(
                Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
            s.windowInstant = end
            logger.debug(
                "window cut", metadata: ["samples": "\(profile.stats.samples)", "stacks": "\(profile.stacks.count)"])
            return window
        }
    }

    /// Samples and lost records so far, over every window.
    public var progress: EngineProgress {
        state.withLock { s in
            let current = s.builder.profile.stats
            return EngineProgress(
                samples: s.carriedSamples + current.samples, lostRecords: s.carriedLost &+ current.lostRecords)
        }
    }

    /// Whether /proc shows `pid` (a zombie still counts: its EXIT record is on its way).
    private static func processExists(_ pid: ProcessID) -> Bool {
        FileManager.default.fileExists(atPath: "/proc/\(pid.rawValue)")
    }

    /// What the recording keeps between windows now; a window holds the same counts as of its cut.
    public var tracked: EngineTrackedState { state.withLock { EngineTrackedState($0) } }

    /// Runs `body` with the engine's symbolizer (and kernel symbols), under the pipeline's lock: for a front end
    /// that names frames itself (fpcheck's report).
    public func withSymbols<R: Sendable>(_ body: (ElfSymbolizer, KernelSymbols?) throws -> R) rethrows -> R {
        try state.withLock { s in try body(s.symbolizer, s.kernelSymbols) }
    }

    /// What the symbolizer could not read (missing binaries, corrupt DWARF), each once.
    public var warnings: [String] { state.withLock { $0.symbolizer.warnings } }

    /// What the sampler's reader has seen so far.
    public var samplerStats: SamplerStats { session.stats }

    /// How a launched command ended, once reaped; nil while it runs, and for attached processes.
    public var childExitStatus: ChildExitStatus? { session.childExitStatus }
}

/// Samples and lost records of a recording so far.
public struct EngineProgress: Sendable, Hashable {
    public var samples: Int
    public var lostRecords: UInt64
}

/// One window of a recording: the samples applied between two cuts, and what was lost meanwhile.
public struct EngineWindow: Sendable {
    public var start: Date
    public var duration: Duration
    /// The window's stacks, names and module table, with its statistics (threads, processes, statuses...).
    public var profile: RawProfile
    /// Batches the engine's stream dropped in the window (its consumer fell behind).
    public var droppedBatches: Int
    /// The last window of the recording: cut after `run()` returned.
    public var isFinal: Bool
    /// What the recording kept right after this cut, exited processes forgotten.
    public var tracked: EngineTrackedState
    /// The window rendered in each format asked for.
    public var outputs: [OutputFormat: [UInt8]] = [:]

    public var samples: Int { profile.stats.samples }
    /// Records the kernel dropped (rings full) in the window.
    public var lostRecords: UInt64 { profile.stats.lostRecords }
    public var samplesByStatus: [UnwindStatus: Int] { profile.stats.samplesByStatus }
    public var processes: Set<ProcessID> { profile.stats.processes }
}

/// The size of what a recording keeps from window to window, for a daemon's metrics: each count follows the live
/// processes (exited ones are forgotten at the cut after their EXIT), not every process the recording has seen.
public struct EngineTrackedState: Sendable, Hashable {
    /// Processes, threads and modules of the process table.
    public var table: TrackedCounts
    /// Processes whose JIT perf maps the symbolizer holds.
    public var perfMaps: Int

    public var processes: Int { table.processes }
    public var threads: Int { table.threads }
    public var modules: Int { table.modules }

    fileprivate init(_ state: ProfilingEngine.State) {
        table = state.builder.trackedCounts
        perfMaps = state.symbolizer.perfMapCount
    }
}
