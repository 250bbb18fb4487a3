import Testing

@testable import FPProfCore

/// Synthetic stacks: a code map with a few "functions" and a stack copy laid out word by word.
struct FakeCode: CodeMap {
    var code: Range<UInt64> = 0x40_0000..<0x50_0000
    var roots: [Range<UInt64>] = [0x40_0000..<0x40_0100]
    func classify(_ address: UInt64) -> CodeKind {
        if roots.contains(where: { $0.contains(address) }) { return .root }
        return code.contains(address) ? .code : .none
    }
}

struct StackBuilder {
    let sp: UInt64
    var words: [UInt64]
    init(sp: UInt64 = 0x7ffc_0000_0000, words: Int) {
        self.sp = sp
        self.words = Array(repeating: 0, count: words)
    }
    func address(ofWord i: Int) -> UInt64 { sp + UInt64(i * 8) }
    /// Writes a frame record at word `i`: [next BP, return address].
    mutating func record(at i: Int, next: UInt64, ret: UInt64) {
        words[i] = next
        words[i + 1] = ret
    }
    var copy: StackCopy { StackCopy(base: sp, bytes: WordWindow(words).bytes) }
}

@Suite struct UnwinderTests {
    let unwinder = FramePointerUnwinder()
    let code = FakeCode()

    func walk(ip: UInt64, bp: UInt64, _ s: StackBuilder, maxDepth: Int = 2048) -> ([UInt64], UnwindStatus) {
        var frames: [UInt64] = []
        var scratch: [UInt64] = []
        let status = FramePointerUnwinder(maxDepth: maxDepth).unwind(
            ip: ip, sp: s.sp, bp: bp, memory: s.copy, code: code, frames: &frames, scratch: &scratch)
        return (frames, status)
    }

    @Test func chainEndingAtARootIsComplete() {
        var s = StackBuilder(words: 64)
        s.record(at: 2, next: s.address(ofWord: 10), ret: 0x41_0010)
        s.record(at: 10, next: s.address(ofWord: 20), ret: 0x42_0020)
        s.record(at: 20, next: 0x1234_5678, ret: 0x40_0050)  // returns into the root: stop, whatever BP holds
        let (frames, status) = walk(ip: 0x43_0000, bp: s.address(ofWord: 2), s)
        #expect(status == .complete)
        #expect(frames == [0x43_0000, 0x41_0010, 0x42_0020, 0x40_0050])
    }

    @Test func zeroBPEndsComplete() {
        var s = StackBuilder(words: 16)
        s.record(at: 2, next: 0, ret: 0x41_0010)
        let (frames, status) = walk(ip: 0x43_0000, bp: s.address(ofWord: 2), s)
        #expect(status == .complete)
        #expect(frames == [0x43_0000, 0x41_0010])
    }

    @Test func selfReferentialRecordIsASelfLoopWithItsRealFramesOnce() {
        var s = StackBuilder(words: 16)
        let bp = s.address(ofWord: 4)
        s.record(at: 4, next: bp, ret: 0x41_0010)  // [BP] == BP: the Go mcall bug's shape
        let (frames, status) = walk(ip: 0x43_0000, bp: bp, s)
        #expect(status == .selfLoop)
        #expect(frames == [0x43_0000, 0x41_0010])
    }

    @Test func twoRecordCycleIsACycleWithEachFrameOnce() {
        var s = StackBuilder(words: 32)
        let a = s.address(ofWord: 4)
        let b = s.address(ofWord: 12)
        s.record(at: 4, next: b, ret: 0x41_0000)
        s.record(at: 12, next: a, ret: 0x42_0000)
        let (frames, status) = walk(ip: 0x43_0000, bp: a, s)
        #expect(status == .cycle)
        #expect(frames == [0x43_0000, 0x41_0000, 0x42_0000])
    }

    @Test func downwardStepToAnUnseenRecordIsABadFrame() {
        var s = StackBuilder(words: 32)
        s.record(at: 12, next: s.address(ofWord: 4), ret: 0x41_0000)
        s.record(at: 4, next: 0, ret: 0x42_0000)
        let (_, status) = walk(ip: 0x43_0000, bp: s.address(ofWord: 12), s)
        #expect(status == .badFrame)
    }

    @Test func misalignedOrBelowSPIsABadFrame() {
        let s = StackBuilder(words: 8)
        #expect(walk(ip: 0x43_0000, bp: s.address(ofWord: 2) + 3, s).1 == .badFrame)
        #expect(walk(ip: 0x43_0000, bp: s.sp - 16, s).1 == .badFrame)
    }

    @Test func returnAddressOutsideCodeIsABadFrame() {
        var s = StackBuilder(words: 8)
        s.record(at: 2, next: 0, ret: 0xdead_0000_0000)
        let (frames, status) = walk(ip: 0x43_0000, bp: s.address(ofWord: 2), s)
        #expect(status == .badFrame)
        #expect(frames == [0x43_0000])
    }

    @Test func recordPastTheCopyIsTruncated() {
        var s = StackBuilder(words: 8)
        s.record(at: 2, next: s.address(ofWord: 100), ret: 0x41_0000)
        let (frames, status) = walk(ip: 0x43_0000, bp: s.address(ofWord: 2), s)
        #expect(status == .truncated)
        #expect(frames == [0x43_0000, 0x41_0000])
    }

    /// Recursion repeats the same return address at rising BPs: never a loop.
    @Test func deepRecursionIsNotALoop() {
        let depth = 300
        var s = StackBuilder(words: depth * 2 + 8)
        for i in 0..<depth {
            let next = i == depth - 1 ? 0 : s.address(ofWord: (i + 1) * 2)
            s.record(at: i * 2, next: next, ret: 0x41_0040)
        }
        let (frames, status) = walk(ip: 0x43_0000, bp: s.address(ofWord: 0), s)
        #expect(status == .complete)
        #expect(frames.count == depth + 1)
    }

    @Test func depthLimitTruncates() {
        let depth = 100
        var s = StackBuilder(words: depth * 2 + 8)
        for i in 0..<depth { s.record(at: i * 2, next: s.address(ofWord: (i + 1) * 2), ret: 0x41_0040) }
        let (frames, status) = walk(ip: 0x43_0000, bp: s.address(ofWord: 0), s, maxDepth: 50)
        #expect(status == .truncated)
        #expect(frames.count == 50)
    }

    @Test func garbageStacksNeverCrashAndAlwaysEnd() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<500 {
            var s = StackBuilder(words: 128)
            for i in s.words.indices {
                switch rng.next() % 4 {
                case 0: s.words[i] = s.address(ofWord: Int(rng.next() % 140))
                case 1: s.words[i] = 0x40_0000 + rng.next() % 0x10_0000
                default: s.words[i] = rng.next()
                }
            }
            let (frames, _) = walk(ip: 0x43_0000, bp: s.address(ofWord: Int(rng.next() % 128)), s)
            #expect(frames.count <= 2048)
        }
    }
}

/// Green threads: a downward step is allowed only right after a known stack-switch frame.
@Suite struct StackSwitchTests {
    struct SwitchCode: CodeMap {
        func classify(_ a: UInt64) -> CodeKind {
            switch a {
            case 0x40_0000..<0x40_0100: .root
            case 0x40_0100..<0x40_0200: .stackSwitch
            case 0x40_0000..<0x50_0000: .code
            default: .none
            }
        }
    }

    /// Memory with two separate regions: the g0 stack (high) and the goroutine stack (low).
    struct TwoStacks: StackMemory {
        var high: StackCopy
        var low: StackCopy
        func word(at a: UInt64) -> UInt64? { high.word(at: a) ?? low.word(at: a) }
    }

    func walk(_ memory: some StackMemory, ip: UInt64, sp: UInt64, bp: UInt64) -> ([UInt64], UnwindStatus) {
        var frames: [UInt64] = []
        var scratch: [UInt64] = []
        let s = FramePointerUnwinder().unwind(
            ip: ip, sp: sp, bp: bp, memory: memory, code: SwitchCode(), frames: &frames, scratch: &scratch)
        return (frames, s)
    }

    @Test func walkCrossesFromTheSystemStackToTheGoroutine() {
        var g0 = StackBuilder(sp: 0x7ffc_0000_0000, words: 16)
        var g = StackBuilder(sp: 0xc000_0100_00, words: 16)
        // g0: leaf's record -> returns into systemstack, whose caller's record is on the goroutine stack.
        g0.record(at: 2, next: g.address(ofWord: 4), ret: 0x40_0150)
        g.record(at: 4, next: g.address(ofWord: 8), ret: 0x41_0000)
        g.record(at: 8, next: 0, ret: 0x40_0010)
        let (frames, status) = walk(
            TwoStacks(high: g0.copy, low: g.copy), ip: 0x43_0000, sp: g0.sp, bp: g0.address(ofWord: 2))
        #expect(status == .complete)
        #expect(frames == [0x43_0000, 0x40_0150, 0x41_0000, 0x40_0010])
    }

    @Test func downwardStepWithoutASwitchFrameIsABadFrame() {
        var g0 = StackBuilder(sp: 0x7ffc_0000_0000, words: 16)
        var g = StackBuilder(sp: 0xc000_0100_00, words: 16)
        g0.record(at: 2, next: g.address(ofWord: 4), ret: 0x41_0150)
        g.record(at: 4, next: 0, ret: 0x41_0000)
        let (_, status) = walk(
            TwoStacks(high: g0.copy, low: g.copy), ip: 0x43_0000, sp: g0.sp, bp: g0.address(ofWord: 2))
        #expect(status == .badFrame)
    }

    @Test func goroutineFramesOutsideTheCopyComeFromTheKernelChain() {
        var g0 = StackBuilder(sp: 0x7ffc_0000_0000, words: 16)
        g0.record(at: 2, next: 0xc000_0100_20, ret: 0x40_0150)
        var frames: [UInt64] = []
        var scratch: [UInt64] = []
        var status = FramePointerUnwinder().unwind(
            ip: 0x43_0000, sp: g0.sp, bp: g0.address(ofWord: 2), memory: g0.copy, code: SwitchCode(),
            frames: &frames, scratch: &scratch)
        #expect(status == .truncated)
        let chain = WordWindow([CallchainContext.user, 0x43_0000, 0x40_0150, 0x41_0000, 0x42_0000, 0x40_0010])
        status = KernelChainSplice.extend(&frames, status: status, with: chain, code: SwitchCode())
        #expect(status == .complete)
        #expect(frames == [0x43_0000, 0x40_0150, 0x41_0000, 0x42_0000, 0x40_0010])
    }

    @Test func aKernelChainThatDisagreesIsNotUsed() {
        var frames: [UInt64] = [0x43_0000, 0x40_0150]
        let chain = WordWindow([CallchainContext.user, 0x43_0000, 0x41_9999, 0x41_0000, 0x40_0010])
        let status = KernelChainSplice.extend(&frames, status: .truncated, with: chain, code: SwitchCode())
        #expect(status == .truncated)
        #expect(frames == [0x43_0000, 0x40_0150])
    }

    @Test func aKernelChainWithoutARootStaysTruncated() {
        var frames: [UInt64] = [0x43_0000]
        let chain = WordWindow([CallchainContext.user, 0x43_0000, 0x41_0000, 0x41_0000])
        let status = KernelChainSplice.extend(&frames, status: .truncated, with: chain, code: SwitchCode())
        #expect(status == .truncated)
        #expect(frames == [0x43_0000, 0x41_0000, 0x41_0000])
    }
}

/// Frameless leaves and prologues: the caller comes from the return address on the stack.
@Suite struct EntryFrameTests {
    @Test func framelessLeafKeepsItsCaller() {
        // SP points at the return address into the caller; BP is still the caller's record.
        var s = StackBuilder(words: 16)
        s.words[0] = 0x41_0010
        s.record(at: 4, next: 0, ret: 0x42_0020)
        var frames: [UInt64] = []
        var scratch: [UInt64] = []
        let status = FramePointerUnwinder().unwind(
            ip: 0x43_0000, sp: s.sp, bp: s.address(ofWord: 4), memory: s.copy, code: FakeCode(), frames: &frames,
            scratch: &scratch, entry: .returnAddressAtSP(offset: 0))
        #expect(status == .complete)
        #expect(frames == [0x43_0000, 0x41_0010, 0x42_0020])
    }

    @Test func withoutTheRuleTheCallerIsLost() {
        var s = StackBuilder(words: 16)
        s.words[0] = 0x41_0010
        s.record(at: 4, next: 0, ret: 0x42_0020)
        var frames: [UInt64] = []
        var scratch: [UInt64] = []
        _ = FramePointerUnwinder().unwind(
            ip: 0x43_0000, sp: s.sp, bp: s.address(ofWord: 4), memory: s.copy, code: FakeCode(), frames: &frames,
            scratch: &scratch)
        #expect(frames == [0x43_0000, 0x42_0020])
    }

    @Test func aRuleThatPointsAtNoCodeIsIgnored() {
        var s = StackBuilder(words: 16)
        s.words[1] = 0xdead_beef_0000
        s.record(at: 4, next: 0, ret: 0x42_0020)
        var frames: [UInt64] = []
        var scratch: [UInt64] = []
        let status = FramePointerUnwinder().unwind(
            ip: 0x43_0000, sp: s.sp, bp: s.address(ofWord: 4), memory: s.copy, code: FakeCode(), frames: &frames,
            scratch: &scratch, entry: .returnAddressAtSP(offset: 8))
        #expect(status == .complete)
        #expect(frames == [0x43_0000, 0x42_0020])
    }

    @Test func spliceSkipsTheRecoveredFrame() {
        var frames: [UInt64] = [0x43_0000, 0x41_0010, 0x42_0020]
        let chain = WordWindow([CallchainContext.user, 0x43_0000, 0x42_0020, 0x44_0000, 0x40_0010])
        let status = KernelChainSplice.extend(&frames, status: .truncated, with: chain, code: FakeCode(), recovered: 1)
        #expect(status == .complete)
        #expect(frames == [0x43_0000, 0x41_0010, 0x42_0020, 0x44_0000, 0x40_0010])
    }
}

@Suite struct KernelChainLimitTests {
    /// A kernel chain at perf's limit is a cut or a repeated loop: it adds nothing.
    @Test func aChainAtTheKernelLimitIsNotSpliced() {
        var frames: [UInt64] = [0x43_0000, 0x41_0010]
        let chain = WordWindow([CallchainContext.user, 0x43_0000] + Array(repeating: 0x41_0010, count: 126))
        let status = KernelChainSplice.extend(&frames, status: .truncated, with: chain, code: FakeCode())
        #expect(status == .truncated)
        #expect(frames == [0x43_0000, 0x41_0010])
    }
}

/// A walk that used CFI rejoins the kernel's chain at its last two return addresses, wherever the chains' first
/// frames disagree.
@Suite struct KernelChainRejoinTests {
    @Test func theChainIsTakenAfterTheWalksLastPair() {
        // The walk found 0x41_0010 (a frameless function's caller) that the kernel's chain lacks, and the kernel's
        // chain has 0x44_4444 (what a stale BP gave) that the walk rightly lacks.
        var frames: [UInt64] = [0x43_0000, 0x41_0010, 0x42_0020, 0x42_0030]
        let chain = WordWindow([
            CallchainContext.user, 0x43_0000, 0x44_4444, 0x42_0020, 0x42_0030, 0x45_0000, 0x40_0010,
        ])
        #expect(KernelChainSplice.rejoin(&frames, with: chain, code: FakeCode()) == .complete)
        #expect(frames == [0x43_0000, 0x41_0010, 0x42_0020, 0x42_0030, 0x45_0000, 0x40_0010])
    }

    @Test func aChainWithoutThePairAddsNothing() {
        var frames: [UInt64] = [0x43_0000, 0x41_0010, 0x42_0020]
        // The last address alone, without its caller before it, is not enough.
        let chain = WordWindow([CallchainContext.user, 0x43_0000, 0x42_0020, 0x45_0000, 0x40_0010])
        #expect(KernelChainSplice.rejoin(&frames, with: chain, code: FakeCode()) == .truncated)
        #expect(frames == [0x43_0000, 0x41_0010, 0x42_0020])
    }

    @Test func recursionRejoinsWhereTheWalkStopped() {
        // The walk holds three frames of a recursive function (two pairs); the kernel's chain four.
        var frames: [UInt64] = [0x43_0000, 0x41_0010, 0x42_0020, 0x42_0020, 0x42_0020]
        let chain = WordWindow([
            CallchainContext.user, 0x43_0000, 0x42_0020, 0x42_0020, 0x42_0020, 0x42_0020, 0x45_0000, 0x40_0010,
        ])
        #expect(KernelChainSplice.rejoin(&frames, with: chain, code: FakeCode()) == .complete)
        #expect(frames == [0x43_0000, 0x41_0010] + Array(repeating: 0x42_0020, count: 4) + [0x45_0000, 0x40_0010])
    }

    @Test func whatTheChainAddsIsChecked() {
        var frames: [UInt64] = [0x43_0000, 0x42_0020, 0x42_0030]
        let chain = WordWindow([CallchainContext.user, 0x43_0000, 0x42_0020, 0x42_0030, 0xdead_0000])
        #expect(KernelChainSplice.rejoin(&frames, with: chain, code: FakeCode()) == .badFrame)
        let cut = WordWindow([CallchainContext.user, 0x43_0000] + Array(repeating: 0x42_0020, count: 126))
        var deep: [UInt64] = [0x43_0000, 0x42_0020, 0x42_0020]
        #expect(KernelChainSplice.rejoin(&deep, with: cut, code: FakeCode()) == .truncated)
        #expect(deep == [0x43_0000, 0x42_0020, 0x42_0020])
    }
}

extension KernelChainRejoinTests {
    /// cgo's C on g0 below a goroutine's record: the walk found three frameless frames by CFI and stopped at the
    /// record the sampled BP points at, where the kernel's chain went from frame 0. Its frames after the first
    /// continue the walk; without that fact, the chain (lacking the walk's last pair) adds nothing.
    @Test func aWalkEndingAtTheSampledRecordTakesTheChainAfterFrameZero() {
        let walked: [UInt64] = [0x43_0000, 0x41_0010, 0x41_0020, 0x42_0030]
        let chain = WordWindow([CallchainContext.user, 0x43_0000, 0x45_0000, 0x44_0000, 0x40_0010])
        var frames = walked
        let status = KernelChainSplice.rejoin(&frames, with: chain, code: FakeCode(), endsAtSampledRecord: true)
        #expect(status == .complete)
        #expect(frames == walked + [0x45_0000, 0x44_0000, 0x40_0010])
        var unknown = walked
        #expect(KernelChainSplice.rejoin(&unknown, with: chain, code: FakeCode()) == .truncated)
        #expect(unknown == walked)
        // Another sample's chain (a different frame 0) is not this walk's.
        var other = walked
        let otherChain = WordWindow([CallchainContext.user, 0x43_0008, 0x45_0000, 0x40_0010])
        #expect(
            KernelChainSplice.rejoin(&other, with: otherChain, code: FakeCode(), endsAtSampledRecord: true)
                == .truncated)
        #expect(other == walked)
    }

    @Test func aFramelessLeafsCallerIsSkippedInTheComparison() {
        // CFI found the leaf's caller 0x41_0010; the kernel went from the leaf to the caller's caller.
        var frames: [UInt64] = [0x43_0000, 0x41_0010]
        let chain = WordWindow([CallchainContext.user, 0x43_0000, 0x42_0020, 0x40_0010])
        #expect(KernelChainSplice.rejoin(&frames, with: chain, code: FakeCode()) == .complete)
        #expect(frames == [0x43_0000, 0x41_0010, 0x42_0020, 0x40_0010])
        // Where the kernel's chain has the caller too, it is not added twice.
        var twice: [UInt64] = [0x43_0000, 0x41_0010]
        let both = WordWindow([CallchainContext.user, 0x43_0000, 0x41_0010, 0x42_0020, 0x40_0010])
        #expect(KernelChainSplice.rejoin(&twice, with: both, code: FakeCode()) == .complete)
        #expect(twice == [0x43_0000, 0x41_0010, 0x42_0020, 0x40_0010])
    }
}
