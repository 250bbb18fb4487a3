import Testing

@testable import FPProfCore

/// `CallFrameCheck.needsCFI`: which frame-pointer walks are redone by CFI under `--unwind hybrid`. Code at
/// 0x1000.. keeps frame records, 0x2000.. keeps none (CFA = SP + 24, BP untouched), 0x3000.. has no rules (Go).
@Suite struct CallFrameCheckTests {
    let rules = FakeRules(ranges: [
        (0x1000..<0x2000, .framePointer), (0x2000..<0x3000, .stack(cfa: 24, savedBP: nil)),
    ])

    /// The answer by the rules, checked against the pipeline's way: through a `CallFrameVerdicts` table, cold and
    /// then warm, and by the table alone (`stands`), which must let the walk stand exactly when the rules do.
    func needs(_ frames: [UInt64], _ status: UnwindStatus) -> Bool {
        let plain = CallFrameCheck.needsCFI(frames, status: status, rules: rules)
        var verdicts = CallFrameVerdicts()
        let pid = ProcessID(7)
        #expect(CallFrameCheck.needsCFI(frames, status: status, rules: rules, verdicts: &verdicts, pid: pid) == plain)
        #expect(CallFrameCheck.needsCFI(frames, status: status, rules: rules, verdicts: &verdicts, pid: pid) == plain)
        #expect(CallFrameCheck.stands(frames, status: status, judgedBy: verdicts, pid: pid) == !plain)
        // Another process's walk through the same addresses was not judged.
        if status == .complete || status == .truncated {
            #expect(!CallFrameCheck.stands(frames, status: status, judgedBy: verdicts, pid: ProcessID(8)))
        }
        return plain
    }

    /// Recursion: callers that repeat one of the two before them are not looked up again, and must not hide the frame
    /// that follows them. A frameless caller (0x2020) after 300 repeats of one or two framed ones is still found,
    /// and a repeat of the sampled frame's address as a caller is judged as a caller.
    @Test func repeatedCallersHideNothing() {
        let one = [UInt64](repeating: 0x1020, count: 300)
        let two = [UInt64]((0..<150).map { _ in [UInt64(0x1020), 0x1040] }.joined())
        for callers: [UInt64] in [one, two] {
            #expect(!needs([0x1010] + callers + [0x1080], .complete))
            #expect(needs([0x1010] + callers + [0x2020, 0x1080], .complete))
            #expect(needs([0x1010] + callers + [0x2020], .truncated))
            #expect(needs([0x1010] + callers + [0x1040, 0x1020, 0x2020, 0x1020], .truncated))
        }
        // 0x2011 may be walked as the sampled frame, not as a caller (at 0x2010).
        #expect(!needs([0x2010, 0x1020, 0x1080], .complete))
        #expect(needs([0x2010, 0x2011, 0x1080], .complete))
    }

    /// A table that never judged an address lets nothing stand but loops and cycles.
    @Test func anEmptyTableJudgesNothing() {
        let empty = CallFrameVerdicts()
        let pid = ProcessID(7)
        #expect(!CallFrameCheck.stands([0x1010, 0x1020, 0x1030], status: .complete, judgedBy: empty, pid: pid))
        #expect(CallFrameCheck.stands([0x2010, 0x2020], status: .cycle, judgedBy: empty, pid: pid))
        #expect(!CallFrameCheck.stands([0x1010, 0x1020], status: .badFrame, judgedBy: empty, pid: pid))
    }

    /// Entries are kept per process, forgotten by `invalidate()`, replaced by another key of their slot, and never
    /// kept by a table of capacity 0.
    @Test func verdictsAreForgottenAndReplaced() {
        var verdicts = CallFrameVerdicts(capacity: 1)
        let (a, b) = (ProcessID(7), ProcessID(8))
        func kind(_ address: UInt64, _ pid: ProcessID) -> CallFrameVerdicts.Kind {
            var hint = -1
            return verdicts.kind(at: address, pid: pid) { rules.rule(at: address, hint: &hint) }
        }
        #expect(kind(0x2010, a) == .framedAsLeaf)
        #expect(verdicts.knownKind(at: 0x2010, pid: a) == .framedAsLeaf)
        #expect(verdicts.knownKind(at: 0x2010, pid: b) == nil)
        verdicts.invalidate()
        #expect(verdicts.knownKind(at: 0x2010, pid: a) == nil)
        #expect(kind(0x1010, a) == .framed)
        #expect(verdicts.knownKind(at: 0x2010, pid: a) == nil)  // one slot: the new address took it
        #expect(kind(0x3010, b) == .framed && verdicts.knownKind(at: 0x3010, pid: b) == .framed)
        #expect(verdicts.knownKind(at: 0x1010, pid: a) == nil)

        var none = CallFrameVerdicts(capacity: 0)
        #expect(none.kind(at: 0x2010, pid: a) { .stack(cfa: 8, savedBP: 0) } == .needsCFI)
        #expect(none.knownKind(at: 0x2010, pid: a) == nil)
    }

    /// A loop or a cycle is what the walk must report, even through code without frame records.
    @Test func loopsAndCyclesAreNeverRedone() {
        #expect(!needs([0x2010, 0x2020, 0x1010], .selfLoop))
        #expect(!needs([0x2010, 0x2020], .cycle))
        #expect(!needs([0x1010, 0x1020], .selfLoop))
    }

    /// Cut short by the end of the copy through framed (or rule-less, Go) frames: the kernel chain continues it.
    @Test func truncatedThroughFramedCodeStands() {
        #expect(!needs([0x1010, 0x1020, 0x1030], .truncated))
        #expect(!needs([0x3010, 0x3020, 0x1030], .truncated))
        #expect(!needs([0x2010, 0x1020], .truncated))  // a frameless leaf whose caller the entry rule found
    }

    /// Through a frameless caller, or with no caller found at all, the walk is redone.
    @Test func truncatedThroughFramelessCodeIsRedone() {
        #expect(needs([0x1010, 0x2020, 0x1030], .truncated))
        #expect(needs([0x2010], .truncated))
        #expect(needs([0x1010], .truncated))
    }

    @Test func badFramesAreAlwaysRedone() {
        #expect(needs([0x1010, 0x1020], .badFrame))
        #expect(needs([0x3010], .badFrame))
    }

    /// A complete walk that skipped a frameless function's frame shows it by the return address into it; its
    /// last frame (a root) is not looked at.
    @Test func completeWalksAreRedoneOnlyThroughFramelessCallers() {
        #expect(!needs([0x1010, 0x1020, 0x2030], .complete))
        #expect(needs([0x1010, 0x2020, 0x1030], .complete))
        #expect(!needs([0x2010, 0x1020, 0x1030], .complete))
    }
}
