extension RandomAccessCollection where Element: Comparable, Index == Int {
    /// In an ascending collection, the index of the first element greater than `value` (`endIndex` if none): the
    /// one binary search behind every address-to-range lookup (symbols, kernel symbols, line tables).
    @inlinable public func upperBound(_ value: Element) -> Int {
        var low = startIndex
        var high = endIndex
        while low < high {
            let middle = (low + high) / 2
            if self[middle] <= value { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
