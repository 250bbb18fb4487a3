import Testing

@testable import FPProfCore

/// Rules by absolute address range, for synthetic walks.
struct FakeRules: CallFrameRuleMap {
    var ranges: [(Range<UInt64>, CallFrameRule)] = []
    func rule(at address: UInt64, hint: inout Int) -> CallFrameRule? {
        ranges.first { $0.0.contains(address) }?.1
    }
}

/// `HybridUnwinder` over synthetic stacks: code at 0x40_1000.. with a frame record (`framed`), code without one
/// (`frameless`: CFA = SP + 24, BP saved at CFA - 16 or untouched), a root at 0x40_0000.
@Suite struct HybridUnwinderTests {
    let code = FakeCode()
    static let framed: Range<UInt64> = 0x40_1000..<0x40_2000
    static let frameless: Range<UInt64> = 0x40_2000..<0x40_3000
    static let savesBP: Range<UInt64> = 0x40_3000..<0x40_4000
    static let unsupported: Range<UInt64> = 0x40_4000..<0x40_5000
    let rules = FakeRules(ranges: [
        (framed, .framePointer), (frameless, .stack(cfa: 24, savedBP: nil)), (savesBP, .stack(cfa: 32, savedBP: -24)),
        (unsupported, .unsupported),
    ])

    func walk(ip: UInt64, bp: UInt64, _ s: StackBuilder, rules: FakeRules? = nil, maxDepth: Int = 2048)
        -> ([UInt64], HybridUnwinder.Outcome)
    {
        var frames: [UInt64] = []
        let outcome = HybridUnwinder(maxDepth: maxDepth).unwind(
            ip: ip, sp: s.sp, bp: bp, memory: s.copy, code: code, rules: rules ?? self.rules, frames: &frames)
        return (frames, outcome)
    }

    /// frameless leaf -> frameless -> framed -> root. The leaf's CFA is SP + 24 (return address at word 2), its
    /// caller's CFA 24 above that (word 5); the framed function's record is at word 6, BP never changed by the
    /// frameless code.
    @Test func framelessThenFramed() {
        var s = StackBuilder(words: 16)
        s.words[2] = 0x40_2100  // leaf returns into the frameless caller
        s.words[5] = 0x40_1100  // which returns into the framed function
        s.record(at: 6, next: 0, ret: 0x40_0010)  // whose record returns into the root
        let (frames, outcome) = walk(ip: 0x40_2050, bp: s.address(ofWord: 6), s)
        #expect(frames == [0x40_2050, 0x40_2100, 0x40_1100, 0x40_0010])
        #expect(outcome == .init(status: .complete, cfiFrames: 2, reach: 48))
    }

    /// framed leaf -> frameless code that saved and reused BP -> framed -> root: the leaf's record holds the
    /// frameless function's garbage BP; CFI restores the real one from where the frameless code saved it.
    @Test func framedThroughBPClobberingCode() {
        var s = StackBuilder(words: 20)
        s.record(at: 0, next: 0xdead_bee0, ret: 0x40_3100)  // leaf's record: BP was garbage in the caller
        // The frameless caller's frame: SP at word 2 (leaf's CFA); CFA = SP + 32 = word 6; BP saved at CFA - 24
        // (word 3), return address at word 5.
        s.words[3] = s.address(ofWord: 8)
        s.words[5] = 0x40_1200
        s.record(at: 8, next: 0, ret: 0x40_0010)
        let (frames, outcome) = walk(ip: 0x40_1050, bp: s.address(ofWord: 0), s)
        #expect(frames == [0x40_1050, 0x40_3100, 0x40_1200, 0x40_0010])
        #expect(outcome == .init(status: .complete, cfiFrames: 1, reach: 48))
    }

    /// Sampled in an epilogue, between `pop %rbp` and `ret` (gcc's cc1, `c_lex_with_flags`): the CFI still says
    /// BP is saved at CFA - 48 while CFA = SP + 32, a slot below SP that the copy does not hold and that was popped.
    /// BP holds the caller's value by then, and the walk goes on with it through the framed caller to the root.
    @Test func epilogueAfterBPWasPopped() {
        var s = StackBuilder(words: 16)
        // CFA = SP + 32 (word 4): return address at word 3.
        s.words[3] = 0x40_1100
        s.record(at: 4, next: 0, ret: 0x40_0010)
        let popping = FakeRules(ranges: [(0x40_5000..<0x40_6000, .stack(cfa: 32, savedBP: -48))] + rules.ranges)
        let (frames, outcome) = walk(ip: 0x40_5010, bp: s.address(ofWord: 4), s, rules: popping)
        #expect(frames == [0x40_5010, 0x40_1100, 0x40_0010])
        #expect(outcome.status == .complete && outcome.cfiFrames == 1)
        // A slot at or above SP is still read: BP saved at CFA - 32 is word 0.
        s.words[0] = s.address(ofWord: 4)
        let saving = FakeRules(ranges: [(0x40_5000..<0x40_6000, .stack(cfa: 32, savedBP: -32))] + rules.ranges)
        let (again, _) = walk(ip: 0x40_5010, bp: 0xdead_bee0, s, rules: saving)
        #expect(again == [0x40_5010, 0x40_1100, 0x40_0010])
    }

    /// OpenSSL's Montgomery multiplication keeps its entry SP in a slot and moves SP by a run-time amount: CFA =
    /// [SP + 40] + 8, BP saved at CFA - 24; others keep it at [BP + n]. The walk reads the slot, goes on to the
    /// framed caller, and a slot holding a CFA at or below SP is a bad frame.
    @Test func indirectCFA() {
        var s = StackBuilder(words: 24)
        let entrySP = s.address(ofWord: 12)  // the caller's SP before its call: CFA = entrySP + 8
        s.words[5] = entrySP  // [SP + 40]
        s.words[12] = 0x40_1100  // the return address, at CFA - 8
        s.words[10] = s.address(ofWord: 16)  // the caller's BP, saved at CFA - 24
        s.record(at: 16, next: 0, ret: 0x40_0010)
        let openssl = FakeRules(
            ranges: [(0x40_5000..<0x40_6000, .stackIndirect(offset: 40, add: 8, savedBP: -24))] + rules.ranges)
        let (frames, outcome) = walk(ip: 0x40_5010, bp: 0x1234_5678, s, rules: openssl)
        #expect(frames == [0x40_5010, 0x40_1100, 0x40_0010])
        #expect(outcome.status == .complete && outcome.cfiFrames == 1)

        let x86inc = FakeRules(
            ranges: [(0x40_5000..<0x40_6000, .baseIndirect(offset: -8, add: 8, savedBP: -24))] + rules.ranges)
        s.words[3] = entrySP  // [BP - 8], with BP at word 4
        let (viaBP, byBP) = walk(ip: 0x40_5010, bp: s.address(ofWord: 4), s, rules: x86inc)
        #expect(viaBP == [0x40_5010, 0x40_1100, 0x40_0010])
        #expect(byBP.status == .complete && byBP.cfiFrames == 1)

        // gcc's DRAP realignment: CFA = [BP - 40], the caller's BP at [BP]. Its caller keeps no frame record
        // (CFA = SP + 24), so the walk must take the caller's SP from the slot, not from the frame record.
        var r = StackBuilder(words: 24)
        r.words[3] = r.address(ofWord: 14)  // [BP - 40], BP at word 8: the caller's SP
        r.words[8] = r.address(ofWord: 18)  // the caller's BP, at [BP]
        r.words[9] = 0x40_2100  // the realigned frame's copy of its return address
        r.words[13] = 0x40_2100  // the return address, at CFA - 8: into the frameless caller
        r.words[16] = 0x40_1100  // at its CFA - 8 (SP + 24): into the framed function
        r.record(at: 18, next: 0, ret: 0x40_0010)
        let realigned = FakeRules(ranges: [(0x40_5000..<0x40_6000, .realigned(offset: -40))] + rules.ranges)
        let (throughDRAP, drap) = walk(ip: 0x40_5010, bp: r.address(ofWord: 8), r, rules: realigned)
        #expect(throughDRAP == [0x40_5010, 0x40_2100, 0x40_1100, 0x40_0010])
        #expect(drap.status == .complete && drap.cfiFrames == 2)

        s.words[5] = s.address(ofWord: 0) &- 8  // a CFA at SP: no progress
        let (_, stuck) = walk(ip: 0x40_5010, bp: 0x1234_5678, s, rules: openssl)
        #expect(stuck.status == .badFrame)
    }

    /// Code that keeps records walks exactly as the frame-pointer walk: no CFI used, same frames.
    @Test func framedStacksAreFramePointerWalks() {
        var s = StackBuilder(words: 16)
        s.record(at: 0, next: s.address(ofWord: 4), ret: 0x40_1100)
        s.record(at: 4, next: s.address(ofWord: 8), ret: 0x40_1200)
        s.record(at: 8, next: 0, ret: 0x40_0010)
        let (frames, outcome) = walk(ip: 0x40_1050, bp: s.address(ofWord: 0), s)
        var expected: [UInt64] = []
        var scratch: [UInt64] = []
        let status = FramePointerUnwinder().unwind(
            ip: 0x40_1050, sp: s.sp, bp: s.address(ofWord: 0), memory: s.copy, code: code, frames: &expected,
            scratch: &scratch)
        #expect(frames == expected)
        #expect(outcome == .init(status: status, cfiFrames: 0, reach: 48))
    }

    /// A self-loop in code that keeps records stays a self-loop, even after a CFI step: CFI never walks around it.
    @Test func selfLoopAfterCFIStep() {
        var s = StackBuilder(words: 16)
        s.words[2] = 0x40_1100  // frameless leaf returns into framed code
        s.record(at: 4, next: s.address(ofWord: 4), ret: 0x40_1200)  // whose record points at itself
        let (frames, outcome) = walk(ip: 0x40_2050, bp: s.address(ofWord: 4), s)
        #expect(frames == [0x40_2050, 0x40_1100, 0x40_1200])
        #expect(outcome == .init(status: .selfLoop, cfiFrames: 1, reach: 48))
    }

    /// A cycle among records is a cycle.
    @Test func cycleAmongRecords() {
        var s = StackBuilder(words: 16)
        s.record(at: 0, next: s.address(ofWord: 4), ret: 0x40_1100)
        s.record(at: 4, next: s.address(ofWord: 0), ret: 0x40_1200)
        let (_, outcome) = walk(ip: 0x40_1050, bp: s.address(ofWord: 0), s)
        #expect(outcome.status == .cycle)
    }

    /// A rule whose CFA does not rise above SP is a bad frame; an unsupported rule ends the walk truncated.
    @Test func cfaMustProgress() {
        var s = StackBuilder(words: 8)
        s.words[2] = 0x40_4100
        let (frames, outcome) = walk(ip: 0x40_2050, bp: 0, s)
        #expect(frames == [0x40_2050, 0x40_4100])
        #expect(outcome.status == .truncated)
        let backwards = FakeRules(ranges: [(Self.frameless, .base(cfa: -64, savedBP: nil))])
        let (_, bad) = walk(ip: 0x40_2050, bp: s.address(ofWord: 0), s, rules: backwards)
        #expect(bad.status == .badFrame)
    }

    /// A return address outside code is a bad frame; a CFA past the copy truncates.
    @Test func badAndTruncated() {
        var s = StackBuilder(words: 4)
        s.words[2] = 0x1234
        #expect(walk(ip: 0x40_2050, bp: 0, s).1.status == .badFrame)
        let short = StackBuilder(words: 2)
        #expect(walk(ip: 0x40_2050, bp: 0, short).1.status == .truncated)
    }

    /// cgo's case: frameless code that left BP alone, above it a record outside the copy (on the goroutine's stack,
    /// while the C runs on g0). The walk ends truncated at the sampled BP's record, and says so; a walk that ends at
    /// another record does not.
    @Test func truncatedAtTheSampledRecord() {
        var s = StackBuilder(words: 8)
        s.words[2] = 0x40_2100
        s.words[5] = 0x40_1100
        let elsewhere = s.sp + 0x10_0000
        let (frames, outcome) = walk(ip: 0x40_2050, bp: elsewhere, s)
        #expect(frames == [0x40_2050, 0x40_2100, 0x40_1100])
        #expect(outcome == .init(status: .truncated, cfiFrames: 2, endsAtSampledRecord: true, reach: 48))

        var framed = StackBuilder(words: 4)
        framed.record(at: 0, next: elsewhere, ret: 0x40_1100)
        let (_, other) = walk(ip: 0x40_1050, bp: framed.address(ofWord: 0), framed)
        #expect(other.status == .truncated)
        #expect(!other.endsAtSampledRecord)
    }

    /// Deep frameless recursion stops at the depth limit.
    @Test func depthLimit() {
        var s = StackBuilder(words: 3 * 100 + 4)
        for i in 0..<100 { s.words[3 * i + 2] = 0x40_2100 }
        let (frames, outcome) = walk(ip: 0x40_2050, bp: 0, s, maxDepth: 50)
        #expect(outcome.status == .truncated)
        #expect(frames.count == 50)
    }

    /// Go code has no CFI: frame 0 goes by its entry rule (a frameless leaf's return address at [SP]), then by
    /// records.
    @Test func entryRuleWhereNoCFI() {
        var s = StackBuilder(words: 8)
        s.words[0] = 0x40_5100
        s.record(at: 2, next: 0, ret: 0x40_0010)
        var frames: [UInt64] = []
        let outcome = HybridUnwinder().unwind(
            ip: 0x40_5050, sp: s.sp, bp: s.address(ofWord: 2), memory: s.copy, code: code, rules: rules,
            frames: &frames, entry: .returnAddressAtSP(offset: 0))
        #expect(frames == [0x40_5050, 0x40_5100, 0x40_0010])
        #expect(outcome.status == .complete)
    }
}
