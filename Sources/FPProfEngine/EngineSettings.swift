public import FPProfCore
public import FPProfSampler

/// Everything one recording is chosen with: what to sample and how, and how samples are keyed and named.
public struct EngineSettings: Sendable {
    /// Frequency, stack copy size, event, callchains. `symbols.kernel` turns on the kernel callchain.
    public var sampler: SamplerConfiguration
    /// Key stacks by thread (a `name/tid` frame in folded output; needed for pprof's thread labels).
    public var perThread: Bool
    /// Key Go stacks by goroutine, read from the live process (`GoroutineReader`).
    public var perGoroutine: Bool
    public var symbols: SymbolSettings
    /// Frame records alone (`fp`), or frame records and CFI where the code keeps none (`hybrid`).
    public var unwind: UnwindMode

    public init(
        sampler: SamplerConfiguration = SamplerConfiguration(), perThread: Bool = false, perGoroutine: Bool = false,
        symbols: SymbolSettings = SymbolSettings(), unwind: UnwindMode = .hybrid
    ) {
        self.unwind = unwind
        self.sampler = sampler
        self.perThread = perThread
        self.perGoroutine = perGoroutine
        self.symbols = symbols
    }
}
