internal import CElfutils

/// The functions of one compilation unit as an address index: every concrete function (`DW_TAG_subprogram`) and
/// every inlined call (`DW_TAG_inlined_subroutine`) that has code, with its parent, so that the innermost scope of
/// an address and the whole inline chain above it come from one binary search and a few array reads.
///
/// Built once per unit, on the first address that falls in it, by one walk over the unit's DIEs; names are read
/// later, per scope, on first use. `eu-addr2line -i` finds the same chain with `dwarf_getscopes`, which walks the
/// unit's DIEs again for every address: the index is what makes a cold address cost microseconds.
final class UnitScopes {
    /// Per scope: its DIE's offset in `.debug_info`, to read its name later.
    private(set) var dieOffsets: [UInt64] = []
    /// Per scope: the enclosing function or inlined call, or -1 (lexical blocks and namespaces are skipped over).
    private(set) var parents: [Int32] = []
    private(set) var isInlined: [Bool] = []
    /// Per inlined call: `DW_AT_call_file` (an index into the unit's file table), or `noFile`.
    private(set) var callFiles: [UInt32] = []
    /// Per inlined call: `DW_AT_call_line`, or 0.
    private(set) var callLines: [Int32] = []
    /// Per scope: the name once read (see `DwarfModule.name(ofScope:in:)`).
    var names: [String?] = []
    private(set) var ranges = NestedRanges()

    static let noFile = UInt32.max
    /// How deep DIEs may nest before the walk stops descending: real code stays far below; damaged DWARF may not.
    static let depthLimit: Int32 = 256

    /// Walks the children of `unit` (a CU DIE).
    init(unit: Dwarf_Die) {
        var entries: [NestedRanges.Entry] = []
        var pending: [(die: Dwarf_Die, parent: Int32, depth: Int32)] = [(unit, -1, 0)]
        while let item = pending.popLast() {
            var parentDie = item.die
            var child = Dwarf_Die()
            // Invariant: every Dwarf_Die here was filled by libdw from this unit, which lives as long as the Dwarf.
            guard dwarf_child(&parentDie, &child) == 0 else { continue }
            while true {
                let tag = dwarf_tag(&child)
                switch tag {
                case DwarfTag.subprogram, DwarfTag.inlinedSubroutine, DwarfTag.entryPoint:
                    let scope = Int32(dieOffsets.count)
                    let before = entries.count
                    Self.forEachRange(&child) { start, end in
                        entries.append(.init(start: start, end: end, payload: scope, depth: item.depth))
                    }
                    // Declarations and abstract instances have no code and cannot hold a sampled address.
                    guard entries.count > before else { break }
                    dieOffsets.append(dwarf_dieoffset(&child))
                    parents.append(item.parent)
                    let inlined = tag == DwarfTag.inlinedSubroutine
                    isInlined.append(inlined)
                    let callFile = inlined ? Self.unsigned(&child, DwarfAttribute.callFile) : nil
                    let callLine = inlined ? Self.unsigned(&child, DwarfAttribute.callLine) : nil
                    callFiles.append(callFile.flatMap { UInt32(exactly: $0) } ?? Self.noFile)
                    callLines.append(callLine.map { Int32(clamping: $0) } ?? 0)
                    names.append(nil)
                    if dwarf_haschildren(&child) != 0, item.depth < Self.depthLimit {
                        pending.append((child, scope, item.depth + 1))
                    }
                case DwarfTag.lexicalBlock, DwarfTag.namespace, DwarfTag.module, DwarfTag.tryBlock, DwarfTag.catchBlock:
                    if dwarf_haschildren(&child) != 0, item.depth < Self.depthLimit {
                        pending.append((child, item.parent, item.depth + 1))
                    }
                default:
                    break
                }
                var next = Dwarf_Die()
                guard dwarf_siblingof(&child, &next) == 0 else { break }
                child = next
            }
        }
        ranges = NestedRanges(entries)
    }

    var count: Int { dieOffsets.count }

    /// The innermost scope whose code holds `address`.
    func innermost(at address: UInt64) -> Int? {
        ranges.payload(containing: address).map(Int.init)
    }

    /// Approximate bytes held, for the symbol memory budget.
    var byteCount: Int { ranges.byteCount + count * 40 }

    /// Calls `body` with each `[start, end)` range of `die`'s code (`DW_AT_low_pc`/`high_pc` or `DW_AT_ranges`).
    /// Ranges at address 0 are left out: linkers leave discarded functions' DWARF there (or at a tombstone).
    static func forEachRange(_ die: inout Dwarf_Die, _ body: (UInt64, UInt64) -> Void) {
        var base: Dwarf_Addr = 0
        var start: Dwarf_Addr = 0
        var end: Dwarf_Addr = 0
        var offset = dwarf_ranges(&die, 0, &base, &start, &end)
        var count = 0
        while offset > 0, count < 1 << 16 {
            if start != 0, start < end, end != .max { body(start, end) }
            offset = dwarf_ranges(&die, offset, &base, &start, &end)
            count += 1
        }
    }

    /// An unsigned constant attribute of `die` itself (not through its origin).
    static func unsigned(_ die: inout Dwarf_Die, _ name: UInt32) -> UInt64? {
        var attribute = Dwarf_Attribute()
        var value: Dwarf_Word = 0
        guard dwarf_attr(&die, name, &attribute) != nil, dwarf_formudata(&attribute, &value) == 0 else {
            return nil
        }
        return value
    }
}
