import FPProfCore
import Glibc

/// One profiling run against one target: the perf events and rings, the launched child if any, and the reader
/// thread. Create it (everything is opened, nothing counts yet), optionally take `initialRecords()`, call
/// `records()` and `start()`, consume batches until the stream ends: by itself when the target is gone, or after
/// `stop()`.
///
/// The session owns a child it launched until `start()` releases it: dropping an unstarted session kills that
/// child. A started child is the user's program and keeps running; the reader reaps it when it exits.
public final class SamplingSession: Sendable {
    /// The layout of every record in the batches: what the events were opened with.
    public let format: RecordFormat
    public let eventKind: EventKind
    /// The process sampled: the launched child, or the thread group of the pid given; 0 for `.all` and `.cgroup`,
    /// which sample whatever runs.
    public let targetPID: ProcessID
    public let configuration: SamplerConfiguration

    private let events: EventSet
    private let control: SessionControl
    private let counter = StatsCounter()
    private let watch: TargetWatch
    private let lifecycle = Locked(Lifecycle())

    private struct Lifecycle {
        /// Set for a launched child until `start()` releases (or deinit abandons) it.
        var heldChild: LaunchedChild?
        var started = false
        var readerStarted = false
    }

    /// Opens every event. For `.pid`, on every thread of the process on every online CPU; for `.launch`, forks the
    /// command held at a gate and opens the events on it with `enable_on_exec`.
    public init(configuration: SamplerConfiguration = SamplerConfiguration(), target: SamplerTarget)
        throws(SamplerError)
    {
        try configuration.validate(maxSampleRate: ProcFS.maxSampleRate(), pageSize: Sys.pageSize)
        let cpus = try ProcFS.onlineCPUs()
        let control = try SessionControl()
        switch target {
        case .pid(let requested):
            let pid: Int32
            let threads: [Int32]
            do {
                pid = try ProcFS.threadGroupID(of: requested.rawValue)
                threads = try ProcFS.threads(of: pid)
            } catch let e {
                if e.rawValue == ENOENT || e.rawValue == ESRCH { throw .noSuchProcess(requested.rawValue) }
                throw .call("read /proc/\(requested.rawValue)", e)
            }
            guard !threads.isEmpty else { throw .noSuchProcess(pid) }
            events = try EventSet.open(
                configuration: configuration, pid: pid, threads: threads, cpus: cpus, enableOnExec: false)
            watch = .process(pid: pid)
            targetPID = ProcessID(pid)
        case .launch(let arguments):
            let child = try TargetLauncher.spawn(arguments)
            do {
                events = try EventSet.open(
                    configuration: configuration, pid: child.pid, threads: [child.pid], cpus: cpus, enableOnExec: true)
            } catch let e {
                TargetLauncher.abandon(child)
                throw e
            }
            lifecycle.withLock { $0.heldChild = child }
            watch = .child(pid: child.pid)
            targetPID = ProcessID(child.pid)
        case .all, .cgroup:
            let scope: WideScope = if case .cgroup(let path) = target { .cgroup(path) } else { .all }
            events = try EventSet.openPerCPU(configuration: configuration, scope: scope, cpus: cpus)
            watch = .scope(scope)
            targetPID = ProcessID(0)
        }
        self.control = control
        self.configuration = configuration
        format = PerfEventAttributes.format
        eventKind = events.kind
    }

    deinit {
        control.requestStop()
        if let child = lifecycle.withLock({ $0.heldChild }) { TargetLauncher.abandon(child) }
    }

    /// COMM and MMAP2 records for the threads and executable mappings an attached process had before its events
    /// existed, in `format`. Call it after `start()`: a mapping made between opening and enabling the events
    /// reaches no ring, and one reported twice is harmless. A launched target has nothing before its exec, and the
    /// kernel reports the exec itself (COMM with the exec flag, MMAP2 of the image, the loader and the libraries),
    /// so its batch is empty.
    public func initialRecords() -> RecordBatch {
        currentProcessRecords(time: Sys.monotonicNanoseconds())
    }

    /// Starts counting: enables the events of an attached process, or lets a launched child exec (its events enable
    /// themselves at the exec). Throws if the exec fails. Calling it again does nothing.
    public func start() throws(SamplerError) {
        let (child, first) = lifecycle.withLock { state in
            let first = !state.started
            state.started = true
            let child = state.heldChild
            state.heldChild = nil
            return (child, first)
        }
        guard first else { return }
        if let child {
            try TargetLauncher.release(child)
        } else {
            try events.enable()
        }
    }

    /// The records, in batches, from the reader thread this call starts. The stream buffers up to
    /// `configuration.streamBatchLimit` batches and drops (and counts, in `stats`) newer ones beyond that, so a
    /// slow consumer never holds back the rings. Call it once per session. Throws only if the thread cannot be
    /// created.
    public func records() throws(SamplerError) -> AsyncStream<RecordBatch> {
        let first = lifecycle.withLock { state in
            defer { state.readerStarted = true }
            return !state.readerStarted
        }
        precondition(first, "SamplingSession.records() may be called once per session")
        let (stream, continuation) = AsyncStream.makeStream(
            of: RecordBatch.self, bufferingPolicy: .bufferingOldest(configuration.streamBatchLimit))
        let control = self.control
        continuation.onTermination = { _ in control.requestStop() }
        let reader = ReaderThread(
            events: events, control: control, stats: counter, watch: watch, continuation: continuation)
        do { try reader.start() } catch {
            continuation.finish()
            throw error
        }
        return stream
    }

    /// Stops counting and asks the reader to drain the rings once more and end the stream.
    public func stop() {
        events.disable()
        control.requestStop()
    }

    /// Ends a launched command that is still running (SIGTERM, SIGKILL two seconds later) and reaps it: for a
    /// recording stopped before its command exited. Does nothing for an attached process or a command that ended.
    public func endLaunchedChild() {
        guard case .child(let pid) = watch, control.childExit == nil else { return }
        TargetLauncher.end(pid)
    }

    /// What the reader has seen so far.
    public var stats: SamplerStats { counter.snapshot }

    /// What the reader watches, for `currentProcessRecords`.
    var watchedScope: TargetWatch { watch }

    /// How a launched child ended, once the reader has reaped it; nil while it runs, and for attached processes.
    public var childExitStatus: ChildExitStatus? { control.childExit }
}
