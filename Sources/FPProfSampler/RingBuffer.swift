internal import CPerfEvent
import FPProfCore
import Glibc

/// One CPU's perf ring: the control page followed by a power-of-two data area that the kernel writes records into
/// and we read them out of. Owns the mapping (unmapped in deinit), not the fd.
///
/// The protocol, as in `tools/lib/perf/mmap.c`: load `data_head` with acquire ordering (the kernel's records up to
/// it are then visible), copy the records between our tail and the head, then store `data_tail` with release
/// ordering (the kernel may reuse the space only after our copy is done). The mapping is writable, so the kernel
/// never overwrites unread records; when the ring is full it drops new ones and later writes a LOST record.
final class MappedRing {
    let fd: Int32
    // Invariant: `base` is the start of a live mapping of `length` bytes from init until deinit unmaps it; the
    // class is never shared between threads (only the reader thread drains it).
    private let base: UnsafeMutableRawPointer
    private let length: Int
    private let dataOffset: Int
    private let dataSize: Int
    /// Where our reading stands; the kernel only ever sees it through `data_tail`.
    private var tail: UInt64

    init(fd: Int32, dataPages: Int) throws(Errno) {
        let length = (dataPages + 1) * Sys.pageSize
        base = try Sys.mapRing(fd, length: length)
        self.fd = fd
        self.length = length
        // Invariant: `base` maps at least one page, and the control page is a perf_event_mmap_page the kernel
        // initialized at mmap time; data_offset and data_size never change afterwards (Linux 4.1+, zero before).
        let page = base.assumingMemoryBound(to: perf_event_mmap_page.self)
        let offset = Int(page.pointee.data_offset)
        let size = Int(page.pointee.data_size)
        if offset != 0, size > 0, offset + size <= length {
            (dataOffset, dataSize) = (offset, size)
        } else {
            (dataOffset, dataSize) = (Sys.pageSize, length - Sys.pageSize)
        }
        tail = page.pointee.data_tail
    }

    deinit { Sys.unmap(base, length: length) }

    /// Copies every complete record the kernel has published onto the end of `out` and hands the space back.
    func drain(into out: inout [UInt8]) -> RingDrain {
        // Invariant: the control page stays mapped for the life of `self`; head and tail are accessed only through
        // the C shim's atomic load and store.
        let page = base.assumingMemoryBound(to: perf_event_mmap_page.self)
        let head = cperf_load_head(page)
        guard head != tail else { return RingDrain(newTail: tail, backlog: 0) }
        // Invariant: [dataOffset, dataOffset + dataSize) lies inside the mapping (checked in init), and the kernel
        // does not write into the part between tail and head until data_tail moves past it.
        let data = UnsafeRawBufferPointer(start: base + dataOffset, count: dataSize)
        let result = RingDrain.copyRecords(from: data.bytes, head: head, tail: tail, into: &out)
        tail = result.newTail
        cperf_store_tail(page, tail)
        return result
    }
}

/// The outcome of one drain. The copy logic is a pure function over (data area, head, tail), so that wrapping
/// records and corrupt headers can be tested with synthetic bytes.
struct RingDrain: Hashable, Sendable {
    /// Where the reader now stands: becomes `data_tail`.
    var newTail: UInt64
    /// Unread bytes when the drain began (head - tail).
    var backlog: UInt64
    var records = 0
    var bytes = 0
    /// Sum of the counts in LOST records copied.
    var lost: UInt64 = 0
    /// Whether the ring held a header that could not be trusted, so the reader skipped to the head.
    var overrun = false

    init(newTail: UInt64, backlog: UInt64) {
        self.newTail = newTail
        self.backlog = backlog
    }

    /// Copies whole records between `tail` and `head` (free-running byte counters, not offsets) out of `data`,
    /// whose size is a power of two. A record that wraps around the end of the data area comes out contiguous.
    /// A header whose size is below 8, not a multiple of 8, or beyond `head` means the stream has lost its
    /// framing: everything up to `head` is skipped and `overrun` is set.
    static func copyRecords(from data: RawSpan, head: UInt64, tail: UInt64, into out: inout [UInt8]) -> RingDrain {
        let size = UInt64(data.byteCount)
        precondition(size > 0 && size & (size - 1) == 0, "ring data size must be a power of two")
        var result = RingDrain(newTail: tail, backlog: head &- tail)
        guard head &- tail <= size else {
            result.overrun = true
            result.newTail = head
            return result
        }
        let mask = size - 1
        var position = tail
        // Invariant: every range handed to `append` below is within [0, size): offsets are masked and each piece
        // is clipped at the end of the data area.
        data.withUnsafeBytes { raw in
            func append(at offset: Int, count: Int) {
                let first = min(count, Int(size) - offset)
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + first]))
                if first < count { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<count - first])) }
            }
            while head &- position >= 8 {
                let offset = Int(position & mask)
                let start = out.count
                append(at: offset, count: 8)
                let type =
                    UInt32(out[start]) | UInt32(out[start + 1]) << 8 | UInt32(out[start + 2]) << 16
                    | UInt32(out[start + 3]) << 24
                let recordSize = UInt64(out[start + 6]) | UInt64(out[start + 7]) << 8
                guard recordSize >= 8, recordSize % 8 == 0, recordSize <= head &- position else {
                    out.removeSubrange(start...)
                    result.overrun = true
                    position = head
                    break
                }
                append(at: Int((position &+ 8) & mask), count: Int(recordSize) - 8)
                if type == RecordType.lost, recordSize >= 24 {
                    result.lost += out[start + 16..<start + 24].reversed().reduce(0) { $0 << 8 | UInt64($1) }
                }
                result.records += 1
                result.bytes += Int(recordSize)
                position &+= recordSize
            }
        }
        if head &- position < 8 && head != position {
            // A tail of fewer than 8 bytes cannot hold a record: the framing is off.
            result.overrun = true
            position = head
        }
        result.newTail = position
        return result
    }
}
