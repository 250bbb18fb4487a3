import Testing

@testable import FPProfCore

/// A walk is reused only when everything it read is the same, and then gives exactly what walking would.
@Suite struct RepeatedWalksTests {
    let unwinder = FramePointerUnwinder()
    let map: ProcessMap = {
        var m = ProcessMap()
        m.insert(
            Mapping(
                start: VirtualAddress(0x40_0000), end: VirtualAddress(0x50_0000), pageOffset: FileOffset(0),
                module: ModuleID(path: "/a"), moduleIndex: 1))
        return m
    }()

    /// `depth` records of 4 words each (record, then two words of locals), the leaf's locals below the first.
    func deepStack(depth: Int) -> StackBuilder {
        var s = StackBuilder(words: 8 + depth * 4 + 8)
        for k in 0..<depth {
            let at = 8 + k * 4
            let next = k == depth - 1 ? 0 : s.address(ofWord: at + 4)
            s.record(at: at, next: next, ret: 0x41_0000 + UInt64(k) * 16)
            s.words[at + 2] = 0xdead_0000 + UInt64(k)  // a caller's local, never read by the walk
        }
        return s
    }

    func walk(
        _ walks: inout RepeatedWalks, _ s: StackBuilder, ip: UInt64 = 0x43_0000
    ) -> (frames: [UInt64], status: UnwindStatus, reused: Bool) {
        var frames: [UInt64] = []
        var scratch: [UInt64] = []
        var reused = false
        let status = walks.unwind(
            unwinder, pid: ProcessID(1), tid: ThreadID(1), ip: ip, sp: s.sp, bp: s.address(ofWord: 8),
            memory: s.copy, code: map, frames: &frames, scratch: &scratch, entry: .framePointer, reused: &reused)
        return (frames, status, reused)
    }

    func plainWalk(_ s: StackBuilder, ip: UInt64 = 0x43_0000) -> ([UInt64], UnwindStatus) {
        var frames: [UInt64] = []
        var scratch: [UInt64] = []
        let status = unwinder.unwind(
            ip: ip, sp: s.sp, bp: s.address(ofWord: 8), memory: s.copy, code: map, frames: &frames,
            scratch: &scratch)
        return (frames, status)
    }

    @Test func theSameStackIsReusedEvenWithOtherLocalsAndAnotherIP() {
        var walks = RepeatedWalks()
        var s = deepStack(depth: 40)
        let first = walk(&walks, s)
        #expect(!first.reused)
        #expect(first.frames.count == 41 && first.status == .complete)
        s.words[0] = 0x1234  // the leaf's locals
        s.words[10] = 0x5678  // a caller's local between records
        let second = walk(&walks, s, ip: 0x43_0010)
        #expect(second.reused)
        let expected = plainWalk(s, ip: 0x43_0010)
        #expect(second.frames == expected.0 && second.status == expected.1)
    }

    @Test func aChangedRecordIsWalkedAgain() {
        var walks = RepeatedWalks()
        var s = deepStack(depth: 40)
        _ = walk(&walks, s)
        s.words[8 + 20 * 4 + 1] = 0x42_0000  // one return address
        let again = walk(&walks, s)
        #expect(!again.reused)
        #expect(again.frames == plainWalk(s).0)
        s.words[8 + 30 * 4] = s.address(ofWord: 8 + 30 * 4)  // a saved BP that points at itself
        let looped = walk(&walks, s)
        #expect(!looped.reused)
        #expect(looped.status == .selfLoop && looped.frames == plainWalk(s).0)
    }

    @Test func shallowWalksAreNotRemembered() {
        var walks = RepeatedWalks()
        let s = deepStack(depth: 4)
        _ = walk(&walks, s)
        #expect(!walk(&walks, s).reused)
    }

    @Test func removeAllForgets() {
        var walks = RepeatedWalks()
        let s = deepStack(depth: 40)
        _ = walk(&walks, s)
        walks.removeAll()
        #expect(!walk(&walks, s).reused)
        #expect(walk(&walks, s).reused)
    }
}
