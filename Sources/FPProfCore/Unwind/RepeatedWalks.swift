/// Reuses a thread's previous frame-pointer walk when its new sample would repeat it exactly.
///
/// A thread that spends its time deep in one call path is sampled again and again with the same SP, the same BP and
/// the same frame records on its stack, and the walk (a chain of dependent loads, a mapping check and an append
/// per frame) gives the same frames every time. The walk is a pure function of BP, SP, what the sampled IP is
/// (plain code, a root, a stack switch), the entry-frame rule, the code map and the stack words it reads. So when
/// all of these are equal, its result is equal too. The words are checked in one pass over the stretch of stack
/// that holds the frame records, under a mask that leaves out everything else (the leaf's locals, which change
/// from sample to sample): a few instructions per word, against a few dozen per frame for the walk. Anything that
/// differs falls back to the walk. The normalized frames of the walk are kept too, for the same reason.
///
/// The map must not change between two walks: the owner calls `removeAll()` whenever a record changes the
/// process table.
struct RepeatedWalks {
    struct Walk {
        var pid = ProcessID(0)
        var sp: UInt64 = 0
        var bp: UInt64 = 0
        var ipKind = CodeKind.none
        var entry = EntryFrame.framePointer
        /// The size of the stack copy: with the same SP, the same addresses lie inside it (or outside) as before.
        var stackLength = 0
        /// The word the entry-frame rule read at `SP + offset`, when the rule is `.returnAddressAtSP`.
        var entryWord: UInt64?
        /// Where (bytes from SP) the stretch of words that holds every frame record the walk read starts, those
        /// words, and a mask that keeps only the records' words (a superset of what the walk read).
        var recordsStart = 0
        var words: [UInt64] = []
        var mask: [UInt64] = []
        /// What the walk appended (frame 0 included) and the BPs it walked, and how it ended.
        var frames: [UInt64] = []
        var scratch: [UInt64] = []
        var status = UnwindStatus.truncated
        /// The same frames normalized, when the owner has noted them (empty otherwise).
        var normalized: [UInt64] = []
        /// The owner's memo of where it last counted this walk's stack (see `ProfileBuilder`); reset whenever the
        /// walk is replaced, since it describes these frames only.
        var counted = CountedStack()
    }

    /// One slot per thread, found through `slotOfThread`: in an array, a slot's fields are read in place, where a
    /// dictionary value would be copied whole (seven arrays retained and released) on every access.
    private var slots: [Walk] = []
    private var slotOfThread: [ThreadID: Int] = [:]
    /// The two threads looked up last and their slots, tried before `slotOfThread`: consecutive samples are of one
    /// thread, or of two alternating (two CPUs' rings merged by time), and hashing the thread id was a few percent
    /// of a repeated sample. Only threads that have a slot are kept; emptied with the slots.
    private var recentThreads: (ThreadID?, ThreadID?) = (nil, nil)
    private var recentSlots = (0, 0)

    /// The slot of `tid` when it is one of the two threads looked up last.
    private func recentSlot(of tid: ThreadID) -> Int? {
        if recentThreads.0 == tid { return recentSlots.0 }
        if recentThreads.1 == tid { return recentSlots.1 }
        return nil
    }

    private mutating func slot(of tid: ThreadID) -> Int? {
        if let recent = recentSlot(of: tid) { return recent }
        guard let i = slotOfThread[tid] else { return nil }
        recentThreads = (tid, recentThreads.0)
        recentSlots = (i, recentSlots.0)
        return i
    }
    /// Threads remembered at most; past it the memory starts over.
    static let limit = 256
    /// Shallower walks are not remembered: walking a few frames costs less than remembering and checking them.
    static let minimumFrames = 24

    /// The slot of the latest `unwind` when it was reused without its raw frames (`normalizedOnly`), -1 otherwise.
    private(set) var normalizedHit = -1

    mutating func removeAll() {
        if !slots.isEmpty {
            slots.removeAll(keepingCapacity: true)
            slotOfThread.removeAll(keepingCapacity: true)
            recentThreads = (nil, nil)
        }
    }

    /// `unwinder.unwind(...)`, or the same result from the thread's previous walk (then `reused` is set). `frames`
    /// must be empty.
    ///
    /// With `normalizedOnly`, the owner needs only the normalized callers of a reused walk (it does not splice,
    /// repair or resolve goroutines from the raw frames): a reused walk that did not end truncated and has its
    /// normalized frames noted then leaves `frames` and `scratch` untouched and sets `normalizedHit` to its slot.
    /// Copying 300 raw frames and their BPs per sample, only to overwrite them, was a large part of a deep
    /// repeated stack's cost.
    mutating func unwind(
        _ unwinder: FramePointerUnwinder, pid: ProcessID, tid: ThreadID, ip: UInt64, sp: UInt64, bp: UInt64,
        memory: StackCopy, code: ProcessMap, frames: inout [UInt64], scratch: inout [UInt64], entry: EntryFrame,
        reused: inout Bool, normalizedOnly: Bool = false
    ) -> UnwindStatus {
        reused = false
        normalizedHit = -1
        guard frames.isEmpty else {
            return unwinder.unwind(
                ip: ip, sp: sp, bp: bp, memory: memory, code: code, frames: &frames, scratch: &scratch, entry: entry)
        }
        let ipKind = code.classify(ip)
        var entryWord: UInt64? = nil
        if case .returnAddressAtSP(let offset) = entry { entryWord = memory.word(at: sp &+ UInt64(offset)) }
        let slot = slot(of: tid)
        if let i = slot,
            repeats(
                i, pid: pid, sp: sp, bp: bp, ipKind: ipKind, entry: entry, entryWord: entryWord, memory: memory)
        {
            reused = true
            if normalizedOnly && slots[i].status != .truncated && !slots[i].normalized.isEmpty {
                normalizedHit = i
                return slots[i].status
            }
            frames.append(ip)
            frames.append(contentsOf: slots[i].frames[1...])
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: slots[i].scratch)
            return slots[i].status
        }
        let status = unwinder.unwind(
            ip: ip, sp: sp, bp: bp, memory: memory, code: code, frames: &frames, scratch: &scratch, entry: entry)
        guard frames.count >= Self.minimumFrames else {
            // Too shallow to be worth remembering; whatever the slot held no longer describes the thread.
            if let i = slot { slots[i].stackLength = -1 }
            return status
        }
        let i: Int
        if let slot {
            i = slot
        } else {
            if slots.count >= Self.limit { removeAll() }
            i = slots.count
            slots.append(Walk())
            slotOfThread[tid] = i
        }
        Self.remember(
            into: &slots[i], pid: pid, sp: sp, bp: bp, ipKind: ipKind, entry: entry, entryWord: entryWord,
            memory: memory, frames: frames, scratch: scratch, status: status)
        return status
    }

    /// Keeps `normalized` as the normalized frames of the thread's last walk (the walk's own frames, not spliced).
    mutating func noteNormalized(tid: ThreadID, _ normalized: [UInt64]) {
        guard let i = slotOfThread[tid], slots[i].stackLength >= 0 else { return }
        slots[i].normalized.removeAll(keepingCapacity: true)
        slots[i].normalized.append(contentsOf: normalized)
        slots[i].counted = CountedStack()
    }

    /// The normalized frames of the walk in `slot` (after a `normalizedHit`), frame 0 included.
    func normalized(slot: Int) -> [UInt64] { slots[slot].normalized }

    /// The owner's memo for the walk in `slot`.
    func counted(slot: Int) -> CountedStack { slots[slot].counted }

    mutating func setCounted(slot: Int, _ memo: CountedStack) { slots[slot].counted = memo }

    /// The normalized frames noted for the thread's last walk, frame 0 included, if any.
    func normalized(tid: ThreadID) -> [UInt64]? {
        guard let i = slotOfThread[tid], !slots[i].normalized.isEmpty else { return nil }
        return slots[i].normalized
    }

    private func repeats(
        _ i: Int, pid: ProcessID, sp: UInt64, bp: UInt64, ipKind: CodeKind, entry: EntryFrame, entryWord: UInt64?,
        memory: StackCopy
    ) -> Bool {
        slots[i].pid == pid && slots[i].sp == sp && slots[i].bp == bp && slots[i].ipKind == ipKind
            && slots[i].entry == entry && slots[i].stackLength == memory.bytes.count
            && slots[i].entryWord == entryWord
            && Self.sameWords(memory, start: slots[i].recordsStart, words: slots[i].words, mask: slots[i].mask)
    }

    private static func remember(
        into w: inout Walk, pid: ProcessID, sp: UInt64, bp: UInt64, ipKind: CodeKind, entry: EntryFrame,
        entryWord: UInt64?, memory: StackCopy, frames: [UInt64], scratch: [UInt64], status: UnwindStatus
    ) {
        w.pid = pid
        w.sp = sp
        w.bp = bp
        w.ipKind = ipKind
        w.entry = entry
        w.stackLength = memory.bytes.count
        w.entryWord = entryWord
        w.frames.removeAll(keepingCapacity: true)
        w.frames.append(contentsOf: frames)
        w.scratch.removeAll(keepingCapacity: true)
        w.scratch.append(contentsOf: scratch)
        w.status = status
        w.normalized.removeAll(keepingCapacity: true)
        w.counted = CountedStack()
        w.words.removeAll(keepingCapacity: true)
        w.mask.removeAll(keepingCapacity: true)
        // Every BP the walk visited: the ones it walked past, then the one it stopped at (the saved BP of the last
        // record it walked past). A misaligned one or one below SP was never read (or reads as nothing here and
        // in any copy with the same SP and size).
        let last = scratch.last.map { memory.word(at: $0) ?? $0 } ?? bp
        let end = sp &+ UInt64(memory.bytes.count)
        func read(_ b: UInt64) -> Bool { b & 7 == 0 && b >= sp && b < end }
        var lo = read(last) ? last : UInt64.max
        var hi: UInt64 = read(last) ? last : 0
        for b in scratch where read(b) {
            lo = min(lo, b)
            hi = max(hi, b)
        }
        guard lo <= hi else {
            w.recordsStart = 0
            return
        }
        w.recordsStart = Int(lo &- sp)
        // Words wholly inside the copy, from `lo` to the end of the highest record.
        let count = Int((min(hi &+ 16, end) &- lo) / 8)
        for k in 0..<count { w.words.append(memory.word(at: lo &+ UInt64(k) &* 8) ?? 0) }
        w.mask.append(contentsOf: repeatElement(0, count: count))
        func keep(_ b: UInt64) {
            guard read(b) else { return }
            let k = Int((b &- lo) / 8)
            if k < count { w.mask[k] = ~0 }
            if k + 1 < count { w.mask[k + 1] = ~0 }
        }
        for b in scratch { keep(b) }
        keep(last)
    }

    /// The bytes of a stack copy (from SP) that the thread's last walk would compare, for a read ahead: nil when
    /// the thread is not one of the two looked up last (hashing the thread id for every record ahead measured no
    /// better). Only a guess: the range may be stale, which costs a wasted prefetch.
    func comparedBytes(tid: ThreadID) -> Range<Int>? {
        guard let i = recentSlot(of: tid) else { return nil }
        let start = slots[i].recordsStart
        let count = slots[i].words.count &* 8
        return count > 0 && start >= 0 ? start..<(start &+ count) : nil
    }

    /// Whether the copy holds `words` (where `mask` is set) from `start` bytes on. No early exit: the loop compiles
    /// to a few vector instructions per pair of words.
    static func sameWords(_ memory: StackCopy, start: Int, words: [UInt64], mask: [UInt64]) -> Bool {
        let bytes = memory.bytes.span.bytes
        let n = words.count
        guard mask.count == n, start >= 0, bytes.byteCount - start >= n &* 8 else { return false }
        let stretch = bytes.extracting(start..<(start &+ n &* 8))
        // Restated for the optimizer, which can then drop the per-word bounds checks.
        guard stretch.byteCount >= n &* 8 else { return false }
        // The arrays are indexed directly: `Span` subscripts of `words` and `mask` were left as calls, one per word.
        var diff: UInt64 = 0
        for i in 0..<n {
            let word = stretch.unsafeLoadUnaligned(fromByteOffset: i &* 8, as: UInt64.self).littleEndian
            diff |= (word ^ words[i]) & mask[i]
        }
        return diff == 0
    }
}
