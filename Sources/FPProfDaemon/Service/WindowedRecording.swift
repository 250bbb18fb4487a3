import FPProfCore
import FPProfEngine
import FPProfOutput
import FPProfSampler
import FPProfSymbols
import Foundation

/// One target's profile over time, cut into windows: the batches of every sampling session of the target (one per
/// matched process, or one per-CPU set) go into one engine pipeline (`PipelineSetup.builder`), and `cut()` takes the
/// profile of the samples since the previous cut with `ProfileBuilder.cutWindow`, as `ProfilingEngine.cutWindow`
/// does: the process table, interned names and symbol caches live on (bounded as the engine bounds them), records
/// still waiting for time ordering belong to the next window, so no sample is lost or counted twice.
///
/// The daemon keeps this owner rather than a `ProfilingEngine` because one target feeds many sessions (processes
/// found over time) into one profile, where an engine owns one session.
///
/// Invariant: the builder and the symbolizer are only touched under `state`'s lock (libdw handles are not safe from
/// two threads at once), so consumption pauses while a window renders; the sessions' streams buffer meanwhile
/// (`SamplerConfiguration.streamBufferLimit` batches, drops counted).
final class WindowedRecording: Sendable {
    struct Settings: Sendable {
        var formats: [WindowFormat]
        var kernel: Bool
        var symbols: ElfSymbolizer.Options
        var frequency: Int
        var unwind: UnwindMode
        /// `per_goroutine`: a `goroutine N` frame and label on each Go sample.
        var perGoroutine = false
    }

    /// A finished window: its profile in each format, per process when asked.
    struct Window: Sendable {
        var start: Date
        var duration: Duration
        var samples: Int
        var lostRecords: UInt64
        /// The daemon's own samples, which a per-CPU session meets and the window leaves out.
        var ownSamples: UInt64
        /// Modules the target's symbolizer has forgotten whole under `symbol_memory` since it started (a total).
        var modulesForgotten = 0
        var samplesByStatus: [UnwindStatus: Int]
        var processes: Set<ProcessID>
        /// nil key: the whole target; a pid: that process's share (`per_process`).
        var outputs: [Int32?: [WindowFormat: [UInt8]]]
        var renderErrors: [String]
    }

    private struct State {
        var builder: ProfileBuilder
        var symbolizer: ElfSymbolizer
        var kernelSymbols: KernelSymbols?
        var start: Date
        var startInstant: ContinuousClock.Instant
        var event: String
    }

    private let settings: Settings
    private let state: Locked<State>

    init(settings: Settings) throws(DaemonError) {
        self.settings = settings
        let symbolizer = ElfSymbolizer(options: settings.symbols)
        let kernelSymbols: KernelSymbols?
        let builder: ProfileBuilder
        do {
            kernelSymbols = try SymbolSettings(options: settings.symbols, kernel: settings.kernel).kernelSymbols()
        } catch {
            throw DaemonError("kernel = true: \(error) (the service needs CAP_SYSLOG for kernel addresses)")
        }
        do {
            builder = try PipelineSetup.builder(
                format: RecordFormat.amd64Profiling, perThread: settings.formats.contains(.pprof),
                kernel: settings.kernel, symbolizer: symbolizer, unwind: settings.unwind,
                perGoroutine: settings.perGoroutine, excludedProcess: ProcessID(getpid()))
        } catch {
            throw DaemonError("profile builder: \(error)")
        }
        state = Locked(
            State(
                builder: builder, symbolizer: symbolizer, kernelSymbols: kernelSymbols, start: Date(),
                startInstant: .now, event: EventKind.cpuClock.rawValue))
    }

    func consume(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        state.withLock { $0.builder.consume(bytes) }
    }

    func noteEvent(_ kind: EventKind) { state.withLock { $0.event = kind.rawValue } }

    /// Ends the current window and starts the next. `final`: no record can come any more (every session has
    /// stopped), so the records still waiting for time ordering are applied to this window.
    func cut(perProcess: Bool, final: Bool = false) -> Window {
        state.withLock { state in
            let now = ContinuousClock.now
            let started = state.start
            let duration = now - state.startInstant
            if final { state.builder.flush() }
            let profile = state.builder.cutWindow()
            state.start = started.addingTimeInterval(Double(duration.nanoseconds) / 1e9)
            state.startInstant = now
            var window = Window(
                start: started, duration: duration, samples: profile.stats.samples,
                lostRecords: profile.stats.lostRecords, ownSamples: profile.stats.excludedSamples,
                samplesByStatus: profile.stats.samplesByStatus,
                processes: profile.stats.processes, outputs: [:], renderErrors: [])
            let metadata = ProfileMetadata(
                event: state.event, frequency: settings.frequency,
                startNanos: Int64(started.timeIntervalSince1970 * 1e9), durationNanos: duration.nanoseconds)
            let parts: [(Int32?, RawProfile)] =
                perProcess ? ProfileSplit.byProcess(profile).map { ($0.key.rawValue, $0.value) } : [(nil, profile)]
            for (pid, part) in parts {
                for format in settings.formats {
                    do {
                        window.outputs[pid, default: [:]][format] = try PipelineSetup.render(
                            part, symbolizer: state.symbolizer, kernelSymbols: state.kernelSymbols,
                            metadata: metadata, rendering: RenderOptions(format: format.outputFormat))
                    } catch {
                        window.renderErrors.append("\(format.rawValue): \(error)")
                    }
                }
            }
            // Modules this window named stay in the symbolizer; the others may go under `symbol_memory`.
            state.symbolizer.startWindow()
            window.modulesForgotten = state.symbolizer.modulesForgotten
            return window
        }
    }
}

/// A profile cut into one per process (`per_process = true`): every part keeps the module table and names.
enum ProfileSplit {
    static func byProcess(_ profile: RawProfile) -> [ProcessID: RawProfile] {
        var parts: [ProcessID: RawProfile] = [:]
        for (key, weight) in profile.stacks {
            if parts[key.pid] == nil {
                var empty = profile
                empty.stacks = [:]
                empty.stats.samples = 0
                empty.stats.samplesByStatus = [:]
                empty.stats.processes = [key.pid]
                empty.stats.threads = []
                parts[key.pid] = empty
            }
            parts[key.pid]?.stacks[key] = weight
            parts[key.pid]?.stats.samples += weight.samples
            parts[key.pid]?.stats.samplesByStatus[key.status, default: 0] += weight.samples
            parts[key.pid]?.stats.threads.insert(key.tid)
        }
        return parts
    }
}

extension WindowFormat {
    var outputFormat: OutputFormat {
        switch self {
        case .pprof: .pprof
        case .folded: .folded
        case .svg: .svg
        case .speedscope: .speedscope
        }
    }
}

extension Duration {
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}

/// An error of the daemon's own, with a message for the log.
public struct DaemonError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
