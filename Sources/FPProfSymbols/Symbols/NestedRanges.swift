/// Address ranges that nest or are disjoint (DWARF scopes: a function's ranges contain those of the calls inlined
/// into it), each carrying a payload, searched for the innermost range that holds an address.
///
/// A lookup is one binary search and a short walk outwards: the candidate is the last range starting at or below
/// the address; if it ends too early, the range holding the address must enclose the candidate (ranges nest), so
/// the walk follows precomputed `enclosing` links, never scanning siblings. Ranges that overlap without nesting
/// (damaged DWARF) give some covering range or none, never a crash.
struct NestedRanges: Sendable {
    /// Range starts, ascending; ties ordered by descending end, then ascending depth, so an inner range sorts after
    /// the ranges that hold it, then descending payload, so that of identical ranges at one depth the first payload
    /// wins (of two DWARF subprograms for one range, `dwarf_getscopes` returns the first in DIE order).
    private(set) var starts: [UInt64] = []
    private(set) var ends: [UInt64] = []
    private(set) var payloads: [Int32] = []
    /// Per range: the index of the nearest earlier range that contains it, or -1.
    private var enclosing: [Int32] = []

    struct Entry {
        var start: UInt64
        var end: UInt64
        var payload: Int32
        /// Nesting depth of the payload's scope: breaks ties between identical ranges (inner last).
        var depth: Int32
    }

    init() {}

    /// Empty ranges are dropped.
    init(_ entries: [Entry]) {
        var sorted = entries.filter { $0.start < $0.end }
        sorted.sort { a, b in
            if a.start != b.start { return a.start < b.start }
            if a.end != b.end { return a.end > b.end }
            if a.depth != b.depth { return a.depth < b.depth }
            return a.payload > b.payload
        }
        starts = sorted.map(\.start)
        ends = sorted.map(\.end)
        payloads = sorted.map(\.payload)
        enclosing = [Int32](repeating: -1, count: sorted.count)
        var stack: [Int32] = []
        for index in sorted.indices {
            while let top = stack.last, ends[Int(top)] <= starts[index] { stack.removeLast() }
            // The top of the stack starts at or before this range and ends after its start: it holds the range
            // unless the two overlap without nesting, in which case the link is only a hint.
            enclosing[index] = stack.last ?? -1
            stack.append(Int32(index))
        }
    }

    var count: Int { starts.count }

    /// The index of the innermost range that holds `address`.
    func index(containing address: UInt64) -> Int? {
        var candidate = upperBound(address) - 1
        var steps = 0
        while candidate >= 0 {
            if ends[candidate] > address { return candidate }
            candidate = Int(enclosing[candidate])
            steps += 1
            if steps > 4096 { return nil }
        }
        return nil
    }

    /// The payload of the innermost range that holds `address`.
    func payload(containing address: UInt64) -> Int32? {
        index(containing: address).map { payloads[$0] }
    }

    /// The payload of the innermost range holding `address`, else of the last range that starts below it (what
    /// libdwfl's unit lookup answers for padding after a unit's last function: the unit's line table may still
    /// cover the address, and decides).
    func payload(atOrBefore address: UInt64) -> Int32? {
        if let inner = index(containing: address) { return payloads[inner] }
        let candidate = upperBound(address) - 1
        return candidate >= 0 ? payloads[candidate] : nil
    }

    /// Approximate bytes held, for the symbol memory budget.
    var byteCount: Int { count * 28 }

    /// The index of the first start greater than `value`.
    private func upperBound(_ value: UInt64) -> Int { starts.upperBound(value) }
}
