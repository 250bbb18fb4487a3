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
    /// Address ranges of signal restorers (also in `rootRanges`): see `SpecialCode.signalReturns`.
    public var signalReturnRanges: [Range<UInt64>]

    public init(
        start: VirtualAddress, end: VirtualAddress, pageOffset: FileOffset, module: ModuleID, moduleIndex: Int,
        rootRanges: [Range<UInt64>] = [], switchRanges: [Range<UInt64>] = [], signalReturnRanges: [Range<UInt64>] = []
    ) {
        self.start = start
        self.end = end
        self.pageOffset = pageOffset
        self.module = module
        self.moduleIndex = moduleIndex
        self.rootRanges = rootRanges
        self.switchRanges = switchRanges
        self.signalReturnRanges = signalReturnRanges
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
///
/// Besides `mappings`, the map keeps a flat copy of what the unwinder and normalization ask about every frame
/// (`bounds`, `special`): plain values without references, so the per-frame path reads an array element without
/// retaining a module path or two range arrays, and a mapping without root or switch code (nearly all) answers
/// after two compares. Both are rebuilt whenever `mappings` changes.
public struct ProcessMap: Sendable {
    public private(set) var mappings: [Mapping] = [] {
        didSet { rebuildBounds() }
    }
    /// One entry per mapping, in the same order.
    public private(set) var bounds: [MappingBounds] = []
    /// Every mapping's root and stack-switch ranges, grouped by mapping (`MappingBounds.special` indexes them).
    public private(set) var special: [SpecialRange] = []
    /// Whether any mapping holds stack-switch code: a walk over a map without any needs no repair at switches.
    public private(set) var hasStackSwitches = false
    /// Whether any mapping holds a signal restorer: only then can a walk's last frame be one.
    public private(set) var hasSignalReturns = false

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
                left.signalReturnRanges = old.signalReturnRanges.compactMap { clamp($0, left) }
                kept.append(left)
            }
            if old.end > m.end {
                var right = old
                right.start = m.end
                right.pageOffset = FileOffset(old.pageOffset.rawValue &+ (m.end.rawValue &- old.start.rawValue))
                right.rootRanges = old.rootRanges.compactMap { clamp($0, right) }
                right.switchRanges = old.switchRanges.compactMap { clamp($0, right) }
                right.signalReturnRanges = old.signalReturnRanges.compactMap { clamp($0, right) }
                kept.append(right)
            }
        }
        let at = kept.firstIndex { $0.start > m.start } ?? kept.endIndex
        kept.insert(m, at: at)
        mappings = kept
    }

    private func clamp(_ r: Range<UInt64>, _ m: Mapping) -> Range<UInt64>? {
        let lo = max(r.lowerBound, m.start.rawValue)
        let hi = min(r.upperBound, m.end.rawValue)
        return lo < hi ? lo..<hi : nil
    }

    public mutating func removeAll() { mappings.removeAll() }

    private mutating func rebuildBounds() {
        var bounds: [MappingBounds] = []
        var special: [SpecialRange] = []
        bounds.reserveCapacity(mappings.count)
        for m in mappings {
            let first = special.count
            special += m.rootRanges.map { SpecialRange($0, kind: .root) }
            special += m.switchRanges.map { SpecialRange($0, kind: .stackSwitch) }
            let mine = special[first...]
            bounds.append(
                MappingBounds(
                    start: m.start.rawValue, end: m.end.rawValue,
                    fileBase: m.start.rawValue &- m.pageOffset.rawValue, moduleIndex: m.moduleIndex,
                    special: first..<special.count, specialLow: mine.map(\.start).min() ?? 0,
                    specialHigh: mine.map(\.end).max() ?? 0))
        }
        self.bounds = bounds
        self.special = special
        hasStackSwitches = special.contains { $0.kind == .stackSwitch }
        hasSignalReturns = mappings.contains { !$0.signalReturnRanges.isEmpty }
    }

    /// Whether `address` lies in a signal restorer (`SpecialCode.signalReturns`): a return address there is the
    /// restorer's own first byte, pushed by the kernel, and names the restorer only as it is.
    @inlinable public func isSignalReturn(_ address: UInt64) -> Bool {
        guard hasSignalReturns, let m = index(of: address) else { return false }
        return mappings[m].signalReturnRanges.contains { $0.contains(address) }
    }

    /// The address at which to name frame `index` of a walk of `count` raw words, `frame` being that word: the
    /// sampled IP (frame 0) as it is; a caller at its call site, one byte before the return address (the next
    /// instruction may belong to another line or function); but a signal restorer at the return address itself,
    /// since the kernel, not a call, put it there. A restorer is a root, so it can only be the last frame: the
    /// others cost no search.
    @inlinable public func lookupAddress(_ frame: UInt64, index: Int, count: Int) -> UInt64 {
        if index == 0 { return frame }
        return index == count - 1 && isSignalReturn(frame) ? frame : frame &- 1
    }

    /// The index of the mapping holding `address`, if any.
    @inlinable public func index(of address: UInt64) -> Int? {
        var lo = 0
        var hi = bounds.count
        while lo < hi {
            let mid = (lo &+ hi) >> 1
            if bounds[mid].end <= address { lo = mid &+ 1 } else { hi = mid }
        }
        return lo < bounds.count && bounds[lo].contains(address) ? lo : nil
    }

    /// `address` as a normalized frame word (`MappingBounds.packed`), or as an unmapped one when no mapping holds
    /// it. `near` is tried before the search and becomes the mapping found: neighbouring frames nearly always
    /// share one.
    @inlinable public func packed(_ address: UInt64, near: inout MappingBounds) -> UInt64 {
        if near.contains(address) { return near.packed(address) }
        guard let m = index(of: address) else {
            return ModuleTable.pack(module: ModuleTable.unmapped, offset: address)
        }
        near = bounds[m]
        return near.packed(address)
    }
}

/// What the per-frame path needs of one `Mapping`: its bounds, where its file offsets start and its module index,
/// as a plain value (no module path, no arrays) that costs no reference counting to read.
public struct MappingBounds: Hashable, Sendable {
    public var start: UInt64
    public var end: UInt64
    /// `start - pageOffset` (wrapping): an address's file offset is `address - fileBase`.
    public var fileBase: UInt64
    public var moduleIndex: Int
    /// This mapping's entries in `ProcessMap.special`; empty for a mapping without root or switch code.
    public var special: Range<Int>
    /// The hull of those entries (`specialLow..<specialHigh`, empty when there are none): an address outside it
    /// is plain code without a look at the entries.
    public var specialLow: UInt64
    public var specialHigh: UInt64

    /// Holds no address: a start for "the previous mapping" before there is one.
    public static let empty = MappingBounds(
        start: 0, end: 0, fileBase: 0, moduleIndex: 0, special: 0..<0, specialLow: 0, specialHigh: 0)

    @inlinable public func contains(_ address: UInt64) -> Bool { address >= start && address < end }

    /// Where `address` lies in the mapped file.
    @inlinable public func fileOffset(of address: UInt64) -> UInt64 { address &- fileBase }

    /// `address` as a normalized frame word: module index and file offset (`ModuleTable.pack`).
    @inlinable public func packed(_ address: UInt64) -> UInt64 {
        ModuleTable.pack(module: moduleIndex, offset: address &- fileBase)
    }
}

/// A root or stack-switch range of a mapping, in absolute addresses.
public struct SpecialRange: Hashable, Sendable {
    public var start: UInt64
    public var end: UInt64
    /// `.root` or `.stackSwitch`.
    public var kind: CodeKind

    public init(_ range: Range<UInt64>, kind: CodeKind) {
        start = range.lowerBound
        end = range.upperBound
        self.kind = kind
    }

    @inlinable public func contains(_ address: UInt64) -> Bool { address >= start && address < end }
}
