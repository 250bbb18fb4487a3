import ArgumentParser
import FPProfEngine
import FPProfOutput
import Foundation

extension OutputFormat: ExpressibleByArgument {}

/// How a profile is written, shared by `record` and `report`: the format (asked for, or inferred from the
/// output file's name) and the flamegraph's direction.
struct OutputOptions: ParsableArguments {
    @Option(
        help: """
            folded, pprof, svg or speedscope. Default: from the output file's name (.folded/.txt, .pb.gz/.pprof, \
            .svg, .speedscope.json), else folded.
            """)
    var format: OutputFormat?

    @Flag(help: "Draw the flamegraph top-down, root at the top (an icicle graph); with the svg format.")
    var icicle = false

    func resolvedFormat(output: String?) -> OutputFormat {
        format ?? output.flatMap(OutputFormat.init(inferringFrom:)) ?? .folded
    }

    func renderOptions(output: String?) -> RenderOptions {
        RenderOptions(format: resolvedFormat(output: output), icicle: icicle)
    }

    /// Fails before any work (a recording can take minutes) when the choice cannot be honoured.
    func check(output: String?) throws(UserFacingError) {
        let format = resolvedFormat(output: output)
        if icicle && format != .svg {
            throw UserFacingError(
                message: "--icicle draws a flamegraph: use it with --format svg (the output is \(format.rawValue))",
                exitCode: FPProfExit.usage)
        }
        if output == nil && format == .pprof && isatty(STDOUT_FILENO) == 1 {
            throw UserFacingError(
                message: "pprof profiles are binary (gzip): give -o FILE.pb.gz, or redirect stdout",
                exitCode: FPProfExit.usage)
        }
    }
}

/// Checks of a path option made before any work, so that a mistake costs no recording.
enum OutputPath {
    /// `-o ""` (an unset shell variable) names no file: a usage error, not a failure after minutes of recording.
    static func checkNotEmpty(_ path: String?, option: String) throws(UserFacingError) {
        if path?.isEmpty == true {
            throw UserFacingError(message: "\(option) needs a file name (it was empty)", exitCode: FPProfExit.usage)
        }
    }
}

/// Writes a rendered profile where the user asked: atomically to `-o`, else to stdout.
enum ProfileOutput {
    static func write(_ bytes: [UInt8], to output: String?) throws(EngineError) {
        if let output {
            try AtomicFile.write(Data(bytes), to: output)
        } else {
            do { try StandardOutput.write(bytes) } catch { throw EngineError(.output, error.message) }
        }
    }
}
