/// Why a record could not be decoded. A value, not a crash: the caller counts it and moves to the next record.
public enum RecordDecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Fewer bytes than the 8-byte header, or than `header.size` says.
    case truncated(type: UInt32, needed: Int, available: Int)
    /// `header.size` smaller than a header, or not a multiple of 8: the stream has lost its framing.
    case badSize(UInt16)
    /// A field's own length (callchain `nr`, stack `size`) points past the record's end.
    case fieldOverrun(type: UInt32, field: String)
    /// The format asks for sample fields this decoder cannot walk over.
    case unsupportedFields(UInt64)

    public var description: String {
        switch self {
        case .truncated(let type, let needed, let available):
            "record type \(type) truncated: needs \(needed) bytes, \(available) available"
        case .badSize(let size): "record header size \(size) is not a valid record size"
        case .fieldOverrun(let type, let field): "record type \(type): field \(field) runs past the record end"
        case .unsupportedFields(let bits): "unsupported sample_type bits 0x\(String(bits, radix: 16))"
        }
    }
}

/// Decodes `perf_event_header`-framed records laid out per a `RecordFormat`. Pure: bytes in, values out.
public struct RecordDecoder: Sendable {
    public let format: RecordFormat
    public static let headerSize = 8

    public init(format: RecordFormat) throws(RecordDecodeError) {
        let unknown = format.sampleFields.subtracting(.supported)
        guard unknown.isEmpty else { throw .unsupportedFields(unknown.rawValue) }
        self.format = format
    }

    /// The size of the record at the start of `bytes` per its header, or an error if the header cannot be
    /// trusted. Used to split a stream of records.
    @inlinable public static func recordSize(at bytes: ArraySlice<UInt8>) -> Result<Int, RecordDecodeError> {
        var c = ByteCursor(bytes)
        guard let type = c.u32(), c.u16() != nil, let size = c.u16() else {
            return .failure(.truncated(type: 0, needed: headerSize, available: bytes.count))
        }
        guard Int(size) >= headerSize, size % 8 == 0 else { return .failure(.badSize(size)) }
        guard Int(size) <= bytes.count else {
            return .failure(.truncated(type: type, needed: Int(size), available: bytes.count))
        }
        return .success(Int(size))
    }

    /// Decodes the one record at the start of `bytes` (which may hold more after it).
    public func decode(_ bytes: ArraySlice<UInt8>) -> Result<PerfRecord, RecordDecodeError> {
        let size: Int
        switch Self.recordSize(at: bytes) {
        case .success(let s): size = s
        case .failure(let e): return .failure(e)
        }
        let record = bytes.prefix(size)
        var c = ByteCursor(record)
        // Invariant: recordSize checked the record holds at least its 8-byte header, so these two reads succeed.
        let type = c.u32()!
        let misc = c.u16()!
        _ = c.u16()
        switch type {
        case RecordType.sample:
            return decodeSample(&c, misc: misc)
        case RecordType.mmap2: return decodeMmap2(&c, misc: misc).map(PerfRecord.mmap2)
        case RecordType.comm: return decodeComm(&c, misc: misc).map(PerfRecord.comm)
        case RecordType.fork: return decodeTask(&c, type: type).map(PerfRecord.fork)
        case RecordType.exit: return decodeTask(&c, type: type).map(PerfRecord.exit)
        case RecordType.lost: return decodeLost(&c).map(PerfRecord.lost)
        case RecordType.lostSamples:
            guard let n = c.u64() else { return .failure(short(type, record)) }
            return .success(.lost(Lost(id: 0, count: n)))
        default: return .success(.other(type: type))
        }
    }

    private func short(_ type: UInt32, _ record: ArraySlice<UInt8>) -> RecordDecodeError {
        .truncated(type: type, needed: record.count + 8, available: record.count)
    }

    @inline(__always)
    /// A record already: wrapping the sample afterwards, through `Result.map` or a `switch`, copied it (three
    /// slices retained and released again).
    private func decodeSample(_ c: inout ByteCursor, misc: UInt16) -> Result<PerfRecord, RecordDecodeError> {
        let f = format.sampleFields
        let t = RecordType.sample
        var s = Sample(cpumode: CPUMode(rawValue: misc & RecordMisc.cpumodeMask) ?? .unknown)
        let fail = RecordDecodeError.truncated(type: t, needed: c.bytes.count + 1, available: c.bytes.count)
        if f.contains(.identifier) {
            guard let v = c.u64() else { return .failure(fail) }
            s.id = v
        }
        if f.contains(.ip) {
            guard let v = c.u64() else { return .failure(fail) }
            s.ip = VirtualAddress(v)
        }
        if f.contains(.tid) {
            guard let p = c.u32(), let t = c.u32() else { return .failure(fail) }
            s.pid = ProcessID(Int32(bitPattern: p))
            s.tid = ThreadID(Int32(bitPattern: t))
        }
        if f.contains(.time) {
            guard let v = c.u64() else { return .failure(fail) }
            s.time = v
        }
        if f.contains(.addr) {
            guard let v = c.u64() else { return .failure(fail) }
            s.addr = v
        }
        if f.contains(.id) {
            guard let v = c.u64() else { return .failure(fail) }
            s.id = v
        }
        if f.contains(.streamID) {
            guard let v = c.u64() else { return .failure(fail) }
            s.streamID = v
        }
        if f.contains(.cpu) {
            guard let v = c.u32(), c.u32() != nil else { return .failure(fail) }
            s.cpu = v
        }
        if f.contains(.period) {
            guard let v = c.u64() else { return .failure(fail) }
            s.period = v
        }
        if f.contains(.callchain) {
            guard let n = c.u64() else { return .failure(fail) }
            guard n <= UInt64(c.remaining / 8), let words = c.take(Int(n) * 8) else {
                return .failure(.fieldOverrun(type: t, field: "callchain"))
            }
            s.callchain = WordWindow(bytes: words)
        }
        if f.contains(.regsUser) {
            guard let abi = c.u64() else { return .failure(fail) }
            s.userRegisterABI = abi
            if abi != 0 {
                guard let words = c.take(format.userRegisterCount * 8) else {
                    return .failure(.fieldOverrun(type: t, field: "regs_user"))
                }
                s.userRegisters = WordWindow(bytes: words)
            }
        }
        if f.contains(.stackUser) {
            guard let size = c.u64() else { return .failure(fail) }
            if size != 0 {
                guard size <= UInt64(c.remaining), let data = c.take(Int(size)) else {
                    return .failure(.fieldOverrun(type: t, field: "stack_user"))
                }
                guard let dyn = c.u64() else { return .failure(.fieldOverrun(type: t, field: "stack_user dyn_size")) }
                guard dyn <= size else { return .failure(.fieldOverrun(type: t, field: "stack_user dyn_size")) }
                s.userStack = data.prefix(Int(dyn))
            } else {
                s.userStack = ArraySlice()
            }
        }
        return .success(.sample(s))
    }

    /// The `sample_id_all` trailer of a side-band record.
    private func decodeSampleID(_ c: inout ByteCursor) -> SampleID {
        var id = SampleID()
        guard format.sampleIDAll else { return id }
        let f = format.sampleFields
        if f.contains(.tid), let p = c.u32(), let t = c.u32() {
            id.pid = ProcessID(Int32(bitPattern: p))
            id.tid = ThreadID(Int32(bitPattern: t))
        }
        if f.contains(.time) { id.time = c.u64() }
        if f.contains(.id) { _ = c.u64() }
        if f.contains(.streamID) { _ = c.u64() }
        if f.contains(.cpu), let cpu = c.u32() {
            _ = c.u32()
            id.cpu = cpu
        }
        return id
    }

    /// A NUL-terminated string padded to 8 bytes, as COMM and MMAP2 carry them.
    private func cString(_ c: inout ByteCursor, trailer: Int) -> String? {
        let available = c.remaining - trailer
        guard available > 0, let field = c.take(available) else { return nil }
        let end = field.firstIndex(of: 0) ?? field.endIndex
        return String(decoding: field[field.startIndex..<end], as: UTF8.self)
    }

    private var sampleIDSize: Int {
        guard format.sampleIDAll else { return 0 }
        let f = format.sampleFields
        var n = 0
        if f.contains(.tid) { n += 8 }
        if f.contains(.time) { n += 8 }
        if f.contains(.id) { n += 8 }
        if f.contains(.streamID) { n += 8 }
        if f.contains(.cpu) { n += 8 }
        if f.contains(.identifier) { n += 8 }
        return n
    }

    private func decodeMmap2(_ c: inout ByteCursor, misc: UInt16) -> Result<Mmap2, RecordDecodeError> {
        let t = RecordType.mmap2
        guard let pid = c.u32(), let tid = c.u32(), let addr = c.u64(), let len = c.u64(), let pgoff = c.u64()
        else { return .failure(.truncated(type: t, needed: 48, available: c.bytes.count)) }
        var buildID: BuildID?
        var major: UInt32 = 0
        var minor: UInt32 = 0
        var ino: UInt64 = 0
        var gen: UInt64 = 0
        if misc & RecordMisc.mmapBuildID != 0 {
            guard let size = c.u8(), c.u8() != nil, c.u16() != nil, let raw = c.take(20) else {
                return .failure(.truncated(type: t, needed: 72, available: c.bytes.count))
            }
            buildID = BuildID(bytes: Array(raw.prefix(min(Int(size), 20))))
        } else {
            guard let ma = c.u32(), let mi = c.u32(), let i = c.u64(), let g = c.u64() else {
                return .failure(.truncated(type: t, needed: 72, available: c.bytes.count))
            }
            (major, minor, ino, gen) = (ma, mi, i, g)
        }
        guard let prot = c.u32(), let flags = c.u32() else {
            return .failure(.truncated(type: t, needed: 80, available: c.bytes.count))
        }
        guard let name = cString(&c, trailer: sampleIDSize) else {
            return .failure(.fieldOverrun(type: t, field: "filename"))
        }
        let sid = decodeSampleID(&c)
        return .success(
            Mmap2(
                pid: ProcessID(Int32(bitPattern: pid)), tid: ThreadID(Int32(bitPattern: tid)),
                start: VirtualAddress(addr), length: len, pageOffset: FileOffset(pgoff), buildID: buildID,
                major: major, minor: minor, inode: ino, inodeGeneration: gen, protection: prot, flags: flags,
                filename: name, sampleID: sid))
    }

    private func decodeComm(_ c: inout ByteCursor, misc: UInt16) -> Result<Comm, RecordDecodeError> {
        guard let pid = c.u32(), let tid = c.u32(), let name = cString(&c, trailer: sampleIDSize) else {
            return .failure(.truncated(type: RecordType.comm, needed: 24, available: c.bytes.count))
        }
        return .success(
            Comm(
                pid: ProcessID(Int32(bitPattern: pid)), tid: ThreadID(Int32(bitPattern: tid)), name: name,
                isExec: misc & RecordMisc.commExec != 0, sampleID: decodeSampleID(&c)))
    }

    private func decodeTask(_ c: inout ByteCursor, type: UInt32) -> Result<TaskEvent, RecordDecodeError> {
        guard let pid = c.u32(), let ppid = c.u32(), let tid = c.u32(), let ptid = c.u32(), let time = c.u64() else {
            return .failure(.truncated(type: type, needed: 32, available: c.bytes.count))
        }
        return .success(
            TaskEvent(
                pid: ProcessID(Int32(bitPattern: pid)), parentPID: ProcessID(Int32(bitPattern: ppid)),
                tid: ThreadID(Int32(bitPattern: tid)), parentTID: ThreadID(Int32(bitPattern: ptid)), time: time,
                sampleID: decodeSampleID(&c)))
    }

    private func decodeLost(_ c: inout ByteCursor) -> Result<Lost, RecordDecodeError> {
        guard let id = c.u64(), let n = c.u64() else {
            return .failure(.truncated(type: RecordType.lost, needed: 24, available: c.bytes.count))
        }
        return .success(Lost(id: id, count: n, sampleID: decodeSampleID(&c)))
    }
}

/// Splits a buffer of back-to-back records. A record whose header cannot be trusted ends the walk (the framing
/// is lost); a record that decodes badly is reported and skipped, because its header still gives its size.
public struct RecordStream: Sequence {
    public let decoder: RecordDecoder
    public let bytes: ArraySlice<UInt8>

    public init(decoder: RecordDecoder, bytes: ArraySlice<UInt8>) {
        self.decoder = decoder
        self.bytes = bytes
    }

    public struct Iterator: IteratorProtocol {
        let decoder: RecordDecoder
        var rest: ArraySlice<UInt8>
        var stopped = false

        public mutating func next() -> Result<PerfRecord, RecordDecodeError>? {
            guard !stopped, !rest.isEmpty else { return nil }
            switch RecordDecoder.recordSize(at: rest) {
            case .failure(let e):
                stopped = true
                return .failure(e)
            case .success(let size):
                let result = decoder.decode(rest)
                rest = rest.dropFirst(size)
                return result
            }
        }
    }

    public func makeIterator() -> Iterator { Iterator(decoder: decoder, rest: bytes) }
}
