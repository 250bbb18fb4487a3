internal import CZlib

/// The names of one symbol table, packed for a process that holds tables for months: a few dozen names a block,
/// each block one allocation, and a large table's blocks deflated by zlib.
///
/// Why: a `String` of a symbol name costs its bytes plus a heap object of its own (about 40 bytes more), and a
/// compiler's symbol table is huge: `swift-frontend` has 245,000 distinct function names in 26 MB. As `String`s they
/// took about 37 MB; packed and deflated, about 5 MB (mangled names share long prefixes, and neighbours in address
/// order share more). A name is decoded only when a profile asks for it, once per distinct sampled address (the
/// module's answer cache keeps the result), so inflating one block of at most `namesPerBlock` names per question
/// costs little beside the walk that asked.
///
/// Names are stored as a LEB128 length and the UTF-8 bytes, so any byte (a NUL included) survives.
struct PackedNames: Sendable {
    /// Names per block. 64 names of a C++ compiler are about 7 KB, which zlib inflates in some microseconds, and
    /// which still compress about 5× (larger blocks gain little: 128 names compress 9 % better, and cost twice the
    /// inflation on every question).
    static let namesPerBlock = 64
    /// Tables whose names take fewer bytes than this keep their blocks uncompressed: what deflate would save there
    /// is small, and their lookups stay as cheap as a scan of a few hundred bytes.
    static let compressionThreshold = 64 * 1024

    /// One block's bytes: deflated (zlib format) when `rawLengths` is not empty, else the plain entries.
    private let blocks: [[UInt8]]
    /// Per block, its inflated length; empty when the blocks are stored plain.
    private let rawLengths: [UInt32]
    let count: Int
    /// Bytes held, for the symbol memory budget: the blocks, and the arrays' own headers and slots.
    let byteCount: Int

    var isCompressed: Bool { !rawLengths.isEmpty }

    init<Names: Collection<String>>(_ names: Names) {
        var plain: [[UInt8]] = []
        plain.reserveCapacity((names.count + Self.namesPerBlock - 1) / Self.namesPerBlock)
        var block: [UInt8] = []
        var total = 0
        for (position, name) in names.enumerated() {
            if position > 0, position % Self.namesPerBlock == 0 {
                plain.append(block)
                block = []
            }
            Self.appendLength(name.utf8.count, to: &block)
            block.append(contentsOf: name.utf8)
            total += name.utf8.count
        }
        if !block.isEmpty { plain.append(block) }
        // Exact capacities: appending left each block up to twice its bytes.
        plain = plain.map { Array($0[...]) }

        count = names.count
        var lengths: [UInt32] = []
        if total >= Self.compressionThreshold {
            var deflated: [[UInt8]] = []
            deflated.reserveCapacity(plain.count)
            for bytes in plain {
                // A block that zlib refuses (only a failed allocation) or cannot shrink keeps the table plain.
                guard let packed = Self.deflate(bytes), packed.count < bytes.count else {
                    deflated = []
                    break
                }
                deflated.append(packed)
            }
            if deflated.count == plain.count {
                lengths = plain.map { UInt32($0.count) }
                plain = deflated
            }
        }
        blocks = plain
        rawLengths = lengths
        byteCount = plain.reduce(0) { $0 + $1.count + 48 } + lengths.count * 4
    }

    /// The name at `index`; "" if its block cannot be inflated (zlib out of memory), which the caller then treats
    /// as code without a name rather than a wrong one.
    subscript(index: Int) -> String {
        let bytes = block(index / Self.namesPerBlock)
        var cursor = 0
        for _ in 0..<(index % Self.namesPerBlock) {
            guard let length = Self.readLength(bytes, &cursor) else { return "" }
            cursor += length
        }
        guard let length = Self.readLength(bytes, &cursor), cursor + length <= bytes.count else { return "" }
        return String(decoding: bytes[cursor..<cursor + length], as: UTF8.self)
    }

    /// The first index holding `name`: a scan of every block, for the rare question by name.
    func firstIndex(of name: String) -> Int? {
        let wanted = Array(name.utf8)
        for blockIndex in blocks.indices {
            let bytes = block(blockIndex)
            var cursor = 0
            var position = blockIndex * Self.namesPerBlock
            while cursor < bytes.count, let length = Self.readLength(bytes, &cursor) {
                let end = min(cursor + length, bytes.count)
                if length == wanted.count, bytes[cursor..<end].elementsEqual(wanted) { return position }
                cursor = end
                position += 1
            }
        }
        return nil
    }

    /// Block `index`'s plain entries.
    private func block(_ index: Int) -> [UInt8] {
        guard isCompressed else { return blocks[index] }
        return Self.inflate(blocks[index], length: Int(rawLengths[index])) ?? []
    }

    // MARK: - Encoding

    private static func appendLength(_ length: Int, to bytes: inout [UInt8]) {
        var rest = UInt(length)
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7f) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// The LEB128 length at `cursor`, which it moves past; nil at the end or on a length that overruns the block.
    private static func readLength(_ bytes: [UInt8], _ cursor: inout Int) -> Int? {
        var length = 0
        var shift = 0
        while cursor < bytes.count, shift < 35 {
            let byte = bytes[cursor]
            cursor += 1
            length |= Int(byte & 0x7f) << shift
            if byte < 0x80 { return cursor + length <= bytes.count ? length : nil }
            shift += 7
        }
        return nil
    }

    /// zlib's one-call `compress2` at its fastest level: a table is packed once per read of its file, and a
    /// forgotten module is read again when met, so the packing sits on the path of a daemon's windows. Level 6
    /// saves another 10 % of the bytes at twice the time.
    private static func deflate(_ input: [UInt8]) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: Int(compressBound(uLong(input.count))))
        var outLength = uLongf(out.count)
        let status = out.withUnsafeMutableBufferPointer { target in
            input.withUnsafeBufferPointer { source in
                // Invariant: both buffers outlive the call; zlib writes at most `outLength` bytes and reads
                // `source.count`.
                compress2(target.baseAddress, &outLength, source.baseAddress, uLong(source.count), Z_BEST_SPEED)
            }
        }
        guard status == Z_OK else { return nil }
        // A copy of exactly that length: trimming `out` in place would keep its capacity, the bound.
        return Array(out[..<Int(outLength)])
    }

    private static func inflate(_ input: [UInt8], length: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: length)
        var outLength = uLongf(length)
        let status = out.withUnsafeMutableBufferPointer { target in
            input.withUnsafeBufferPointer { source in
                // Invariant: as in `deflate`; `uncompress` stops at `outLength` bytes whatever the input says.
                uncompress(target.baseAddress, &outLength, source.baseAddress, uLong(source.count))
            }
        }
        guard status == Z_OK, Int(outLength) == length else { return nil }
        return out
    }
}
