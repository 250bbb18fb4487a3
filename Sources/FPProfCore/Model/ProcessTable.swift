/// Code the unwinder must know by address: where stacks end, and where they switch to another stack.
public struct SpecialCode: Hashable, Sendable {
    public var roots: [Range<FileOffset>]
    public var stackSwitches: [Range<FileOffset>]
    /// Signal restorers (glibc's `__restore_rt`): roots too, and entered by a return, not a call (the kernel
    /// pushes the restorer's first byte as the handler's return address), so a frame there is named at its return
    /// address itself, not one byte before it.
    public var signalReturns: [Range<FileOffset>]
    public init(
        roots: [Range<FileOffset>] = [], stackSwitches: [Range<FileOffset>] = [],
        signalReturns: [Range<FileOffset>] = []
    ) {
        self.roots = roots
        self.stackSwitches = stackSwitches
        self.signalReturns = signalReturns
    }
}

/// The live picture of every process seen in the records: its executable mappings and its threads' names. It is
/// built only from records (real or synthesized from /proc), so a recorded capture replays to the same state.
///
/// Bounded by the live processes and threads: EXIT records mark threads and processes as exited, and the owner
/// forgets them with `forgetExited()` once their samples are in a window (at a cut). Until then they stay: samples
/// from other CPUs' rings that precede the EXIT in time may still be applied. Every map here is keyed by a live (or
/// not yet forgotten) pid or tid, the module table holds the modules their mappings refer to (plus pinned ones such
/// as the kernel), and `codeRangeCache` one entry per such module.
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

    /// Root and stack-switch code per module index; an entry goes when its module is released.
    private var codeRangeCache: [Int: SpecialCode] = [:]
    /// Threads whose EXIT was applied, and processes whose main thread's was: forgotten at the next
    /// `forgetExited()`, unless a FORK brings the id back first (the kernel reused it).
    public private(set) var exitedThreads: Set<ThreadID> = []
    public private(set) var exitedProcesses: Set<ProcessID> = []
    /// Modules interned without a mapping (the kernel): never released.
    private var pinnedModules: Set<Int> = []

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
                    rootRanges: absolute(special.roots + special.signalReturns),
                    switchRanges: absolute(special.stackSwitches), signalReturnRanges: absolute(special.signalReturns)))
        case .comm(let c):
            if c.isExec && c.pid.rawValue == c.tid.rawValue {
                // A new image: the old mappings are gone; MMAP2 records for the new ones follow.
                maps[c.pid] = ProcessMap()
            }
            threadNames[c.tid] = c.name
            processOfThread[c.tid] = c.pid
        case .fork(let f):
            processOfThread[f.tid] = f.pid
            exitedThreads.remove(f.tid)
            if f.pid != f.parentPID {
                // A new process starts with a copy of its parent's address space and name. A pid that exited and
                // was not forgotten yet belonged to another process: none of its mappings carry over.
                if exitedProcesses.remove(f.pid) != nil { maps[f.pid] = nil }
                if let parentMap = maps[f.parentPID] { maps[f.pid] = parentMap }
            }
            if threadNames[f.tid] == nil, let name = threadNames[f.parentTID] {
                threadNames[f.tid] = name
            }
        case .exit(let e):
            // Mappings are kept after EXIT, until `forgetExited()`: samples from other CPUs' rings may still refer
            // to them.
            exitedThreads.insert(e.tid)
            if e.pid.rawValue == e.tid.rawValue { exitedProcesses.insert(e.pid) }
        case .lost, .sample, .other:
            return
        }
    }

    /// Interns a module that has no mapping of its own (the kernel); it is never released.
    public mutating func internModule(_ module: ModuleID) -> Int {
        let i = modules.intern(module)
        if i != ModuleTable.unmapped { pinnedModules.insert(i) }
        return i
    }

    /// Marks processes as exited, with all their threads, as their EXIT records would have: for processes found
    /// gone by other means (the kernel drops records when a ring is full, EXIT records with them).
    public mutating func markExited(_ pids: some Sequence<ProcessID>) {
        let pids = Set(pids)
        guard !pids.isEmpty else { return }
        exitedProcesses.formUnion(pids)
        for (tid, pid) in processOfThread where pids.contains(pid) { exitedThreads.insert(tid) }
        for pid in pids { exitedThreads.insert(ThreadID(pid.rawValue)) }
    }

    /// Processes the table holds mappings of whose exit it has not seen.
    public var processesNotExited: [ProcessID] { maps.keys.filter { !exitedProcesses.contains($0) } }

    /// What `forgetExited()` dropped.
    public struct Forgotten: Sendable, Equatable {
        /// Processes whose main thread and every known thread had exited.
        public var processes: [ProcessID] = []
        /// Exited threads (of those processes and of live ones).
        public var threads = 0
        /// Module indexes released: no remaining mapping refers to them. Caches keyed by packed frames must drop
        /// their entries; the indexes will name other modules.
        public var releasedModules: [Int] = []
        /// The JIT modules (anonymous memory) among them, whose names live in their process's perf map.
        public var releasedJITModules: [ModuleID] = []
    }

    /// Drops exited threads, and processes whose main thread exited and whose threads all did, with their
    /// mappings and names; then releases the modules no remaining mapping refers to. Call it when every sample
    /// applied so far is in a window that took its copy of `modules` (at a cut): their frames are named through
    /// that copy. A process whose main thread exited while other threads run stays until the last one exits.
    public mutating func forgetExited() -> Forgotten {
        var forgotten = Forgotten()
        guard !exitedThreads.isEmpty || !exitedProcesses.isEmpty else { return forgotten }
        var threadsLeft: [ProcessID: Int] = [:]
        for (tid, pid) in processOfThread where exitedProcesses.contains(pid) && !exitedThreads.contains(tid) {
            threadsLeft[pid, default: 0] += 1
        }
        var gone: Set<ProcessID> = []
        for pid in exitedProcesses where threadsLeft[pid] == nil {
            gone.insert(pid)
            maps[pid] = nil
        }
        for tid in exitedThreads {
            let pid = processOfThread[tid]
            // The main thread's name is the process's name: it stays while the process does.
            if tid.rawValue == pid?.rawValue, let pid, !gone.contains(pid) { continue }
            threadNames[tid] = nil
            processOfThread[tid] = nil
            threadsSeen.remove(tid)
            forgotten.threads += 1
        }
        exitedThreads = exitedThreads.filter { processOfThread[$0] != nil }
        exitedProcesses.subtract(gone)
        forgotten.processes = gone.sorted()
        var live = pinnedModules
        for map in maps.values {
            for b in map.bounds { live.insert(b.moduleIndex) }
        }
        let before = modules
        forgotten.releasedModules = modules.release(keeping: live)
        for i in forgotten.releasedModules {
            codeRangeCache[i] = nil
            if before.modules[i].isAnonymous { forgotten.releasedJITModules.append(before.modules[i]) }
        }
        return forgotten
    }

    /// What the table holds, for a daemon's metrics: each count is bounded by the live processes and threads
    /// (plus those exited since the last `forgetExited()`).
    public var counts: TrackedCounts {
        TrackedCounts(processes: maps.count, threads: processOfThread.count, modules: modules.liveCount)
    }

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

/// The size of the state a recording keeps between windows: what a long-running engine exports to show that it
/// follows the live processes and not every process ever seen.
public struct TrackedCounts: Sendable, Hashable {
    /// Processes with a map in the process table (live, or exited since the last cut).
    public var processes: Int
    /// Threads the table knows the process of.
    public var threads: Int
    /// Modules in the module table (not counting `unmapped`).
    public var modules: Int

    public init(processes: Int, threads: Int, modules: Int) {
        self.processes = processes
        self.threads = threads
        self.modules = modules
    }
}
