/// What `CallFrameCheck` concluded about the code at recent addresses of one process map: a direct-mapped table of
/// 4,096 entries of 16 bytes, so that a profile of code that keeps its frame records pays a hash and a compare per frame
/// instead of a binary search through a module's rules. Measured on a capture of the shares fixture (5 frames a
/// sample, all with records) that search cost `--unwind hybrid` a quarter of the pipeline's throughput.
///
/// Entries belong to one `MappedCallFrameRules`: `invalidate()` (O(1): a new generation) whenever the owner builds
/// another, because the same address may be other code after an `mmap` or in another process.
public struct CallFrameVerdicts: Sendable {
    /// How a frame at an address may be walked without CFI.
    public enum Kind: UInt8, Sendable {
        /// No rule, or a frame record: a frame-pointer step is right at any depth.
        case framed = 1
        /// BP untouched and SP-relative: right only as the sampled frame, whose caller the entry rule found.
        case framedAsLeaf
        /// Anything else: the walk must be redone by CFI.
        case needsCFI

        public init(_ rule: CallFrameRule?) {
            switch rule {
            case nil, .framePointer: self = .framed
            case .stack(_, savedBP: nil): self = .framedAsLeaf
            default: self = .needsCFI
            }
        }
    }

    /// One array, not three: a borrow of the table is then one retain where the owner cannot avoid one.
    private struct Entry {
        var address: UInt64 = 0
        var generation: UInt32 = 0
        var kind = Kind.needsCFI
    }
    private var entries: [Entry]
    private var generation: UInt32 = 1
    private let mask: Int

    /// `capacity` 0 keeps nothing (every lookup misses); otherwise it is rounded up to a power of two.
    public init(capacity: Int = 4096) {
        let size = capacity > 0 ? 1 << (Int.bitWidth - (capacity - 1).leadingZeroBitCount) : 0
        entries = [Entry](repeating: Entry(), count: size)
        mask = size - 1
    }

    /// Forgets every entry.
    public mutating func invalidate() {
        generation &+= 1
        if generation == 0 {
            // After 2^32 maps: the old generations could match again.
            for i in entries.indices { entries[i].generation = 0 }
            generation = 1
        }
    }

    /// The kind of the code at `address` if the table holds it.
    @inline(__always)
    public func knownKind(at address: UInt64) -> Kind? {
        guard mask >= 0 else { return nil }
        let entry = entries[slot(address)]
        return entry.generation == generation && entry.address == address ? entry.kind : nil
    }

    /// The kind of the code at `address`, from the table or from `lookup` (then kept).
    public mutating func kind(at address: UInt64, lookup: () -> CallFrameRule?) -> Kind {
        guard mask >= 0 else { return Kind(lookup()) }
        let slot = self.slot(address)
        if entries[slot].generation == generation, entries[slot].address == address { return entries[slot].kind }
        let kind = Kind(lookup())
        entries[slot] = Entry(address: address, generation: generation, kind: kind)
        return kind
    }

    /// Fibonacci hashing: the multiply spreads the page and offset bits of nearby return addresses over the slots.
    @inline(__always)
    private func slot(_ address: UInt64) -> Int {
        Int(truncatingIfNeeded: (address &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
    }
}
