import FPProfCore
import Testing

@testable import FPProfSampler

/// The ring copy as a pure function: synthetic rings, records placed at free-running positions.
struct RingBufferTests {
    let encoder = RecordEncoder(format: .amd64Profiling)

    func comm(_ name: String, tid: Int32 = 1) -> [UInt8] {
        encoder.encode(.comm(Comm(pid: ProcessID(1), tid: ThreadID(tid), name: name)))
    }

    /// Writes `bytes` into a ring of `size` bytes as the kernel would at free-running `position`.
    func place(_ bytes: [UInt8], at position: UInt64, in ring: inout [UInt8]) {
        for (i, b) in bytes.enumerated() { ring[Int((position + UInt64(i)) % UInt64(ring.count))] = b }
    }

    func drain(_ ring: [UInt8], head: UInt64, tail: UInt64) -> (RingDrain, [UInt8]) {
        var out = [UInt8]()
        let result = RingDrain.copyRecords(from: ring.span.bytes, head: head, tail: tail, into: &out)
        return (result, out)
    }

    @Test func recordsComeOutWholeAndTheTailReachesTheHead() {
        var ring = [UInt8](repeating: 0xAA, count: 256)
        let a = comm("first")
        let b = comm("second", tid: 2)
        place(a, at: 0, in: &ring)
        place(b, at: UInt64(a.count), in: &ring)
        let head = UInt64(a.count + b.count)
        let (result, out) = drain(ring, head: head, tail: 0)
        #expect(out == a + b)
        #expect(result.newTail == head)
        #expect(result.records == 2 && result.bytes == a.count + b.count)
        #expect(!result.overrun)
        #expect(result.backlog == head)
    }

    @Test(arguments: [8, 16, 24, 32, 40])
    func aRecordWrappingTheEndComesOutContiguous(bytesBeforeEnd: Int) {
        var ring = [UInt8](repeating: 0xAA, count: 128)
        let record = comm("wraps-around-the-end")
        #expect(record.count > bytesBeforeEnd)
        // Many laps in, so the positions are free-running counters, not offsets.
        let tail = UInt64(1 << 40) + UInt64(128 - bytesBeforeEnd)
        place(record, at: tail, in: &ring)
        let head = tail + UInt64(record.count)
        let (result, out) = drain(ring, head: head, tail: tail)
        #expect(out == record)
        #expect(result.newTail == head)
        #expect(!result.overrun)
        let decoded = try? RecordDecoder(format: .amd64Profiling).decode(out[...]).get()
        #expect(
            decoded
                == .comm(
                    Comm(
                        pid: ProcessID(1), tid: ThreadID(1), name: "wraps-around-the-end",
                        sampleID: SampleID(pid: ProcessID(0), tid: ThreadID(0), time: 0, cpu: 0))))
    }

    @Test(arguments: [UInt16(0), 4, 12, 4096])
    func anUntrustworthyHeaderSkipsToTheHeadAndKeepsWhatCameBefore(badSize: UInt16) {
        var ring = [UInt8](repeating: 0, count: 256)
        let good = comm("good")
        place(good, at: 0, in: &ring)
        var bad = comm("bad")
        bad[6] = UInt8(badSize & 0xff)
        bad[7] = UInt8(badSize >> 8)
        place(bad, at: UInt64(good.count), in: &ring)
        let head = UInt64(good.count + bad.count)
        let (result, out) = drain(ring, head: head, tail: 0)
        #expect(out == good)
        #expect(result.overrun)
        #expect(result.newTail == head)
        #expect(result.records == 1)
    }

    @Test func moreUnreadBytesThanTheRingHoldsIsAnOverrun() {
        let ring = [UInt8](repeating: 0, count: 64)
        let (result, out) = drain(ring, head: 1000, tail: 100)
        #expect(out.isEmpty)
        #expect(result.overrun)
        #expect(result.newTail == 1000)
    }

    @Test func aTailShorterThanAHeaderIsAnOverrun() {
        var ring = [UInt8](repeating: 0, count: 128)
        let record = comm("x")
        place(record, at: 0, in: &ring)
        let (result, out) = drain(ring, head: UInt64(record.count + 4), tail: 0)
        #expect(out == record)
        #expect(result.overrun)
        #expect(result.newTail == UInt64(record.count + 4))
    }

    @Test func anEmptyRingYieldsNothing() {
        let ring = [UInt8](repeating: 0, count: 64)
        let (result, out) = drain(ring, head: 128, tail: 128)
        #expect(out.isEmpty && !result.overrun && result.records == 0 && result.newTail == 128)
    }

    @Test func lostRecordsAreTallied() {
        var ring = [UInt8](repeating: 0, count: 256)
        let lost1 = encoder.encode(.lost(Lost(id: 1, count: 7)))
        let lost2 = encoder.encode(.lost(Lost(id: 1, count: 0x1_0000_0005)))
        let other = comm("between")
        place(lost1, at: 200, in: &ring)
        place(other, at: 200 + UInt64(lost1.count), in: &ring)
        place(lost2, at: 200 + UInt64(lost1.count + other.count), in: &ring)
        let head = 200 + UInt64(lost1.count + other.count + lost2.count)
        let (result, out) = drain(ring, head: head, tail: 200)
        #expect(out == lost1 + other + lost2)
        #expect(result.lost == 0x1_0000_000C)
    }
}
