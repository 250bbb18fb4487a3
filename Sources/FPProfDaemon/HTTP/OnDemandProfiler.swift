import FPProfCore
import FPProfEngine
import FPProfOutput
import FPProfSampler
import FPProfSymbols
import Foundation
import Logging
import Synchronization

/// `GET /debug/pprof/profile`: samples a plan's targets for the asked seconds with engines of its own (its own
/// perf events, so neither it nor the daemon's windows change the other's counts) and answers one gzipped pprof.
///
/// Bound: at most `maxConcurrent` profiles at once (each opens events on every CPU or thread and a symbolizer of
/// its own); one more is refused with 429 rather than queued.
final class OnDemandProfiler: Sendable {
    static let maxConcurrent = 4

    private let logger: Logger
    private let running = Atomic<Int>(0)

    init(logger: Logger) { self.logger = logger }

    func profile(_ plan: ProfilePlan, seconds: Int) async throws(HTTPProblem) -> [UInt8] {
        guard running.add(1, ordering: .relaxed).newValue <= Self.maxConcurrent else {
            running.subtract(1, ordering: .relaxed)
            throw HTTPProblem(429, "\(Self.maxConcurrent) profiles are being taken already; try again later")
        }
        defer { running.subtract(1, ordering: .relaxed) }

        var engines: [ProfilingEngine] = []
        for target in plan.targets {
            var symbols = ElfSymbolizer.Options()
            symbols.symbolMemoryLimit = plan.symbolMemory
            let settings = EngineSettings(
                sampler: plan.sampling.samplerConfiguration(executable: target.executablePath),
                perThread: true, perGoroutine: plan.sampling.perGoroutine,
                symbols: SymbolSettings(options: symbols, kernel: plan.sampling.kernel))
            do { engines.append(try ProfilingEngine(target: target, settings: settings, logger: logger)) } catch {
                // A process that went away between the plan and here is skipped; anything else fails the request.
                if error.sampler?.code == .noSuchProcess { continue }
                throw HTTPProblem(500, "could not enable CPU profiling: \(error.message)")
            }
        }
        guard !engines.isEmpty else { throw HTTPProblem(404, "the processes to profile have exited") }
        let started = Date()
        await withTaskGroup(of: Void.self) { group in
            for engine in engines { group.addTask { try? await engine.run() } }
            try? await Task.sleep(for: .seconds(seconds))
            for engine in engines { engine.stop() }
        }
        let elapsed = Date().timeIntervalSince(started)
        do {
            if engines.count == 1, let engine = engines.first {
                let window = try engine.cutWindow(formats: [RenderOptions(format: .pprof)])
                guard let bytes = window.outputs[.pprof] else { throw HTTPProblem(500, "no profile was rendered") }
                return bytes
            }
            var parts: [NamedProfile] = []
            for engine in engines {
                let window = try engine.cutWindow()
                let metadata = ProfileMetadata(event: engine.event.rawValue, frequency: plan.sampling.frequency)
                parts.append(
                    engine.withSymbols { symbolizer, kernel in
                        Self.named(window.profile, symbolizer: symbolizer, kernel: kernel, metadata: metadata)
                    })
            }
            var merged = NamedProfile.merged(parts)
            merged.metadata.startNanos = Int64(started.timeIntervalSince1970 * 1e9)
            merged.metadata.durationNanos = Int64(elapsed * 1e9)
            return try ProfileRenderer.render(merged, options: RenderOptions(format: .pprof))
        } catch let error as HTTPProblem {
            throw error
        } catch {
            throw HTTPProblem(500, "cannot render the profile: \(error)")
        }
    }

    private static func named(
        _ raw: RawProfile, symbolizer: ElfSymbolizer, kernel: KernelSymbols?, metadata: ProfileMetadata
    ) -> NamedProfile {
        if let kernel {
            var namer = FrameNamer(
                symbolizer: KernelAwareSymbolizer(base: symbolizer, kernel: kernel), modules: raw.modules)
            return NamedProfile(raw: raw, namer: &namer, metadata: metadata)
        }
        var namer = FrameNamer(symbolizer: symbolizer, modules: raw.modules)
        return NamedProfile(raw: raw, namer: &namer, metadata: metadata)
    }
}
