/// One distinct stack as aggregation sees it: who ran it, how its walk ended, and its frames as packed
/// (module, file offset) words, leaf first. Caller frames already point at their call site (`ret - 1`).
public struct StackKey: Hashable, Sendable {
    /// The frames enter the hasher as one word, `framesDigest`: SipHash over every frame word was most of the cost
    /// of a deep stack (2.4 KB a sample for 300 frames), and the digest is about four times cheaper. Equal keys
    /// still hash equal; a digest collision costs a comparison, never a wrong count.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(pid)
        hasher.combine(tid)
        hasher.combine(status)
        hasher.combine(goroutine)
        hasher.combine(frames.count)
        hasher.combine(Self.framesDigest(frames))
    }

    /// A 64-bit digest of `words`: four independent multiply-rotate lanes (so the multiplies overlap), folded
    /// together at the end. Not a keyed hash; `Hasher` mixes it with its seed.
    @inlinable static func framesDigest(_ words: [UInt64]) -> UInt64 {
        let k: UInt64 = 0x9E37_79B9_7F4A_7C15
        var a: UInt64 = 0x243F_6A88_85A3_08D3
        var b: UInt64 = 0x1319_8A2E_0370_7344
        var c: UInt64 = 0xA409_3822_299F_31D0
        var d: UInt64 = 0x082E_FA98_EC4E_6C89
        @inline(__always) func step(_ h: UInt64, _ w: UInt64) -> UInt64 {
            let m = (h ^ w) &* k
            return m << 29 | m >> 35
        }
        let n = words.count
        var i = 0
        while i &+ 4 <= n {
            a = step(a, words[i])
            b = step(b, words[i &+ 1])
            c = step(c, words[i &+ 2])
            d = step(d, words[i &+ 3])
            i &+= 4
        }
        while i < n {
            a = step(a, words[i])
            i &+= 1
        }
        return step(step(step(a, b), c), d)
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
    /// Whether the walk needed call frame information for at least one frame (`--unwind hybrid`): such a stack is
    /// as whole as its status says, but it went through code that keeps no frame record. Not hashed (equal keys
    /// still hash equal): the same frames walked both ways are rare.
    public var walkedByCFI: Bool

    public init(
        pid: ProcessID, tid: ThreadID, processName: Int32, threadName: Int32, status: UnwindStatus, frames: [UInt64],
        goroutine: Int64 = -1, walkedByCFI: Bool = false
    ) {
        self.walkedByCFI = walkedByCFI
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
    /// Samples of `ProfileBuilder.Options.excludedProcess`, dropped.
    public var excludedSamples: UInt64 = 0
    public var samplesByStatus: [UnwindStatus: Int] = [:]
    /// Samples whose walk needed call frame information for at least one frame (`--unwind hybrid`); the rest were
    /// walked by frame pointers alone.
    public var samplesWithCFI = 0
    public var threads: Set<ThreadID> = []
    public var processes: Set<ProcessID> = []
    /// Threads and processes the targets created while recorded (FORK records): far more than `threads` means
    /// many lived too briefly to be sampled.
    public var tasksStarted = 0
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
