/// Sorted, possibly nested address ranges, searched by binary search: the structure behind every symbol lookup.
/// Kept apart from the symbol rules so the same search serves a table under construction and the finished one.
struct RangeIndex: Sendable {
    /// Range starts, ascending; ties ordered by descending end, so the innermost of nested ranges comes last.
    let starts: [UInt64]
    let ends: [UInt64]
    /// `maxEnds[i]` is the largest end among ranges `0...i`: a backward scan stops as soon as nothing earlier can
    /// still cover the address.
    private let maxEnds: [UInt64]

    /// `ranges` must be sorted by ascending start, then descending end.
    init(_ ranges: [Range<UInt64>]) {
        starts = ranges.map(\.lowerBound)
        ends = ranges.map(\.upperBound)
        var running: UInt64 = 0
        maxEnds = ranges.map {
            running = max(running, $0.upperBound)
            return running
        }
    }

    var count: Int { starts.count }

    /// The innermost range covering `address`: the last range starting at or before it, then backwards while an
    /// earlier range may still reach it.
    func index(containing address: UInt64) -> Int? {
        var candidate = upperBound(address) - 1
        while candidate >= 0, maxEnds[candidate] > address {
            if ends[candidate] > address { return candidate }
            candidate -= 1
        }
        return nil
    }

    /// The first start above `address`, if any.
    func firstStart(after address: UInt64) -> UInt64? {
        let index = upperBound(address)
        return index < starts.count ? starts[index] : nil
    }

    /// The index of the first start greater than `value`.
    private func upperBound(_ value: UInt64) -> Int { starts.upperBound(value) }
}
