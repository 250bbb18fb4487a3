/// What `CallFrameCheck` concluded about the code at recent addresses of the processes' maps: a direct-mapped table
/// of 4,096 entries of 24 bytes, keyed by process and address, so that a profile of code that keeps its frame
/// records pays a hash and a compare per frame instead of a binary search through a module's rules. Measured on a
/// capture of the shares fixture (5 frames a sample, all with records) that search cost `--unwind hybrid` a quarter
/// of the pipeline's throughput.
///
/// Entries hold while the process maps they were judged by do: the owner calls `invalidate()` (O(1): a new
/// generation) at every record that may change one (an address may be other code after an `mmap`). Keyed by
/// process, samples of several processes in turn (two busy programs, a whole host) keep theirs.
public struct CallFrameVerdicts: Sendable {
    /// How a frame at an address may be walked without CFI.
    public enum Kind: UInt8, Sendable {
        /// No rule, or a frame record (a realigned one too: a frame-pointer step needs no caller's SP): a
        /// frame-pointer step is right at any depth.
        case framed = 1
        /// BP untouched and SP-relative: right only as the sampled frame, whose caller the entry rule found.
        case framedAsLeaf
        /// Anything else: the walk must be redone by CFI.
        case needsCFI

        public init(_ rule: CallFrameRule?) {
            switch rule {
            case nil, .framePointer, .realigned: self = .framed
            case .stack(_, savedBP: nil): self = .framedAsLeaf
            default: self = .needsCFI
            }
        }
    }

    /// One array, not three: a borrow of the table is then one retain where the owner cannot avoid one.
    private struct Entry {
        var address: UInt64 = 0
        var generation: UInt32 = 0
        var pid: Int32 = 0
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

    /// The kind of the code at `address` in process `pid` if the table holds it.
    @inline(__always)
    public func knownKind(at address: UInt64, pid: ProcessID) -> Kind? {
        guard mask >= 0 else { return nil }
        let entry = entries[slot(address, pid)]
        return entry.generation == generation && entry.address == address && entry.pid == pid.rawValue
            ? entry.kind : nil
    }

    /// The kind of the code at `address` in process `pid`, from the table or from `lookup` (then kept).
    public mutating func kind(at address: UInt64, pid: ProcessID, lookup: () -> CallFrameRule?) -> Kind {
        if let known = knownKind(at: address, pid: pid) { return known }
        let kind = Kind(lookup())
        if mask >= 0 {
            entries[slot(address, pid)] = Entry(address: address, generation: generation, pid: pid.rawValue, kind: kind)
        }
        return kind
    }

    /// Fibonacci hashing: the multiply spreads the page and offset bits of nearby return addresses over the slots.
    @inline(__always)
    private func slot(_ address: UInt64, _ pid: ProcessID) -> Int {
        let key = address ^ UInt64(truncatingIfNeeded: pid.rawValue) &<< 47
        return Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
    }
}
