/// Records decoded from the rings, held until they can be applied in time order.
///
/// Each CPU's ring is in time order, but the rings are not in order with each other, and a sample must never be
/// unwound against the mappings of before an `exec` or `mmap` on another CPU that preceded it. So a record is
/// released only once no batch can still bring an earlier one: up to the latest time of the previous batch (perf's
/// "finished round"); the rest wait for the next batch or a flush. Bounded by one batch and a half: whatever came
/// after the previous batch's latest time.
///
/// The owner applies what `ready(upTo:)` released by moving each record out with `take(_:)` (a copy would retain
/// and release the three slices of the batch a sample holds) and then calls `removeTaken(_:)`.
struct OrderingBuffer {
    /// Records decoded but not yet applied.
    private var pending: [PerfRecord] = []
    /// Their times, in the same order: `ready` reads these, never the records (iterating the records copies each
    /// one, a retain and release of each of a sample's slices).
    private var times: [UInt64] = []
    /// The latest time seen up to the previous batch: everything at or before it is safe to apply now.
    private var watermark: UInt64 = 0
    private var latestSeen: UInt64 = 0

    /// Records waiting.
    var count: Int { pending.count }

    /// Decodes a buffer of whole records (one drain of every ring) into the buffer; returns how many could not be
    /// decoded (a size that does not fit ends the buffer). `prefetch`, when given, is asked for the first bytes of
    /// the record `readAheadRecords` ahead (see there).
    mutating func decode(
        _ bytes: ArraySlice<UInt8>, with decoder: RecordDecoder,
        prefetch: ((ArraySlice<UInt8>, Range<Int>) -> Void)?
    ) -> Int {
        var errors = 0
        // `RecordStream`'s loop, written out for the read ahead.
        var rest = bytes
        while !rest.isEmpty {
            guard case .success(let size) = RecordDecoder.recordSize(at: rest) else {
                errors += 1
                break
            }
            // Each sample's record (16 KiB of stack copy) starts on another page, so reading its header waits for
            // a TLB and a cache miss, and the next one's position depends on it: a chain of misses. Reading a byte
            // a few records ahead (where the next headers are when the records are of one size, as one process's
            // samples nearly always are) starts those misses early, beside this record's work: a prefetch in
            // plain Swift, three lines 128 bytes apart (the header, then the callchain and registers). A wrong guess
            // costs a few wasted reads. The bytes go into `readAhead` only so that the reads are not optimized
            // away. With a real `prefetch`, the first 320 bytes there are asked for instead, without waiting.
            // (Distances and line counts measured: Benchmarks/README.md.)
            let ahead = rest.startIndex &+ size &* Self.readAheadRecords
            if let prefetch {
                let offset = ahead &- rest.startIndex
                if offset < rest.count { prefetch(rest, offset..<min(offset &+ 320, rest.count)) }
            } else if ahead &+ 256 < rest.endIndex {
                readAhead &+= rest[ahead] &+ rest[ahead &+ 128] &+ rest[ahead &+ 256]
            } else if ahead < rest.endIndex {
                readAhead &+= rest[ahead]
            }
            switch decoder.decode(rest) {
            case .success(let r):
                times.append(r.time)
                latestSeen = max(latestSeen, r.time)
                pending.append(r)
            case .failure: errors += 1
            }
            rest = rest.dropFirst(size)
        }
        return errors
    }

    /// Ends a batch: returns the time up to which records may be applied now (the latest time of the batch before)
    /// and remembers this batch's latest time for the next one.
    mutating func endBatch() -> UInt64 {
        let limit = watermark
        watermark = latestSeen
        return limit
    }

    /// How far ahead `decode` reads (records of the current one's size), and the sink of what it reads.
    static let readAheadRecords = 4
    private var readAhead: UInt8 = 0

    /// Puts the records waiting in time order (stable: records of one time keep their order) and returns how many
    /// lead, at or before `limit` (`.max`: all of them).
    mutating func ready(upTo limit: UInt64) -> Int {
        guard !pending.isEmpty else { return 0 }
        var sorted = true
        var last: UInt64 = 0
        for t in times {
            if t < last {
                sorted = false
                break
            }
            last = t
        }
        if !sorted {
            // Ordered by the times alone, then the records moved into that order: sorting the records themselves
            // copied each one (retaining and releasing the slices a sample holds) several times.
            let order = times.indices.sorted { a, b in
                let ta = times[a]
                let tb = times[b]
                return ta != tb ? ta < tb : a < b
            }
            var records: [PerfRecord] = []
            records.reserveCapacity(pending.count)
            for i in order {
                var r = PerfRecord.other(type: 0)
                swap(&r, &pending[i])
                records.append(r)
            }
            pending = records
            times = order.map { times[$0] }
        }
        guard limit != .max else { return pending.count }
        return times.firstIndex { $0 > limit } ?? times.count
    }

    /// Moves the record at `i` (of those `ready` released) out, leaving a placeholder that owns nothing.
    mutating func take(_ i: Int) -> PerfRecord {
        var r = PerfRecord.other(type: 0)
        swap(&r, &pending[i])
        return r
    }

    /// The thread and stack copy of the sample waiting at `i`, for a prefetch: one slice copied, not the whole
    /// sample's three.
    func sampledStack(at i: Int) -> (ThreadID, ArraySlice<UInt8>)? {
        guard case .sample(let s) = pending[i], let tid = s.tid, let stack = s.userStack else { return nil }
        return (tid, stack)
    }

    /// Drops the first `count` records, taken by now.
    mutating func removeTaken(_ count: Int) {
        pending.removeFirst(count)
        times.removeFirst(count)
    }
}
