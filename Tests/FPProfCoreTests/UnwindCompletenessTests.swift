import Testing

@testable import FPProfCore

/// `complete` means "the walk reached the start of the stack", nothing weaker: over many synthetic walks (random
/// mixes of sound records, zero words, return addresses into code, into roots, into stack switches, and garbage,
/// with and without an entry rule), every walk the unwinder calls complete ended at a root or at a frame record
/// whose saved BP is 0, and every walk that stopped anywhere else carries a marker.
@Suite struct UnwindCompletenessTests {
    /// Roots at 0x40_0000..<0x40_0100, switches at 0x40_0100..<0x40_0200, other code up to 0x50_0000.
    let code = StackSwitchTests.SwitchCode()

    /// Where a walk ended, judged from its output alone (the definition of complete, restated independently).
    func reachedTheStart(frames: [UInt64], scratch: [UInt64], memory: some StackMemory) -> Bool {
        if let last = frames.last, case .root = code.classify(last) { return true }
        // The last record read held a saved BP of 0, and its return address (into code) is the last frame.
        guard let lastBP = scratch.last, lastBP != 0, let saved = memory.word(at: lastBP),
            let ret = memory.word(at: lastBP &+ 8), let last = frames.last
        else { return false }
        return saved == 0 && ret == last && code.classify(ret) != .none
    }

    @Test func everyCompleteWalkReachedARootOrTheOutermostRecord() {
        var rng = SplitMix64(seed: 10)
        var outcomes: [UnwindStatus: Int] = [:]
        var completeByRoot = 0
        var completeByZeroRecord = 0
        var zeroBPRegister = 0
        for round in 0..<4000 {
            var s = StackBuilder(words: 96)
            // Mostly a plausible chain (records at rising addresses), then damage.
            var at = 2
            while at + 1 < s.words.count {
                let next = at + 2 + Int(rng.next() % 10)
                let ret: UInt64
                switch rng.next() % 10 {
                case 0: ret = 0x40_0000 + rng.next() % 0x100  // a root
                case 1: ret = 0x40_0100 + rng.next() % 0x100  // a stack switch
                case 2: ret = rng.next() % 3 == 0 ? 0 : rng.next()  // no code
                default: ret = 0x41_0000 + rng.next() % 0xe_0000
                }
                let saved: UInt64
                switch rng.next() % 14 {
                case 0: saved = 0
                case 1: saved = s.address(ofWord: Int(rng.next() % 96))  // anywhere, up or down
                case 2: saved = rng.next()
                case 3: saved = s.address(ofWord: at)  // itself
                case 4: saved = s.address(ofWord: 2)  // the first record again
                default: saved = next < s.words.count ? s.address(ofWord: next) : s.address(ofWord: 200)
                }
                s.record(at: at, next: saved, ret: ret)
                at = next
            }
            let bp: UInt64
            switch rng.next() % 8 {
            case 0: bp = 0  // code that uses BP as a general register
            case 1: bp = rng.next()
            default: bp = s.address(ofWord: 2)
            }
            let entry: EntryFrame = rng.next() % 4 == 0 ? .returnAddressAtSP(offset: 8) : .framePointer
            if case .returnAddressAtSP = entry { s.words[1] = 0x41_0000 + rng.next() % 0x1000 }
            let ip = 0x41_0000 + rng.next() % 0x1000
            var frames: [UInt64] = []
            var scratch: [UInt64] = []
            let status = FramePointerUnwinder().unwind(
                ip: ip, sp: s.sp, bp: bp, memory: s.copy, code: code, frames: &frames, scratch: &scratch, entry: entry)
            outcomes[status, default: 0] += 1
            let reached = reachedTheStart(frames: frames, scratch: scratch, memory: s.copy)
            if status == .complete {
                #expect(reached, "round \(round): complete without reaching the start: \(frames) via \(scratch)")
                if let last = frames.last, case .root = code.classify(last) {
                    completeByRoot += 1
                } else {
                    completeByZeroRecord += 1
                }
            } else {
                #expect(status.marker != nil, "round \(round)")
            }
            if bp == 0 {
                zeroBPRegister += 1
                if frames.count < 2 || code.classify(frames.last!) != .root {
                    #expect(status != .complete, "round \(round): BP 0 in a register is no outermost record")
                }
            }
        }
        // Every path was taken often enough to have been tested.
        #expect(completeByRoot > 200 && completeByZeroRecord > 100 && zeroBPRegister > 200, "\(outcomes)")
        for status in [UnwindStatus.badFrame, .truncated, .selfLoop, .cycle] {
            #expect(outcomes[status, default: 0] > 20, "too few \(status) walks: \(outcomes)")
        }
    }

    /// The two short walks of the issue (`python3;PyEval_EvalCode;_PyEval_EvalFrameDefault`): a sample in code
    /// without frame pointers whose caller is found at [SP] by its CFI, with BP 0 in the register. The walk has its
    /// two frames and a marker, not a complete stack.
    @Test func aZeroBPRegisterAfterACFIStepIsNotComplete() {
        var s = StackBuilder(words: 16)
        s.words[3] = 0x41_2000
        var frames: [UInt64] = []
        var scratch: [UInt64] = []
        let status = FramePointerUnwinder().unwind(
            ip: 0x41_1000, sp: s.sp, bp: 0, memory: s.copy, code: code, frames: &frames, scratch: &scratch,
            entry: .returnAddressAtSP(offset: 24))
        #expect(frames == [0x41_1000, 0x41_2000])
        #expect(status == .badFrame)
    }
}
