import Testing

@testable import FPProfCore

/// `StackSwitchRepair` on synthetic walks. Code map: roots 0x40_0000..<0x40_0100, a returning frameless switch
/// (`systemstack`) at 0x40_0100..<0x40_0180, a detaching one (`mcall`) at 0x40_0180..<0x40_0200, other code up to
/// 0x50_0000.
@Suite struct StackSwitchRepairTests {
    let code = StackSwitchTests.SwitchCode()
    static let systemstack: Range<UInt64> = 0x40_0100..<0x40_0180
    static let mcall: Range<UInt64> = 0x40_0180..<0x40_0200

    func traits(_ address: UInt64) -> StackSwitchTraits {
        if Self.mcall.contains(address) { return StackSwitchTraits(detaches: true, hidesCaller: true) }
        if Self.systemstack.contains(address) { return StackSwitchTraits(hidesCaller: true) }
        Issue.record("traits asked for 0x\(String(address, radix: 16)), which is no switch")
        return StackSwitchTraits()
    }

    /// Repairs a complete walk whose every hidden caller is 0x42_0000; returns the questions asked too.
    func repairNamingEveryCaller(_ frames: inout [UInt64]) -> (UnwindStatus, [(UInt64, UInt64, UInt64?)]) {
        var asked: [(UInt64, UInt64, UInt64?)] = []
        let status = StackSwitchRepair.repair(
            &frames, status: .complete, code: code, traits: traits,
            hiddenCaller: { at, above, callee in
                asked.append((at, above, callee))
                return .function(0x42_0000)
            })
        return (status, asked)
    }

    @Test func theHiddenCallerOfSystemstackIsPutBackAtItsEntry() {
        // leaf (fn, on g0) -> ret into systemstack -> [caller's record] -> ret into the caller's caller -> root.
        var frames: [UInt64] = [0x43_0000, 0x40_0150, 0x41_0010, 0x40_0010]
        let (status, asked) = repairNamingEveryCaller(&frames)
        #expect(status == .complete)
        // The entry is stored as a return address (+ 1), so that it is looked up at the entry itself.
        #expect(frames == [0x43_0000, 0x40_0150, 0x42_0001, 0x41_0010, 0x40_0010])
        #expect(asked.count == 1)
        #expect(asked.first.map { $0.0 == 0x40_014f && $0.1 == 0x41_0010 && $0.2 == 0x43_0000 } == true)
    }

    @Test func aSampleInsideTheSwitchAsksWithoutACallee() {
        var frames: [UInt64] = [0x40_0120, 0x41_0010, 0x40_0010]
        let (status, asked) = repairNamingEveryCaller(&frames)
        #expect(status == .complete)
        #expect(frames == [0x40_0120, 0x42_0001, 0x41_0010, 0x40_0010])
        // The sampled IP is looked up as it is, not at IP - 1 (it may be the switch's first byte).
        #expect(asked.first.map { $0.0 == 0x40_0120 && $0.1 == 0x41_0010 && $0.2 == nil } == true)
    }

    @Test func anUnknownCallerOfAReturningSwitchAddsNothing() {
        var frames: [UInt64] = [0x43_0000, 0x40_0150, 0x41_0010, 0x40_0010]
        let status = StackSwitchRepair.repair(
            &frames, status: .complete, code: code, traits: traits, hiddenCaller: { _, _, _ in nil })
        #expect(status == .complete)
        #expect(frames == [0x43_0000, 0x40_0150, 0x41_0010, 0x40_0010])
    }

    @Test func aBadWalkPastADetachingSwitchEndsAtTheSwitch() {
        for bad in [UnwindStatus.badFrame, .truncated] {
            var frames: [UInt64] = [0x43_0000, 0x41_2000, 0x40_01a0, 0x41_0010, 0x41_0020]
            let status = StackSwitchRepair.repair(
                &frames, status: bad, code: code, traits: traits, hiddenCaller: { _, _, _ in .function(0x42_0000) })
            #expect(status == .complete)
            #expect(frames == [0x43_0000, 0x41_2000, 0x40_01a0])
        }
    }

    @Test func aDetachingSwitchWhoseCallerCannotBeNamedEndsTheStack() {
        // The chain past mcall reached a root, but what lies above mcall is no function that calls it: the
        // goroutine's stack changed under the kernel's read.
        var frames: [UInt64] = [0x43_0000, 0x40_01a0, 0x41_0010, 0x40_0010]
        let status = StackSwitchRepair.repair(
            &frames, status: .complete, code: code, traits: traits, hiddenCaller: { _, _, _ in nil })
        #expect(status == .complete)
        #expect(frames == [0x43_0000, 0x40_01a0])
    }

    @Test func aSoundWalkPastADetachingSwitchKeepsTheGoroutine() {
        var frames: [UInt64] = [0x43_0000, 0x40_01a0, 0x41_0010, 0x40_0010]
        let status = StackSwitchRepair.repair(
            &frames, status: .complete, code: code, traits: traits, hiddenCaller: { _, _, _ in .function(0x42_0000) })
        #expect(status == .complete)
        #expect(frames == [0x43_0000, 0x40_01a0, 0x42_0001, 0x41_0010, 0x40_0010])
    }

    @Test func loopsPastADetachingSwitchStayFlagged() {
        // A self-referential record on the goroutine's stack is the runtime's bug, not a stale read: kept.
        var frames: [UInt64] = [0x43_0000, 0x40_01a0, 0x41_0010]
        let status = StackSwitchRepair.repair(
            &frames, status: .selfLoop, code: code, traits: traits, hiddenCaller: { _, _, _ in .function(0x42_0000) })
        #expect(status == .selfLoop)
        #expect(frames == [0x43_0000, 0x40_01a0, 0x42_0001, 0x41_0010])
    }

    @Test func aSwitchWithARecordOfItsOwnHidesNothing() {
        // Go's 2023 mcall pushed a record: the frame above it is its caller, and the goroutine's frames are kept.
        var frames: [UInt64] = [0x43_0000, 0x40_01a0, 0x41_0010, 0x40_0010]
        let status = StackSwitchRepair.repair(
            &frames, status: .complete, code: code, traits: traits, hiddenCaller: { _, _, _ in .nothing })
        #expect(status == .complete)
        #expect(frames == [0x43_0000, 0x40_01a0, 0x41_0010, 0x40_0010])
    }

    @Test func walksWithoutSwitchesAreUntouched() {
        var frames: [UInt64] = [0x43_0000, 0x41_0010, 0x41_0020]
        let status = StackSwitchRepair.repair(
            &frames, status: .badFrame, code: code, traits: traits, hiddenCaller: { _, _, _ in .function(0x42_0000) })
        #expect(status == .badFrame)
        #expect(frames == [0x43_0000, 0x41_0010, 0x41_0020])
    }
}

/// Go's `duffzero`/`duffcopy` calls: BP points at a record the caller built just below SP.
@Suite struct DuffRecordTests {
    let code = FakeCode()

    @Test func aRecordStraddlingSPGivesItsReturnAddressThenTheKernelChain() {
        var s = StackBuilder(words: 16)
        s.words[0] = 0x41_0010  // [SP]: the return address into the caller of duffzero
        var frames: [UInt64] = []
        var scratch: [UInt64] = []
        var status = FramePointerUnwinder().unwind(
            ip: 0x43_0000, sp: s.sp, bp: s.sp - 8, memory: s.copy, code: code, frames: &frames, scratch: &scratch)
        #expect(status == .truncated)
        #expect(frames == [0x43_0000, 0x41_0010])
        #expect(scratch == [s.sp - 8])
        let chain = WordWindow([CallchainContext.user, 0x43_0000, 0x41_0010, 0x42_0010, 0x40_0010])
        status = KernelChainSplice.extend(&frames, status: status, with: chain, code: code)
        #expect(status == .complete)
        #expect(frames == [0x43_0000, 0x41_0010, 0x42_0010, 0x40_0010])
    }

    @Test func onlyTheFirstRecordMayStraddleAndOnlyByOneWord() {
        var s = StackBuilder(words: 16)
        s.words[0] = 0x41_0010
        var frames: [UInt64] = []
        var scratch: [UInt64] = []
        let status = FramePointerUnwinder().unwind(
            ip: 0x43_0000, sp: s.sp, bp: s.sp - 16, memory: s.copy, code: code, frames: &frames, scratch: &scratch)
        #expect(status == .badFrame)
        #expect(frames == [0x43_0000])
    }

    @Test func recordAtSPWalksFromTheFunctionsOwnRecord() {
        // The function's record is at SP + 0x28 while BP points at the duff record below SP.
        var s = StackBuilder(words: 32)
        s.record(at: 5, next: s.address(ofWord: 12), ret: 0x41_0010)
        s.record(at: 12, next: 0, ret: 0x40_0010)
        var frames: [UInt64] = []
        var scratch: [UInt64] = []
        let status = FramePointerUnwinder().unwind(
            ip: 0x43_0000, sp: s.sp, bp: s.sp - 16, memory: s.copy, code: code, frames: &frames, scratch: &scratch,
            entry: .recordAtSP(offset: 40))
        #expect(status == .complete)
        #expect(frames == [0x43_0000, 0x41_0010, 0x40_0010])
    }

    @Test func theKernelsExtraDuffFrameIsSkippedWhenSplicing() {
        // The kernel walked the duff record too: its chain has the stale return address at index 1.
        var frames: [UInt64] = [0x43_0000, 0x41_0010]
        let chain = WordWindow([CallchainContext.user, 0x43_0000, 0x43_0100, 0x41_0010, 0x40_0010])
        let status = KernelChainSplice.extend(&frames, status: .truncated, with: chain, code: code, kernelOnly: 1)
        #expect(status == .complete)
        #expect(frames == [0x43_0000, 0x41_0010, 0x40_0010])
    }
}
