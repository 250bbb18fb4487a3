public import FPProfCore
public import FPProfOutput
import FPProfSymbols
public import Foundation

/// A capture rendered again, and what the user should know about it.
public struct ReplayedCapture: Sendable {
    public var bytes: [UInt8]
    public var warnings: [String] = []
    /// Part of the capture could not be used (cut short, damaged records): the profile covers the rest.
    public var partial = false
}

/// Replays a raw capture through `ProfileBuilder` chunk by chunk, exactly as `ProfilingEngine` fed it the live
/// batches, with a fresh `ElfSymbolizer` for root frames and names: the same binaries give the same profile.
/// `symfs` reads them from a copy of another machine's files instead (build-ids still have to match).
public enum CaptureReplay {
    public static func render(
        _ input: ReportInputStream, name: String, perThread: Bool, symbols: SymbolSettings, symfs: String? = nil,
        unwind: UnwindMode = .hybrid, options: RenderOptions, modificationTime: Date?
    ) throws(EngineError) -> ReplayedCapture {
        let header: CaptureHeader
        do { header = try readHeader(input) } catch {
            throw EngineError(.capture, "\(name): \(error.description)")
        }
        var symbolizerOptions = symbols.options
        symbolizerOptions.rootPrefix = symfs
        let symbolizer = ElfSymbolizer(options: symbolizerOptions)
        let kernelSymbols = try symbols.kernelSymbols()
        var builder: ProfileBuilder
        do {
            builder = try PipelineSetup.builder(
                format: header.format, perThread: perThread || options.format.needsThreadKeys,
                kernel: symbols.kernel, symbolizer: symbolizer, unwind: unwind)
        } catch {
            throw EngineError(.capture, "\(name): capture is corrupt: its record format cannot be decoded (\(error))")
        }
        let truncatedAt: Int?
        do { truncatedAt = try replayChunks(input, into: &builder) } catch let error as CaptureError {
            throw EngineError(.capture, "\(name): \(error.description)")
        } catch {
            throw EngineError(.input, "\(name): cannot read: \(error)")
        }
        let profile = builder.finish()

        var result = ReplayedCapture(bytes: [])
        let stats = profile.stats
        if let truncatedAt {
            guard stats.samples > 0 else {
                throw EngineError(
                    .capture, "\(name): \(CaptureError.truncated(at: truncatedAt).description), before any whole sample"
                )
            }
            result.warnings.append(
                "\(name): \(CaptureError.truncated(at: truncatedAt).description); the \(stats.samples) samples "
                    + "before the cut are used")
            result.partial = true
        } else if stats.decodeErrors > 0 {
            guard stats.samples > 0 else {
                throw EngineError(
                    .capture,
                    "\(name): capture is corrupt: none of its records could be decoded (\(stats.decodeErrors) errors)")
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

    /// The capture's header, read through its declared length.
    private static func readHeader(_ input: ReportInputStream) throws(CaptureError) -> CaptureHeader {
        guard let start = try? input.read(16), start.count == 16 else { throw .truncated(at: input.offset) }
        // The magic first; the version is checked by `decodeHeader` before the header's fields are read.
        guard Array(start.prefix(8)) == Capture.magic else { throw .notACapture }
        let length = Int(start[12]) | Int(start[13]) << 8 | Int(start[14]) << 16 | Int(start[15]) << 24
        guard let rest = try? input.read(length) else { throw .truncated(at: input.offset) }
        return try Capture.decodeHeader((start + rest)[...]).0
    }

    /// Feeds each chunk of records to `builder` as it is read, as `Capture.decodeSalvaging` reads a whole file:
    /// returns where a cut chunk starts (its bytes up to the cut are fed too), nil when the capture is whole.
    private static func replayChunks(_ input: ReportInputStream, into builder: inout ProfileBuilder) throws -> Int? {
        while true {
            let at = input.offset
            let chunkHeader = try input.read(Capture.chunkHeaderSize)
            if chunkHeader.isEmpty { return nil }
            guard chunkHeader.count == Capture.chunkHeaderSize else { return at }
            let length = try Capture.recordsLength(chunkHeader[...], at: at)
            let records = try input.read(length)
            if !records.isEmpty { builder.consume(records) }
            guard records.count == length else { return at }
            _ = try input.read((8 - length % 8) % 8)
        }
    }
}
