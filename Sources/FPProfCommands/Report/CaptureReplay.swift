import FPProfCore
import FPProfOutput
import FPProfSymbols
import Foundation

/// Replays a raw capture through `ProfileBuilder` chunk by chunk, exactly as `Recording` fed it the live
/// batches, with a fresh `ElfSymbolizer` for root frames and names: the same binaries give the same profile.
/// `symfs` reads them from a copy of another machine's files instead (build-ids still have to match).
enum CaptureReplay {
    static func render(
        _ bytes: [UInt8], name: String, perThread: Bool, symbols: SymbolSettings, symfs: String? = nil,
        options: RenderOptions, modificationTime: Date?
    ) throws(UserFacingError) -> Rendered {
        let header: CaptureHeader
        let chunks: [ArraySlice<UInt8>]
        let truncatedAt: Int?
        do { (header, chunks, truncatedAt) = try Capture.decodeSalvaging(bytes) } catch {
            throw UserFacingError(message: "\(name): \(error.description)")
        }
        var symbolizerOptions = symbols.options
        symbolizerOptions.rootPrefix = symfs
        let symbolizer = ElfSymbolizer(options: symbolizerOptions)
        let kernelSymbols = try symbols.kernelSymbols()
        var builder: ProfileBuilder
        do {
            builder = try PipelineSetup.builder(
                format: header.format, perThread: perThread, rendering: options, symbols: symbols,
                symbolizer: symbolizer)
        } catch {
            throw UserFacingError(
                message: "\(name): capture is corrupt: its record format cannot be decoded (\(error))")
        }
        for chunk in chunks { builder.consume(chunk) }
        let profile = builder.finish()

        var result = Rendered(bytes: [])
        let stats = profile.stats
        if let truncatedAt {
            guard stats.samples > 0 else {
                throw UserFacingError(
                    message: "\(name): \(CaptureError.truncated(at: truncatedAt).description), before any whole sample")
            }
            result.warnings.append(
                "\(name): \(CaptureError.truncated(at: truncatedAt).description); the \(stats.samples) samples "
                    + "before the cut are used")
            result.partial = true
        } else if stats.decodeErrors > 0 {
            guard stats.samples > 0 else {
                throw UserFacingError(
                    message: "\(name): capture is corrupt: none of its records could be decoded "
                        + "(\(stats.decodeErrors) errors)")
            }
            result.warnings.append(
                "\(stats.decodeErrors) records of \(name) could not be decoded; the capture is damaged")
            result.partial = true
        } else if stats.samples == 0 {
            result.warnings.append("\(name) holds no samples: the recording ended before the first was taken")
        }

        var metadata = ProfileMetadata(event: header.event, frequency: header.frequency)
        if let first = stats.firstTime, let last = stats.lastTime, last >= first {
            metadata.durationNanos = Int64(clamping: last - first)
        }
        // The capture is closed when the recording ends, so its time less the sampled span approximates the start.
        if let end = modificationTime {
            metadata.startNanos = Int64(end.timeIntervalSince1970 * 1e9) - (metadata.durationNanos ?? 0)
        }
        metadata.comments.append("re-rendered from a raw capture by fpprof report")

        result.bytes = try PipelineSetup.render(
            profile, symbolizer: symbolizer, kernelSymbols: kernelSymbols, metadata: metadata, rendering: options)
        result.warnings = symbolizer.warnings + result.warnings
        return result
    }
}
