/// A directory of an ascending array of addresses by 4 KiB page: for each page the keys span, the index of the first
/// key on or after that page. A search for an address then only bisects the keys of its own page: a handful of
/// compares on neighbouring cache lines, where a plain binary search over a large module's rules takes fifteen,
/// each a likely cache miss (the hybrid walk looks up a CFI rule for every frame, and on code without frame
/// pointers that search was most of the rule lookup's time).
///
/// Its size is bounded: one 4-byte entry per page of the span, and none at all (`upperBound` then bisects the
/// whole array) for a span of more than `maxPages` pages, where the directory would outweigh the keys.
public struct PageDirectory: Sendable {
    /// Page number of the first entry (`firstIndex[0]` is the first key on or after page `basePage`).
    public let basePage: UInt64
    /// `firstIndex[i]`: the index of the first key at or above the start of page `basePage + i`; one entry past the
    /// last page the keys reach. Empty when there is no directory.
    public let firstIndex: [UInt32]

    public static let pageShift: UInt64 = 12
    /// 1 MiB of entries: a span of 1 GiB of addresses.
    public static let maxPages = 1 << 18

    /// `keys` must be ascending. Eight keys or fewer get no directory: bisecting them is as quick.
    public init(keys: [UInt64]) {
        guard let low = keys.first, let high = keys.last, keys.count > 8, keys.count < Int(UInt32.max) else {
            basePage = 0
            firstIndex = []
            return
        }
        let base = low >> Self.pageShift
        let pages = Int(clamping: (high >> Self.pageShift) &- base &+ 2)
        guard pages <= Self.maxPages else {
            basePage = 0
            firstIndex = []
            return
        }
        var index: [UInt32] = []
        index.reserveCapacity(pages)
        var k = 0
        for page in 0..<UInt64(pages) {
            let start = (base &+ page) << Self.pageShift
            while k < keys.count, keys[k] < start { k += 1 }
            index.append(UInt32(k))
        }
        basePage = base
        firstIndex = index
    }

    /// Bytes held: for a cache's bound.
    public var byteCount: Int { firstIndex.count * 4 }

    /// The index of the first of `keys` (the array the directory was built from) greater than `value`; `keys.count`
    /// if none.
    @inlinable public func upperBound(_ value: UInt64, in keys: [UInt64]) -> Int {
        guard !firstIndex.isEmpty else { return keys.upperBound(value) }
        let page = value >> Self.pageShift
        if page < basePage { return 0 }
        let i = page &- basePage
        if i &+ 1 >= UInt64(firstIndex.count) { return keys.count }
        // Keys before the page's first are below `value`, keys from the next page's first on are above it.
        var low = Int(firstIndex[Int(i)])
        var high = Int(firstIndex[Int(i) &+ 1])
        while low < high {
            let middle = (low &+ high) >> 1
            if keys[middle] <= value { low = middle &+ 1 } else { high = middle }
        }
        return low
    }
}
