/// gzip framing (RFC 1952) around `Deflate`: what pprof files are on disk.
enum Gzip {
    static func compress(_ input: [UInt8]) -> [UInt8] {
        // ID1 ID2, CM=8 (deflate), FLG=0, MTIME=0 (reproducible output), XFL=0, OS=3 (Unix).
        var out: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]
        out += Deflate.compress(input)
        let crc = CRC32.checksum(input)
        let size = UInt32(truncatingIfNeeded: input.count)
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: crc >> UInt32(shift))) }
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: size >> UInt32(shift))) }
        return out
    }
}
