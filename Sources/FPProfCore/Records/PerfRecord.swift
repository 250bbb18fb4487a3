/// The kernel records fpprof consumes, decoded. Field names follow `perf_event.h` where they are not obvious.
public enum PerfRecord: Hashable, Sendable {
    case sample(Sample)
    case mmap2(Mmap2)
    case comm(Comm)
    case fork(TaskEvent)
    case exit(TaskEvent)
    case lost(Lost)
    /// A record type fpprof does not need (THROTTLE, SWITCH, ...), kept so callers can count it.
    case other(type: UInt32)
}

extension PerfRecord {
    /// When the record was written (`sample_id_all` time for side-band records), 0 when unknown. Rings are each
    /// in time order; this is what puts several rings' records in one order.
    public var time: UInt64 {
        switch self {
        case .sample(let s): s.time ?? 0
        case .mmap2(let m): m.sampleID.time ?? 0
        case .comm(let c): c.sampleID.time ?? 0
        case .fork(let t), .exit(let t): t.time
        case .lost(let l): l.sampleID.time ?? 0
        case .other: 0
        }
    }

    /// The process the record is about; nil for a sample without one, a loss or another record type.
    public var process: ProcessID? {
        switch self {
        case .sample(let s): s.pid
        case .mmap2(let m): m.pid
        case .comm(let c): c.pid
        case .fork(let t), .exit(let t): t.pid
        case .lost, .other: nil
        }
    }
}

/// `perf_event_header.type` values.
public enum RecordType {
    public static let mmap: UInt32 = 1
    public static let lost: UInt32 = 2
    public static let comm: UInt32 = 3
    public static let exit: UInt32 = 4
    public static let throttle: UInt32 = 5
    public static let unthrottle: UInt32 = 6
    public static let fork: UInt32 = 7
    public static let sample: UInt32 = 9
    public static let mmap2: UInt32 = 10
    public static let lostSamples: UInt32 = 13
}

/// `perf_event_header.misc` bits.
public enum RecordMisc {
    public static let cpumodeMask: UInt16 = 7
    public static let kernel: UInt16 = 1
    public static let user: UInt16 = 2
    public static let commExec: UInt16 = 1 << 13
    public static let mmapBuildID: UInt16 = 1 << 14
}

/// Where the sample's CPU was: the `misc & 7` cpumode.
public enum CPUMode: UInt16, Hashable, Sendable {
    case unknown = 0
    case kernel = 1
    case user = 2
    case hypervisor = 3
    case guestKernel = 4
    case guestUser = 5
}

/// The markers the kernel puts inside a callchain to say which context the following addresses belong to.
public enum CallchainContext {
    public static let hypervisor: UInt64 = UInt64(bitPattern: -32)
    public static let kernel: UInt64 = UInt64(bitPattern: -128)
    public static let user: UInt64 = UInt64(bitPattern: -512)
    public static let guest: UInt64 = UInt64(bitPattern: -2048)
    public static let max: UInt64 = UInt64(bitPattern: -4095)

    @inlinable public static func isMarker(_ word: UInt64) -> Bool { word >= max }

    /// The indices of the addresses that follow `context` (`user`, `kernel`, ...) in `chain`, up to the next
    /// marker; nil when the chain has no such part.
    public static func section(_ context: UInt64, of chain: WordWindow) -> Range<Int>? {
        var start: Int?
        for i in 0..<chain.count where isMarker(chain[i]) {
            if let start { return start..<i }
            if chain[i] == context { start = i + 1 }
        }
        return start.map { $0..<chain.count }
    }
}

/// Values from `sample_id_all` trailers and sample bodies that identify where a record came from.
public struct SampleID: Hashable, Sendable {
    public var pid: ProcessID?
    public var tid: ThreadID?
    public var time: UInt64?
    public var cpu: UInt32?
    public init(pid: ProcessID? = nil, tid: ThreadID? = nil, time: UInt64? = nil, cpu: UInt32? = nil) {
        self.pid = pid
        self.tid = tid
        self.time = time
        self.cpu = cpu
    }
}

/// One `PERF_RECORD_SAMPLE`. Optional fields are `nil` when the format did not ask for them.
public struct Sample: Hashable, Sendable {
    public var cpumode: CPUMode
    public var ip: VirtualAddress?
    public var pid: ProcessID?
    public var tid: ThreadID?
    public var time: UInt64?
    public var addr: UInt64?
    public var id: UInt64?
    public var streamID: UInt64?
    public var cpu: UInt32?
    public var period: UInt64?
    /// The kernel's callchain, with its `PERF_CONTEXT_*` markers kept in place.
    public var callchain: WordWindow?
    /// `perf_sample_regs_abi`: 0 means no user registers were captured (a kernel thread, say).
    public var userRegisterABI: UInt64
    /// One word per bit of `sample_regs_user`, in bit order.
    public var userRegisters: WordWindow?
    /// The bytes of the user stack that the kernel really copied (`dyn_size` of them), starting at the user SP.
    public var userStack: ArraySlice<UInt8>?

    public init(
        cpumode: CPUMode = .user, ip: VirtualAddress? = nil, pid: ProcessID? = nil, tid: ThreadID? = nil,
        time: UInt64? = nil, addr: UInt64? = nil, id: UInt64? = nil, streamID: UInt64? = nil, cpu: UInt32? = nil,
        period: UInt64? = nil, callchain: WordWindow? = nil, userRegisterABI: UInt64 = 0,
        userRegisters: WordWindow? = nil, userStack: ArraySlice<UInt8>? = nil
    ) {
        self.cpumode = cpumode
        self.ip = ip
        self.pid = pid
        self.tid = tid
        self.time = time
        self.addr = addr
        self.id = id
        self.streamID = streamID
        self.cpu = cpu
        self.period = period
        self.callchain = callchain
        self.userRegisterABI = userRegisterABI
        self.userRegisters = userRegisters
        self.userStack = userStack
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.cpumode == b.cpumode && a.ip == b.ip && a.pid == b.pid && a.tid == b.tid && a.time == b.time
            && a.addr == b.addr && a.id == b.id && a.streamID == b.streamID && a.cpu == b.cpu
            && a.period == b.period && a.callchain == b.callchain && a.userRegisterABI == b.userRegisterABI
            && a.userRegisters == b.userRegisters
            && a.userStack.map(Array.init) == b.userStack.map(Array.init)
    }

    public func hash(into h: inout Hasher) {
        h.combine(ip)
        h.combine(tid)
        h.combine(time)
    }

    /// The user registers by `perf_regs.h` number, given the mask they were sampled with.
    @inlinable public func userRegister(_ number: Int, mask: UInt64) -> UInt64? {
        guard let regs = userRegisters, userRegisterABI != 0, mask & (1 << UInt64(number)) != 0 else { return nil }
        let index = (mask & ((1 << UInt64(number)) - 1)).nonzeroBitCount
        return index < regs.count ? regs[index] : nil
    }
}

/// `PERF_RECORD_MMAP2`: a new mapping of a file (or anonymous memory) in a process.
public struct Mmap2: Hashable, Sendable {
    public var pid: ProcessID
    public var tid: ThreadID
    public var start: VirtualAddress
    public var length: UInt64
    public var pageOffset: FileOffset
    /// Present when the kernel filled the build-id variant of the record (Linux 5.12+, `attr.build_id`).
    public var buildID: BuildID?
    public var major: UInt32
    public var minor: UInt32
    public var inode: UInt64
    public var inodeGeneration: UInt64
    /// `PROT_*` bits; `PROT_EXEC` is 4.
    public var protection: UInt32
    public var flags: UInt32
    public var filename: String
    public var sampleID: SampleID

    public init(
        pid: ProcessID, tid: ThreadID, start: VirtualAddress, length: UInt64, pageOffset: FileOffset,
        buildID: BuildID? = nil, major: UInt32 = 0, minor: UInt32 = 0, inode: UInt64 = 0, inodeGeneration: UInt64 = 0,
        protection: UInt32, flags: UInt32 = 0, filename: String, sampleID: SampleID = SampleID()
    ) {
        self.pid = pid
        self.tid = tid
        self.start = start
        self.length = length
        self.pageOffset = pageOffset
        self.buildID = buildID
        self.major = major
        self.minor = minor
        self.inode = inode
        self.inodeGeneration = inodeGeneration
        self.protection = protection
        self.flags = flags
        self.filename = filename
        self.sampleID = sampleID
    }

    public var isExecutable: Bool { protection & 4 != 0 }
    public var end: VirtualAddress { VirtualAddress(start.rawValue &+ length) }
}

/// `PERF_RECORD_COMM`: a thread's name, set at exec (`isExec`) or by `prctl(PR_SET_NAME)`.
public struct Comm: Hashable, Sendable {
    public var pid: ProcessID
    public var tid: ThreadID
    public var name: String
    public var isExec: Bool
    public var sampleID: SampleID
    public init(pid: ProcessID, tid: ThreadID, name: String, isExec: Bool = false, sampleID: SampleID = SampleID()) {
        self.pid = pid
        self.tid = tid
        self.name = name
        self.isExec = isExec
        self.sampleID = sampleID
    }
}

/// `PERF_RECORD_FORK` and `PERF_RECORD_EXIT` share one layout.
public struct TaskEvent: Hashable, Sendable {
    public var pid: ProcessID
    public var parentPID: ProcessID
    public var tid: ThreadID
    public var parentTID: ThreadID
    public var time: UInt64
    public var sampleID: SampleID
    public init(
        pid: ProcessID, parentPID: ProcessID, tid: ThreadID, parentTID: ThreadID, time: UInt64,
        sampleID: SampleID = SampleID()
    ) {
        self.pid = pid
        self.parentPID = parentPID
        self.tid = tid
        self.parentTID = parentTID
        self.time = time
        self.sampleID = sampleID
    }
}

/// `PERF_RECORD_LOST`: the ring was full and this many records were dropped by the kernel.
public struct Lost: Hashable, Sendable {
    public var id: UInt64
    public var count: UInt64
    public var sampleID: SampleID
    public init(id: UInt64, count: UInt64, sampleID: SampleID = SampleID()) {
        self.id = id
        self.count = count
        self.sampleID = sampleID
    }
}
