import FPProfCore
import FPProfEngine
import FPProfOutput
import FPProfSampler
import FPProfSymbols
import Foundation
import Synchronization

/// One target's profile over time, cut into windows: the batches of every sampling session of the target go into
/// one profile builder, and `cut()` ends that builder's window (every sample it was given, the ones still waiting
/// for time ordering included) and starts the next one, seeded with the mappings of the processes alive at the cut
/// (stamped at time 0, so they order before every sample still in the rings). The symbolizer and its caches live as
/// long as the target.
///
/// STAND-IN: this is the daemon's own wiring of the pipeline until the engine library (issue 11, `FPProfEngine`)
/// lands; `ProfilingEngine.cutWindow` replaces `cut()` and the builder set-up below goes.
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
    }

    /// A finished window: its profile in each format, per process when asked.
    struct Window: Sendable {
        var start: Date
        var duration: Duration
        var samples: Int
        var lostRecords: UInt64
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
    private let state: Mutex<State>

    init(settings: Settings) throws(DaemonError) {
        self.settings = settings
        let symbolizer = ElfSymbolizer(options: settings.symbols)
        var kernelSymbols: KernelSymbols?
        if settings.kernel {
            guard let data = FileManager.default.contents(atPath: "/proc/kallsyms") else {
                throw DaemonError("kernel = true: cannot read /proc/kallsyms")
            }
            let symbols = KernelSymbols(kallsyms: String(decoding: data, as: UTF8.self))
            if symbols.isEmpty {
                throw DaemonError(
                    "kernel = true: /proc/kallsyms shows no addresses; grant CAP_SYSLOG or lower kernel.kptr_restrict")
            }
            kernelSymbols = symbols
        }
        let builder = try Self.builder(settings: settings, symbolizer: symbolizer)
        state = Mutex(
            State(
                builder: builder, symbolizer: symbolizer, kernelSymbols: kernelSymbols, start: Date(),
                startInstant: .now, event: EventKind.cpuClock.rawValue))
    }

    private static func builder(settings: Settings, symbolizer: ElfSymbolizer) throws(DaemonError) -> ProfileBuilder {
        do {
            return try PipelineSetup.builder(
                format: RecordFormat.amd64Profiling, perThread: settings.formats.contains(.pprof),
                kernel: settings.kernel, symbolizer: symbolizer)
        } catch {
            throw DaemonError("profile builder: \(error)")
        }
    }

    func consume(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        state.withLock { $0.builder.consume(bytes) }
    }

    func noteEvent(_ kind: EventKind) { state.withLock { $0.event = kind.rawValue } }

    /// Ends the current window and starts the next, seeded with `seed` (the records of the live processes).
    func cut(seed: [UInt8], perProcess: Bool) -> Window {
        state.withLock { state in
            let now = ContinuousClock.now
            let started = state.start
            let duration = now - state.startInstant
            var fresh: ProfileBuilder
            do { fresh = try Self.builder(settings: settings, symbolizer: state.symbolizer) } catch {
                // Cannot happen with the format this module uses; keep the old builder's state rather than crash.
                fresh = state.builder
            }
            fresh.consume(seed)
            var old = state.builder
            state.builder = fresh
            state.start = Date()
            state.startInstant = now
            let profile = old.finish()
            var window = Window(
                start: started, duration: duration, samples: profile.stats.samples,
                lostRecords: profile.stats.lostRecords, samplesByStatus: profile.stats.samplesByStatus,
                processes: profile.stats.processes, outputs: [:], renderErrors: [])
            let metadata = ProfileMetadata(
                event: state.event, frequency: settings.frequency,
                startNanos: Int64(started.timeIntervalSince1970 * 1e9), durationNanos: duration.nanoseconds)
            let parts: [(Int32?, RawProfile)] =
                perProcess ? ProfileSplit.byProcess(profile).map { ($0.key.rawValue, $0.value) } : [(nil, profile)]
            for (pid, part) in parts {
                for format in settings.formats {
                    do {
                        window.outputs[pid, default: [:]][format] = try render(
                            part, format: format, metadata: metadata, state: &state)
                    } catch {
                        window.renderErrors.append("\(format.rawValue): \(error)")
                    }
                }
            }
            return window
        }
    }

    private func render(_ profile: RawProfile, format: WindowFormat, metadata: ProfileMetadata, state: inout State)
        throws(RenderError) -> [UInt8]
    {
        let options = RenderOptions(format: format.outputFormat)
        if let kernel = state.kernelSymbols {
            var namer = FrameNamer(
                symbolizer: KernelAwareSymbolizer(base: state.symbolizer, kernel: kernel), modules: profile.modules)
            return try ProfileRenderer.render(profile, namer: &namer, metadata: metadata, options: options)
        }
        var namer = FrameNamer(symbolizer: state.symbolizer, modules: profile.modules)
        return try ProfileRenderer.render(profile, namer: &namer, metadata: metadata, options: options)
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
