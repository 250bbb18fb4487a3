internal import CElfutils
internal import FPProfCore

/// What DWARF says about one address.
struct DwarfAnswer {
    /// The function and the calls inlined into it that hold the address, outermost first, each with the file and
    /// line it was executing (for an outer frame, the line of the inlined call). Names as stored: the linkage
    /// (mangled) name where the producer wrote one, else `DW_AT_name`. Empty when the address lies in a unit but in
    /// no function DIE (assembly, padding).
    var frames: [SymbolFrame]
    /// The line-table location of the address: the innermost frame's file and line.
    var file: String?
    var line: Int?
}

/// The DWARF of one file, opened through libdwfl (`DwflSession`), indexed for fast address lookups.
///
/// - Units: the address-to-unit map is built from every unit's own `DW_AT_ranges`/`low_pc`/`high_pc` plus
///   `.debug_aranges` where present. elfutils 0.188's own lookup uses `.debug_aranges` alone, which Go does not
///   write, so `eu-addr2line` finds nothing in Go binaries; this map does.
/// - Functions and inline chains: `UnitScopes`, built per unit on first use.
/// - Lines: libdw's line table of the unit (`dwarf_getsrc_die`), the same row `eu-addr2line` picks.
///
/// Answers are the same as `eu-addr2line -f -i` gives (file names made absolute with the unit's `DW_AT_comp_dir`,
/// as its default `-A` does). Owned by one `LoadedModule`; not thread-safe.
final class DwarfModule {
    private let session: DwflSession
    private let dwarf: OpaquePointer
    /// The unit DIEs, in file order.
    private var units: [Dwarf_Die] = []
    private let unitIndex: NestedRanges
    private var scopes: [UnitScopes?]
    private var compilationDirectories: [String??]
    private var lineTableCounted: [Bool]
    /// C strings owned by libdw, copied once each: names (mostly in `.debug_str`) and file names (in line tables,
    /// made absolute).
    private var names: [UnsafeRawPointer: String] = [:]
    private var files: [UnsafeRawPointer: String] = [:]
    /// Approximate bytes held by the indexes built so far and libdw's line tables behind them.
    private(set) var byteCount: Int
    private let baseByteCount: Int
    private var lineTableBytes = 0

    /// Opens the DWARF of `path`. The module is nil when the file (and any separate debug file libdwfl finds for
    /// it) has no usable DWARF unit with code; the warning says why when the reason is damage, not absence.
    static func open(path: String) -> (module: DwarfModule?, warning: String?) {
        guard let session = DwflSession(path: path) else { return (nil, nil) }
        guard let dwarf = session.dwarf else {
            let absent = session.failure.map { $0.lowercased().contains("no dwarf") } ?? true
            return (nil, absent ? nil : "cannot read DWARF of \(path): \(session.failure ?? "unknown error")")
        }
        return (DwarfModule(session: session, dwarf: dwarf), nil)
    }

    private init?(session: DwflSession, dwarf: OpaquePointer) {
        self.session = session
        self.dwarf = dwarf
        var entries: [NestedRanges.Entry] = []
        var unitByOffset: [UInt64: Int32] = [:]
        var cu: OpaquePointer? = nil
        var next: OpaquePointer? = nil
        var version: Dwarf_Half = 0
        var unitType: UInt8 = 0
        var unitDie = Dwarf_Die()
        // Invariant: dwarf_get_units hands out units and DIEs of `dwarf`, which `session` keeps alive.
        while units.count < Int(Int32.max), dwarf_get_units(dwarf, cu, &next, &version, &unitType, &unitDie, nil) == 0 {
            cu = next
            guard dwarf_tag(&unitDie) == DwarfTag.compileUnit else { continue }
            let index = Int32(units.count)
            units.append(unitDie)
            unitByOffset[dwarf_dieoffset(&unitDie)] = index
            UnitScopes.forEachRange(&unitDie) { start, end in
                entries.append(.init(start: start, end: end, payload: index, depth: 0))
            }
        }
        // `.debug_aranges`, where present, may name ranges a unit DIE does not (a unit with only DW_AT_low_pc).
        var aranges: OpaquePointer? = nil
        var arangeCount = 0
        if dwarf_getaranges(dwarf, &aranges, &arangeCount) == 0, let aranges {
            for index in 0..<arangeCount {
                var start: Dwarf_Addr = 0
                var length: Dwarf_Word = 0
                var unitOffset: Dwarf_Off = 0
                guard let arange = dwarf_onearange(aranges, index),
                    dwarf_getarangeinfo(arange, &start, &length, &unitOffset) == 0,
                    let unit = unitByOffset[unitOffset], start != 0
                else { continue }
                let (end, overflow) = start.addingReportingOverflow(length)
                if !overflow { entries.append(.init(start: start, end: end, payload: unit, depth: 1)) }
            }
        }
        guard !units.isEmpty, !entries.isEmpty else { return nil }
        unitIndex = NestedRanges(entries)
        scopes = Array(repeating: nil, count: units.count)
        compilationDirectories = Array(repeating: nil, count: units.count)
        lineTableCounted = Array(repeating: false, count: units.count)
        baseByteCount = unitIndex.byteCount + units.count * 64
        byteCount = baseByteCount
    }

    /// The frames DWARF gives for link-time address `address`; nil when no unit covers it. An address past the end
    /// of every unit range (padding after a unit's last function) is looked up in the unit before it, as libdwfl
    /// does: its line table may still cover the address, and the line is all DWARF can say there.
    func answer(at address: UInt64) -> DwarfAnswer? {
        guard let unitIndex = self.unitIndex.payload(atOrBefore: address).map(Int.init) else { return nil }
        var unit = units[unitIndex]
        let scopes = self.scopes(of: unitIndex)

        var file: String? = nil
        var line: Int? = nil
        // Invariant: the row and its file name belong to the unit's line table, which libdw keeps with `dwarf`.
        if let row = dwarf_getsrc_die(&unit, address) {
            countLineTable(unitIndex)
            var number: Int32 = 0
            if dwarf_lineno(row, &number) == 0 { line = Int(number) }
            if let source = dwarf_linesrc(row, nil, nil) { file = fileName(source, unit: unitIndex) }
            if file == nil { line = nil }
        }

        guard var scope = scopes.innermost(at: address) else { return DwarfAnswer(frames: [], file: file, line: line) }
        var innermostFirst: [SymbolFrame] = []
        var location = (file: file, line: line)
        while true {
            let inlined = scopes.isInlined[scope]
            innermostFirst.append(
                SymbolFrame(
                    function: name(ofScope: scope, in: scopes), isInlined: inlined, file: location.file,
                    line: location.file == nil ? nil : location.line))
            let parent = Int(scopes.parents[scope])
            guard inlined, parent >= 0, innermostFirst.count < 512 else { break }
            location = callSite(of: scope, in: scopes, unit: unitIndex)
            scope = parent
        }
        // The outermost frame is the function the code physically belongs to, even when damaged DWARF leaves an
        // inlined call without a parent.
        innermostFirst[innermostFirst.count - 1].isInlined = false
        return DwarfAnswer(frames: innermostFirst.reversed(), file: file, line: line)
    }

    /// Drops the per-unit indexes (rebuilt on demand); libdw's own memory stays until the module is closed.
    func releaseIndexes() {
        for index in scopes.indices { scopes[index] = nil }
        byteCount = baseByteCount + lineTableBytes
    }

    // MARK: - Pieces

    private func scopes(of unit: Int) -> UnitScopes {
        if let built = scopes[unit] { return built }
        let built = UnitScopes(unit: units[unit])
        scopes[unit] = built
        byteCount += built.byteCount
        return built
    }

    /// Counts the unit's line table (held by libdw from its first use) against the memory budget, once.
    private func countLineTable(_ unit: Int) {
        guard !lineTableCounted[unit] else { return }
        lineTableCounted[unit] = true
        var die = units[unit]
        var lines: OpaquePointer? = nil
        var count = 0
        if dwarf_getsrclines(&die, &lines, &count) == 0 {
            byteCount += count * 48
            lineTableBytes += count * 48
        }
    }

    /// The name `eu-addr2line` prints for a scope: `DW_AT_linkage_name` (or the older `DW_AT_MIPS_linkage_name`),
    /// else `DW_AT_name`, each looked up through `DW_AT_abstract_origin` and `DW_AT_specification`; `??` if none.
    private func name(ofScope scope: Int, in scopes: UnitScopes) -> String {
        if let known = scopes.names[scope] { return known }
        var die = Dwarf_Die()
        var result = "??"
        // Invariant: the offset was read from this `dwarf`'s `.debug_info`; libdw checks it before decoding.
        if dwarf_offdie(dwarf, scopes.dieOffsets[scope], &die) != nil {
            var attribute = Dwarf_Attribute()
            var text: UnsafePointer<CChar>? = nil
            for code in [DwarfAttribute.mipsLinkageName, DwarfAttribute.linkageName, DwarfAttribute.name]
            where text == nil {
                if dwarf_attr_integrate(&die, code, &attribute) != nil {
                    text = dwarf_formstring(&attribute)
                }
            }
            if let text, text.pointee != 0 { result = string(text) }
        }
        scopes.names[scope] = result
        return result
    }

    /// Where the inlined call `scope` was made: its `DW_AT_call_file` and `DW_AT_call_line`.
    private func callSite(of scope: Int, in scopes: UnitScopes, unit: Int) -> (file: String?, line: Int?) {
        let index = scopes.callFiles[scope]
        guard index != UnitScopes.noFile else { return (nil, nil) }
        var die = units[unit]
        var files: OpaquePointer? = nil
        var count = 0
        // Invariant: dwarf_filesrc checks `index` against the table's size and returns nil past it.
        guard dwarf_getsrcfiles(&die, &files, &count) == 0, let files,
            let source = dwarf_filesrc(files, Int(index), nil, nil)
        else { return (nil, nil) }
        return (fileName(source, unit: unit), Int(scopes.callLines[scope]))
    }

    /// A file name from the unit's tables, made absolute with the unit's compilation directory as eu-addr2line does.
    private func fileName(_ source: UnsafePointer<CChar>, unit: Int) -> String {
        if let known = files[UnsafeRawPointer(source)] { return known }
        var name = String(cString: source)
        // `<autogenerated>` (Go's wrappers) and the like name no file: no directory makes them one (libdw joins
        // Go's `.` directory to it).
        if let slash = name.lastIndex(of: "/"), name[name.index(after: slash)...].hasPrefix("<") {
            name = String(name[name.index(after: slash)...])
        }
        if !name.hasPrefix("/"), !name.hasPrefix("<"), let directory = compilationDirectory(unit), !directory.isEmpty {
            name = directory.hasSuffix("/") ? directory + name : directory + "/" + name
        }
        files[UnsafeRawPointer(source)] = name
        return name
    }

    private func compilationDirectory(_ unit: Int) -> String? {
        if let known = compilationDirectories[unit] { return known }
        var die = units[unit]
        var attribute = Dwarf_Attribute()
        var directory: String? = nil
        if dwarf_attr(&die, DwarfAttribute.compilationDirectory, &attribute) != nil,
            let text = dwarf_formstring(&attribute)
        {
            directory = String(cString: text)
        }
        compilationDirectories[unit] = .some(directory)
        return directory
    }

    private func string(_ text: UnsafePointer<CChar>) -> String {
        if let known = names[UnsafeRawPointer(text)] { return known }
        let copy = String(cString: text)
        names[UnsafeRawPointer(text)] = copy
        return copy
    }
}
