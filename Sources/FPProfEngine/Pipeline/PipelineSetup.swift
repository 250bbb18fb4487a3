public import FPProfCore
public import FPProfOutput
import FPProfSampler
public import FPProfSymbols

/// How the pipeline is put together for a recording's samples. A capture holds the records but not these
/// choices, so a live recording, a replay and the benchmarks all make them here, or a replay would drift from the
/// live run: the builder's options, the symbolizer's code ranges (roots and stack switches) and entry-frame rules,
/// and the namer that adds kernel names. Goroutine ids are the exception: they are read from the live process
/// (`GoroutineReader`), so only a live recording has them, and a replay has none.
public enum PipelineSetup {
    /// A builder wired to `symbolizer`. `perThread` keys stacks by thread; `kernel` keeps the kernel's frames;
    /// `unwind` chooses frame records alone or frame records and CFI (`--unwind`); `perGoroutine` reads each Go
    /// sample's goroutine id from the live process (only for samples of a running recording: their sampler should
    /// set `wakeupEverySample`, so the read follows the sample closely).
    public static func builder(
        format: RecordFormat, perThread: Bool, kernel: Bool, symbolizer: ElfSymbolizer, unwind: UnwindMode = .hybrid,
        perGoroutine: Bool = false, excludedProcess: ProcessID? = nil
    ) throws(RecordDecodeError) -> ProfileBuilder {
        try builder(
            format: format, perThread: perThread, kernel: kernel, symbolizer: symbolizer, unwind: unwind,
            goroutines: perGoroutine ? GoroutineReader(symbolizer: symbolizer) : nil, excludedProcess: excludedProcess)
    }

    static func builder(
        format: RecordFormat, perThread: Bool, kernel: Bool, symbolizer: ElfSymbolizer, unwind: UnwindMode,
        goroutines: GoroutineReader?, excludedProcess: ProcessID? = nil
    ) throws(RecordDecodeError) -> ProfileBuilder {
        var builder = try ProfileBuilder(
            format: format,
            options: .init(
                perThread: perThread, kernel: kernel, perGoroutine: goroutines != nil,
                excludedProcess: excludedProcess),
            code: symbolizer)
        builder.prefetch = MemoryPrefetch.bytes
        if unwind == .hybrid {
            // Compiled once per module by the symbolizer (kept by build-id under its memory cap).
            builder.callFrameRules = { symbolizer.callFrameRules(for: $0) }
        }
        if let goroutines {
            builder.goroutineResolver = {
                goroutines.goroutine(
                    pid: $0, module: $1, g: $2, sp: $3, framePointers: $4, underRunningGoroutine: $5)
            }
        }
        return builder
    }

    /// The profile in the chosen format, with kernel frames named from `kernelSymbols` when given.
    public static func render(
        _ profile: RawProfile, symbolizer: ElfSymbolizer, kernelSymbols: KernelSymbols?, metadata: ProfileMetadata,
        rendering: RenderOptions
    ) throws(EngineError) -> [UInt8] {
        do {
            if let kernelSymbols {
                var namer = FrameNamer(
                    symbolizer: KernelAwareSymbolizer(base: symbolizer, kernel: kernelSymbols),
                    modules: profile.modules)
                return try ProfileRenderer.render(profile, namer: &namer, metadata: metadata, options: rendering)
            }
            var namer = FrameNamer(symbolizer: symbolizer, modules: profile.modules)
            return try ProfileRenderer.render(profile, namer: &namer, metadata: metadata, options: rendering)
        } catch {
            throw EngineError(.render, error.description)
        }
    }
}
