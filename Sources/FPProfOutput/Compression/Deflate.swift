/// A small DEFLATE (RFC 1951) compressor: LZ77 over a 32 KiB window with hash chains, coded with the fixed
/// Huffman tables, in one block. The package has no zlib target and Foundation on Linux does not compress, and
/// pprof files are mostly repeated varints and strings, which this shrinks several times at little cost. It
/// never needs dynamic tables to be correct: any DEFLATE reader accepts fixed-code blocks.
enum Deflate {
    static let windowSize = 1 << 15
    static let minMatch = 3
    static let maxMatch = 258
    /// How many earlier positions with the same 3-byte hash are tried: enough for repetitive protobuf.
    static let maxChain = 48
    static let hashBits = 15

    static let lengthBase: [Int] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227,
        258,
    ]
    static let lengthExtra: [Int] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ]
    static let distanceBase: [Int] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
        6145, 8193, 12289, 16385, 24577,
    ]
    static let distanceExtra: [Int] = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
    ]
    /// For each match length 0...258, the index into `lengthBase` of its length code.
    static let lengthCode: [UInt8] = {
        var codes = [UInt8](repeating: 0, count: maxMatch + 1)
        for length in minMatch...maxMatch {
            var i = lengthBase.count - 1
            while lengthBase[i] > length { i -= 1 }
            codes[length] = UInt8(i)
        }
        return codes
    }()

    /// The raw DEFLATE stream of `input` (no zlib or gzip framing).
    static func compress(_ input: [UInt8]) -> [UInt8] {
        var out = BitWriter()
        out.reserve(input.count / 2 + 64)
        out.write(1, bits: 1)  // BFINAL: the only block
        out.write(1, bits: 2)  // BTYPE 01: fixed Huffman codes
        let hashSize = 1 << hashBits
        var head = [Int32](repeating: -1, count: hashSize)
        var previous = [Int32](repeating: -1, count: windowSize)
        let n = input.count

        input.withUnsafeBufferPointer { data in
            @inline(__always) func hash(_ i: Int) -> Int {
                let v = Int(data[i]) << 16 | Int(data[i + 1]) << 8 | Int(data[i + 2])
                return ((v &* 0x9E37_79B1) >> 7) & (hashSize - 1)
            }
            @inline(__always) func insert(_ i: Int) {
                let h = hash(i)
                previous[i & (windowSize - 1)] = head[h]
                head[h] = Int32(i)
            }
            var i = 0
            while i < n {
                var bestLength = 0
                var bestDistance = 0
                if i + minMatch <= n {
                    var candidate = Int(head[hash(i)])
                    var chain = maxChain
                    let limit = min(maxMatch, n - i)
                    while candidate >= 0, i - candidate <= windowSize, chain > 0 {
                        if data[candidate + bestLength] == data[i + bestLength] || bestLength == 0 {
                            var length = 0
                            while length < limit && data[candidate + length] == data[i + length] { length += 1 }
                            if length > bestLength {
                                bestLength = length
                                bestDistance = i - candidate
                                if length == limit { break }
                            }
                        }
                        let next = Int(previous[candidate & (windowSize - 1)])
                        if next >= candidate { break }  // the slot was reused by a newer position
                        candidate = next
                        chain -= 1
                    }
                    insert(i)
                }
                if bestLength >= minMatch {
                    out.writeLength(bestLength)
                    out.writeDistance(bestDistance)
                    let end = i + bestLength
                    i += 1
                    while i < end {
                        if i + minMatch <= n { insert(i) }
                        i += 1
                    }
                } else {
                    out.writeLiteral(Int(data[i]))
                    i += 1
                }
            }
        }
        out.writeLiteral(256)  // end of block
        out.flush()
        return out.bytes
    }
}

/// Bits packed least significant first, as DEFLATE stores everything but Huffman codes (which are written most
/// significant bit first, hence `writeCode`).
struct BitWriter {
    private(set) var bytes: [UInt8] = []
    private var buffer: UInt64 = 0
    private var count = 0

    mutating func reserve(_ n: Int) { bytes.reserveCapacity(n) }

    mutating func write(_ value: Int, bits: Int) {
        buffer |= UInt64(value) << UInt64(count)
        count += bits
        while count >= 8 {
            bytes.append(UInt8(truncatingIfNeeded: buffer))
            buffer >>= 8
            count -= 8
        }
    }

    mutating func writeCode(_ code: Int, bits: Int) {
        var reversed = 0
        for b in 0..<bits where code & (1 << b) != 0 { reversed |= 1 << (bits - 1 - b) }
        write(reversed, bits: bits)
    }

    /// A literal byte (0...255) or a length symbol (256...287) in the fixed literal/length code.
    mutating func writeLiteral(_ symbol: Int) {
        switch symbol {
        case 0...143: writeCode(0x30 + symbol, bits: 8)
        case 144...255: writeCode(0x190 + symbol - 144, bits: 9)
        case 256...279: writeCode(symbol - 256, bits: 7)
        default: writeCode(0xC0 + symbol - 280, bits: 8)
        }
    }

    mutating func writeLength(_ length: Int) {
        let code = Int(Deflate.lengthCode[length])
        writeLiteral(257 + code)
        let extra = Deflate.lengthExtra[code]
        if extra > 0 { write(length - Deflate.lengthBase[code], bits: extra) }
    }

    mutating func writeDistance(_ distance: Int) {
        var code = Deflate.distanceBase.count - 1
        while Deflate.distanceBase[code] > distance { code -= 1 }
        writeCode(code, bits: 5)
        let extra = Deflate.distanceExtra[code]
        if extra > 0 { write(distance - Deflate.distanceBase[code], bits: extra) }
    }

    mutating func flush() {
        if count > 0 {
            bytes.append(UInt8(truncatingIfNeeded: buffer))
            buffer = 0
            count = 0
        }
    }
}
