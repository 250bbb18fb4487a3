/// One distinct stack as aggregation sees it: who ran it, how its walk ended, and its frames as packed
/// (module, file offset) words, leaf first. Caller frames already point at their call site (`ret - 1`).
public struct StackKey: Hashable, Sendable {
    /// One `combine(bytes:)` over the frames instead of one hasher call per word: deep stacks are hashed once per
    /// sample, and this is most of that cost.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(pid)
        hasher.combine(tid)
        hasher.combine(status)
        hasher.combine(goroutine)
        frames.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    public var pid: ProcessID
    /// The thread, when the profile is split per thread; 0 otherwise.
    public var tid: ThreadID
    /// Interned process name (`comm` of the main thread) at the time of the sample.
    public var processName: Int32
    /// Interned thread name when split per thread, -1 otherwise.
    public var threadName: Int32
    public var status: UnwindStatus
    /// The Go goroutine id the sample ran, when the profile is split per goroutine and it could be read; -1
    /// otherwise (not Go code, a sample on a g0 or signal stack, a raw capture replayed without the process).
    public var goroutine: Int64
    public var frames: [UInt64]

    public init(
        pid: ProcessID, tid: ThreadID, processName: Int32, threadName: Int32, status: UnwindStatus, frames: [UInt64],
        goroutine: Int64 = -1
    ) {
        self.goroutine = goroutine
        self.pid = pid
        self.tid = tid
        self.processName = processName
        self.threadName = threadName
        self.status = status
        self.frames = frames
    }
}

/// How much of the profile one stack holds.
public struct StackWeight: Hashable, Sendable {
    public var samples: Int
    /// The sum of the samples' periods: nanoseconds for `cpu-clock`, cycles for `cycles`.
    public var period: UInt64
    public init(samples: Int = 0, period: UInt64 = 0) {
        self.samples = samples
        self.period = period
    }
}

/// What a recording saw besides stacks, for the summary and for exit codes.
public struct ProfileStats: Hashable, Sendable {
    public var samples = 0
    /// Records the kernel dropped because a ring was full (sum of LOST records).
    public var lostRecords: UInt64 = 0
    public var decodeErrors = 0
    public var samplesByStatus: [UnwindStatus: Int] = [:]
    public var threads: Set<ThreadID> = []
    public var processes: Set<ProcessID> = []
    public var firstTime: UInt64?
    public var lastTime: UInt64?
    public init() {}
}

/// An aggregated profile before symbolization: everything needed to write any output format later.
public struct RawProfile: Sendable {
    public var stacks: [StackKey: StackWeight] = [:]
    public var modules = ModuleTable()
    /// Interned names: process and thread names referenced by `StackKey`.
    public var names: [String] = []
    public var stats = ProfileStats()
    public init() {}
}
