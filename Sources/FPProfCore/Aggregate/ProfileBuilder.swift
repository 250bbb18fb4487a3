/// The pure pipeline from record bytes to a `RawProfile`: decode, keep the process table current, unwind each
/// sample over its own stack copy, normalize its frames and count the stack. One owner, no locks; the sampler
/// feeds it batches, a recorded capture feeds it the same bytes later.
public struct ProfileBuilder {
    public struct Options: Sendable {
        /// Split stacks by thread (adds a `name/tid` frame after the process name in folded output).
        public var perThread: Bool
        public var maxDepth: Int
        /// Put the kernel's part of the callchain below the user frames (the sampler must have asked for it).
        public var kernel: Bool
        /// Split Go stacks by goroutine (adds a `goroutine N` frame), with ids from `goroutineResolver`.
        public var perGoroutine: Bool
        public init(perThread: Bool = false, maxDepth: Int = 2048, kernel: Bool = false, perGoroutine: Bool = false) {
            self.perThread = perThread
            self.perGoroutine = perGoroutine
            self.maxDepth = maxDepth
            self.kernel = kernel
        }
    }

    public let decoder: RecordDecoder
    public let options: Options
    public private(set) var table: ProcessTable
    public private(set) var profile = RawProfile()
    private let unwinder: FramePointerUnwinder
    private var nameIndex: [String: Int32] = [:]
    private var frames: [UInt64] = []
    private var scratch: [UInt64] = []
    private var key: StackKey
    private let bpIndex: Int
    private let spIndex: Int
    private let ipIndex: Int

    /// What the walk needs to know about code (roots, stack switches, entry-frame rules, hidden callers): asked
    /// once per module or per address, the answers cached here by packed frame.
    private let code: any CodeKnowledge
    /// Answers by packed frame, bounded by `answerCacheLimit` (see there).
    private var entryCache: [UInt64: EntryFrame] = [:]

    /// The goroutine id of a sample, asked only with `Options.perGoroutine`: given the process, the module that
    /// holds the sampled IP, the `g` pointer (R14, which Go's ABIInternal code reserves for it), SP and the frame
    /// pointers the walk went through (past a g0 switch they lie on the goroutine's stack). It reads the live
    /// process, so only a recording can answer; it returns nil for code that is not Go, or when no goroutine's
    /// stack holds SP or the frames (C code, where R14 is anything; a signal handler).
    public var goroutineResolver:
        ((ProcessID, ModuleID, _ g: UInt64, _ sp: UInt64, _ framePointers: ArraySlice<UInt64>) -> Int64?)?

    private var switchTraitCache: [UInt64: StackSwitchTraits] = [:]
    private var hiddenCallerCache: [HiddenCallerQuestion: HiddenCaller<FileOffset>?] = [:]

    /// A `hiddenCaller` question by packed (module, offset) frames; `callee` is `.max` when there is none.
    private struct HiddenCallerQuestion: Hashable {
        var switchAt: UInt64
        var above: UInt64
        var callee: UInt64
    }
    private let r14Index: Int

    public init(
        format: RecordFormat, options: Options = Options(), code: any CodeKnowledge = NoCodeKnowledge()
    ) throws(RecordDecodeError) {
        decoder = try RecordDecoder(format: format)
        self.options = options
        self.code = code
        table = ProcessTable(codeRanges: { code.codeRanges(for: $0) })
        unwinder = FramePointerUnwinder(maxDepth: options.maxDepth)
        hybrid = HybridUnwinder(maxDepth: options.maxDepth)
        key = StackKey(
            pid: ProcessID(0), tid: ThreadID(0), processName: 0, threadName: -1, status: .complete, frames: [])
        frames.reserveCapacity(256)
        scratch.reserveCapacity(256)
        let mask = format.userRegisterMask
        func index(_ reg: Int) -> Int { (mask & ((1 << UInt64(reg)) - 1)).nonzeroBitCount }
        bpIndex = mask & (1 << UInt64(X86Registers.bp)) != 0 ? index(X86Registers.bp) : -1
        spIndex = mask & (1 << UInt64(X86Registers.sp)) != 0 ? index(X86Registers.sp) : -1
        ipIndex = mask & (1 << UInt64(X86Registers.ip)) != 0 ? index(X86Registers.ip) : -1
        r14Index = mask & (1 << UInt64(X86Registers.r14)) != 0 ? index(X86Registers.r14) : -1
    }

    /// Records decoded but not yet applied, waiting for the records of other CPUs' rings that may precede them.
    private var pending: [PerfRecord] = []
    /// The latest time seen up to the previous batch: everything at or before it is safe to apply now.
    private var watermark: UInt64 = 0
    private var latestSeen: UInt64 = 0

    /// Consumes a buffer of whole records (one drain of every ring). Each CPU's ring is in time order, but the rings
    /// are not in order with each other, and a sample must never be unwound against the mappings of before an
    /// `exec` or `mmap` on another CPU that preceded it. So records are applied in time order, up to the latest
    /// time of the previous batch (perf's "finished round"); the rest wait for the next batch or `finish()`.
    public mutating func consume(_ bytes: [UInt8]) { consume(bytes[...]) }

    public mutating func consume(_ bytes: ArraySlice<UInt8>) {
        // `RecordStream`'s loop, written out for the read ahead.
        var rest = bytes
        while !rest.isEmpty {
            guard case .success(let size) = RecordDecoder.recordSize(at: rest) else {
                profile.stats.decodeErrors += 1
                break
            }
            // Each sample's record (16 KiB of stack copy) starts on another page, so reading its header waits for
            // a TLB and a cache miss, and the next one's position depends on it: a chain of misses. Reading a byte
            // a few records ahead (where the next headers are when the records are of one size, as one process's
            // samples nearly always are) starts those misses early, beside this record's work: a prefetch in
            // plain Swift. Three lines 128 bytes apart (the header, then the callchain and registers): one line gained
            // less, five were slower. A wrong guess costs a few wasted reads. The bytes go into `readAhead` only
            // so that the reads are not optimized away. (Guessing from the last four sizes, for two interleaved
            // sizes, measured slower; eight records ahead the same as four.) With a real `prefetch`, the first 320
            // bytes there are asked for instead, without waiting.
            let ahead = rest.startIndex &+ size &* Self.readAheadRecords
            if let prefetch {
                let offset = ahead &- rest.startIndex
                if offset < rest.count { prefetch(rest, offset..<min(offset &+ 320, rest.count)) }
            } else if ahead &+ 256 < rest.endIndex {
                readAhead &+= rest[ahead] &+ rest[ahead &+ 128] &+ rest[ahead &+ 256]
            } else if ahead < rest.endIndex {
                readAhead &+= rest[ahead]
            }
            switch decoder.decode(rest) {
            case .success(let r):
                latestSeen = max(latestSeen, r.time)
                pending.append(r)
            case .failure: profile.stats.decodeErrors += 1
            }
            rest = rest.dropFirst(size)
        }
        apply(upTo: watermark)
        watermark = latestSeen
    }

    /// How far ahead `consume` reads (records of the current one's size), and the sink of what it reads.
    private static let readAheadRecords = 4
    private var readAhead: UInt8 = 0

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
        stacksGeneration &+= 1
        var p = profile
        p.stats.samplesByStatus = statusCountsByStatus
        p.modules = table.modules
        profile.stacks = [:]
        profile.stats = ProfileStats()
        for i in statusCounts.indices { statusCounts[i] = 0 }
        // The next sample of any thread enters the new window's thread and process sets.
        lastThread = ThreadID(-1)
        forgetExited()
        return p
    }

    /// What the latest cut forgot, once that window's samples were taken out: a front end keeps the perf maps of
    /// `releasedJITModules` until that window is rendered, then lets its symbolizer drop them.
    public private(set) var forgotten = ProcessTable.Forgotten()

    /// The interned names kept at most: past it, a cut starts the table over (a window's profile holds its own
    /// copy). Names are few per process (its name and its threads'), so only a long run of uniquely named
    /// processes or threads reaches it.
    static let nameLimit = 1 << 14
    /// The entries each symbol-answer cache (`entryCache`, `switchTraitCache`, `hiddenCallerCache`) keeps at most:
    /// one per distinct sampled address in live code, so full only for a long run over much code; past it the
    /// cache starts over. Entries of released modules go at the cut that releases them.
    static let answerCacheLimit = 1 << 16

    private mutating func forgetExited() {
        forgotten = table.forgetExited()
        if profile.names.count > Self.nameLimit {
            profile.names.removeAll()
            nameIndex.removeAll()
            processNames.removeAll()
            threadNames.removeAll()
        }
        guard !forgotten.processes.isEmpty || forgotten.threads > 0 || !forgotten.releasedModules.isEmpty else {
            return
        }
        for pid in forgotten.processes { processNames[pid] = nil }
        threadNames = threadNames.filter { table.processOfThread[$0.key] != nil }
        lastMap = nil
        lastRules = nil
        walks.removeAll()
        guard !forgotten.releasedModules.isEmpty else { return }
        // The released indexes will name other modules: every answer keyed by one goes.
        let released = Set(forgotten.releasedModules)
        func isReleased(_ frame: UInt64) -> Bool { released.contains(ModuleTable.unpack(frame).module) }
        entryCache = entryCache.filter { !isReleased($0.key) }
        switchTraitCache = switchTraitCache.filter { !isReleased($0.key) }
        hiddenCallerCache = hiddenCallerCache.filter {
            !isReleased($0.key.switchAt) && !isReleased($0.key.above)
                && ($0.key.callee == .max || !isReleased($0.key.callee))
        }
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

    private mutating func apply(upTo limit: UInt64) {
        guard !pending.isEmpty else { return }
        var sorted = true
        var last: UInt64 = 0
        for r in pending {
            let t = r.time
            if t < last {
                sorted = false
                break
            }
            last = t
        }
        if !sorted {
            // Ordered by the times alone, then the records moved into that order: sorting the records themselves
            // copied each one (retaining and releasing the slices a sample holds) several times. Stable: records
            // of one time keep their order.
            let times = pending.indices.map { pending[$0].time }
            let order = times.indices.sorted { a, b in
                let ta = times[a]
                let tb = times[b]
                return ta != tb ? ta < tb : a < b
            }
            var records: [PerfRecord] = []
            records.reserveCapacity(pending.count)
            for i in order {
                var r = PerfRecord.other(type: 0)
                swap(&r, &pending[i])
                records.append(r)
            }
            pending = records
        }
        var cut = pending.endIndex
        if limit != .max {
            cut = pending.firstIndex { $0.time > limit } ?? pending.endIndex
        }
        // Each record is moved out of the array for `consume`, leaving a placeholder that owns nothing: a copy
        // would retain the three slices of the batch a sample holds, and release them again, for every sample.
        let prefetch = self.prefetch
        for i in pending.startIndex..<cut {
            if let prefetch, i &+ Self.prefetchAheadRecords < cut,
                let (tid, stack) = pending[i &+ Self.prefetchAheadRecords].sampledStack,
                let range = walks.comparedBytes(tid: tid), range.upperBound <= stack.count
            {
                prefetch(stack, range)
            }
            var r = PerfRecord.other(type: 0)
            swap(&r, &pending[i])
            consume(r)
        }
        pending.removeFirst(cut)
    }

    public mutating func consume(_ record: PerfRecord) {
        switch record {
        case .sample(let s):
            add(s)
            return
        case .lost(let l):
            profile.stats.lostRecords &+= l.count
            return
        case .comm(let c):
            processNames[c.pid] = nil
            threadNames[c.tid] = nil
        case .fork(let f): threadNames[f.tid] = nil
        default: break
        }
        // Any other record may change the table: what was remembered about the processes in it goes.
        lastMap = nil
        lastRules = nil
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
    public var callFrameRules: ((ModuleID) -> CallFrameRules?)?
    private let hybrid: HybridUnwinder
    private var hybridFrames: [UInt64] = []
    /// Rules by module index (`nil` inside: the module has none), and whether the module was asked yet. As long as
    /// the module table (bounded by the live modules); a released index is reset to "not asked".
    private var rulesByModule: [CallFrameRules?] = []
    private var rulesAsked: [Bool] = []
    /// The rules view of the map sampled last; dropped with `lastMap`.
    private var lastRules: (pid: ProcessID, rules: MappedCallFrameRules)?

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

    private mutating func entryFrame(_ ip: UInt64, _ map: ProcessMap) -> EntryFrame {
        guard let at = locate(ip, map) else { return .framePointer }
        if let hit = entryCache[at.packed] { return hit }
        let rule = code.entryFrame(for: normalized(at, map))
        if entryCache.count >= Self.answerCacheLimit { entryCache.removeAll() }
        entryCache[at.packed] = rule
        return rule
    }

    private mutating func switchTraits(_ address: UInt64, _ map: ProcessMap) -> StackSwitchTraits {
        guard let at = locate(address, map) else { return StackSwitchTraits() }
        if let known = switchTraitCache[at.packed] { return known }
        let traits = code.stackSwitchTraits(at: normalized(at, map))
        if switchTraitCache.count >= Self.answerCacheLimit { switchTraitCache.removeAll() }
        switchTraitCache[at.packed] = traits
        return traits
    }

    private mutating func hiddenCaller(
        switchAt: UInt64, above: UInt64, callee: UInt64?, _ map: ProcessMap
    ) -> HiddenCaller<UInt64>? {
        guard let switchFrame = locate(switchAt, map), let aboveFrame = locate(above, map) else { return nil }
        let calleeFrame = callee.flatMap { locate($0, map) }
        let question = HiddenCallerQuestion(
            switchAt: switchFrame.packed, above: aboveFrame.packed, callee: calleeFrame?.packed ?? .max)
        let answer: HiddenCaller<FileOffset>?
        if let known = hiddenCallerCache[question] {
            answer = known
        } else {
            answer = code.hiddenCaller(
                switchAt: normalized(switchFrame, map), above: normalized(aboveFrame, map),
                callee: calleeFrame.map { normalized($0, map) })
            if hiddenCallerCache.count >= Self.answerCacheLimit { hiddenCallerCache.removeAll() }
            hiddenCallerCache[question] = answer
        }
        // Back to an address in the mapping of the frame above; a target outside it is not trusted.
        let bounds = map.bounds[aboveFrame.mapping]
        return answer?.map { entry in
            let absolute = entry.rawValue &+ bounds.fileBase
            return bounds.contains(absolute) ? absolute : nil
        }
    }

    /// An address a mapping holds: its packed frame word (the caches' key) and the mapping's index.
    private struct Located {
        var address: UInt64
        var packed: UInt64
        var mapping: Int
    }

    private func locate(_ address: UInt64, _ map: ProcessMap) -> Located? {
        guard let m = map.index(of: address) else { return nil }
        return Located(address: address, packed: map.bounds[m].packed(address), mapping: m)
    }

    /// The address as the symbolizer is asked about it. Built only when a cache misses: it copies the module's id.
    private func normalized(_ at: Located, _ map: ProcessMap) -> NormalizedAddress {
        let mapping = map.mappings[at.mapping]
        return NormalizedAddress(module: mapping.module, offset: mapping.fileOffset(of: at.address))
    }

    /// Interned names per pid and tid, so that a sample costs an integer lookup, not a string hash. A COMM record
    /// drops the entry it changes; a cut drops those of forgotten processes and threads, and all of them when the
    /// name table starts over (`nameLimit`).
    private var processNames: [ProcessID: Int32] = [:]
    private var threadNames: [ThreadID: Int32] = [:]

    private mutating func processNameIndex(_ pid: ProcessID) -> Int32 {
        if let i = processNames[pid] { return i }
        let i = intern(table.processName(pid))
        processNames[pid] = i
        return i
    }

    private mutating func threadNameIndex(_ tid: ThreadID, pid: ProcessID) -> Int32 {
        if let i = threadNames[tid] { return i }
        let i = intern(table.threadName(tid) ?? table.processName(pid))
        threadNames[tid] = i
        return i
    }

    private mutating func intern(_ name: String) -> Int32 {
        if let i = nameIndex[name] { return i }
        let i = Int32(profile.names.count)
        profile.names.append(name)
        nameIndex[name] = i
        return i
    }

    private mutating func add(_ s: Sample) {
        guard let pid = s.pid, let tid = s.tid else {
            profile.stats.decodeErrors += 1
            return
        }
        profile.stats.samples += 1
        if tid != lastThread {
            // Consecutive samples are mostly of one thread: skip three set/dictionary updates for them.
            lastThread = tid
            profile.stats.threads.insert(tid)
            profile.stats.processes.insert(pid)
            table.noteSample(tid: tid, pid: pid)
        }
        if let t = s.time {
            if profile.stats.firstTime == nil { profile.stats.firstTime = t }
            profile.stats.lastTime = max(profile.stats.lastTime ?? t, t)
        }

        frames.removeAll(keepingCapacity: true)
        var status: UnwindStatus
        var recovered: Int? = nil
        var kernelOnly: Int? = nil
        var goroutine: Int64 = -1
        var reusedWalk = false
        var repeated = -1
        var sampledIP: UInt64 = 0
        var usedCFI = false
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
            let entry = entryFrame(ip, map)
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
            if repeated < 0, let rules = cfiRules(pid, map),
                CallFrameCheck.needsCFI(frames, status: status, rules: rules)
            {
                // Adopted only when CFI found a frame: otherwise the frame-pointer walk stands, with what the
                // kernel-chain splice needs to know about it (Go's g0 switches, stacks deeper than the copy).
                let outcome = hybrid.unwind(
                    ip: ip, sp: sp, bp: regs[bpIndex], memory: memory, code: map, rules: rules,
                    frames: &hybridFrames, entry: entry)
                if outcome.usedCFI {
                    swap(&frames, &hybridFrames)
                    status = outcome.status
                    usedCFI = true
                    recovered = nil
                    kernelOnly = nil
                }
                hybridFrames.removeAll(keepingCapacity: true)
            }
            if options.perGoroutine, let resolve = goroutineResolver, r14Index >= 0, r14Index < regs.count,
                let m = map.index(of: ip)
            {
                goroutine = resolve(pid, map.mappings[m].module, regs[r14Index], sp, scratch[...]) ?? -1
            }
        } else {
            status = .truncated
        }
        // A truncated walk may be spliced with this sample's own kernel chain: its final frames are not the walk's.
        let walkedAlone = status != .truncated && !usedCFI
        if usedCFI { profile.stats.samplesWithCFI += 1 }
        if status == .truncated, let chain = s.callchain {
            status = KernelChainSplice.extend(
                &frames, status: status, with: chain, code: map, recovered: recovered, kernelOnly: kernelOnly)
        }
        if map.hasStackSwitches {
            // Moved out for the call: the answers' caches are mutated while the frames are.
            var walked: [UInt64] = []
            swap(&walked, &frames)
            status = StackSwitchRepair.repair(
                &walked, status: status, code: map,
                traits: { switchTraits($0, map) },
                hiddenCaller: { hiddenCaller(switchAt: $0, above: $1, callee: $2, map) })
            swap(&walked, &frames)
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
            out[i] = map.packed(i == 0 ? out[i] : out[i] &- 1, near: &last)
        }
        if !reusedWalk && walkedAlone { walks.noteNormalized(tid: tid, frames) }

        if options.kernel, let chain = s.callchain { prependKernelFrames(chain) }
        key.walkedByCFI = usedCFI
        _ = count(pid: pid, tid: tid, status: status, goroutine: goroutine, period: s.period ?? 0)
    }

    /// Adds one sample of the stack in `frames` with these labels to `profile.stacks`; returns where it was
    /// counted, unless the stack was new (an insertion may move every entry: see `stacksGeneration`).
    private mutating func count(pid: ProcessID, tid: ThreadID, status: UnwindStatus, goroutine: Int64, period: UInt64)
        -> [StackKey: StackWeight].Index?
    {
        key.pid = pid
        key.status = status
        key.goroutine = goroutine
        key.processName = processNameIndex(pid)
        if options.perThread {
            key.tid = tid
            key.threadName = threadNameIndex(tid, pid: pid)
        } else {
            key.tid = ThreadID(0)
            key.threadName = -1
        }
        swap(&key.frames, &frames)
        defer { swap(&key.frames, &frames) }
        if let i = profile.stacks.index(forKey: key) {
            profile.stacks.values[i].samples += 1
            profile.stacks.values[i].period &+= period
            return i
        }
        profile.stacks[key] = StackWeight(samples: 1, period: period)
        stacksGeneration &+= 1
        return nil
    }

    /// Counted whenever a stack is inserted into `profile.stacks` (which may rehash it) or the profile is handed
    /// out: a `CountedStack` memo is good only for the generation it was taken in.
    private var stacksGeneration: UInt64 = 1

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
        let processName = processNameIndex(pid)
        let threadName = options.perThread ? threadNameIndex(tid, pid: pid) : -1
        let memo = walks.counted(slot: slot)
        let memoizable = !(options.kernel && kernelChain != nil)
        if memoizable, memo.generation == stacksGeneration, memo.frame0 == frame0, memo.pid == pid,
            memo.processName == processName, memo.threadName == threadName, let i = memo.index
        {
            profile.stacks.values[i].samples += 1
            profile.stacks.values[i].period &+= period
            return
        }
        frames.removeAll(keepingCapacity: true)
        frames.append(frame0)
        let callers = walks.normalized(slot: slot)
        frames.append(contentsOf: callers[1...])
        if options.kernel, let chain = kernelChain { prependKernelFrames(chain) }
        key.walkedByCFI = false  // only walks by frame records alone are reused
        let i = count(pid: pid, tid: tid, status: status, goroutine: -1, period: period)
        if memoizable, let i {
            walks.setCounted(
                slot: slot,
                CountedStack(
                    generation: stacksGeneration, index: i, frame0: frame0, pid: pid, processName: processName,
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

extension PerfRecord {
    /// A sample's thread and stack copy, for the read ahead: one slice copied, not the whole sample's three.
    fileprivate var sampledStack: (ThreadID, ArraySlice<UInt8>)? {
        guard case .sample(let s) = self, let tid = s.tid, let stack = s.userStack else { return nil }
        return (tid, stack)
    }
}
