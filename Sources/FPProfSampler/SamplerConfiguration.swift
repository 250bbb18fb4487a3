import FPProfCore

/// The event the user asks for. `.auto` exists because most virtual machines have no hardware PMU: it takes CPU
/// cycles where they can be counted and falls back to the kernel's cpu-clock timer where they cannot.
public enum EventChoice: String, Sendable, CaseIterable {
    case auto
    case cycles
    case cpuClock = "cpu-clock"
}

/// The event a session really opened, so reports can say what their counts mean.
public enum EventKind: String, Sendable {
    case cycles
    case cpuClock = "cpu-clock"
}

/// How to sample. Validated before anything is opened, so a bad value fails with a message instead of an EINVAL.
public struct SamplerConfiguration: Hashable, Sendable {
    /// Samples per second per thread (`attr.sample_freq`). Odd defaults like 99 avoid lock-step with periodic work.
    public var frequency: Int
    /// Bytes of user stack copied with each sample (`sample_stack_user`): a multiple of 8 below 65536, or 0. Larger
    /// copies let the unwinder walk deeper, at the cost of ring space and copy time in the kernel.
    public var stackSize: Int
    public var event: EventChoice
    /// Whether samples also carry the kernel part of the callchain (`exclude_callchain_kernel = !this`).
    public var includeKernelCallchain: Bool
    /// Whether samples also carry the kernel's walk of the user frame pointers (`exclude_callchain_user = !this`).
    /// fpprof unwinds the user stack itself from the stack copy; the kernel's chain only lets a walk go on where
    /// the copy ends (Go's g0 -> goroutine switch, stacks deeper than the copy). The kernel walks up to 127
    /// records of the target's memory in every sampling interrupt to make it, a cost the target pays, so
    /// `fpprof record` asks for it only for Go programs unless told otherwise.
    public var includeUserCallchain: Bool
    /// Data pages per CPU ring, a power of two. The ring must hold several full samples, or the kernel drops them.
    public var ringPages: Int
    /// Batches the record stream holds for a slow consumer before it drops new ones (and counts them).
    public var streamBufferLimit: Int
    /// Whether the reader is woken for every record instead of when a quarter of a ring is full. A sample is
    /// processed only once the batch after it has come (time ordering), so with quarter-ring wakeups it waits tens
    /// of milliseconds; what reads the live process for it (goroutine ids) then finds a thread that has moved on.
    /// Costs a wakeup of the reader per sample.
    public var wakeupEverySample = false

    public init(
        frequency: Int = 99, stackSize: Int = 16384, event: EventChoice = .auto, includeKernelCallchain: Bool = false,
        includeUserCallchain: Bool = true, ringPages: Int = 128, streamBufferLimit: Int = 256
    ) {
        self.frequency = frequency
        self.stackSize = stackSize
        self.event = event
        self.includeKernelCallchain = includeKernelCallchain
        self.includeUserCallchain = includeUserCallchain
        self.ringPages = ringPages
        self.streamBufferLimit = streamBufferLimit
    }

    /// The batches the record stream holds: `streamBufferLimit`, times the samples a quarter ring holds when the
    /// reader is woken for every sample, so that the bytes it may hold stay about the same (batches of one sample
    /// filled 256 of them in a quarter second at 4 kHz, while the consumer loaded a Go binary's symbols).
    var streamBatchLimit: Int {
        guard wakeupEverySample else { return streamBufferLimit }
        let perQuarterRing = ringPages * Sys.pageSize / 4 / (stackSize + Self.sampleOverhead)
        return streamBufferLimit * max(1, perQuarterRing)
    }

    /// Upper bound on the bytes one sample takes in the ring, besides the stack copy: header, fixed fields, 20
    /// registers and a full 127-entry callchain with its context markers.
    static let sampleOverhead = 8 + 8 * 6 + 8 + 8 * 130 + 8 + 8 * 20 + 16

    /// Checks every field. `maxSampleRate` and `pageSize` come from the running kernel.
    public func validate(maxSampleRate: Int? = nil, pageSize: Int = 4096) throws(SamplerError) {
        guard frequency > 0 else {
            throw .invalidConfiguration("frequency must be at least 1 Hz (got \(frequency))")
        }
        if let maxSampleRate, frequency > maxSampleRate {
            throw .invalidConfiguration(
                "frequency \(frequency) Hz is above the kernel's limit of \(maxSampleRate) Hz "
                    + "(/proc/sys/kernel/perf_event_max_sample_rate)")
        }
        guard stackSize >= 0, stackSize % 8 == 0, stackSize < 65536 else {
            throw .invalidConfiguration(
                "stack size must be a multiple of 8 between 0 and 65528 bytes (got \(stackSize))")
        }
        guard ringPages > 0, ringPages & (ringPages - 1) == 0, ringPages <= 1 << 16 else {
            throw .invalidConfiguration("ring pages must be a power of two between 1 and 65536 (got \(ringPages))")
        }
        let needed = 2 * (stackSize + Self.sampleOverhead)
        guard ringPages * pageSize >= needed else {
            throw .invalidConfiguration(
                "a ring of \(ringPages) pages (\(ringPages * pageSize) bytes) cannot hold two samples of "
                    + "\(stackSize + Self.sampleOverhead) bytes; raise ring pages or lower the stack size")
        }
        guard streamBufferLimit > 0 else {
            throw .invalidConfiguration("stream buffer limit must be at least 1 (got \(streamBufferLimit))")
        }
    }
}

/// What to sample.
public enum SamplerTarget: Hashable, Sendable {
    /// A running process: every thread it has now, and (through `inherit`) every thread and child created later.
    case pid(ProcessID)
    /// A command to start; argv[0] is looked up in PATH unless it holds a slash. It runs only once `start()` is
    /// called, so its first instruction is already sampled.
    case launch([String])
    /// Every process on the host: one event per CPU with no pid (`perf record -a`), so the file descriptors do not
    /// grow with the host's threads.
    case all
    /// The processes of a cgroup v2 group and its descendants, given as the absolute path of the group's folder: one
    /// cgroup-scoped event per CPU (`perf record -a -G`).
    case cgroup(String)
}

extension SamplerTarget {
    /// The executable file of the target, to look at before it is sampled: `/proc/PID/exe` of a running process,
    /// or the launched command's argv[0] resolved along PATH as exec will resolve it. Nil when it cannot be found.
    public var executablePath: String? {
        switch self {
        case .pid(let pid): "/proc/\(pid.rawValue)/exe"
        case .launch(let arguments):
            arguments.first.flatMap { TargetLauncher.resolve($0, searchPath: Sys.environment("PATH")) }
        case .all, .cgroup: nil
        }
    }
}

/// How a launched child ended, as waitpid reported it.
public enum ChildExitStatus: Hashable, Sendable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    public var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .signaled(let signal): "killed by signal \(signal)"
        }
    }
}
