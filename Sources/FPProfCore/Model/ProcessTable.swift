/// Code the unwinder must know by address: where stacks end, and where they switch to another stack.
public struct SpecialCode: Hashable, Sendable {
    public var roots: [Range<FileOffset>]
    public var stackSwitches: [Range<FileOffset>]
    public init(roots: [Range<FileOffset>] = [], stackSwitches: [Range<FileOffset>] = []) {
        self.roots = roots
        self.stackSwitches = stackSwitches
    }
}

/// The live picture of every process seen in the records: its executable mappings and its threads' names. It is
/// built only from records (real or synthesized from /proc), so a recorded capture replays to the same state.
public struct ProcessTable {
    public private(set) var maps: [ProcessID: ProcessMap] = [:]
    public private(set) var threadNames: [ThreadID: String] = [:]
    public private(set) var processOfThread: [ThreadID: ProcessID] = [:]
    public private(set) var modules = ModuleTable()
    public private(set) var threadsSeen: Set<ThreadID> = []

    /// Supplies a module's root and stack-switch code when its first mapping appears; nil means none is known.
    public var codeRanges: ((ModuleID) -> SpecialCode)?

    public init(codeRanges: ((ModuleID) -> SpecialCode)? = nil) {
        self.codeRanges = codeRanges
    }

    /// Only root frames known: for callers whose symbolizer knows no stack switches.
    public init(rootRanges: @escaping (ModuleID) -> [Range<FileOffset>]) {
        self.codeRanges = { SpecialCode(roots: rootRanges($0)) }
    }

    private var codeRangeCache: [Int: SpecialCode] = [:]

    public mutating func apply(_ record: PerfRecord) {
        switch record {
        case .mmap2(let m):
            guard m.isExecutable, m.length > 0 else { return }
            // Anonymous code (a JIT's) is normalized to its own address: a JIT names it by address in
            // /tmp/perf-PID.map. The kernel's MMAP2 gives such a mapping its start as page offset, but
            // /proc/PID/maps gives 0 (and a name set with PR_SET_VMA_ANON_NAME as its path): both made alike here.
            let anonymous = m.filename == ModuleID.anonymousPath || m.filename.hasPrefix("[anon:")
            let module =
                anonymous
                ? ModuleID(path: ModuleID.anonymousPath, pidHint: m.pid)
                : ModuleID(path: m.filename, buildID: m.buildID, pidHint: m.pid)
            let pageOffset = anonymous ? FileOffset(m.start.rawValue) : m.pageOffset
            let index = modules.intern(module)
            let special: SpecialCode
            if index == ModuleTable.unmapped {
                special = SpecialCode()  // refused by a full module table: nothing of it is known
            } else if let cached = codeRangeCache[index] {
                special = cached
            } else {
                special = codeRanges?(module) ?? SpecialCode()
                codeRangeCache[index] = special
            }
            let lo = pageOffset.rawValue
            let hi = lo &+ m.length
            func absolute(_ fileRanges: [Range<FileOffset>]) -> [Range<UInt64>] {
                fileRanges.compactMap { r in
                    let a = max(r.lowerBound.rawValue, lo)
                    let b = min(r.upperBound.rawValue, hi)
                    guard a < b else { return nil }
                    return (m.start.rawValue &+ (a - lo))..<(m.start.rawValue &+ (b - lo))
                }
            }
            maps[m.pid, default: ProcessMap()].insert(
                Mapping(
                    start: m.start, end: m.end, pageOffset: pageOffset, module: module, moduleIndex: index,
                    rootRanges: absolute(special.roots), switchRanges: absolute(special.stackSwitches)))
        case .comm(let c):
            if c.isExec && c.pid.rawValue == c.tid.rawValue {
                // A new image: the old mappings are gone; MMAP2 records for the new ones follow.
                maps[c.pid] = ProcessMap()
            }
            threadNames[c.tid] = c.name
            processOfThread[c.tid] = c.pid
        case .fork(let f):
            processOfThread[f.tid] = f.pid
            if f.pid != f.parentPID {
                // A new process starts with a copy of its parent's address space and name.
                if let parentMap = maps[f.parentPID] { maps[f.pid] = parentMap }
            }
            if threadNames[f.tid] == nil, let name = threadNames[f.parentTID] {
                threadNames[f.tid] = name
            }
        case .exit, .lost, .sample, .other:
            // Mappings are kept after EXIT: samples from other CPUs' rings may still refer to them.
            return
        }
    }

    /// Interns a module that has no mapping of its own (the kernel).
    public mutating func internModule(_ module: ModuleID) -> Int { modules.intern(module) }

    public mutating func noteSample(tid: ThreadID, pid: ProcessID) {
        threadsSeen.insert(tid)
        if processOfThread[tid] == nil { processOfThread[tid] = pid }
    }

    /// The process's name: the name of its main thread, as `comm` of the main thread reads.
    public func processName(_ pid: ProcessID) -> String {
        threadNames[ThreadID(pid.rawValue)] ?? "pid-\(pid.rawValue)"
    }

    public func threadName(_ tid: ThreadID) -> String? { threadNames[tid] }
}
