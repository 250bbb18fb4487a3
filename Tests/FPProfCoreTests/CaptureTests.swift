import Testing

@testable import FPProfCore

/// The capture container: parsed whole, and salvaged up to a cut.
@Suite struct CaptureTests {
    let header = CaptureHeader(format: .amd64Profiling, frequency: 999, stackSize: 16384, event: "cpu-clock")

    func records(_ count: Int, from time: UInt64) -> [UInt8] {
        let encoder = RecordEncoder(format: header.format)
        return (0..<count).flatMap { i in
            encoder.encode(
                .sample(
                    Sample(
                        ip: VirtualAddress(0x1000), pid: ProcessID(7), tid: ThreadID(7), time: time + UInt64(i),
                        cpu: 0, period: 1)))
        }
    }

    /// Header, a chunk of 3 samples, a chunk of 4; and where the second chunk starts.
    func capture() -> (bytes: [UInt8], second: Int) {
        let first = Capture.encodeHeader(header) + Capture.encodeRecords(records(3, from: 10))
        return (first + Capture.encodeRecords(records(4, from: 20)), first.count)
    }

    @Test func wholeCaptureRoundTrips() throws {
        let (bytes, _) = capture()
        let (decoded, chunks) = try Capture.decode(bytes)
        #expect(decoded == header)
        #expect(chunks.map(Array.init) == [records(3, from: 10), records(4, from: 20)])
        #expect(try Capture.decodeSalvaging(bytes).truncatedAt == nil)
    }

    @Test func aCutInsideAChunkKeepsWhatPrecedesIt() throws {
        let (bytes, second) = capture()
        let sampleSize = records(1, from: 0).count
        // Two whole samples of the second chunk and half of the third.
        let cut = second + 16 + 2 * sampleSize + sampleSize / 2
        let salvaged = try Capture.decodeSalvaging(Array(bytes.prefix(cut)))
        #expect(salvaged.truncatedAt == second)
        #expect(salvaged.chunks.count == 2)
        #expect(Array(salvaged.chunks[0]) == records(3, from: 10))
        #expect(Array(salvaged.chunks[1]) == Array(records(4, from: 20).prefix(2 * sampleSize + sampleSize / 2)))
        #expect(throws: CaptureError.truncated(at: second)) { try Capture.decode(Array(bytes.prefix(cut))) }

        // The builder takes the whole samples and counts the cut one as undecodable.
        var builder = try ProfileBuilder(format: header.format)
        for chunk in salvaged.chunks { builder.consume(chunk) }
        let profile = builder.finish()
        #expect(profile.stats.samples == 5)
        #expect(profile.stats.decodeErrors == 1)
    }

    @Test func aCutInsideAChunkHeaderEndsAtThatChunk() throws {
        let (bytes, second) = capture()
        let salvaged = try Capture.decodeSalvaging(Array(bytes.prefix(second + 5)))
        #expect(salvaged.truncatedAt == second)
        #expect(salvaged.chunks.map(Array.init) == [records(3, from: 10)])
    }

    @Test func aCutInsideTheFileHeaderIsAnError() {
        let (bytes, _) = capture()
        #expect(throws: CaptureError.self) { try Capture.decodeSalvaging(Array(bytes.prefix(20))) }
    }
}
