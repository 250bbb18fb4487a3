import Testing

@testable import FPProfCore

/// Every sample field alone, then all together: encode a sample, decode it, get the same sample back. The shape
/// of perf's own tests/sample-parsing.c.
@Suite struct RecordRoundTripTests {
    static let singleBits: [SampleFields] = [
        .ip, .tid, .time, .addr, .callchain, .id, .cpu, .period, .streamID, .regsUser, .stackUser, .identifier,
    ]

    static func sample(for fields: SampleFields, mask: UInt64) -> Sample {
        var s = Sample(cpumode: .user)
        if fields.contains(.ip) { s.ip = VirtualAddress(0x5555_5555_1234) }
        if fields.contains(.tid) {
            s.pid = ProcessID(4242)
            s.tid = ThreadID(4243)
        }
        if fields.contains(.time) { s.time = 123_456_789_012 }
        if fields.contains(.addr) { s.addr = 0xdead_beef }
        if fields.contains(.id) || fields.contains(.identifier) { s.id = 77 }
        if fields.contains(.streamID) { s.streamID = 78 }
        if fields.contains(.cpu) { s.cpu = 3 }
        if fields.contains(.period) { s.period = 10_101_010 }
        if fields.contains(.callchain) {
            s.callchain = WordWindow([CallchainContext.user, 0x401000, 0x401100, 0x401200])
        }
        if fields.contains(.regsUser) {
            s.userRegisterABI = 2
            s.userRegisters = WordWindow((0..<UInt64(mask.nonzeroBitCount)).map { 0x1000 + $0 })
        }
        if fields.contains(.stackUser) { s.userStack = ArraySlice((0..<200).map { UInt8($0 & 0xff) }) }
        return s
    }

    @Test(arguments: singleBits)
    func eachFieldAlone(_ field: SampleFields) throws {
        try roundTrip(fields: field)
    }

    @Test func allFieldsTogether() throws {
        try roundTrip(fields: SampleFields.supported)
    }

    @Test func profilingFormat() throws {
        try roundTrip(fields: RecordFormat.amd64Profiling.sampleFields)
    }

    func roundTrip(fields: SampleFields) throws {
        let format = RecordFormat(sampleFields: fields, userRegisterMask: X86Registers.sampledMask, sampleIDAll: true)
        let decoder = try RecordDecoder(format: format)
        let original = Self.sample(for: fields, mask: format.userRegisterMask)
        let bytes = RecordEncoder(format: format).encode(.sample(original))
        #expect(bytes.count % 8 == 0)
        let decoded = try decoder.decode(bytes[...]).get()
        #expect(decoded == .sample(original))
    }

    @Test func sideBandRecordsRoundTrip() throws {
        let format = RecordFormat.amd64Profiling
        let decoder = try RecordDecoder(format: format)
        let encoder = RecordEncoder(format: format)
        let sid = SampleID(pid: ProcessID(10), tid: ThreadID(11), time: 99, cpu: 1)
        let records: [PerfRecord] = [
            .mmap2(
                Mmap2(
                    pid: ProcessID(10), tid: ThreadID(10), start: VirtualAddress(0x40_0000), length: 0x2000,
                    pageOffset: FileOffset(0x1000), major: 8, minor: 1, inode: 1234, inodeGeneration: 5,
                    protection: 5, flags: 2, filename: "/usr/bin/true", sampleID: sid)),
            .mmap2(
                Mmap2(
                    pid: ProcessID(10), tid: ThreadID(10), start: VirtualAddress(0x40_0000), length: 0x2000,
                    pageOffset: FileOffset(0), buildID: BuildID(bytes: Array(1...20)), protection: 5,
                    filename: "/lib/x86_64-linux-gnu/libc.so.6", sampleID: sid)),
            .comm(Comm(pid: ProcessID(10), tid: ThreadID(12), name: "worker", isExec: false, sampleID: sid)),
            .comm(Comm(pid: ProcessID(10), tid: ThreadID(10), name: "a-name-of-15chr", isExec: true, sampleID: sid)),
            .fork(
                TaskEvent(
                    pid: ProcessID(10), parentPID: ProcessID(1), tid: ThreadID(13), parentTID: ThreadID(10), time: 5,
                    sampleID: sid)),
            .exit(
                TaskEvent(
                    pid: ProcessID(10), parentPID: ProcessID(1), tid: ThreadID(13), parentTID: ThreadID(10), time: 6,
                    sampleID: sid)),
            .lost(Lost(id: 3, count: 17, sampleID: sid)),
        ]
        var stream: [UInt8] = []
        for r in records { stream += encoder.encode(r) }
        let decoded = try RecordStream(decoder: decoder, bytes: stream[...]).map { try $0.get() }
        #expect(decoded == records)
    }
}

@Suite struct MalformedRecordTests {
    let format = RecordFormat.amd64Profiling

    func encodedSample() -> [UInt8] {
        RecordEncoder(format: format).encode(
            .sample(RecordRoundTripTests.sample(for: format.sampleFields, mask: format.userRegisterMask)))
    }

    @Test func everyTruncationIsAnErrorNotACrash() throws {
        let decoder = try RecordDecoder(format: format)
        let bytes = encodedSample()
        for cut in 0..<bytes.count {
            let result = decoder.decode(bytes[..<cut])
            guard case .failure = result else {
                Issue.record("a record cut at \(cut) of \(bytes.count) bytes decoded")
                return
            }
        }
    }

    @Test func headerSizeShorterThanItsFieldsIsRejected() throws {
        let decoder = try RecordDecoder(format: format)
        var bytes = encodedSample()
        // Claim a 64-byte record: the callchain's nr then points past the end.
        bytes[6] = 64
        bytes[7] = 0
        #expect(throws: RecordDecodeError.self) { try decoder.decode(bytes[...]).get() }
    }

    @Test func hugeCallchainCountIsAFieldOverrun() throws {
        let decoder = try RecordDecoder(format: format)
        let s = Sample(
            cpumode: .user, ip: VirtualAddress(1), pid: ProcessID(1), tid: ThreadID(1), time: 1, cpu: 0,
            period: 1, callchain: WordWindow([1, 2]), userRegisterABI: 0, userStack: [])
        var bytes = RecordEncoder(format: format).encode(.sample(s))
        // nr sits after the 8-byte header and ip, tid, time, cpu, period (5 words).
        let nrOffset = 8 + 5 * 8
        for i in 0..<8 { bytes[nrOffset + i] = 0xff }
        let result = decoder.decode(bytes[...])
        #expect(result == .failure(.fieldOverrun(type: RecordType.sample, field: "callchain")))
    }

    @Test func garbageBytesNeverCrashAndFramingLossStopsTheStream() throws {
        let decoder = try RecordDecoder(format: format)
        var rng = SplitMix64(seed: 7)
        var decodedOrFailed = 0
        for _ in 0..<2000 {
            let count = Int(rng.next() % 300)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if bytes.count >= 8 {
                bytes[6] = UInt8(bytes.count & 0xf8)
                bytes[7] = UInt8(bytes.count >> 8)
                bytes[0] = UInt8([9, 10, 3, 7, 4, 2][Int(rng.next() % 6)])
                bytes[1] = 0
                bytes[2] = 0
                bytes[3] = 0
            }
            for _ in RecordStream(decoder: decoder, bytes: bytes[...]) { decodedOrFailed += 1 }
        }
        #expect(decodedOrFailed > 0)
    }

    @Test func zeroSizeHeaderEndsTheStream() throws {
        let decoder = try RecordDecoder(format: format)
        let bytes = [UInt8](repeating: 0, count: 64)
        let results = Array(RecordStream(decoder: decoder, bytes: bytes[...]))
        #expect(results.count == 1)
        #expect(results.first.map { if case .failure(.badSize(0)) = $0 { true } else { false } } == true)
    }

    @Test func unsupportedFieldsAreRefusedUpFront() {
        let f = RecordFormat(sampleFields: [.ip, .raw], userRegisterMask: 0, sampleIDAll: false)
        #expect(throws: RecordDecodeError.unsupportedFields(SampleFields.raw.rawValue)) {
            try RecordDecoder(format: f)
        }
    }
}

/// A small deterministic generator, so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
