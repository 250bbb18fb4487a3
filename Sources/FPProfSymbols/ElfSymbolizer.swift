public import FPProfCore

/// Names sampled code from DWARF (through libdw: functions, inline chains, files and lines), Go's `.gopclntab`, and
/// the ELF symbol tables (`.symtab` and `.dynsym`) of executables and shared libraries, PIE or not; separate debug
/// files under `/usr/lib/debug/.build-id/` are found by build-id. Each module is read once, on its first address,
/// its DWARF indexed per compilation unit on first use; each distinct address is answered once and then served
/// from a cache, because a profile asks again for every sample that hits it. Names are demangled (C++, Rust, Swift)
/// per `Options.demangle`.
///
/// Unreadable modules (missing, not ELF, truncated, replaced since mapped) never stop a profile: their addresses
/// get no frames, so the caller writes `module+0xOFFSET`, and `warnings` says why, once per module. Damaged DWARF
/// falls back to the symbol table, also with one warning.
///
/// Not thread-safe, like the libdw handles it holds: one owner asks all questions.
public final class ElfSymbolizer: Symbolizer, CodeKnowledge {
    /// How the symbolizer finds files, what it answers and how much it remembers.
    public struct Options: Sendable {
        /// Prepended to every module path, like `perf --symfs`, instead of trying the path as is and then through
        /// `/proc/PID/root`. Nil (the default) reads the files of this machine and of live processes' namespaces.
        public var rootPrefix: String?
        /// Per module, how many distinct addresses' answers are kept before that cache starts over.
        public var answersPerModule: Int
        /// Whether an address in inlined code yields the whole chain (the real function, then each inlined call,
        /// `SymbolFrame.isInlined` set on those) or only the real function, with the line of the outermost inlined
        /// call in it (`--no-inline`).
        public var inlineFrames: Bool
        /// How C++, Rust and Swift names are shown (`--demangle`); `noParams` by default.
        public var demangle: DemangleMode
        /// Whether DWARF (and Go's `.gopclntab`) are read at all. False leaves the ELF symbol tables alone, as
        /// `perf report` names frames without debug information: one frame per address, no files or lines, and
        /// exported alias names (`malloc`) where DWARF names the C function (`__libc_malloc`).
        public var debugInfo: Bool
        /// A soft cap, in bytes, on what the symbolizer holds for all modules together: symbol tables, DWARF indexes,
        /// libdw's line tables (estimated), Go function tables and cached answers. Past it the least recently used
        /// modules release their DWARF and answers (reopened when needed again). The module in use keeps its libdw
        /// handle even when it alone is larger. 0 means no cap. Default 512 MiB.
        public var symbolMemoryLimit: Int

        public init(
            rootPrefix: String? = nil, answersPerModule: Int = 1 << 18, inlineFrames: Bool = true,
            demangle: DemangleMode = .noParams, debugInfo: Bool = true, symbolMemoryLimit: Int = 512 << 20
        ) {
            self.debugInfo = debugInfo
            self.rootPrefix = rootPrefix
            self.answersPerModule = answersPerModule
            self.inlineFrames = inlineFrames
            self.demangle = demangle
            self.symbolMemoryLimit = symbolMemoryLimit
        }
    }

    private var cache: ModuleCache
    private var demangler: Demangler
    /// The module of the previous address: consecutive addresses mostly share one, and comparing IDs whose path
    /// strings share storage is cheaper than a lookup.
    private var lastModule: LoadedModule?
    private var lastPath = ""
    private var lastBuildID: [UInt8]?
    /// The JIT maps read so far, by process; nil where the process wrote none. Bounded by the processes whose JIT
    /// frames were named since the owner last called `forgetAllPerfMaps()`: an engine does so at every cut.
    private var perfMaps: [ProcessID: PerfMapSymbols?] = [:]
    private let rootPrefix: String?

    public init(options: Options = Options()) {
        var prefix = options.rootPrefix
        while let current = prefix, current.hasSuffix("/") { prefix = String(current.dropLast()) }
        rootPrefix = prefix
        cache = ModuleCache(
            locator: ModuleFileLocator(rootPrefix: prefix),
            settings: SymbolizerSettings(
                answersPerModule: max(options.answersPerModule, 1), inlineFrames: options.inlineFrames,
                debugInfo: options.debugInfo),
            memoryLimit: max(options.symbolMemoryLimit, 0))
        demangler = Demangler(mode: options.demangle)
    }

    /// The frames for `address`, outermost first: the function that holds the code, then each call inlined into it
    /// (`isInlined`), each with its file and line where DWARF or `.gopclntab` has them. None when nothing covers
    /// the address or the module cannot be read.
    public func frames(for address: NormalizedAddress) -> [SymbolFrame] {
        if address.module.isAnonymous { return jitFrames(address) }
        let module: LoadedModule
        // Field by field with the standard library's inlinable `==` (which first compares storage identity):
        // `ModuleID`'s own `==` is an opaque call that copies both IDs.
        if let last = lastModule, address.module.path == lastPath, address.module.buildID?.bytes == lastBuildID {
            module = last
        } else {
            module = cache.module(address.module)
            lastModule = module
            lastPath = address.module.path
            lastBuildID = address.module.buildID?.bytes
        }
        if let known = module.cachedFrames(at: address.offset) { return known }
        let frames = module.computeFrames(at: address.offset, demangler: &demangler)
        cache.settle(module)
        return frames
    }

    /// A JIT's code (anonymous memory, normalized to its address), named from the map the JIT wrote for perf,
    /// `/tmp/perf-PID.map`, as `perf report` names it. The map is read once per process, when its first such frame
    /// is named: after the recording, so a map written while the program ran is whole, and still there after it
    /// exited (an engine reads it again each window: see `forgetAllPerfMaps()`). Looked for in the process's own /tmp first (a container's), under the pid the process sees there
    /// while it lives, then under its pid here, then in this machine's /tmp.
    private func jitFrames(_ address: NormalizedAddress) -> [SymbolFrame] {
        guard let pid = address.module.pidHint else { return [] }
        let map: PerfMapSymbols?
        if let known = perfMaps[pid] {
            map = known
        } else {
            map = perfMap(of: pid)
            perfMaps[pid] = map
        }
        return map?.frames(at: VirtualAddress(address.offset.rawValue)) ?? []
    }

    /// Reads the perf map of each process now, unless it was read already: for processes about to be forgotten,
    /// whose frames must keep their names in the window they end in.
    public func readPerfMaps(of processes: [ProcessID]) {
        for pid in processes where perfMaps[pid] == nil {
            perfMaps[pid] = perfMap(of: pid)
        }
    }

    /// Drops every perf map read: the next JIT frame of a process reads its map again, with what the JIT wrote
    /// since (and a process id reused later reads its own map).
    public func forgetAllPerfMaps() {
        perfMaps.removeAll()
    }

    /// Marks the start of a window for the memory cap (see `ModuleCache`): modules used in this window or the
    /// one before are kept; the others may be forgotten whole when a new one is read. The engine and the daemon
    /// call it at every cut.
    public func startWindow() {
        cache.startWindow()
    }

    /// Modules forgotten whole to stay under `Options.symbolMemoryLimit` (read again if met again).
    public var modulesForgotten: Int { cache.modulesForgotten }

    /// How many processes' perf maps are held (read, or known to be missing).
    public var perfMapCount: Int { perfMaps.count }

    private func perfMap(of pid: ProcessID) -> PerfMapSymbols? {
        if let rootPrefix { return PerfMapSymbols.forProcess(pid, root: rootPrefix) }
        return PerfMapSymbols.forProcessInItsNamespace(pid)
            ?? PerfMapSymbols.forProcess(pid, root: "/proc/\(pid.rawValue)/root")
            ?? PerfMapSymbols.forProcess(pid)
    }

    /// As `frames(for:)`, for a link-time (ELF virtual) address of `module`, as `addr2line` takes them. None when
    /// no loadable segment of the file holds the address.
    public func frames(atVirtualAddress address: VirtualAddress, in module: ModuleID) -> [SymbolFrame] {
        guard let offset = cache.module(module).file?.fileOffset(forVirtualAddress: address) else { return [] }
        return frames(for: NormalizedAddress(module: module, offset: offset))
    }

    /// Whether `address` lies in a function where stacks end (`_start`, `__libc_start_main`, `clone3`,
    /// `runtime.goexit`, ...): the unwinder stops there and calls the stack complete.
    public func isRoot(_ address: NormalizedAddress) -> Bool {
        cache.module(address.module).isRoot(at: address.offset)
    }

    /// The file-offset ranges of `module`'s root functions (see `isRoot(_:)`), ascending; empty when it has none
    /// or cannot be read. Lets a caller that knows where the module is mapped test return addresses against
    /// ranges instead of asking for each one.
    public func rootRanges(for module: ModuleID) -> [Range<FileOffset>] {
        cache.module(module).file?.rootFileRanges ?? []
    }

    /// The code of `module` the unwinder must know by address: its root functions (as `rootRanges(for:)`) and the
    /// functions that run their callee on another stack (Go's `runtime.systemstack`, `mcall`, `morestack`,
    /// `asmcgocall`), and its signal restorers (glibc's `__restore_rt`, by symbol or by the CFI's signal-frame
    /// mark), as file-offset ranges. Empty when the module cannot be read.
    public func codeRanges(for module: ModuleID) -> SpecialCode {
        let loaded = cache.module(module, use: false)
        guard let file = loaded.file else { return SpecialCode() }
        return SpecialCode(
            roots: file.rootFileRanges, stackSwitches: file.stackSwitchFileRanges,
            signalReturns: loaded.signalReturnRanges)
    }

    /// Where the return address of the function running at `address` is, for the first frame of a stack walk:
    /// `.returnAddressAtSP(offset:)` where that function has no frame record in place there (a frameless leaf, a
    /// prologue or epilogue), from the file's CFI (`.eh_frame`, `.debug_frame`) or, for Go code, `.gopclntab`'s SP
    /// deltas; `.framePointer` where its record is in place, or when nothing is known (conservative). Cached per
    /// address.
    public func entryFrame(for address: NormalizedAddress) -> EntryFrame {
        cache.module(address.module).entryFrame(at: address.offset)
    }

    /// `module`'s call frame information compiled into rules for the hybrid walk (`HybridUnwinder`), by file
    /// offset: once per build-id, kept with the module's symbols and released with them under
    /// `symbolMemoryLimit`. Nil for Go code and for files without a CFI table.
    public func callFrameRules(for module: ModuleID) -> CallFrameRules? {
        cache.module(module).callFrameRules
    }

    /// What `StackSwitchRepair` needs: the traits of the stack switch at an address, and the caller a frameless
    /// switch hides (see `LoadedModule.hiddenCaller`). Asked only within one module (Go binaries are static).
    public var stackSwitchSymbols: StackSwitchSymbols {
        StackSwitchSymbols(
            traits: { self.stackSwitchTraits(at: $0) },
            hiddenCaller: { self.hiddenCaller(switchAt: $0, above: $1, callee: $2) })
    }

    /// The traits of the stack switch holding `address` (`CodeKnowledge`).
    public func stackSwitchTraits(at address: NormalizedAddress) -> StackSwitchTraits {
        cache.module(address.module).stackSwitchTraits(at: address.offset)
    }

    /// The caller a frameless switch hides (`CodeKnowledge`); asked only within one module (Go binaries are static).
    public func hiddenCaller(switchAt: NormalizedAddress, above: NormalizedAddress, callee: NormalizedAddress?)
        -> HiddenCaller<FileOffset>?
    {
        guard above.module == switchAt.module, callee.map({ $0.module == switchAt.module }) ?? true else { return nil }
        return cache.module(switchAt.module).hiddenCaller(
            switchAt: switchAt.offset, above: above.offset, callee: callee?.offset)
    }

    /// The `runtime.g` field offsets of `module` when it is a Go binary (it has `.gopclntab`): from its DWARF type
    /// `runtime.g`, else the Go 1.19 amd64 table. Nil for modules that are not Go or cannot be read.
    public func goRuntimeLayout(for module: ModuleID) -> GoRuntimeLayout? {
        cache.module(module).goRuntimeLayout
    }

    /// One message per module that could not be read, e.g. `cannot read ELF /opt/x: not an ELF file; frames in
    /// it are written x+0xOFFSET`, and per module whose DWARF is damaged.
    public var warnings: [String] { cache.warnings }
}
