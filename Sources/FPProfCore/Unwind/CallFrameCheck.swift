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
        switch status {
        case .selfLoop, .cycle: return true
        case .badFrame: return false
        case .truncated: if frames.count < 2 { return false }
        case .complete: break
        }
        for i in 0..<checkedCount(frames, status) {
            switch verdicts.knownKind(at: i == 0 ? frames[0] : frames[i] &- 1, pid: pid) {
            case .framed?: continue
            case .framedAsLeaf? where i == 0: continue
            default: return false
            }
        }
        return true
    }

    /// A complete walk's last frame is a root or the outermost record: nothing is read past it.
    @inline(__always)
    private static func checkedCount(_ frames: [UInt64], _ status: UnwindStatus) -> Int {
        status == .complete ? frames.count - 1 : frames.count
    }

    /// The same, with the conclusions about each address kept in `verdicts` (`rules` are process `pid`'s).
    public static func needsCFI<Rules: CallFrameRuleMap>(
        _ frames: [UInt64], status: UnwindStatus, rules: Rules, verdicts: inout CallFrameVerdicts, pid: ProcessID
    ) -> Bool {
        switch status {
        case .selfLoop, .cycle: return false
        case .badFrame: return true
        case .truncated: if frames.count < 2 { return true }
        case .complete: break
        }
        var hint = -1
        for i in 0..<checkedCount(frames, status) {
            let address = i == 0 ? frames[0] : frames[i] &- 1
            switch verdicts.kind(at: address, pid: pid, lookup: { rules.rule(at: address, hint: &hint) }) {
            case .framed: continue
            case .framedAsLeaf where i == 0: continue
            default: return true
            }
        }
        return false
    }
}
