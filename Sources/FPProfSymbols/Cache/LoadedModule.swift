internal import FPProfCore

/// One module as the symbolizer holds it: the file read once (or the fact that it could not be), plus the answers
/// already given for its offsets. A class, so the hot path mutates the answer cache in place after one lookup of
/// the module.
final class LoadedModule {
    let module: ModuleID
    /// Nil when no candidate path gave a readable ELF file; every lookup then answers "no symbol".
    let file: ElfFile?
    /// Answers by file offset. Keyed by the bare offset, not the whole `NormalizedAddress`: the module is already
    /// known, and hashing an integer is much cheaper than hashing a path. Bounded by `cacheLimit`, past which it
    /// starts over, so a long-running daemon never grows it without end.
    private var answers: [UInt64: [SymbolFrame]] = [:]
    private let cacheLimit: Int

    init(module: ModuleID, file: ElfFile?, cacheLimit: Int) {
        self.module = module
        self.file = file
        self.cacheLimit = max(cacheLimit, 1)
    }

    /// The frames for the byte at `offset`: one frame naming the covering symbol, or none.
    func frames(at offset: FileOffset) -> [SymbolFrame] {
        if let cached = answers[offset.rawValue] { return cached }
        var frames: [SymbolFrame] = []
        if let file, let index = file.symbolIndex(atFileOffset: offset) {
            frames = [SymbolFrame(function: file.symbols.name(of: index))]
        }
        if answers.count >= cacheLimit { answers.removeAll(keepingCapacity: true) }
        answers[offset.rawValue] = frames
        return frames
    }

    /// Whether the symbol covering `offset` is one where stacks end. Uncached: it is one binary search and no
    /// allocation, cheaper than a dictionary insert.
    func isRoot(at offset: FileOffset) -> Bool {
        guard let file, let index = file.symbolIndex(atFileOffset: offset) else { return false }
        return file.symbols.isRoot(index)
    }
}
