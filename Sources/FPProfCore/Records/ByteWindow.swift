/// A view of little-endian words inside a shared byte buffer. Samples keep their callchain, registers and stack
/// copy as windows into the chunk they were read from, so decoding a 16 KiB stack copy costs no copy at all.
public struct WordWindow: RandomAccessCollection, Hashable, Sendable {
    public let bytes: ArraySlice<UInt8>

    @inlinable public init(bytes: ArraySlice<UInt8>) { self.bytes = bytes }
    public init(_ words: [UInt64]) {
        var out = [UInt8]()
        out.reserveCapacity(words.count * 8)
        for w in words { out.appendLittleEndian(w) }
        self.bytes = out[...]
    }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { bytes.count / 8 }
    @inlinable public subscript(i: Int) -> UInt64 {
        precondition(i >= 0 && i < endIndex, "word index out of range")
        return bytes.span.bytes.unsafeLoadUnaligned(fromByteOffset: i * 8, as: UInt64.self).littleEndian
    }

    public static func == (a: Self, b: Self) -> Bool { a.bytes.elementsEqual(b.bytes) }
    public func hash(into h: inout Hasher) {
        h.combine(bytes.count)
        for b in bytes.prefix(64) { h.combine(b) }
    }
}

extension [UInt8] {
    @inlinable mutating func appendLittleEndian<T: FixedWidthInteger>(_ v: T) {
        var le = v.littleEndian
        for _ in 0..<MemoryLayout<T>.size {
            append(UInt8(truncatingIfNeeded: le))
            le = le >> 8
        }
    }
}

/// A forward cursor over record bytes that returns `nil` on short input and moves only on success, so a
/// truncated record can never be half-consumed.
@usableFromInline struct ByteCursor {
    @usableFromInline let bytes: ArraySlice<UInt8>
    @usableFromInline var offset: Int  // relative to bytes.startIndex

    @inlinable init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.offset = 0
    }

    @inlinable var remaining: Int { bytes.count - offset }

    @inlinable mutating func u64() -> UInt64? {
        guard remaining >= 8 else { return nil }
        let v = bytes.span.bytes.unsafeLoadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian
        offset += 8
        return v
    }

    @inlinable mutating func u32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        let v = bytes.span.bytes.unsafeLoadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian
        offset += 4
        return v
    }

    @inlinable mutating func u16() -> UInt16? {
        guard remaining >= 2 else { return nil }
        let v = bytes.span.bytes.unsafeLoadUnaligned(fromByteOffset: offset, as: UInt16.self).littleEndian
        offset += 2
        return v
    }

    @inlinable mutating func u8() -> UInt8? {
        guard remaining >= 1 else { return nil }
        let v = bytes[bytes.startIndex + offset]
        offset += 1
        return v
    }

    /// The next `count` bytes, shared with the buffer.
    @inlinable mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, remaining >= count else { return nil }
        let start = bytes.startIndex + offset
        offset += count
        return bytes[start..<(start + count)]
    }

    @inlinable mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, remaining >= count else { return false }
        offset += count
        return true
    }
}
