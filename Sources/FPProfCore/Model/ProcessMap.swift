/// One executable mapping of a process, as MMAP2 (or /proc/PID/maps) described it.
public struct Mapping: Hashable, Sendable {
    public var start: VirtualAddress
    public var end: VirtualAddress
    public var pageOffset: FileOffset
    public var module: ModuleID
    /// The interned module index, assigned by the `ModuleTable` the map was built with.
    public var moduleIndex: Int
    /// Address ranges (absolute, in this mapping) of code that ends a stack, such as `_start` or `runtime.goexit`.
    public var rootRanges: [Range<UInt64>]
    /// Address ranges of code that switches stacks (`runtime.systemstack`, `runtime.mcall`, ...): the frame
    /// record above such a frame may lie on another stack, below the current one.
    public var switchRanges: [Range<UInt64>]

    public init(
        start: VirtualAddress, end: VirtualAddress, pageOffset: FileOffset, module: ModuleID, moduleIndex: Int,
        rootRanges: [Range<UInt64>] = [], switchRanges: [Range<UInt64>] = []
    ) {
        self.start = start
        self.end = end
        self.pageOffset = pageOffset
        self.module = module
        self.moduleIndex = moduleIndex
        self.rootRanges = rootRanges
        self.switchRanges = switchRanges
    }

    @inlinable public func contains(_ address: UInt64) -> Bool {
        address >= start.rawValue && address < end.rawValue
    }

    /// Where `address` lies in the mapped file.
    @inlinable public func fileOffset(of address: UInt64) -> FileOffset {
        FileOffset(address &- start.rawValue &+ pageOffset.rawValue)
    }
}

/// The executable mappings of one process, kept sorted and non-overlapping so that lookups are a binary search.
/// A new mapping replaces whatever it overlaps, as `mmap` over an existing range does.
public struct ProcessMap: Sendable {
    public private(set) var mappings: [Mapping] = []
    /// Whether any mapping holds stack-switch code: a walk over a map without any needs no repair at switches.
    public private(set) var hasStackSwitches = false

    public init() {}

    public mutating func insert(_ m: Mapping) {
        guard m.start < m.end else { return }
        var kept: [Mapping] = []
        kept.reserveCapacity(mappings.count + 2)
        for old in mappings {
            if old.end <= m.start || old.start >= m.end {
                kept.append(old)
                continue
            }
            if old.start < m.start {
                var left = old
                left.end = m.start
                left.rootRanges = old.rootRanges.compactMap { clamp($0, left) }
                left.switchRanges = old.switchRanges.compactMap { clamp($0, left) }
                kept.append(left)
            }
            if old.end > m.end {
                var right = old
                right.start = m.end
                right.pageOffset = FileOffset(old.pageOffset.rawValue &+ (m.end.rawValue &- old.start.rawValue))
                right.rootRanges = old.rootRanges.compactMap { clamp($0, right) }
                right.switchRanges = old.switchRanges.compactMap { clamp($0, right) }
                kept.append(right)
            }
        }
        let at = kept.firstIndex { $0.start > m.start } ?? kept.endIndex
        kept.insert(m, at: at)
        mappings = kept
        hasStackSwitches = kept.contains { !$0.switchRanges.isEmpty }
    }

    private func clamp(_ r: Range<UInt64>, _ m: Mapping) -> Range<UInt64>? {
        let lo = max(r.lowerBound, m.start.rawValue)
        let hi = min(r.upperBound, m.end.rawValue)
        return lo < hi ? lo..<hi : nil
    }

    public mutating func removeAll() {
        mappings.removeAll()
        hasStackSwitches = false
    }

    /// The index of the mapping holding `address`, if any.
    @inlinable public func index(of address: UInt64) -> Int? {
        var lo = 0
        var hi = mappings.count
        while lo < hi {
            let mid = (lo &+ hi) >> 1
            if mappings[mid].end.rawValue <= address { lo = mid &+ 1 } else { hi = mid }
        }
        return lo < mappings.count && mappings[lo].contains(address) ? lo : nil
    }
}
