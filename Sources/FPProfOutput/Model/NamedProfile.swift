public import FPProfCore

/// A profile after symbolization, in the shape every writer here needs: distinct functions, distinct code
/// locations (one per sampled address, holding its inline chain) and the stacks over them. pprof wants the
/// function/location split, the flamegraph and speedscope only the names; folded text read back by `fpprof report`
/// fills the same model, so one set of writers serves live recordings, captures and folded input.
public struct NamedProfile: Sendable {
    /// Distinct functions, de-duplicated by name, file and kind.
    public var functions: [NamedFunction] = []
    /// Distinct code locations, de-duplicated by module and address (or, for folded input, by their lines).
    public var locations: [NamedLocation] = []
    public var stacks: [NamedStack] = []
    /// The modules locations refer to, by index; index 0 is the "[unknown]" placeholder of `ModuleTable`.
    public var modules: [ModuleID] = []
    public var metadata = ProfileMetadata()

    public init() {}

    public var totalSamples: Int { stacks.reduce(0) { $0 + $1.samples } }
    public var totalPeriod: UInt64 { stacks.reduce(0) { $0 &+ $1.period } }
}

/// What a frame is, as far as colouring and labelling care.
public enum FrameKind: UInt8, Hashable, Sendable {
    /// Code with a name from a symbol table or from folded text.
    case code
    /// Kernel code (`[kernel.kallsyms]`, or a folded frame ending in `_[k]`).
    case kernel
    /// An address no symbol covers, written `module+0xOFFSET`.
    case unknown
}

public struct NamedFunction: Hashable, Sendable {
    public var name: String
    public var file: String?
    public var kind: FrameKind

    public init(name: String, file: String? = nil, kind: FrameKind = .code) {
        self.name = name
        self.file = file
        self.kind = kind
    }
}

/// One sampled address and the functions active there: the real function first, then each inlined call,
/// innermost last (the order `SymbolFrame`s come in).
public struct NamedLocation: Hashable, Sendable {
    public var module: Int?
    /// The file offset in `module` (the packed frame's offset), or 0 when unknown.
    public var offset: UInt64
    public var lines: [LocationLine]

    public init(module: Int?, offset: UInt64, lines: [LocationLine]) {
        self.module = module
        self.offset = offset
        self.lines = lines
    }
}

public struct LocationLine: Hashable, Sendable {
    /// Index into `NamedProfile.functions`.
    public var function: Int
    public var line: Int?
    public var isInlined: Bool

    public init(function: Int, line: Int? = nil, isInlined: Bool = false) {
        self.function = function
        self.line = line
        self.isInlined = isInlined
    }
}

/// One distinct stack and its weight, with who ran it and how its walk ended.
public struct NamedStack: Sendable {
    /// The process name (`comm`), the first frame of folded output.
    public var process: String
    public var pid: Int32?
    /// The thread name, when the profile is split per thread.
    public var thread: String?
    public var tid: Int32?
    /// The Go goroutine id, when the profile is split per goroutine and the id was read.
    public var goroutine: Int64?
    /// Anything but `complete` puts a marker frame (`[fp-loop]`, ...) above the known frames.
    public var status: UnwindStatus
    /// The walk needed call frame information (code without frame records) for at least one frame.
    public var walkedByCFI: Bool
    /// Indices into `NamedProfile.locations`, root first.
    public var locations: [Int]
    public var samples: Int
    /// The sum of the samples' periods (nanoseconds for cpu-clock); 0 when unknown (folded input).
    public var period: UInt64

    public init(
        process: String, pid: Int32? = nil, thread: String? = nil, tid: Int32? = nil, goroutine: Int64? = nil,
        status: UnwindStatus = .complete, locations: [Int], samples: Int, period: UInt64 = 0,
        walkedByCFI: Bool = false
    ) {
        self.walkedByCFI = walkedByCFI
        self.process = process
        self.pid = pid
        self.thread = thread
        self.tid = tid
        self.goroutine = goroutine
        self.status = status
        self.locations = locations
        self.samples = samples
        self.period = period
    }
}

/// How the profile was taken: what pprof's header fields and comments, and the flamegraph's subtitle, say.
public struct ProfileMetadata: Sendable {
    /// The perf event (`cpu-clock`, `cycles`), nil for folded input.
    public var event: String?
    /// Samples per second per thread.
    public var frequency: Int?
    /// When the recording started, nanoseconds since the Unix epoch.
    public var startNanos: Int64?
    public var durationNanos: Int64?
    public var lostRecords: UInt64 = 0
    /// Free text added to pprof's comments (e.g. the unwind summary).
    public var comments: [String] = []

    public init(event: String? = nil, frequency: Int? = nil, startNanos: Int64? = nil, durationNanos: Int64? = nil) {
        self.event = event
        self.frequency = frequency
        self.startNanos = startNanos
        self.durationNanos = durationNanos
    }

    /// Whether the event counts time, so that the periods are nanoseconds of CPU.
    public var periodIsNanoseconds: Bool {
        guard let event else { return false }
        return event == "cpu-clock" || event == "task-clock"
    }
}
