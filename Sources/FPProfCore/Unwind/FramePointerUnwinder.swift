/// Where the sampled function's return address is: in its frame record, or (before the record exists, or in a
/// function that never makes one) on the stack at a known distance from SP.
public enum EntryFrame: Hashable, Sendable {
    case framePointer
    case returnAddressAtSP(offset: Int)
    /// The function's record is in place, but BP points elsewhere for a moment (Go, around a `duffzero` call, points
    /// it at a record built for the callee): the function's own record is at `SP + offset`.
    case recordAtSP(offset: Int)
}

/// Walks frame records (`[BP]` = caller's BP, `[BP+8]` = return address) from the sampled registers.
///
/// `complete` means the walk reached the start of the stack, and nothing else: a return address into a known root
/// (`_start`, `clone3`, `runtime.goexit`, ...), or a frame record whose saved BP is 0 (the outermost record of a
/// thread's stack: `_start` and glibc's `clone3` zero BP before the first call). A walk that stops anywhere else
/// carries a marker, so a stack that merely looks short is never counted whole.
///
/// Loops are found by address progress, never by repeated PCs: on one stack every caller's record lies above its
/// callee's, so each step must move BP up. A step that does not is a self-loop (`[BP] == BP`), a cycle (it comes
/// back to a record already walked) or a bad frame. Deep recursion repeats PCs with rising BPs and so is never
/// mistaken for a loop.
///
/// The one exception is a known stack switch: above `runtime.systemstack` (and the other switch frames of green-
/// thread runtimes) the caller's record lies on the goroutine's stack, which may be anywhere. A downward step is
/// allowed right after such a frame, a few times per stack; the records walked before still count for cycles.
public struct FramePointerUnwinder: Sendable {
    /// perf stops at 127 frames; a real program's recursion can go far deeper than that.
    public var maxDepth: Int
    /// How many stack switches one walk may cross (g0 -> goroutine needs one; signal stacks another).
    public var maxSwitches: Int

    public init(maxDepth: Int = 2048, maxSwitches: Int = 4) {
        self.maxDepth = maxDepth
        self.maxSwitches = maxSwitches
    }

    /// Appends frame 0 (`ip`) and then each caller's return address (raw, not yet `- 1`) to `frames`.
    /// `scratch` receives the BPs walked, in order, the last one included even when its record could not be read:
    /// a caller learns from them which stacks the walk crossed (a goroutine's, past a g0 switch). Both arrays are
    /// caller-owned so a hot loop allocates nothing.
    ///
    /// `entry` says whether the sampled function has set up its own frame record at `ip`. When it has not (a
    /// frameless leaf, or a prologue), BP still points at the caller's record, which names the caller's caller:
    /// the caller itself is found only through the return address on the stack, at `SP + offset`.
    ///
    /// Both arrays are filled through an `OutputSpan` with room for the whole walk reserved up front: a plain
    /// `append` checks that the array is uniquely referenced on every call (a runtime call per frame, twice per
    /// frame with `scratch`), a span append only checks its capacity.
    @inlinable
    public func unwind<Memory: StackMemory, Code: CodeMap>(
        ip: UInt64, sp: UInt64, bp: UInt64, memory: Memory, code: Code,
        frames: inout [UInt64], scratch: inout [UInt64], entry: EntryFrame = .framePointer
    ) -> UnwindStatus {
        scratch.removeAll(keepingCapacity: true)
        let before = frames.count
        // At most: ip, the entry frame's caller, then the loop's frames up to `maxDepth`, plus one root after it.
        let room = max(maxDepth - before, 0) + 3
        var status = UnwindStatus.truncated
        frames.append(addingCapacity: room) { out in
            scratch.append(addingCapacity: room) { walked in
                status = walk(
                    ip: ip, sp: sp, bp: bp, memory: memory, code: code, frames: &out, before: before,
                    scratch: &walked, entry: entry)
            }
        }
        return status
    }

    /// The walk of `unwind`, over spans. `before` is how many frames the array held already (they count toward
    /// `maxDepth`).
    @inlinable
    func walk<Memory: StackMemory, Code: CodeMap>(
        ip: UInt64, sp: UInt64, bp: UInt64, memory: Memory, code: Code,
        frames: inout OutputSpan<UInt64>, before: Int, scratch: inout OutputSpan<UInt64>, entry: EntryFrame
    ) -> UnwindStatus {
        frames.append(ip)
        var bp = bp
        var switches = 0
        // Below SP is garbage on the sampled stack, but not on the stack a switch leads to.
        var floor = sp
        var hint = -1
        switch code.classify(ip, hint: &hint) {
        case .root: return .complete
        case .stackSwitch:
            // Sampled inside the switch itself: SP may already be on the new stack while BP is the old one's.
            floor = 0
            switches = 1
        case .code, .none: break
        }
        if case .recordAtSP(let offset) = entry { bp = sp &+ UInt64(offset) }
        if case .returnAddressAtSP(let offset) = entry, let ret = memory.word(at: sp &+ UInt64(offset)) {
            switch code.classify(ret, hint: &hint) {
            case .root:
                frames.append(ret)
                return .complete
            case .stackSwitch:
                // Called by a switch (the callee of `mcall`, before its prologue): BP is the old stack's.
                frames.append(ret)
                floor = 0
                switches = max(switches, 1)
            case .code:
                frames.append(ret)
            case .none:
                // The rule did not hold here (hand-written code, a stale table): walk from BP alone.
                break
            }
        }
        while true {
            // A zero BP before any record was read is no frame pointer at all: code built without them uses BP as
            // a general register. Only a record's saved BP of 0 marks the outermost frame of a thread's stack.
            if bp == 0 { return .badFrame }
            if bp & 7 != 0 { return .badFrame }
            if bp < floor {
                // A record straddling SP, only as the first one: Go calls `duffzero`/`duffcopy` with BP pointing at a
                // record it built just below SP, whose BP slot ([SP - 8]) the kernel did not copy and whose return
                // address is [SP]. The walk can go no further on its own.
                guard frames.count == 1, bp &+ 8 == floor, let ret = memory.word(at: floor),
                    case .code = code.classify(ret, hint: &hint)
                else { return .badFrame }
                frames.append(ret)
                scratch.append(bp)
                return .truncated
            }
            scratch.append(bp)
            guard let next = memory.word(at: bp), let ret = memory.word(at: bp &+ 8) else { return .truncated }
            var switching = false
            switch code.classify(ret, hint: &hint) {
            case .none:
                return .badFrame
            case .root:
                frames.append(ret)
                return .complete
            case .stackSwitch:
                switching = true
            case .code:
                break
            }
            if before &+ frames.count >= maxDepth { return .truncated }
            frames.append(ret)
            if next == 0 { return .complete }
            if next == bp { return .selfLoop }
            if next < bp {
                if Self.contains(scratch.span, next) { return .cycle }
                guard switching, switches < maxSwitches else { return .badFrame }
                switches += 1
                floor = 0
            }
            bp = next
        }
    }

    @inlinable static func contains(_ walked: Span<UInt64>, _ value: UInt64) -> Bool {
        for i in walked.indices where walked[i] == value { return true }
        return false
    }
}
