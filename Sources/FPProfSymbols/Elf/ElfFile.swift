public import FPProfCore

/// What fpprof keeps of one ELF executable or shared library: its identity, the segment map between file offsets
/// and link-time addresses, and its symbols. Everything is read once and copied into Swift values, and the file is
/// closed before `init` returns, so an `ElfFile` is a plain `Sendable` value that holds no descriptor or mapping;
/// a later DWARF reader will keep its own libdw handle for the files that have debug information.
///
/// Link-time addresses (what `st_value` and `p_vaddr` hold) are typed `VirtualAddress`: they are where the
/// headers place a byte, which equals its address in a process only when the file is loaded at its link address
/// (a non-PIE executable).
public struct ElfFile: Sendable {
    /// The path the file was read from.
    public let path: String
    /// The `NT_GNU_BUILD_ID` note, if the file has one.
    public let buildID: BuildID?
    let segments: LoadSegments
    let symbols: SymbolTable

    /// Reads `path`'s program headers, build-id and `.symtab`/`.dynsym`.
    public init(path: String) throws(ElfReadError) {
        try self.init(path: path, expecting: nil)
    }

    /// As `init(path:)`, but gives up before reading any symbol when the file's build-id is not `expected`, i.e.
    /// the file was replaced after the process mapped it. A file without a build-id is taken on trust.
    init(path: String, expecting expected: BuildID?) throws(ElfReadError) {
        do throws(ElfReadError.Reason) {
            let handle = try ElfHandle(path: path)
            let buildID = handle.buildID()
            if let expected, let buildID, !expected.sameFile(as: buildID) {
                throw .buildIDMismatch(expected: expected, found: buildID)
            }
            let segments = try handle.loadSegments()
            var codeSymbols = handle.codeSymbols()
            var hasFullSymbolTable = handle.hasFullSymbolTable
            if let buildID, let debug = DebugFiles.handle(for: buildID) {
                codeSymbols += debug.codeSymbols(debugFile: true)
                hasFullSymbolTable = hasFullSymbolTable || debug.hasFullSymbolTable
            }
            // A stripped Go binary: its function table names what `.symtab` would have.
            if !hasFullSymbolTable { codeSymbols += handle.goFunctionSymbols() }
            let symbols = SymbolTable(symbols: codeSymbols)
            self.path = path
            self.buildID = buildID
            self.segments = segments
            self.symbols = symbols
        } catch {
            throw ElfReadError(path: path, reason: error)
        }
    }

    /// The build-id of the file at `path`, or nil when it has none or cannot be read. Reads only the notes, for
    /// callers that must identify a mapping (one synthesized from /proc/PID/maps has no build-id of its own).
    public static func buildID(path: String) -> BuildID? {
        guard let handle = try? ElfHandle(path: path) else { return nil }
        return handle.buildID()
    }

    /// The file offset of the byte at link-time address `address`; nil when no `PT_LOAD` segment has file bytes
    /// there.
    public func fileOffset(forVirtualAddress address: VirtualAddress) -> FileOffset? {
        segments.fileOffset(forVirtualAddress: address.rawValue).map(FileOffset.init(rawValue:))
    }

    /// The link-time address of the byte at `offset`; nil when no `PT_LOAD` segment holds it.
    public func virtualAddress(forFileOffset offset: FileOffset) -> VirtualAddress? {
        segments.virtualAddress(forFileOffset: offset.rawValue).map(VirtualAddress.init(rawValue:))
    }

    /// The name of the symbol covering link-time address `address` (rules in `SymbolTable`), version removed.
    public func symbolName(at address: VirtualAddress) -> String? {
        symbols.index(containing: address.rawValue).map(symbols.name(of:))
    }

    /// Where in the file the functions that end stacks lie (see `RootFrames`), ascending.
    public var rootFileRanges: [Range<FileOffset>] {
        symbols.rootRanges.compactMap { segments.fileOffsets(forVirtualRange: $0) }.map {
            FileOffset($0.lowerBound)..<FileOffset($0.upperBound)
        }
    }

    /// Where in the file the signal restorers named by the symbol table lie (see `RootFrames.signalReturnNames`).
    public var signalReturnFileRanges: [Range<FileOffset>] {
        symbols.signalReturnRanges.compactMap { segments.fileOffsets(forVirtualRange: $0) }.map {
            FileOffset($0.lowerBound)..<FileOffset($0.upperBound)
        }
    }

    /// Where in the file the functions that run their callee on another stack lie (see `StackSwitchFrames`),
    /// ascending.
    public var stackSwitchFileRanges: [Range<FileOffset>] {
        symbols.stackSwitchRanges.compactMap { segments.fileOffsets(forVirtualRange: $0) }.map {
            FileOffset($0.lowerBound)..<FileOffset($0.upperBound)
        }
    }

    /// The index into `symbols` of the entry covering the byte at file offset `offset`: the one lookup of the hot
    /// path, shared by naming and root detection.
    func symbolIndex(atFileOffset offset: FileOffset) -> Int? {
        guard let address = segments.virtualAddress(forFileOffset: offset.rawValue) else { return nil }
        return symbols.index(containing: address)
    }
}

extension BuildID {
    /// Whether two build-ids name the same file. The kernel reports a build-id in a fixed 20-byte field, so a
    /// shorter note may arrive zero-padded: equal bytes, or one a prefix of the other followed only by zeros.
    func sameFile(as other: BuildID) -> Bool {
        let (short, long) = bytes.count <= other.bytes.count ? (bytes, other.bytes) : (other.bytes, bytes)
        return !short.isEmpty && long.starts(with: short) && long.dropFirst(short.count).allSatisfy { $0 == 0 }
    }
}
