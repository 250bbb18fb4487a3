/// Whether a frame-pointer walk can stand, or must be redone by `HybridUnwinder`: the one question the pipeline
/// asks after every walk that is not a repeat of a sound one.
///
/// A frame-pointer walk through code that keeps no frame record is wrong in one of two ways: it stops (BP is a
/// general register there: a bad frame, or a "record" outside the copy), or, where that code left BP alone, it
/// silently skips frames: the record BP still points at is an ancestor's. Either way the return address into
/// such code is among the frames walked (a callee's record holds it), so looking at the rule of each frame finds
/// every case. Frame 0 is exempt while its rule leaves BP untouched and the walk found its caller: the entry rule
/// did.
///
/// Two walks always stand. A self-loop or a cycle is a fact about the frame records in memory (the Go `mcall` bug
/// of 2023 wrote one), and flagging it is what fpprof is for: a CFI walk would step over it and hide it. A walk cut
/// short by the end of the stack copy, through frames that all keep their records, needs nothing CFI knows: the
/// kernel's chain continues it (Go's g0 stack, whose goroutine is elsewhere; stacks deeper than the copy), and Go
/// code has no rules at all (it keeps frame pointers on amd64).
public enum CallFrameCheck {
    public static func needsCFI<Rules: CallFrameRuleMap>(
        _ frames: [UInt64], status: UnwindStatus, rules: Rules
    ) -> Bool {
        var none = CallFrameVerdicts(capacity: 0)
        return needsCFI(frames, status: status, rules: rules, verdicts: &none, pid: ProcessID(0))
    }

    /// Whether `verdicts` alone show that the walk stands: false when they show it does not, or do not know one of
    /// its frames (then ask `needsCFI` with the rules).
    @inline(__always)
    public static func stands(
        _ frames: [UInt64], status: UnwindStatus, judgedBy verdicts: CallFrameVerdicts, pid: ProcessID
    ) -> Bool {
        if let needs = decided(frames, status) { return !needs }
        var recent = RecentCallers()
        for i in 0..<checkedCount(frames, status) {
            if recent.repeats(frames, i) { continue }
            guard let kind = verdicts.knownKind(at: address(frames, i), pid: pid), walkable(kind, at: i) else {
                return false
            }
        }
        return true
    }

    /// The same, with the conclusions about each address kept in `verdicts` (`rules` are process `pid`'s).
    public static func needsCFI<Rules: CallFrameRuleMap>(
        _ frames: [UInt64], status: UnwindStatus, rules: Rules, verdicts: inout CallFrameVerdicts, pid: ProcessID
    ) -> Bool {
        if let needs = decided(frames, status) { return needs }
        var hint = -1
        var recent = RecentCallers()
        for i in 0..<checkedCount(frames, status) {
            if recent.repeats(frames, i) { continue }
            let address = address(frames, i)
            let kind = verdicts.kind(at: address, pid: pid) { rules.rule(at: address, hint: &hint) }
            if !walkable(kind, at: i) { return true }
        }
        return false
    }

    /// The last two callers looked at. A caller's verdict depends on its address alone, so one equal to either
    /// was just found walkable (a walk that meets a frame that is not returns at once): recursion repeats one return
    /// address, or a cycle of two, hundreds of times, and a deep recursive walk that was not a repeat of the
    /// thread's previous one looked each of them up (a twentieth of `--unwind hybrid`'s time on the recursion
    /// fixture).
    private struct RecentCallers {
        var last: UInt64? = nil
        var beforeLast: UInt64? = nil

        /// Whether frame `i` (a caller) repeats one of the two callers before it; then remembers it.
        @inline(__always)
        mutating func repeats(_ frames: [UInt64], _ i: Int) -> Bool {
            guard i > 0 else { return false }
            let frame = frames[i]
            if frame == last || frame == beforeLast { return true }
            beforeLast = last
            last = frame
            return false
        }
    }

    /// The answer (whether CFI is needed) where the walk's status alone gives it; nil: its frames must be looked at.
    @inline(__always)
    private static func decided(_ frames: [UInt64], _ status: UnwindStatus) -> Bool? {
        switch status {
        case .selfLoop, .cycle: return false
        case .badFrame: return true
        case .truncated: return frames.count < 2 ? true : nil
        case .complete: return nil
        }
    }

    /// A complete walk's last frame is a root or the outermost record: nothing is read past it.
    @inline(__always)
    private static func checkedCount(_ frames: [UInt64], _ status: UnwindStatus) -> Int {
        status == .complete ? frames.count - 1 : frames.count
    }

    /// Where frame `i`'s code is looked up: the sampled address, or a caller's call instruction.
    @inline(__always)
    private static func address(_ frames: [UInt64], _ i: Int) -> UInt64 {
        i == 0 ? frames[0] : frames[i] &- 1
    }

    /// Whether a frame-pointer step is right for frame `i` of code of this kind.
    @inline(__always)
    private static func walkable(_ kind: CallFrameVerdicts.Kind, at i: Int) -> Bool {
        kind == .framed || (kind == .framedAsLeaf && i == 0)
    }
}
