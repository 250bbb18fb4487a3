import Testing

@testable import FPProfCore

/// `PageDirectory` must answer exactly what a binary search over the whole array answers, for any key layout:
/// keys bunched in one page, spread over many, at page boundaries, with empty pages between.
@Suite struct PageDirectoryTests {
    /// Every value near every key and every page boundary the keys span, against `upperBound` over the array.
    func check(_ keys: [UInt64], sourceLocation: SourceLocation = #_sourceLocation) {
        let directory = PageDirectory(keys: keys)
        var probes: Set<UInt64> = [0, .max, .max - 1]
        for k in keys {
            for d: UInt64 in [0, 1, 2, 4095, 4096] {
                probes.insert(k &+ d)
                probes.insert(k &- d)
            }
            let page = k & ~4095
            probes.formUnion([page, page &- 1, page &+ 4096, page &+ 4095])
        }
        var wrong = 0
        for p in probes where directory.upperBound(p, in: keys) != keys.upperBound(p) { wrong += 1 }
        #expect(wrong == 0, "\(wrong) of \(probes.count) probes disagree", sourceLocation: sourceLocation)
    }

    @Test func agreesWithABinarySearchOfTheWholeArray() {
        var generator = SplitMix64(seed: 7)
        check((1...40).map { 0x40_0000 + UInt64($0) * 3 })  // one page
        check((0..<2_000).map { 0x1000 + UInt64($0) * 0x200 })  // eight per page
        check((0..<300).map { 0x10_0000 + UInt64($0) * 0x3000 })  // empty pages between
        check((0..<64).map { UInt64($0) * 4096 })  // on the boundaries, from 0
        for _ in 0..<20 {
            var keys: [UInt64] = []
            var k = generator.next() % 0x1_0000_0000
            for _ in 0..<(500 + Int(generator.next() % 2_000)) {
                k += 1 + generator.next() % (generator.next() % 2 == 0 ? 64 : 20_000)
                keys.append(k)
            }
            check(keys)
        }
    }

    /// A few keys need no directory, and a span wider than `maxPages` pages gets none: the search is then the plain
    /// one, and its answers are still right.
    @Test func smallOrSparseArraysFallBackToThePlainSearch() {
        let few: [UInt64] = [0x1000, 0x2000, 0x3000]
        #expect(PageDirectory(keys: few).byteCount == 0)
        check(few)
        let sparse = (0..<20).map { UInt64($0) << 40 }
        #expect(PageDirectory(keys: sparse).byteCount == 0)
        check(sparse)
        let dense = (0..<20).map { 0x7f00_0000_0000 + UInt64($0) * 0x100 }
        #expect(PageDirectory(keys: dense).byteCount == 3 * 4)
    }
}
