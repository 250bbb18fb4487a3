/// The address-to-name index of one file. A profile asks it once per distinct sampled address, so a lookup is a
/// binary search over flat arrays; every judgement about which symbol wins is made once, when the table is built.
///
/// Rules, in order:
/// - A sized symbol covers `[address, address + size)`, clipped to its section. Of nested ranges the innermost
///   wins; of identical ranges, the preferred name (see `rank`).
/// - A symbol without a size (common in hand-written assembly) covers from its address up to the next symbol of any
///   kind or the end of its section, whichever comes first, the way `perf` and elfutils extend them. It never takes
///   an address a sized symbol covers, and one that lies inside a sized symbol (a local label) is dropped, so it
///   cannot claim the padding after that function either.
/// - Anything else (padding between sized functions, PLT stubs without symbols) has no name: the caller writes
///   `module+0xOFFSET`, which is better than a wrong name.
struct SymbolTable: Sendable {
    private let ranges: RangeIndex
    /// Per range: its name's index in `names`.
    private let nameIndexes: [Int32]
    /// The names the ranges and aliases use, version suffixes removed, packed (see `PackedNames`), numbered in
    /// the order of their first range so that neighbouring functions share a block.
    private let names: PackedNames
    /// Per name: whether it is one where stacks end (see `RootFrames`).
    private let rootNames: [Bool]
    /// Per name: whether it runs its callee on another stack (see `StackSwitchFrames`).
    private let switchNames: [Bool]
    /// The names that lost to the preferred one for the same sized range (`__GI___libc_read`, `__libc_read` and
    /// `__read` beside `read`), with that range: DWARF names a function by one of them, the reader expects the
    /// public one (see `publicName(for:at:)`). Sorted by the hash of the name, so a question costs a binary search
    /// and the name itself is decoded only for a candidate. One entry per alias: bounded by the file's symbols.
    private let aliases: [Alias]

    private struct Alias: Sendable {
        var hash: Int
        var name: Int32
        var start: UInt64
        var end: UInt64
    }

    var count: Int { ranges.count }
    /// Approximate bytes held, for the symbol memory budget.
    let byteCount: Int

    /// An entry's answer: where it starts and ends and which name it has.
    struct Entry: Hashable, Sendable {
        var start: UInt64
        var end: UInt64
        var name: String
    }

    init(symbols: [CodeSymbol]) {
        var names: [String] = []
        var sized: [Candidate] = []
        var unsized: [Candidate] = []
        Self.collect(symbols, names: &names, sized: &sized, unsized: &unsized)
        // Candidates carry name indexes, not strings, so sorting hundreds of thousands of them moves integers.
        let preferred = { (a: Candidate, b: Candidate) in
            a.rank != b.rank ? a.rank < b.rank : names[Int(a.name)] < names[Int(b.name)]
        }

        // Sized ranges: one entry per distinct range, the preferred name kept.
        sized.sort { a, b in
            if a.start != b.start { return a.start < b.start }
            if a.end != b.end { return a.end > b.end }
            return preferred(a, b)
        }
        var kept: [Candidate] = []
        var losers: [Candidate] = []
        for candidate in sized {
            if let last = kept.last, last.start == candidate.start, last.end == candidate.end {
                if candidate.name != last.name { losers.append(candidate) }
                continue
            }
            kept.append(candidate)
        }
        let sizedRanges = RangeIndex(kept.map { $0.start..<$0.end })

        // Unsized symbols: one per address, none inside a sized range, each reaching to the next symbol.
        unsized.sort { a, b in a.start != b.start ? a.start < b.start : preferred(a, b) }
        var extended: [Candidate] = []
        for candidate in unsized
        where extended.last?.start != candidate.start && sizedRanges.index(containing: candidate.start) == nil {
            extended.append(candidate)
        }
        for i in extended.indices {
            var end = extended[i].sectionEnd
            if i + 1 < extended.count { end = min(end, extended[i + 1].start) }
            if let next = sizedRanges.firstStart(after: extended[i].start) { end = min(end, next) }
            extended[i].end = end
        }

        kept += extended.filter { $0.end > $0.start }
        kept.sort { a, b in a.start != b.start ? a.start < b.start : a.end > b.end }
        ranges = RangeIndex(kept.map { $0.start..<$0.end })

        // Only the names in use are kept, renumbered by first use.
        var renumbered = [Int32](repeating: -1, count: names.count)
        var used: [String] = []
        let number = { (old: Int32) -> Int32 in
            if renumbered[Int(old)] < 0 {
                renumbered[Int(old)] = Int32(used.count)
                used.append(names[Int(old)])
            }
            return renumbered[Int(old)]
        }
        nameIndexes = kept.map { number($0.name) }
        // A name that lost for several ranges keeps the last, as a dictionary by name did before.
        var lastLoss: [Int32: Candidate] = [:]
        for loser in losers { lastLoss[loser.name] = loser }
        var aliases = lastLoss.values.sorted { $0.name < $1.name }.map { loser in
            Alias(hash: names[Int(loser.name)].hashValue, name: number(loser.name), start: loser.start, end: loser.end)
        }
        aliases.sort { $0.hash < $1.hash }
        self.aliases = aliases
        self.names = PackedNames(used)
        rootNames = used.map(RootFrames.isRoot)
        switchNames = used.map(StackSwitchFrames.isSwitch)
        byteCount = kept.count * 20 + self.names.byteCount + used.count * 2 + aliases.count * 32
    }

    /// The entry covering `address`, as an index for `name(of:)` and `isRoot(_:)`.
    func index(containing address: UInt64) -> Int? { ranges.index(containing: address) }

    func name(of index: Int) -> String { names[Int(nameIndexes[index])] }

    /// The preferred name of entry `index` when `name` is another name of exactly that function (an alias of
    /// its range, as glibc's internal `__GI___libc_read` is of `read`); nil when `name` is the preferred one or
    /// names something else. perf and `nm` readers see the public name; DWARF often holds an internal one.
    func publicName(for name: String, at index: Int) -> String? {
        let hash = name.hashValue
        let range = self.range(of: index)
        var low = 0
        var high = aliases.count
        while low < high {
            let mid = (low + high) / 2
            if aliases[mid].hash < hash { low = mid + 1 } else { high = mid }
        }
        while low < aliases.count, aliases[low].hash == hash {
            let alias = aliases[low]
            low += 1
            guard alias.start..<alias.end == range, names[Int(alias.name)] == name else { continue }
            let preferred = self.name(of: index)
            return preferred == name ? nil : preferred
        }
        return nil
    }

    func isRoot(_ index: Int) -> Bool { rootNames[Int(nameIndexes[index])] }

    /// The ranges of the entries whose names end stacks, ascending.
    var rootRanges: [Range<UInt64>] {
        (0..<count).filter(isRoot).map { ranges.starts[$0]..<ranges.ends[$0] }
    }

    /// The ranges of the entries that are signal restorers (`RootFrames.signalReturnNames`), ascending.
    var signalReturnRanges: [Range<UInt64>] {
        (0..<count).filter { isRoot($0) && RootFrames.signalReturnNames.contains(name(of: $0)) }.map {
            ranges.starts[$0]..<ranges.ends[$0]
        }
    }

    func isStackSwitch(_ index: Int) -> Bool { switchNames[Int(nameIndexes[index])] }

    /// The ranges of the entries whose names switch stacks, ascending.
    var stackSwitchRanges: [Range<UInt64>] {
        (0..<count).filter(isStackSwitch).map { ranges.starts[$0]..<ranges.ends[$0] }
    }

    /// The address range of entry `index`.
    func range(of index: Int) -> Range<UInt64> { ranges.starts[index]..<ranges.ends[index] }

    /// The first entry named `name` (version-free); a linear search, for the rare question by name.
    func index(named name: String) -> Int? {
        guard let nameIndex = names.firstIndex(of: name) else { return nil }
        return nameIndexes.firstIndex(of: Int32(nameIndex))
    }

    /// The entry covering `address`, for tests and diagnostics.
    func entry(containing address: UInt64) -> Entry? {
        index(containing: address).map { Entry(start: ranges.starts[$0], end: ranges.ends[$0], name: name(of: $0)) }
    }

    // MARK: - Building blocks

    /// A symbol on its way into the table: plain integers, cheap to sort.
    private struct Candidate {
        var start: UInt64
        /// For an unsized symbol, its start until the builder extends it.
        var end: UInt64
        var sectionEnd: UInt64
        /// Index into the interned names.
        var name: Int32
        var rank: UInt32
    }

    /// Cleans and interns the names and sorts the usable symbols into sized and unsized candidates.
    private static func collect(
        _ symbols: [CodeSymbol], names: inout [String], sized: inout [Candidate], unsized: inout [Candidate]
    ) {
        var interned: [String: Int32] = [:]
        interned.reserveCapacity(symbols.count)
        for symbol in symbols where symbol.section.contains(symbol.address) {
            let name = SymbolName.withoutVersion(symbol.name)
            guard !name.isEmpty, !SymbolName.isMappingSymbol(name) else { continue }
            let nameIndex: Int32
            if let known = interned[name] {
                nameIndex = known
            } else {
                nameIndex = Int32(names.count)
                interned[name] = nameIndex
                names.append(name)
            }
            let (end, overflow) = symbol.address.addingReportingOverflow(symbol.size)
            let candidate = Candidate(
                start: symbol.address,
                end: symbol.size == 0 ? symbol.address : min(overflow ? .max : end, symbol.section.upperBound),
                sectionEnd: symbol.section.upperBound, name: nameIndex, rank: rank(symbol, name: name))
            if symbol.size == 0 { unsized.append(candidate) } else { sized.append(candidate) }
        }
    }

    /// Which of several names for one range a reader expects, smaller first: a function over an untyped label,
    /// the default version over a compatibility one, global over weak over local (the public name of an alias
    /// set), fewer leading underscores (`malloc` over `__libc_malloc`). Equal ranks fall back to alphabetical order, so the answer never depends on table order.
    private static func rank(_ symbol: CodeSymbol, name: String) -> UInt32 {
        let kind: UInt32 = symbol.kind == .function ? 0 : 1
        // `cfree@GLIBC_2.2.5` (one `@`): a version kept only for old binaries, not the name to show (`free`). By
        // bytes: Foundation's `contains` on a String costs more than the rest of reading a symbol together.
        let utf8 = symbol.name.utf8
        var compatibility: UInt32 = 0
        if let at = utf8.firstIndex(of: UInt8(ascii: "@")), utf8[utf8.index(after: at)...].first != UInt8(ascii: "@") {
            compatibility = 1
        }
        let underscores = UInt32(min(SymbolName.leadingUnderscores(name), 0xff))
        return kind << 17 | compatibility << 16 | UInt32(symbol.binding.rawValue) << 8 | underscores
    }
}
