public import FPProfCore

/// How to render, beyond the format.
public struct RenderOptions: Sendable {
    public var format: OutputFormat
    /// Top-down flamegraph (root at the top).
    public var icicle: Bool
    public var title: String?

    public init(format: OutputFormat = .folded, icicle: Bool = false, title: String? = nil) {
        self.format = format
        self.icicle = icicle
        self.title = title
    }
}

/// Why a profile could not be rendered.
public struct RenderError: Error, CustomStringConvertible {
    public var description: String
}

/// One entry point for `record` and `report`: a profile in, the bytes of the chosen format out.
public enum ProfileRenderer {
    /// Renders a profile straight from aggregation. Folded output goes through `FPProfCore.FoldedWriter`, so a
    /// live recording and the `report` of its capture give the same bytes. For pprof the profile should have
    /// been built per thread (`OutputFormat.needsThreadKeys`), so that samples carry `tid` and `thread` labels.
    public static func render<S: Symbolizer>(
        _ raw: RawProfile, namer: inout FrameNamer<S>, metadata: ProfileMetadata, options: RenderOptions
    ) throws(RenderError) -> [UInt8] {
        if options.format == .folded {
            return Array(FoldedWriter().render(raw, namer: &namer).utf8)
        }
        return try render(NamedProfile(raw: raw, namer: &namer, metadata: metadata), options: options)
    }

    /// Renders a symbolized profile (for example, folded text read back).
    public static func render(_ profile: NamedProfile, options: RenderOptions) throws(RenderError) -> [UInt8] {
        switch options.format {
        case .folded:
            return Array(profile.foldedText().utf8)
        case .pprof:
            do { return try PprofWriter.encode(profile) } catch { throw RenderError(description: error.description) }
        case .svg:
            let writer = FlamegraphWriter(options: .init(icicle: options.icicle, title: options.title))
            return Array(writer.render(profile).utf8)
        case .speedscope:
            do { return try SpeedscopeWriter().render(profile, name: options.title) } catch {
                throw RenderError(description: "cannot encode the speedscope profile: \(error)")
            }
        }
    }
}
