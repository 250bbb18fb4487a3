import FPProfCore
import FPProfSampler
import FPProfSymbols
import Foundation
import Logging

/// Everything that decides how a target is run; two equal specs mean a reload leaves the target alone.
struct TargetSpec: Sendable, Equatable {
    var target: TargetConfig
    var stateDirectory: String
    var window: Duration
    var symbolMemory: Int
}

/// One configured target, running: finds its processes (polling /proc every `discoveryInterval` for
/// `pid`/`exe`/`comm`; one per-CPU session for `cgroup`/`unit`/`all`), feeds their records into one windowed
/// recording, cuts a window every `window`, writes its files and applies retention.
///
/// Bounds: `sessions` holds one entry per live matched process; `ignored` holds pids seen not to be worth an
/// attach (covered by an attached ancestor's inherited events, or refused), pruned to the live pids each pass.
final class TargetRunner: Sendable {
    static let discoveryInterval: Duration = .seconds(1)

    let spec: TargetSpec
    private let logger: Logger
    private let counters: DaemonCounters
    private let recording: WindowedRecording
    private let control = Locked(Control())
    private let writer = WindowFileWriter()
    /// Where this target's blocking work runs (consuming batches, cutting and writing windows): a serial queue of
    /// its own, off Swift's cooperative pool, so that one target's long cut can neither starve the other targets'
    /// tasks nor hold a cooperative thread waiting on a lock.
    private let worker: DispatchQueue

    private struct Control {
        var stopRequested = false
        var sessions: [Int32: SamplingSession] = [:]
        var ignored: Set<Int32> = []
        /// The cgroup folder of a `cgroup`/`unit` target, or "" for `all`.
        var wideSession: SamplingSession?
    }

    var name: String { spec.target.name }
    private var folder: String { spec.stateDirectory + "/" + spec.target.name }

    init(spec: TargetSpec, logger: Logger, counters: DaemonCounters) throws(DaemonError) {
        self.spec = spec
        var logger = logger
        logger[metadataKey: "target"] = "\(spec.target.name)"
        self.logger = logger
        self.counters = counters
        worker = DispatchQueue(label: "fpprof.target.\(spec.target.name)")
        var symbols = ElfSymbolizer.Options()
        symbols.symbolMemoryLimit = spec.symbolMemory
        recording = try WindowedRecording(
            settings: .init(
                formats: spec.target.sampling.formats, kernel: spec.target.sampling.kernel, symbols: symbols,
                frequency: spec.target.sampling.frequency, unwind: spec.target.sampling.unwind,
                perGoroutine: spec.target.sampling.perGoroutine))
    }

    /// Opens what can be opened now: the per-CPU session of a wide target (an error here, such as a missing
    /// capability, stops the daemon at start), the sessions of the processes that already match, and the folder.
    func prepare() throws(DaemonError) {
        do { try writer.makeFolder(folder) } catch {
            throw DaemonError("cannot create \(folder): \(error)")
        }
        switch spec.target.match {
        case .all:
            try openWide(.all)
        case .cgroup(let path):
            guard let folder = CgroupV2.folder(of: path) else {
                throw DaemonError("cgroup \"\(path)\": no cgroup2 file system is mounted")
            }
            try openWide(.cgroup(folder))
        case .unit(let unit):
            guard let group = UnitCgroup.resolve(unit), let folder = CgroupV2.folder(of: group) else {
                throw DaemonError("unit \"\(unit)\": no cgroup of that name under the cgroup2 mount (is it running?)")
            }
            logger.info("unit resolved", metadata: ["unit": "\(unit)", "cgroup": "\(group)"])
            try openWide(.cgroup(folder))
        case .pid, .exe, .comm:
            _ = discover()
        }
    }

    private func openWide(_ target: SamplerTarget) throws(DaemonError) {
        let session: SamplingSession
        do {
            session = try SamplingSession(configuration: samplerConfiguration(executable: nil), target: target)
            try session.start()
        } catch {
            throw DaemonError(Self.explain(error))
        }
        recording.noteEvent(session.eventKind)
        recording.consume(session.initialRecords().bytes)
        control.withLock { $0.wideSession = session }
    }

    /// Samples until `requestStop()`; then writes the last (partial) window.
    func run() async {
        let firstStart = ContinuousClock.now
        await withDiscardingTaskGroup { group in
            let initial = control.withLock { c in Array(c.sessions.values) + (c.wideSession.map { [$0] } ?? []) }
            for session in initial { startConsumer(session, in: &group) }
            group.addTask { [self] in
                // Cuts fall on firstStart + k × window, so windows do not drift by the time a cut takes; a cut
                // that ran late past the next boundary (a stalled host) makes that window longer instead of
                // writing a burst of short ones.
                var windowStart = firstStart
                while await sleep(until: windowStart + spec.window) {
                    windowStart += spec.window
                    while windowStart + spec.window < .now { windowStart += spec.window }
                    await offload(on: worker) { self.writeWindow() }
                }
            }
            let polls = spec.target.match.isProcessBased
            while await sleep(until: .now + Self.discoveryInterval) {
                guard polls else { continue }
                for session in await offload(on: .global(), { self.discover() }) {
                    startConsumer(session, in: &group)
                }
            }
            let sessions = control.withLock { c in Array(c.sessions.values) + (c.wideSession.map { [$0] } ?? []) }
            for session in sessions { session.stop() }
        }
        await offload(on: worker) { self.writeWindow(final: true) }
        logger.info("target stopped")
    }

    /// Runs blocking work on `queue` and waits for it without holding a cooperative thread.
    private func offload<T: Sendable>(on queue: DispatchQueue, _ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }

    func requestStop() {
        control.withLock { $0.stopRequested = true }
    }

    private var stopRequested: Bool { control.withLock { $0.stopRequested } }

    /// Sleeps until `deadline` in steps of at most 100 ms; false once a stop is requested.
    private func sleep(until deadline: ContinuousClock.Instant) async -> Bool {
        while ContinuousClock.now < deadline {
            if stopRequested { return false }
            let step = min(deadline - .now, .milliseconds(100))
            try? await Task.sleep(for: step)
        }
        return !stopRequested
    }

    private func startConsumer(_ session: SamplingSession, in group: inout DiscardingTaskGroup) {
        let batches: AsyncStream<RecordBatch>
        do { batches = try session.records() } catch {
            logger.error("cannot start a reader", metadata: ["error": "\(error)"])
            return
        }
        group.addTask { [self] in
            for await batch in batches {
                await offload(on: worker) { self.recording.consume(batch.bytes) }
            }
            let stats = session.stats
            counters.activity.batchesDropped(name, stats.batchesDropped)
            if stats.batchesDropped > 0 {
                logger.warning(
                    "batches dropped by a slow consumer", metadata: ["batches": "\(stats.batchesDropped)"])
            }
            let pid = session.targetPID.rawValue
            control.withLock { _ = $0.sessions.removeValue(forKey: pid) }
        }
    }

    /// Attaches to every matching process not yet sampled; returns the new sessions (their readers not started).
    /// Blocking (it reads /proc): run off the cooperative pool.
    private func discover() -> [SamplingSession] {
        let processes = ProcessScanner.scan()
        let live = Set(processes.map(\.pid))
        let parents = Dictionary(processes.map { ($0.pid, $0.parent) }, uniquingKeysWith: { a, _ in a })
        let own = getpid()
        let (attached, ignored) = control.withLock { c -> (Set<Int32>, Set<Int32>) in
            c.ignored.formIntersection(live)
            return (Set(c.sessions.keys), c.ignored)
        }
        var fresh: [SamplingSession] = []
        for process in processes where process.pid != own && !attached.contains(process.pid) {
            guard !ignored.contains(process.pid), ProcessMatcher.matches(spec.target.match, process) else { continue }
            // A process forked by one we sample already runs under the events it inherited: a session of its
            // own would count its samples twice.
            if Self.hasAncestor(process.pid, in: attached, parents: parents) {
                control.withLock { _ = $0.ignored.insert(process.pid) }
                continue
            }
            do {
                let configuration = samplerConfiguration(executable: "/proc/\(process.pid)/exe")
                let session = try SamplingSession(configuration: configuration, target: .pid(ProcessID(process.pid)))
                try session.start()
                recording.noteEvent(session.eventKind)
                recording.consume(session.initialRecords().bytes)
                control.withLock { $0.sessions[process.pid] = session }
                fresh.append(session)
                logger.info(
                    "process attached", metadata: ["pid": "\(process.pid)", "comm": "\(process.comm)"])
            } catch {
                control.withLock { _ = $0.ignored.insert(process.pid) }
                if error.code != .noSuchProcess {
                    logger.error(
                        "cannot sample process",
                        metadata: ["pid": "\(process.pid)", "error": "\(Self.explain(error))"])
                }
            }
        }
        return fresh
    }

    static func hasAncestor(_ pid: Int32, in set: Set<Int32>, parents: [Int32: Int32]) -> Bool {
        var current = parents[pid]
        var steps = 0
        while let p = current, p > 1, steps < 64 {
            if set.contains(p) { return true }
            current = parents[p]
            steps += 1
        }
        return false
    }

    private func samplerConfiguration(executable: String?) -> SamplerConfiguration {
        spec.target.sampling.samplerConfiguration(executable: executable)
    }

    /// Cuts the window and writes its files, then applies retention. A failed write (a full disk) skips this
    /// window's file, is logged and counted; the next window tries again.
    /// `final`: the last window, cut after every session stopped.
    private func writeWindow(final: Bool = false) {
        let window = recording.cut(perProcess: spec.target.perProcess, final: final)
        for error in window.renderErrors {
            logger.error("cannot render the window", metadata: ["error": "\(error)"])
        }
        var files: [String] = []
        var failed = false
        for (pid, outputs) in window.outputs.sorted(by: { ($0.key ?? -1) < ($1.key ?? -1) }) {
            for format in spec.target.sampling.formats {
                guard let bytes = outputs[format] else { continue }
                let name = WindowName.file(start: window.start, format: format, pid: pid)
                do {
                    try writer.write(bytes, folder: folder, name: name)
                    files.append(name)
                } catch {
                    failed = true
                    counters.update(name) { $0.writeErrors += 1 }
                    logger.error(
                        error.isNoSpace ? "window skipped: disk full" : "window skipped: cannot write",
                        metadata: ["file": "\(folder)/\(name)", "error": "\(error)"])
                }
            }
        }
        counters.update(name) { c in
            c.samples += window.samples
            c.lostRecords += window.lostRecords
            c.ownSamples += window.ownSamples
            c.modulesForgotten = window.modulesForgotten
            c.processes = window.processes.count
            if failed { c.windowsSkipped += 1 } else { c.windowsWritten += 1 }
        }
        counters.activity.windowWritten(
            WindowRecord(
                target: name, start: window.start, duration: window.duration, samples: window.samples,
                lostRecords: window.lostRecords, samplesByStatus: window.samplesByStatus,
                processes: window.processes.map(\.rawValue).sorted(), files: files),
            pprof: window.outputs.compactMapValues { $0[.pprof] })
        let statuses = window.samplesByStatus.sorted { $0.key.rawValue < $1.key.rawValue }
            .map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        logger.info(
            failed ? "window partly written" : "window written",
            metadata: [
                "start": "\(WindowName.timestamp(window.start))", "samples": "\(window.samples)",
                "lost": "\(window.lostRecords)", "processes": "\(window.processes.count)",
                "files": "\(files.joined(separator: ","))", "unwind": "\(statuses)",
            ])
        let outcome = RetentionSweeper().sweep(folder: folder, retention: spec.target.retention)
        if !outcome.removed.isEmpty {
            counters.update(name) { $0.filesRemoved += outcome.removed.count }
            logger.info(
                "retention removed files",
                metadata: ["count": "\(outcome.removed.count)", "bytes": "\(outcome.bytesFreed)"])
        }
        for error in outcome.errors {
            counters.update(name) { $0.retentionErrors += 1 }
            logger.error("retention failed", metadata: ["error": "\(error)"])
        }
        HeapTrim.afterPeak()
    }

    /// A sampler error, with the capability the service needs named where it is one.
    static func explain(_ error: SamplerError) -> String {
        if error.code == .permissionDenied {
            return error.description + " (the service needs CAP_PERFMON, and CAP_SYS_PTRACE for other users' processes)"
        }
        return error.description
    }
}

extension TargetMatch {
    /// Targets found by polling /proc, each process its own session (with `inherit`).
    var isProcessBased: Bool {
        switch self {
        case .pid, .exe, .comm: true
        case .cgroup, .unit, .all: false
        }
    }
}
