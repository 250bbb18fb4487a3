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
        switch status {
        case .selfLoop, .cycle: return false
        case .badFrame: return true
        case .truncated: if frames.count < 2 { return true }
        case .complete: break
        }
        // A complete walk's last frame is a root or the outermost record: nothing is read past it.
        let checked = status == .complete ? frames.count - 1 : frames.count
        var hint = -1
        for i in 0..<checked {
            switch rules.rule(at: i == 0 ? frames[0] : frames[i] &- 1, hint: &hint) {
            case nil, .framePointer: continue
            case .stack(_, savedBP: nil) where i == 0: continue
            default: return true
            }
        }
        return false
    }
}
