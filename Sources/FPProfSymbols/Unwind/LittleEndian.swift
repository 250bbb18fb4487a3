/// Reading the CFI sections' little-endian fields (`.eh_frame`, `.eh_frame_hdr`) from their copied bytes.
extension [UInt8] {
    /// The `size`-byte (at most 8) little-endian unsigned value at `offset`; nil when it does not fit.
    func littleEndian(at offset: Int, size: Int) -> UInt64? {
        guard offset >= 0, size <= 8, size <= count, offset <= count - size else { return nil }
        var value: UInt64 = 0
        for i in 0..<size { value |= UInt64(self[offset + i]) << (8 * UInt64(i)) }
        return value
    }
}
