/// Go's function table, `.gopclntab`, as Go 1.18 and later write it (magic `0xfffffff0`; `0xfffffff1` from Go
/// 1.20): every function's entry, name, and per-PC tables of file and line, enough to name code and place it in
/// source even when the binary was built with `-ldflags=-s -w` (no symbol table, no DWARF). The runtime reads the
/// same table for tracebacks, so it is always there.
///
/// Layout (runtime/symtab.go, `pcHeader` and `_func`): a header of offsets, then the function table of
/// `(entryoff, funcoff)` pairs sorted by entry, each `_func` record pointing into a name table, a per-CU file index
/// table and a table of varint-encoded PC-value programs. Every read here is bounds-checked; a damaged table yields
/// no answer for the addresses it would cover, never a crash.
struct GoPclntab: Sendable {
    private let bytes: [UInt8]
    private let pointerSize: Int
    private let quantum: UInt64
    let functionCount: Int
    private let textStart: UInt64
    private let nameTable: Int
    private let unitTable: Int
    private let fileTable: Int
    private let valueTable: Int
    private let functionTable: Int
    /// `_func`'s size before its pcdata offsets: 40 bytes, 44 from Go 1.20 (`startLine`).
    private let recordSize: Int

    /// Nil unless `bytes` starts with a Go 1.18+ header whose tables lie inside it. `textStart` is used when the
    /// header's own is 0 (a position-independent binary, where it is relocated at load time).
    init?(bytes: [UInt8], textStart fallbackTextStart: UInt64) {
        guard bytes.count >= 64 else { return nil }
        let magic = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
        switch magic {
        case 0xffff_fff0: recordSize = 40
        case 0xffff_fff1: recordSize = 44
        default: return nil
        }
        guard bytes[4] == 0, bytes[5] == 0, [1, 2, 4].contains(bytes[6]), [4, 8].contains(bytes[7]) else { return nil }
        self.bytes = bytes
        quantum = UInt64(bytes[6])
        pointerSize = Int(bytes[7])
        func word(_ index: Int) -> Int? {
            let offset = 8 + index * Int(bytes[7])
            // The header's eight words must lie in the table: 64 bytes are not enough for 8-byte words.
            guard offset + Int(bytes[7]) <= bytes.count else { return nil }
            var value: UInt64 = 0
            for byte in (0..<Int(bytes[7])).reversed() { value = value << 8 | UInt64(bytes[offset + byte]) }
            return Int(exactly: value)
        }
        guard let count = word(0), let start = word(2), let names = word(3), let units = word(4), let files = word(5),
            let values = word(6), let functions = word(7), count > 0, count < bytes.count,
            [names, units, files, values, functions].allSatisfy({ $0 < bytes.count }),
            functions + (count + 1) * 8 <= bytes.count
        else { return nil }
        functionCount = count
        textStart = start != 0 ? UInt64(start) : fallbackTextStart
        nameTable = names
        unitTable = units
        fileTable = files
        valueTable = values
        functionTable = functions
    }

    /// One function's facts needed to answer an address in it.
    struct Function {
        var entry: UInt64
        var end: UInt64
        /// Offset of the `_func` record in `bytes`.
        var record: Int
    }

    /// The `index`th function of the table (in address order), nil past the end or when its record is damaged.
    func function(atIndex index: Int) -> Function? {
        guard index >= 0, index < functionCount, let entry = u32(functionTable + index * 8),
            let next = u32(functionTable + index * 8 + 8), next >= entry,
            let offset = u32(functionTable + index * 8 + 4)
        else { return nil }
        let record = functionTable + Int(offset)
        guard record + recordSize <= bytes.count else { return nil }
        return Function(entry: textStart + UInt64(entry), end: textStart + UInt64(next), record: record)
    }

    /// The function whose code holds link-time address `address`.
    func function(containing address: UInt64) -> Function? {
        guard address >= textStart else { return nil }
        let target = address - textStart
        guard target <= UInt64(UInt32.max) else { return nil }
        // The last entry at or below the target, among the `functionCount` real entries.
        var low = 0
        var high = functionCount
        while low < high {
            let middle = (low + high) / 2
            if UInt64(u32(functionTable + middle * 8) ?? .max) <= target { low = middle + 1 } else { high = middle }
        }
        let index = low - 1
        guard index >= 0, let entry = u32(functionTable + index * 8), let next = u32(functionTable + index * 8 + 8),
            target < UInt64(next), let offset = u32(functionTable + index * 8 + 4)
        else { return nil }
        let record = functionTable + Int(offset)
        guard record + recordSize <= bytes.count else { return nil }
        return Function(entry: textStart + UInt64(entry), end: textStart + UInt64(next), record: record)
    }

    /// The function's name as Go prints it (`main.main`, `runtime.goexit`, `main.(*T).m`).
    func name(of function: Function) -> String? {
        guard let offset = i32(function.record + 4), offset >= 0 else { return nil }
        return string(at: nameTable + Int(offset))
    }

    /// The innermost source position of `address` in `function`: the file and line the code came from, which for
    /// inlined code is the inlined function's (as `go tool addr2line` reports it).
    func location(of address: UInt64, in function: Function) -> (file: String, line: Int)? {
        guard let fileProgram = u32(function.record + 20), let lineProgram = u32(function.record + 24),
            let unit = u32(function.record + 32),
            let fileNumber = value(program: fileProgram, entry: function.entry, target: address), fileNumber >= 0,
            let line = value(program: lineProgram, entry: function.entry, target: address),
            let fileOffset = u32(unitTable + (Int(unit) + Int(fileNumber)) * 4), fileOffset != UInt32.max,
            let file = string(at: fileTable + Int(fileOffset))
        else { return nil }
        return (file, Int(line))
    }

    /// Approximate bytes held.
    var byteCount: Int { bytes.count }

    /// Whether the table is Go 1.20's or later layout (inline tree entries without file and line).
    var isGo120: Bool { recordSize == 44 }

    /// The `index`th PC-data table of `function` evaluated at `address` (`_PCDATA_InlTreeIndex` is 2).
    func pcdata(_ index: Int, of function: Function, at address: UInt64) -> Int32? {
        guard let count = u32(function.record + 28), index < Int(count),
            let program = u32(function.record + recordSize + index * 4)
        else { return nil }
        return value(program: program, entry: function.entry, target: address)
    }

    /// The `index`th funcdata offset of `function` (relative to the module's `go:func.*` base); nil when absent
    /// (`_FUNCDATA_InlTree` is 3).
    func funcdata(_ index: Int, of function: Function) -> UInt32? {
        guard let pcdataCount = u32(function.record + 28), function.record + recordSize - 1 < bytes.count else {
            return nil
        }
        let count = Int(bytes[function.record + recordSize - 1])
        guard index < count, let offset = u32(function.record + recordSize + Int(pcdataCount) * 4 + index * 4),
            offset != UInt32.max
        else { return nil }
        return offset
    }

    /// How far SP lies below its value at `function`'s entry (the return address) when `address` runs, in bytes:
    /// the `pcsp` table the runtime's tracebacks use. Nil when the table does not cover `address`.
    func spDelta(of function: Function, at address: UInt64) -> Int32? {
        guard let program = u32(function.record + 16) else { return nil }
        return value(program: program, entry: function.entry, target: address)
    }

    /// The runs of the `pcsp` table of `function`: each `(end, delta)` holds from the previous run's end (the
    /// entry for the first) up to `end`. Nil when the table is damaged.
    func spDeltaRuns(of function: Function) -> [(end: UInt64, delta: Int32)]? {
        guard let program = u32(function.record + 16), program != 0 else { return nil }
        var cursor = valueTable + Int(program)
        var value: Int32 = -1
        var pc = function.entry
        var runs: [(end: UInt64, delta: Int32)] = []
        while runs.count < 1 << 16 {
            guard let delta = varint(&cursor) else { return nil }
            if delta == 0 && !runs.isEmpty { return runs }
            let signed = delta & 1 != 0 ? ~(delta >> 1) : delta >> 1
            value = value &+ Int32(truncatingIfNeeded: signed)
            guard let step = varint(&cursor) else { return nil }
            pc = pc &+ step &* quantum
            runs.append((pc, value))
            if pc >= function.end { return runs }
        }
        return nil
    }

    /// A name from the function-name table (inline tree entries refer to names this way).
    func name(atOffset offset: Int32) -> String? {
        offset >= 0 ? string(at: nameTable + Int(offset)) : nil
    }

    // MARK: - Decoding

    /// Runs the PC-value program at `program` (an offset into the value table) from `entry` and returns the value
    /// in force at `target`; nil when the program ends first or leaves the table.
    private func value(program: UInt32, entry: UInt64, target: UInt64) -> Int32? {
        guard program != 0 else { return nil }
        var cursor = valueTable + Int(program)
        var value: Int32 = -1
        var pc = entry
        var first = true
        var steps = 0
        while steps < 1 << 20 {
            steps += 1
            guard let delta = varint(&cursor) else { return nil }
            if delta == 0 && !first { return nil }
            first = false
            let signed = delta & 1 != 0 ? ~(delta >> 1) : delta >> 1
            value = value &+ Int32(truncatingIfNeeded: signed)
            guard let step = varint(&cursor) else { return nil }
            pc = pc &+ step &* quantum
            if target < pc { return value }
        }
        return nil
    }

    private func varint(_ cursor: inout Int) -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while cursor < bytes.count, shift < 64 {
            let byte = bytes[cursor]
            cursor += 1
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        return nil
    }

    private func u32(_ offset: Int) -> UInt32? {
        guard offset >= 0, offset + 4 <= bytes.count else { return nil }
        return UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
            | UInt32(bytes[offset + 3]) << 24
    }

    private func i32(_ offset: Int) -> Int32? { u32(offset).map { Int32(bitPattern: $0) } }

    private func string(at offset: Int) -> String? {
        guard offset >= 0, offset < bytes.count else { return nil }
        guard let end = bytes[offset...].prefix(4096).firstIndex(of: 0), end > offset else { return nil }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }
}
