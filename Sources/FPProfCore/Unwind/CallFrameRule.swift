/// How to find a caller's frame from one address of x86-64 code, compiled from the call frame information
/// (`.eh_frame`, `.debug_frame`) into the few forms compilers emit. The canonical frame address (CFA) is the
/// caller's SP; the return address is always at `CFA - 8` (the compiler checks that the CFI says so, or gives
/// `.unsupported`).
public enum CallFrameRule: Hashable, Sendable {
    /// The function keeps a frame record here: CFA = BP + 16, the caller's BP saved at `CFA - 16`. A frame-pointer
    /// step is exactly right, and the walk keeps its loop and cycle checks.
    case framePointer
    /// CFA = SP + `cfa`; the caller's BP is saved at `CFA + savedBP` (nil: BP still holds it).
    case stack(cfa: Int32, savedBP: Int32?)
    /// CFA = BP + `cfa`, other than the plain frame record.
    case base(cfa: Int32, savedBP: Int32?)
    /// CFA = the word at `BP + offset`, plus `add`, the caller's BP saved at `CFA + savedBP` (nil: BP holds it).
    case baseIndirect(offset: Int32, add: Int32, savedBP: Int32?)
    /// CFA = the word at `BP + offset`, the caller's BP saved at `[BP]`: gcc's stack realignment through a DRAP
    /// register (functions with over-aligned locals, such as AVX code in x265 and libaom). The frame record at BP
    /// holds a copy of the return address, so a frame-pointer step finds the caller, but not the caller's SP: that
    /// is in the slot the prologue saved the DRAP register to.
    case realigned(offset: Int32)
    /// CFA = the word at `SP + offset`, plus `add`: functions that realign SP or move it by a run-time amount and
    /// keep their entry SP in a stack slot, as OpenSSL's assembly does (`.cfi_cfa_expression %rsp+40,deref,+8` in
    /// its Montgomery multiplications, SHA and AES-GCM code, and the same code in GnuTLS and Node.js).
    case stackIndirect(offset: Int32, add: Int32, savedBP: Int32?)
    /// CFA = DWARF register `number` + `cfa`, a register other than SP and BP: OpenSSL's assembly keeps its entry
    /// SP in RAX (through the whole of its AES-GCM functions) or RSI, gcc's realignment in R10. The sample holds
    /// the registers of its own frame: `HybridUnwinder` says which of them it carries to the callers.
    case register(number: UInt8, cfa: Int32, savedBP: Int32?)
    /// The CFI says something these forms cannot express (a longer expression, the return address elsewhere than
    /// at CFA - 8, a signal frame): the walk ends there with a marker rather than guessing.
    case unsupported

    /// Whether a frame-pointer step at this address would read the caller from a frame record of this function.
    @inlinable public var keepsFrameRecord: Bool {
        if case .framePointer = self { return true }
        return false
    }
}

/// One module's rules, by file offset: sorted, non-overlapping ranges, each with its rule. Compiled once per
/// build-id by the symbolizer; read by the walk with a binary search. Ranges not covered have no rule (code the
/// CFI does not describe: the walk tries frame pointers there).
///
/// A class with constant storage: the walk reads a module's rules once per frame, and copying a struct of three
/// arrays out of the process's table retained and released each array every time (a quarter of the walk's time
/// on a capture of code without frame pointers). A reference is one word to copy, and its `let` arrays are read
/// in place.
public final class CallFrameRules: Sendable {
    public let starts: [UInt64]
    public let ends: [UInt64]
    public let rules: [CallFrameRule]
    /// Whether every range keeps a frame record (a module built with frame pointers throughout): the walk may then
    /// skip the search.
    public let allFramed: Bool
    /// `ends` by page: a lookup bisects one page's rows, not the module's.
    public let directory: PageDirectory

    /// No rules at all.
    public convenience init() { self.init(rows: []) }

    /// `rows` must be sorted by start and not overlap; adjacent rows with the same rule are merged.
    public init(rows: [(range: Range<UInt64>, rule: CallFrameRule)]) {
        var starts: [UInt64] = []
        var ends: [UInt64] = []
        var rules: [CallFrameRule] = []
        var allFramed = true
        starts.reserveCapacity(rows.count)
        for row in rows where !row.range.isEmpty {
            if let last = ends.last, last == row.range.lowerBound, rules.last == row.rule {
                ends[ends.count - 1] = row.range.upperBound
                continue
            }
            if let last = ends.last, row.range.lowerBound < last { continue }
            starts.append(row.range.lowerBound)
            ends.append(row.range.upperBound)
            rules.append(row.rule)
            if !row.rule.keepsFrameRecord { allFramed = false }
        }
        self.starts = starts
        self.ends = ends
        self.rules = rules
        self.allFramed = allFramed
        self.directory = PageDirectory(keys: ends)
    }

    public var count: Int { starts.count }

    /// Approximate bytes held: for the cache's bound.
    public var byteCount: Int {
        starts.count * (8 + 8 + MemoryLayout<CallFrameRule>.stride) + directory.byteCount
    }

    /// The rule covering file offset `offset`, if any.
    @inlinable public func rule(at offset: UInt64) -> CallFrameRule? {
        // The first range ending above the offset: the only one that may cover it.
        let lo = directory.upperBound(offset, in: ends)
        guard lo < starts.count, starts[lo] <= offset else { return nil }
        return rules[lo]
    }
}

/// What the hybrid walk asks about an absolute address of the sampled process.
public protocol CallFrameRuleMap {
    /// The rule for the code at `address`, nil where no CFI covers it. `hint` is carried between calls of one walk.
    func rule(at address: UInt64, hint: inout Int) -> CallFrameRule?
}

/// A process's rules: its map, and each module's compiled rules by module index (`Mapping.moduleIndex`). A class:
/// `ProfileBuilder` hands out the one it keeps for the process sampled last, and a struct of the map's arrays and
/// the rules' array was retained array by array on every such sample.
public final class MappedCallFrameRules: CallFrameRuleMap {
    public let map: ProcessMap
    public let byModule: [CallFrameRules?]

    public init(map: ProcessMap, byModule: [CallFrameRules?]) {
        self.map = map
        self.byModule = byModule
    }

    @inlinable public func rule(at address: UInt64, hint: inout Int) -> CallFrameRule? {
        let b: MappingBounds
        if hint >= 0, hint < map.bounds.count, map.bounds[hint].contains(address) {
            b = map.bounds[hint]
        } else {
            guard let found = map.index(of: address) else { return nil }
            hint = found
            b = map.bounds[found]
        }
        guard b.moduleIndex >= 0, b.moduleIndex < byModule.count else { return nil }
        return byModule[b.moduleIndex]?.rule(at: address &- b.fileBase)
    }
}

/// How `record` and `report` unwind (`--unwind`).
public enum UnwindMode: String, CaseIterable, Sendable {
    /// Frame records only: today's behaviour, for comparisons.
    case fp
    /// Frame records while they are sound, call frame information where the code keeps none.
    case hybrid
}
