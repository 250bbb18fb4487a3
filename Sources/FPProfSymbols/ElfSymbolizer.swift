public import FPProfCore

/// Names sampled code from the ELF symbol tables (`.symtab` and `.dynsym`) of executables and shared libraries,
/// PIE or not. Each module is read once, on its first address; each distinct address is answered once and then
/// served from a cache, because a profile asks again for every sample that hits it.
///
/// Unreadable modules (missing, not ELF, truncated, replaced since mapped) never stop a profile: their addresses
/// get no frames, so the caller writes `module+0xOFFSET`, and `warnings` says why, once per module.
///
/// Not thread-safe, like the libdw handles it will hold once DWARF is added: one owner asks all questions.
public final class ElfSymbolizer: Symbolizer, RootFrameOracle {
    /// How the symbolizer finds files and how much it remembers.
    public struct Options: Sendable {
        /// Prepended to every module path, like `perf --symfs`, instead of trying the path as is and then through
        /// `/proc/PID/root`. Nil (the default) reads the files of this machine and of live processes' namespaces.
        public var rootPrefix: String?
        /// Per module, how many distinct addresses' answers are kept before that cache starts over.
        public var answersPerModule: Int

        public init(rootPrefix: String? = nil, answersPerModule: Int = 1 << 16) {
            self.rootPrefix = rootPrefix
            self.answersPerModule = answersPerModule
        }
    }

    private var cache: ModuleCache

    public init(options: Options = Options()) {
        var prefix = options.rootPrefix
        while let current = prefix, current.hasSuffix("/") { prefix = String(current.dropLast()) }
        cache = ModuleCache(
            locator: ModuleFileLocator(rootPrefix: prefix), answerCacheLimit: options.answersPerModule)
    }

    /// The frames for `address`: today one frame, the covering symbol's name without its version suffix; none when
    /// no symbol covers it or the module cannot be read.
    public func frames(for address: NormalizedAddress) -> [SymbolFrame] {
        cache.module(address.module).frames(at: address.offset)
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

    /// One message per module that could not be read, e.g. `cannot read ELF /opt/x: not an ELF file; frames in
    /// it are written x+0xOFFSET`.
    public var warnings: [String] { cache.warnings }
}
