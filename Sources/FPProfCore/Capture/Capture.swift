/// A raw capture: the records of one recording exactly as the kernel laid them out, behind a small header that
/// says how to decode them. Replaying a capture through `ProfileBuilder` gives the same profile as the live run,
/// because the live run built its profile from the very same bytes (side-band records synthesized from /proc
/// included). Layout (little-endian), documented in docs/capture-format.md:
///
///     magic "FPPROFCP" | u32 version | u32 header length | header | chunk*
///     header: u64 sample_type | u64 sample_regs_user | u8 sample_id_all | u8 pad[3] | u32 frequency
///             | u32 stack size | u32 event name length | event name (UTF-8) | pad to 8
///     chunk:  u32 kind (1 = records) | u32 reserved | u64 length | bytes | pad to 8
public struct CaptureHeader: Hashable, Sendable {
    public var format: RecordFormat
    public var frequency: Int
    public var stackSize: Int
    public var event: String

    public init(format: RecordFormat, frequency: Int, stackSize: Int, event: String) {
        self.format = format
        self.frequency = frequency
        self.stackSize = stackSize
        self.event = event
    }
}

public enum CaptureError: Error, Hashable, Sendable, CustomStringConvertible {
    case notACapture
    case unsupportedVersion(UInt32)
    case truncated(at: Int)
    case corrupt(String)

    public var description: String {
        switch self {
        case .notACapture: "not an fpprof capture (bad magic)"
        case .unsupportedVersion(let v): "capture version \(v) is not supported by this fpprof (it reads version 1)"
        case .truncated(let at): "capture is truncated at byte \(at)"
        case .corrupt(let why): "capture is corrupt: \(why)"
        }
    }
}

public enum Capture {
    public static let magic: [UInt8] = Array("FPPROFCP".utf8)
    public static let version: UInt32 = 1
    static let recordsChunk: UInt32 = 1

    /// The file's first bytes: magic, version and header.
    public static func encodeHeader(_ h: CaptureHeader) -> [UInt8] {
        var body: [UInt8] = []
        body.appendLittleEndian(h.format.sampleFields.rawValue)
        body.appendLittleEndian(h.format.userRegisterMask)
        body += [h.format.sampleIDAll ? 1 : 0, 0, 0, 0]
        body.appendLittleEndian(UInt32(clamping: h.frequency))
        body.appendLittleEndian(UInt32(clamping: h.stackSize))
        let event = Array(h.event.utf8)
        body.appendLittleEndian(UInt32(event.count))
        body += event
        while body.count % 8 != 0 { body.append(0) }
        var out = magic
        out.appendLittleEndian(version)
        out.appendLittleEndian(UInt32(body.count))
        return out + body
    }

    /// One chunk of whole records.
    public static func encodeRecords(_ records: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(records.count + 24)
        out.appendLittleEndian(recordsChunk)
        out.appendLittleEndian(UInt32(0))
        out.appendLittleEndian(UInt64(records.count))
        out += records
        while out.count % 8 != 0 { out.append(0) }
        return out
    }

    /// Parses a whole capture: its header and every chunk of records, shared with `bytes` (no copy). A capture cut
    /// anywhere after its header is an error here; `decodeSalvaging` keeps what precedes the cut.
    public static func decode(_ bytes: [UInt8]) throws(CaptureError) -> (CaptureHeader, [ArraySlice<UInt8>]) {
        let (header, chunks, truncatedAt) = try decodeSalvaging(bytes)
        if let truncatedAt { throw .truncated(at: truncatedAt) }
        return (header, chunks)
    }

    /// Parses a capture as far as it is whole, as `perf report` reads a perf.data whose recording never finished:
    /// `truncatedAt` is the start of the chunk a cut (a copy that stopped, a disk that filled) runs through, and
    /// that chunk's bytes up to the cut are the last chunk returned. Its last record may be cut too: the builder
    /// counts it as one that cannot be decoded. A cut inside the file's own header still throws.
    public static func decodeSalvaging(_ bytes: [UInt8]) throws(CaptureError) -> (
        header: CaptureHeader, chunks: [ArraySlice<UInt8>], truncatedAt: Int?
    ) {
        let (header, headerEnd) = try decodeHeader(bytes[...])
        var c = ByteCursor(bytes[headerEnd...])
        var chunks: [ArraySlice<UInt8>] = []
        while c.remaining > 0 {
            let at = headerEnd + c.offset
            guard let chunkHeader = c.take(chunkHeaderSize) else { return (header, chunks, at) }
            let length = try recordsLength(chunkHeader, at: at)
            guard length <= c.remaining, let data = c.take(length) else {
                if let rest = c.take(c.remaining), !rest.isEmpty { chunks.append(rest) }
                return (header, chunks, at)
            }
            _ = c.skip((8 - length % 8) % 8)
            chunks.append(data)
        }
        return (header, chunks, nil)
    }

    /// The bytes before a chunk's records: u32 kind, u32 reserved, u64 length.
    public static let chunkHeaderSize = 16

    /// The magic, version and header at the start of `bytes`, and where the first chunk starts. `bytes` may hold
    /// only a prefix of the capture: a reader that streams the file gives the first bytes it has.
    public static func decodeHeader(_ bytes: ArraySlice<UInt8>) throws(CaptureError) -> (CaptureHeader, Int) {
        var c = ByteCursor(bytes)
        guard let m = c.take(8), Array(m) == magic else { throw .notACapture }
        guard let version = c.u32(), let headerLength = c.u32() else { throw .truncated(at: c.offset) }
        guard version == Self.version else { throw .unsupportedVersion(version) }
        guard let headerBytes = c.take(Int(headerLength)) else { throw .truncated(at: c.offset) }
        var h = ByteCursor(headerBytes)
        guard let fields = h.u64(), let mask = h.u64(), let idAll = h.u8(), h.skip(3), let freq = h.u32(),
            let stack = h.u32(), let eventLength = h.u32(), let event = h.take(Int(eventLength))
        else { throw .corrupt("header too short") }
        let format = RecordFormat(
            sampleFields: SampleFields(rawValue: fields), userRegisterMask: mask, sampleIDAll: idAll != 0)
        guard format.sampleFields.subtracting(.supported).isEmpty else {
            throw .corrupt("unsupported sample_type 0x\(String(fields, radix: 16))")
        }
        let header = CaptureHeader(
            format: format, frequency: Int(freq), stackSize: Int(stack),
            event: String(decoding: event, as: UTF8.self))
        return (header, c.offset)
    }

    /// The length of the records that follow a chunk header (`chunkHeaderSize` bytes, found at byte `at`); the
    /// chunk's padding to 8 bytes follows them.
    public static func recordsLength(_ chunkHeader: ArraySlice<UInt8>, at: Int) throws(CaptureError) -> Int {
        var c = ByteCursor(chunkHeader)
        guard let kind = c.u32(), c.u32() != nil, let length = c.u64() else { throw .truncated(at: at) }
        guard kind == recordsChunk else { throw .corrupt("unknown chunk kind \(kind) at byte \(at)") }
        guard length <= UInt64(Int.max / 2) else { throw .corrupt("chunk length \(length) at byte \(at)") }
        return Int(length)
    }
}
