internal import FPProfCore

/// One module as the symbolizer holds it: the file read once (or the fact that it could not be), its DWARF opened
/// on the first address that needs it, plus the answers already given for its offsets. A class, so the hot path
/// mutates the answer cache in place after one lookup of the module.
///
/// Sources, in order, for an address: DWARF (the function, its inline chain, file and line), then Go's
/// `.gopclntab` (names and lines of Go binaries built without DWARF), then the ELF symbol table (with DWARF's line
/// if the line table covers the address), then the CFI's function starts (`module+0xFUNCSTART`). An address none of
/// them covers gets no frames: `module+0xOFFSET`.
final class LoadedModule {
    let module: ModuleID
    /// Nil when no candidate path gave a readable ELF file; every lookup then answers "no symbol".
    let file: ElfFile?
    private let settings: SymbolizerSettings
    /// Answers by file offset. Keyed by the bare offset, not the whole `NormalizedAddress`: the module is already
    /// known, and hashing an integer is much cheaper than hashing a path. Bounded by `settings.answersPerModule`,
    /// past which it starts over, so a long-running daemon never grows it without end.
    private let answers: AnswerCache
    private var answerBytes = 0
    private var dwarf: SourceState<DwarfModule> = .unopened
    private var go: SourceState<GoFunctionTable> = .unopened
    /// Opened for entry-frame answers and the hybrid walk's rules; closed by `release(keepDwarf: false)`, because
    /// it holds the file open and mapped.
    private var callFrames: SourceState<CallFrameTable> = .unopened
    /// See `signalReturnRanges`.
    private var signalReturns: [Range<FileOffset>]?
    /// Entry-frame answers by file offset (see `entryFrame(at:)`).
    private var entryAnswers: [UInt64: EntryFrame] = [:]
    private var goLayout: SourceState<GoRuntimeLayout> = .unopened
    /// Link-time starts of the functions the CFI describes (`.eh_frame_hdr`'s table), ascending, read once: they
    /// name code that no symbol covers by the start of its function (see `functionStartName`). Kept with the
    /// symbol table (8 bytes a function) and counted in `byteCount`.
    private var functionStarts: SourceState<[UInt64]> = .unopened
    /// The whole CFI compiled for the hybrid walk, once (see `CallFrameTable.compileRules`); dropped by `release`.
    private var compiledRules: SourceState<CallFrameRules> = .unopened
    /// Per function start (link-time address): the targets of the direct calls in its code (see `HiddenCaller`).
    var directCallTargets: [UInt64: Set<UInt64>] = [:]
    /// When the symbolizer last used this module (its own counter), for releasing the least recently used first.
    var lastUse: UInt64 = 0
    /// A message for the symbolizer's warnings, once: DWARF that libdw could not read.
    var pendingWarning: String?
    private var warnedAboutDwarf = false

    enum SourceState<Source> {
        case unopened
        case absent
        case open(Source)

        /// The source, made by `open` the first time it is asked for; a nil from `open` is remembered as absent.
        mutating func get(_ open: () -> Source?) -> Source? {
            switch self {
            case .open(let source): return source
            case .absent: return nil
            case .unopened:
                let source = open()
                self = source.map { .open($0) } ?? .absent
                return source
            }
        }
    }

    init(module: ModuleID, file: ElfFile?, settings: SymbolizerSettings) {
        self.module = module
        self.file = file
        self.settings = settings
        answers = AnswerCache(limit: settings.answersPerModule)
    }

    /// The cached frames for `offset`, if it was answered before.
    @inline(__always)
    func cachedFrames(at offset: FileOffset) -> [SymbolFrame]? { answers.get(offset.rawValue) }

    /// Computes and caches the frames for the byte at `offset`.
    func computeFrames(at offset: FileOffset, demangler: inout Demangler) -> [SymbolFrame] {
        var frames: [SymbolFrame] = []
        if let file, let address = file.segments.virtualAddress(forFileOffset: offset.rawValue) {
            frames = lookUp(address, in: file)
            if frames.count == 1, frames[0].function.isEmpty {
                // A line-table location without any name: written as the frame a profile shows for it.
                frames[0].function = "\(module.shortName)+0x\(String(offset.rawValue, radix: 16))"
            }
            for index in frames.indices { frames[index].function = demangler(frames[index].function) }
        }
        if answers.count >= settings.answersPerModule { answerBytes = 0 }
        answers.set(offset.rawValue, frames)
        answerBytes += 48 + frames.count * 64
        return frames
    }

    /// Outermost first, names as stored.
    private func lookUp(_ address: UInt64, in file: ElfFile) -> [SymbolFrame] {
        var location: (file: String?, line: Int?) = (nil, nil)
        if !settings.debugInfo {
            return file.symbols.index(containing: address).map { [SymbolFrame(function: file.symbols.name(of: $0))] }
                ?? []
        }
        if let dwarf = openDwarf(file), let answer = dwarf.answer(at: address) {
            if !answer.frames.isEmpty {
                var frames = settings.inlineFrames ? answer.frames : [answer.frames[0]]
                // The public name of the real function where DWARF has an internal alias of it.
                if let index = file.symbols.index(containing: address),
                    let name = file.symbols.publicName(for: frames[0].function, at: index)
                {
                    frames[0].function = name
                }
                return frames
            }
            location = (answer.file, answer.line)
        }
        if let go = openGo(file), let frames = go.frames(at: address, inlineFrames: settings.inlineFrames) {
            return frames
        }
        if let index = file.symbols.index(containing: address) {
            return [SymbolFrame(function: file.symbols.name(of: index), file: location.file, line: location.line)]
        }
        if let name = functionStartName(address, in: file) {
            return [SymbolFrame(function: name, file: location.file, line: location.line)]
        }
        if let file = location.file { return [SymbolFrame(function: "", file: file, line: location.line)] }
        return []
    }

    /// The name of unnamed code: `module+0xFUNCSTART`, the file offset where the function holding `address`
    /// starts by the CFI's FDE table, so that every sample of one stripped function counts under one name (its
    /// exact address stays in pprof's location). Nil where no FDE starts at or below `address` within the longest
    /// function the table could describe (up to the next start).
    private func functionStartName(_ address: UInt64, in file: ElfFile) -> String? {
        let starts = functionStarts.get { openCallFrames(file)?.fdeStarts() } ?? []
        var low = 0
        var high = starts.count
        while low < high {
            let mid = (low + high) / 2
            if starts[mid] <= address { low = mid + 1 } else { high = mid }
        }
        guard low > 0 else { return nil }
        let start = starts[low - 1]
        let end = low < starts.count ? starts[low] : start &+ Self.longestUnboundedFunction
        guard address < end, let offset = file.segments.fileOffset(forVirtualAddress: start) else { return nil }
        return "\(module.shortName)+0x\(String(offset, radix: 16))"
    }

    /// How far past the last FDE start an address is still taken to be in that function (the table gives starts
    /// only): 1 MiB, longer than any function compilers emit.
    private static let longestUnboundedFunction: UInt64 = 1 << 20

    private func openDwarf(_ file: ElfFile) -> DwarfModule? {
        dwarf.get {
            let (opened, warning) = DwarfModule.open(path: file.path)
            if let warning, !warnedAboutDwarf {
                warnedAboutDwarf = true
                pendingWarning = warning + "; names come from the symbol table"
            }
            return opened
        }
    }

    /// The `runtime.g` layout when the module is Go code (see `readGoRuntimeLayout()`), read once.
    var goRuntimeLayout: GoRuntimeLayout? { goLayout.get(readGoRuntimeLayout) }

    func openGo(_ file: ElfFile) -> GoFunctionTable? { go.get { GoFunctionTable(file: file) } }

    /// Where the return address of the function running at `offset` is: from Go's `.gopclntab` for Go code, else
    /// from the file's CFI; `.framePointer` (the frame record is in place) when neither knows.
    func entryFrame(at offset: FileOffset) -> EntryFrame {
        if let known = entryAnswers[offset.rawValue] { return known }
        var answer = EntryFrame.framePointer
        if let file, let address = file.segments.virtualAddress(forFileOffset: offset.rawValue) {
            if let go = openGo(file), let rule = go.entryFrame(at: address) {
                answer = rule
            } else if let table = openCallFrames(file), let rule = table.entryFrame(at: address) {
                answer = rule
            }
        }
        if entryAnswers.count >= settings.answersPerModule { entryAnswers.removeAll() }
        entryAnswers[offset.rawValue] = answer
        return answer
    }

    /// The module's CFI rules for the hybrid walk; nil for files without a CFI table. In a Go binary they cover
    /// only the code that is not Go's, cgo's C (built without frame pointers as often as not) and the C start files,
    /// and are nil when there is none: Go functions keep frame records, their frame 0 has `entryFrame`, and the
    /// stack switches among them are no CFI's to describe.
    var callFrameRules: CallFrameRules? {
        compiledRules.get {
            guard let file, let table = openCallFrames(file) else { return nil }
            guard let go = openGo(file) else { return table.compileRules(segments: file.segments) }
            let rules = table.compileRules(segments: file.segments) { !go.holdsCode(in: $0) }
            return rules?.count == 0 ? nil : rules
        }
    }

    /// The module's signal restorers as file-offset ranges: those its symbol table names, and the FDEs its CFI
    /// marks as signal frames (so a glibc without `.symtab` still ends a handler's stack at `__restore_rt`). Go
    /// code is named by symbols or `.gopclntab` only. Found once per module and kept (a few ranges at most); the
    /// CFI is read through a table of its own unless one is open already, so that a module met only here (every
    /// library of every process, for an `all` target) keeps no file open.
    var signalReturnRanges: [Range<FileOffset>] {
        if let known = signalReturns { return known }
        guard let file else { return [] }
        var ranges = file.signalReturnFileRanges
        if openGo(file) == nil {
            let table: CallFrameTable?
            if case .open(let open) = callFrames { table = open } else { table = CallFrameTable(path: file.path) }
            ranges += (table?.signalFrameRanges() ?? []).compactMap {
                file.segments.fileOffsets(forVirtualRange: $0)
            }.map { FileOffset($0.lowerBound)..<FileOffset($0.upperBound) }
        }
        let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
        signalReturns = sorted
        return sorted
    }

    private func openCallFrames(_ file: ElfFile) -> CallFrameTable? {
        callFrames.get { CallFrameTable(path: file.path) }
    }

    /// The traits of the stack switch whose code holds `offset` (none for any other code).
    func stackSwitchTraits(at offset: FileOffset) -> StackSwitchTraits {
        guard let file, let index = file.symbolIndex(atFileOffset: offset) else { return StackSwitchTraits() }
        return StackSwitchFrames.traits(file.symbols.name(of: index))
    }

    /// Whether the symbol covering `offset` is one where stacks end. Uncached: it is one binary search and no
    /// allocation, cheaper than a dictionary insert.
    func isRoot(at offset: FileOffset) -> Bool {
        guard let file, let index = file.symbolIndex(atFileOffset: offset) else { return false }
        return file.symbols.isRoot(index)
    }

    /// Approximate bytes this module holds for symbolization: the symbol table, DWARF indexes and line tables,
    /// Go's function table and the answer cache. Mapped file bytes are not counted: the kernel shares and
    /// reclaims them.
    var byteCount: Int {
        var total = answerBytes + (file?.symbols.byteCount ?? 0) + entryAnswers.count * 32
        if case .open(let starts) = functionStarts { total += starts.count * 8 }
        if case .open(let rules) = compiledRules { total += rules.byteCount }
        if case .open(let dwarf) = dwarf { total += dwarf.byteCount }
        if case .open(let go) = go { total += go.byteCount }
        return total
    }

    /// Drops the answer cache and the DWARF indexes, and with `keepDwarf` false the DWARF handle too (libdw's own
    /// memory: abbreviations, line tables) and the CFI table; all are rebuilt on the next address that needs
    /// them. The symbol table stays: it is small and root detection needs it.
    func release(keepDwarf: Bool) {
        if case .open(let module) = dwarf {
            if keepDwarf { module.releaseIndexes() } else { dwarf = .unopened }
        }
        answers.removeAll()
        answerBytes = 0
        entryAnswers.removeAll()
        if !keepDwarf {
            compiledRules = .unopened
            callFrames = .unopened
        }
    }
}

/// The per-symbolizer choices every module applies.
struct SymbolizerSettings: Sendable {
    var answersPerModule: Int
    var inlineFrames: Bool
    var debugInfo: Bool
}
