/// The pure pipeline from record bytes to a `RawProfile`: decode, keep the process table current, unwind each
/// sample over its own stack copy, normalize its frames and count the stack. One owner, no locks; the sampler
/// feeds it batches, a recorded capture feeds it the same bytes later.
///
/// This type walks samples and wires its parts, each in a file of its own: `OrderingBuffer` (time order across
/// the rings, read ahead), `InternedNames` (process and thread names), `CodeAnswers` (the symbolizer's answers
/// about code, cached), `StackAggregator` (counting by stack key) and `RepeatedWalks` (a thread's last walk).
public struct ProfileBuilder {
    public struct Options: Sendable {
        /// Split stacks by thread (adds a `name/tid` frame after the process name in folded output).
        public var perThread: Bool
        public var maxDepth: Int
        /// Put the kernel's part of the callchain below the user frames (the sampler must have asked for it).
        public var kernel: Bool
        /// Split Go stacks by goroutine (adds a `goroutine N` frame), with ids from `goroutineResolver`.
        public var perGoroutine: Bool
        /// A process whose records are dropped before they reach the table, its samples counted in
        /// `ProfileStats.excludedSamples`: the daemon's own, met by its per-CPU sessions. Its profile would make
        /// the symbolizer load the daemon's binary (the largest on most hosts) for nobody's benefit, and its
        /// cost is in the daemon's metrics anyway.
        public var excludedProcess: ProcessID?
        public init(
            perThread: Bool = false, maxDepth: Int = 2048, kernel: Bool = false, perGoroutine: Bool = false,
            excludedProcess: ProcessID? = nil
        ) {
            self.excludedProcess = excludedProcess
            self.perThread = perThread
            self.perGoroutine = perGoroutine
            self.maxDepth = maxDepth
            self.kernel = kernel
        }
    }

    public let decoder: RecordDecoder
    public let options: Options
    public private(set) var table: ProcessTable
    /// The window in progress: its stacks, names and statistics (the module table comes with a cut).
    public var profile: RawProfile {
        var p = RawProfile()
        p.stacks = stacks.stacks
        p.names = names.names
        p.stats = stats
        return p
    }
    private var stats = ProfileStats()
    private var stacks = StackAggregator()
    private var names = InternedNames()
    private var ordering = OrderingBuffer()
    private let unwinder: FramePointerUnwinder
    private var frames: [UInt64] = []
    private var scratch: [UInt64] = []
    private let bpIndex: Int
    private let spIndex: Int
    private let ipIndex: Int

    /// What the walk needs to know about code (entry-frame rules, stack switches, hidden callers): asked once per
    /// address, the answers cached by packed frame. Roots and switch ranges go to the process table, per module.
    private var answers: CodeAnswers

    /// The goroutine id of a sample, asked only with `Options.perGoroutine`: given the process, the module that
    /// holds the sampled IP, the `g` pointer (R14, which Go's ABIInternal code reserves for it), SP and the frame
    /// pointers the walk went through (past a g0 switch they lie on the goroutine's stack). It reads the live
    /// process, so only a recording can answer; it returns nil for code that is not Go, or when no goroutine's
    /// stack holds SP or the frames (C code, where R14 is anything; a signal handler). `underRunningGoroutine`
    /// says whether the walk passes a switch that keeps its goroutine running (`systemstack`, not `mcall`), so the
    /// sample worked for a goroutine even on g0 and g0's own id would be wrong for it: a closure, asked only for a
    /// g0 sample no goroutine claims, so that other samples do not classify every frame. A switch at frame 0 counts
    /// only if it makes g0 the running `g` (`StackSwitchTraits.runsCalleeOnG0`): with R14 on g0, a sample inside
    /// `systemstack` has switched for its goroutine, while one inside `nanotime1` was called on g0 (by sysmon).
    public var goroutineResolver:
        (
            (
                ProcessID, ModuleID, _ g: UInt64, _ sp: UInt64, _ framePointers: ArraySlice<UInt64>,
                _ underRunningGoroutine: () -> Bool
            ) -> Int64?
        )?

    private let r14Index: Int

    public init(
        format: RecordFormat, options: Options = Options(), code: any CodeKnowledge = NoCodeKnowledge()
    ) throws(RecordDecodeError) {
        decoder = try RecordDecoder(format: format)
        self.options = options
        answers = CodeAnswers(code: code)
        table = ProcessTable(codeRanges: { code.codeRanges(for: $0) })
        unwinder = FramePointerUnwinder(maxDepth: options.maxDepth)
        hybrid = HybridUnwinder(maxDepth: options.maxDepth)
        frames.reserveCapacity(256)
        scratch.reserveCapacity(256)
        let mask = format.userRegisterMask
        func index(_ reg: Int) -> Int { (mask & ((1 << UInt64(reg)) - 1)).nonzeroBitCount }
        bpIndex = mask & (1 << UInt64(X86Registers.bp)) != 0 ? index(X86Registers.bp) : -1
        spIndex = mask & (1 << UInt64(X86Registers.sp)) != 0 ? index(X86Registers.sp) : -1
        ipIndex = mask & (1 << UInt64(X86Registers.ip)) != 0 ? index(X86Registers.ip) : -1
        r14Index = mask & (1 << UInt64(X86Registers.r14)) != 0 ? index(X86Registers.r14) : -1
    }

    /// Consumes a buffer of whole records (one drain of every ring). Records are applied in time order, up to the
    /// latest time of the previous batch (see `OrderingBuffer`); the rest wait for the next batch or `flush()`.
    public mutating func consume(_ bytes: [UInt8]) { consume(bytes[...]) }

    public mutating func consume(_ bytes: ArraySlice<UInt8>) {
        stats.decodeErrors += ordering.decode(bytes, with: decoder, prefetch: prefetch)
        apply(upTo: ordering.endBatch())
    }

    /// Starts loading `bytes[range]` into the cache without waiting (a prefetch, which Swift cannot spell: the
    /// sampler's edge module has one). Given, the stack records a sample's walk will compare are asked for a few
    /// records before its turn. A deep stack's records span several pages of a copy nobody has read since the
    /// kernel wrote it; the hardware prefetcher stops at each page, so comparing them waited on memory stretch by
    /// stretch, half the time of a 300-frame sample. Plain loads ahead measured little better: each one waits.
    public var prefetch: ((ArraySlice<UInt8>, Range<Int>) -> Void)?
    /// How many records ahead `prefetch` is asked: a sample's work covers the latency of one.
    private static let prefetchAheadRecords = 2

    /// Applies every record still waiting and returns the profile with the module table its frames refer to.
    public mutating func finish() -> RawProfile {
        flush()
        return cutWindow()
    }

    /// Applies every record still waiting for time ordering: when no record can come any more (the recording
    /// ended, the capture was read to its end).
    public mutating func flush() {
        apply(upTo: .max)
    }

    /// The profile of the samples applied since the previous cut, with the module table and names its frames and
    /// keys refer to; the builder starts a new window with its process table, interned names and caches kept.
    /// Records still waiting for time ordering are not applied: their samples belong to the next window.
    ///
    /// Then the state is trimmed to what the next windows can need (see `forgetExited`): processes and threads
    /// that exited are forgotten, their modules released, and the caches that refer to either lose those entries.
    /// The profile returned keeps its own copy of the module table and names, so its frames stay named.
    public mutating func cutWindow() -> RawProfile {
        var p = RawProfile()
        p.stacks = stacks.cut()
        p.names = names.names
        p.stats = stats
        p.stats.samplesByStatus = statusCountsByStatus
        p.modules = table.modules
        stats = ProfileStats()
        for i in statusCounts.indices { statusCounts[i] = 0 }
        // The next sample of any thread enters the new window's thread and process sets.
        lastThread = ThreadID(-1)
        forgetExited()
        return p
    }

    /// What the latest cut forgot, once that window's samples were taken out: a front end keeps the perf maps of
    /// `releasedJITModules` until that window is rendered, then lets its symbolizer drop them.
    public private(set) var forgotten = ProcessTable.Forgotten()

    private mutating func forgetExited() {
        forgotten = table.forgetExited()
        names.startOverIfFull()
        guard !forgotten.processes.isEmpty || forgotten.threads > 0 || !forgotten.releasedModules.isEmpty else {
            return
        }
        names.forget(processes: forgotten.processes, keepingThreadsOf: table)
        lastMap = nil
        lastRules = nil
        verdicts.invalidate()
        walks.removeAll()
        guard !forgotten.releasedModules.isEmpty else { return }
        // The released indexes will name other modules: every answer keyed by one goes.
        let released = Set(forgotten.releasedModules)
        answers.release(modules: released)
        for i in released where i < rulesAsked.count {
            rulesAsked[i] = false
            rulesByModule[i] = nil
        }
    }

    /// Processes found gone without their EXIT record (lost with a full ring): forgotten at the next cut, as if
    /// their EXIT had been applied now. Samples of theirs still waiting for time ordering are applied before then.
    public mutating func markVanished(_ pids: [ProcessID]) {
        table.markExited(pids)
    }

    /// The size of the state kept between windows (processes, threads, modules), for a daemon's metrics.
    public var trackedCounts: TrackedCounts { table.counts }

    private var statusCountsByStatus: [UnwindStatus: Int] {
        var counts: [UnwindStatus: Int] = [:]
        for status in UnwindStatus.allCases where statusCounts[Int(status.rawValue)] > 0 {
            counts[status] = statusCounts[Int(status.rawValue)]
        }
        return counts
    }

    /// Applies the records `ordering` releases up to `limit`, each moved out of it (a copy would retain the three
    /// slices of the batch a sample holds, and release them again, for every sample).
    private mutating func apply(upTo limit: UInt64) {
        let cut = ordering.ready(upTo: limit)
        guard cut > 0 else { return }
        let prefetch = self.prefetch
        for i in 0..<cut {
            if let prefetch, i &+ Self.prefetchAheadRecords < cut,
                let (tid, stack) = ordering.sampledStack(at: i &+ Self.prefetchAheadRecords)
            {
                if tid == lastCFIWalk.tid {
                    // A thread walked by CFI reads return addresses all the way up to its last frame.
                    prefetch(stack, 0..<min(lastCFIWalk.reach, stack.count))
                } else if let range = walks.comparedBytes(tid: tid), range.upperBound <= stack.count {
                    prefetch(stack, range)
                }
            }
            consume(ordering.take(i))
        }
        ordering.removeTaken(cut)
    }

    public mutating func consume(_ record: consuming PerfRecord) {
        if let excluded = options.excludedProcess, record.process == excluded {
            if case .sample = record { stats.excludedSamples &+= 1 }
            return
        }
        if case .sample = record {
            // Moved out, not copied: a copy retains and releases the sample's three slices.
            guard case .sample(let s) = consume record else { return }
            add(s)
            return
        }
        switch record {
        case .sample: return
        case .lost(let l):
            stats.lostRecords &+= l.count
            return
        case .comm(let c): names.renamed(pid: c.pid, tid: c.tid)
        case .fork(let f):
            names.forked(tid: f.tid)
            stats.tasksStarted &+= 1
        default: break
        }
        // Any other record may change the table: what was remembered about the processes in it goes.
        lastMap = nil
        lastRules = nil
        verdicts.invalidate()
        walks.removeAll()
        table.apply(record)
    }

    /// The map of the process sampled last: consecutive samples are mostly of one process, and this spares them
    /// a dictionary lookup. Dropped by every record that may change the table.
    private var lastMap: (pid: ProcessID, map: ProcessMap)?
    /// Each thread's last walk, reused while the thread stays in the same stack (see `RepeatedWalks`); dropped with
    /// `lastMap`.
    private var walks = RepeatedWalks()

    /// Each module's compiled CFI rules, by module index, for `--unwind hybrid`: nil (the default) walks by frame
    /// pointers alone. Asked once per module; the symbolizer keeps the rules by build-id.
    public var callFrameRules: ((ModuleID) -> CallFrameRules?)? {
        didSet { hybridMode = callFrameRules != nil }
    }
    private let hybrid: HybridUnwinder
    private var hybridFrames: [UInt64] = []
    /// Rules by module index (`nil` inside: the module has none), and whether the module was asked yet. As long as
    /// the module table (bounded by the live modules); a released index is reset to "not asked".
    private var rulesByModule: [CallFrameRules?] = []
    private var rulesAsked: [Bool] = []
    /// The rules view of the map sampled last; dropped with `lastMap`.
    private var lastRules: (pid: ProcessID, rules: MappedCallFrameRules)?
    /// `CallFrameCheck`'s conclusions by process and address (bounded: 4,096 entries), forgotten with `lastRules`.
    /// Asked before the rules: a walk whose every frame was judged before then stands without copying the rules out
    /// (a retain and release of each of their arrays, per sample).
    private var verdicts = CallFrameVerdicts()
    /// Whether `callFrameRules` is set: read per sample instead of the closure, which would be retained.
    private var hybridMode = false
    /// The thread of the last walk that used CFI, and the bytes of its stack copy that walk spanned: its next
    /// sample's copy is prefetched that far. The walk by CFI reads a return address per frame, scattered over the
    /// copy; on a capture of xz, 71 % of the walk's own time was waiting for those lines.
    private var lastCFIWalk = (tid: ThreadID(-1), reach: 0)

    private mutating func cfiRules(_ pid: ProcessID, _ map: ProcessMap) -> MappedCallFrameRules? {
        guard let callFrameRules else { return nil }
        if let last = lastRules, last.pid == pid { return last.rules }
        for (i, m) in map.mappings.enumerated() {
            let index = map.bounds[i].moduleIndex
            guard index >= 0 else { continue }
            if index >= rulesAsked.count {
                rulesAsked += repeatElement(false, count: index + 1 - rulesAsked.count)
                rulesByModule += repeatElement(nil, count: index + 1 - rulesByModule.count)
            }
            if !rulesAsked[index] {
                rulesAsked[index] = true
                rulesByModule[index] = callFrameRules(m.module)
            }
        }
        let rules = MappedCallFrameRules(map: map, byModule: rulesByModule)
        lastRules = (pid, rules)
        return rules
    }

    private var kernelModule: Int?
    private var lastThread = ThreadID(-1)
    /// Samples per `UnwindStatus.rawValue`: an array add instead of a dictionary update per sample.
    private var statusCounts = [Int](repeating: 0, count: UnwindStatus.allCases.count)

    /// The kernel frames of the callchain (after PERF_CONTEXT_KERNEL), leaf first, go before the user frames.
    private mutating func prependKernelFrames(_ chain: WordWindow) {
        guard let section = CallchainContext.section(CallchainContext.kernel, of: chain), !section.isEmpty else {
            return
        }
        // Callers at their call site, as for user frames.
        let kernelFrames = section.map { chain[$0] &- ($0 == section.lowerBound ? 0 : 1) }
        let module: Int
        if let k = kernelModule {
            module = k
        } else {
            module = table.internModule(ModuleID(path: ModuleTable.kernelPath))
            kernelModule = module
        }
        frames.insert(
            contentsOf: kernelFrames.map { ModuleTable.pack(module: module, offset: $0) }, at: 0)
    }

    private mutating func add(_ s: Sample) {
        guard let pid = s.pid, let tid = s.tid else {
            stats.decodeErrors += 1
            return
        }
        stats.samples += 1
        if tid != lastThread {
            // Consecutive samples are mostly of one thread: skip three set/dictionary updates for them.
            lastThread = tid
            stats.threads.insert(tid)
            stats.processes.insert(pid)
            table.noteSample(tid: tid, pid: pid)
        }
        if let t = s.time {
            if stats.firstTime == nil { stats.firstTime = t }
            stats.lastTime = max(stats.lastTime ?? t, t)
        }

        frames.removeAll(keepingCapacity: true)
        var status: UnwindStatus
        var recovered: Int? = nil
        var kernelOnly: Int? = nil
        var goroutine: Int64 = -1
        /// Where the goroutine is asked for once the frames are final (module of the IP, R14, SP).
        var goroutineQuery: (ModuleID, UInt64, UInt64)? = nil
        var reusedWalk = false
        var repeated = -1
        var sampledIP: UInt64 = 0
        var usedCFI = false
        var endsAtSampledRecord = false
        let map: ProcessMap
        if let cached = lastMap, cached.pid == pid {
            map = cached.map
        } else {
            map = table.maps[pid] ?? ProcessMap()
            lastMap = (pid, map)
        }
        if let regs = s.userRegisters, s.userRegisterABI != 0, bpIndex >= 0, spIndex >= 0, ipIndex >= 0,
            bpIndex < regs.count, spIndex < regs.count, ipIndex < regs.count
        {
            let sp = regs[spIndex]
            let ip = regs[ipIndex]
            let memory = StackCopy(base: sp, bytes: s.userStack ?? [])
            let entry = answers.entryFrame(ip, map)
            status = walks.unwind(
                unwinder, pid: pid, tid: tid, ip: ip, sp: sp, bp: regs[bpIndex], memory: memory, code: map,
                frames: &frames, scratch: &scratch, entry: entry, reused: &reusedWalk,
                normalizedOnly: fastRepeats && !options.perGoroutine && !map.hasStackSwitches)
            repeated = walks.normalizedHit
            sampledIP = ip
            if case .returnAddressAtSP(let k) = entry, frames.count > 1, memory.word(at: sp &+ UInt64(k)) == frames[1] {
                recovered = 1
            }
            if case .recordAtSP = entry { kernelOnly = 1 }
            if repeated < 0, hybridMode,
                !CallFrameCheck.stands(frames, status: status, judgedBy: verdicts, pid: pid),
                let rules = cfiRules(pid, map),
                CallFrameCheck.needsCFI(frames, status: status, rules: rules, verdicts: &verdicts, pid: pid)
            {
                // Adopted only when CFI found a frame: otherwise the frame-pointer walk stands, with what the
                // kernel-chain splice needs to know about it (Go's g0 switches, stacks deeper than the copy).
                let mask = decoder.format.userRegisterMask
                let outcome = hybrid.unwind(
                    ip: ip, sp: sp, bp: regs[bpIndex], memory: memory, code: map, rules: rules,
                    frames: &hybridFrames, entry: entry,
                    registers: { X86Registers.number(dwarf: $0).flatMap { s.userRegister($0, mask: mask) } })
                if outcome.usedCFI {
                    lastCFIWalk = (tid, Int(clamping: min(outcome.reach &+ 16, 1 << 20)))
                    swap(&frames, &hybridFrames)
                    status = outcome.status
                    usedCFI = true
                    endsAtSampledRecord = outcome.endsAtSampledRecord
                    recovered = nil
                    kernelOnly = nil
                }
                hybridFrames.removeAll(keepingCapacity: true)
            }
            if options.perGoroutine, goroutineResolver != nil, r14Index >= 0, r14Index < regs.count,
                let m = map.index(of: ip)
            {
                goroutineQuery = (map.mappings[m].module, regs[r14Index], sp)
            }
        } else {
            status = .truncated
        }
        // A truncated walk may be spliced with this sample's own kernel chain: its final frames are not the walk's.
        let walkedAlone = status != .truncated && !usedCFI
        if usedCFI {
            stats.samplesWithCFI += 1
        } else if tid == lastCFIWalk.tid {
            // The thread walks by frame records again: `RepeatedWalks` knows best what it will read.
            lastCFIWalk.tid = ThreadID(-1)
        }
        if status == .truncated, let chain = s.callchain {
            status =
                usedCFI
                ? KernelChainSplice.rejoin(
                    &frames, with: chain, code: map, endsAtSampledRecord: endsAtSampledRecord)
                : KernelChainSplice.extend(
                    &frames, status: status, with: chain, code: map, recovered: recovered, kernelOnly: kernelOnly)
        }
        if map.hasStackSwitches {
            // Moved out for the call: the answers' caches are mutated while the frames are.
            var walked: [UInt64] = []
            swap(&walked, &frames)
            status = StackSwitchRepair.repair(
                &walked, status: status, code: map,
                traits: { answers.switchTraits($0, map) },
                hiddenCaller: { answers.hiddenCaller(switchAt: $0, above: $1, callee: $2, map) })
            swap(&walked, &frames)
        }
        if let (module, g, sp) = goroutineQuery, let resolve = goroutineResolver {
            // Asked of the final frames: a `systemstack` may enter them only through the kernel-chain splice or
            // the switch repair above.
            let walked = frames
            goroutine =
                resolve(pid, module, g, sp, scratch[...]) {
                    guard map.hasStackSwitches else { return false }
                    for (i, frame) in walked.enumerated() where map.classify(frame) == .stackSwitch {
                        let traits = answers.switchTraits(frame, map)
                        if !traits.detaches && (i > 0 || traits.runsCalleeOnG0) { return true }
                    }
                    return false
                } ?? -1
        }
        statusCounts[Int(status.rawValue)] += 1
        if repeated >= 0 {
            addRepeated(
                slot: repeated, ip: sampledIP, pid: pid, tid: tid, status: status, period: s.period ?? 0, map: map,
                kernelChain: s.callchain)
            return
        }

        // Normalize in place: absolute address -> (module, file offset); callers at their call site.
        // Neighbouring frames are nearly always in one mapping: try the previous one before searching.
        // Written through a span: one uniqueness check for the array, not one per frame.
        // A walk that repeats the thread's last one (and was not spliced) has its callers normalized already: the
        // switch repair that follows a walk depends on nothing else.
        var last = map.bounds.first ?? .empty
        let normalizedCallers = reusedWalk && walkedAlone ? walks.normalized(tid: tid) : nil
        var out = frames.mutableSpan
        for i in out.indices {
            if i > 0, let normalizedCallers, normalizedCallers.count == out.count {
                out[i] = normalizedCallers[i]
                continue
            }
            out[i] = map.packed(map.lookupAddress(out[i], index: i, count: out.count), near: &last)
        }
        if !reusedWalk && walkedAlone { walks.noteNormalized(tid: tid, frames) }

        if options.kernel, let chain = s.callchain { prependKernelFrames(chain) }
        _ = count(pid: pid, tid: tid, status: status, goroutine: goroutine, walkedByCFI: usedCFI, period: s.period ?? 0)
    }

    /// Adds one sample of the stack in `frames` with these labels; returns where it was counted, unless the stack
    /// was new (see `StackAggregator`).
    private mutating func count(
        pid: ProcessID, tid: ThreadID, status: UnwindStatus, goroutine: Int64, walkedByCFI: Bool, period: UInt64
    ) -> [StackKey: StackWeight].Index? {
        let processName = names.process(pid, in: table)
        let thread = options.perThread ? (tid, names.thread(tid, of: pid, in: table)) : (ThreadID(0), Int32(-1))
        return stacks.count(
            &frames, pid: pid, tid: thread.0, processName: processName, threadName: thread.1, status: status,
            goroutine: goroutine, walkedByCFI: walkedByCFI, period: period)
    }

    /// Whether a walk reused from the thread's previous sample skips its raw frames and, when it lands on the same
    /// stack again, the stack key (see `addRepeated`). Off only in tests, which compare both ways.
    var fastRepeats = true

    /// The rest of `add` for a walk reused with `RepeatedWalks.normalizedHit` (not truncated, so never spliced; no
    /// stack-switch repair; no goroutine): its frames are frame 0, normalized here, and the callers normalized when
    /// the walk was first made, exactly what the general path would compute. A deep stack that repeats is then
    /// neither copied nor hashed nor compared: when the thread's previous sample of this walk had the same frame 0
    /// and labels and no stack was inserted since, it lands on the same dictionary entry.
    private mutating func addRepeated(
        slot: Int, ip: UInt64, pid: ProcessID, tid: ThreadID, status: UnwindStatus, period: UInt64,
        map: ProcessMap, kernelChain: WordWindow?
    ) {
        var first = map.bounds.first ?? .empty
        let frame0 = map.packed(ip, near: &first)
        let processName = names.process(pid, in: table)
        let threadName = options.perThread ? names.thread(tid, of: pid, in: table) : -1
        let memo = walks.counted(slot: slot)
        let memoizable = !(options.kernel && kernelChain != nil)
        if memoizable, memo.generation == stacks.generation, memo.frame0 == frame0, memo.pid == pid,
            memo.processName == processName, memo.threadName == threadName, let i = memo.index
        {
            stacks.countAgain(at: i, period: period)
            return
        }
        frames.removeAll(keepingCapacity: true)
        frames.append(frame0)
        let callers = walks.normalized(slot: slot)
        frames.append(contentsOf: callers[1...])
        if options.kernel, let chain = kernelChain { prependKernelFrames(chain) }
        // Only walks by frame records alone are reused.
        let i = count(pid: pid, tid: tid, status: status, goroutine: -1, walkedByCFI: false, period: period)
        if memoizable, let i {
            walks.setCounted(
                slot: slot,
                CountedStack(
                    generation: stacks.generation, index: i, frame0: frame0, pid: pid, processName: processName,
                    threadName: threadName))
        }
    }
}

/// Where `ProfileBuilder` last counted the stack of a reused walk (kept with the walk in `RepeatedWalks`): the
/// dictionary index, valid while no stack is inserted (`generation`), and what the key held besides the walk's
/// own callers and status.
struct CountedStack {
    /// 0: nothing counted yet.
    var generation: UInt64 = 0
    var index: [StackKey: StackWeight].Index?
    var frame0: UInt64 = 0
    var pid = ProcessID(0)
    var processName: Int32 = 0
    var threadName: Int32 = 0
}
