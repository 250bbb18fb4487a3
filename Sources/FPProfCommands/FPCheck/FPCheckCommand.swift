import ArgumentParser
import FPProfCore
import FPProfSymbols
import Foundation

/// `fpprof fpcheck`: a frame-pointer health report that a runtime's CI can gate on (exit 3 on loops or cycles).
struct FPCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fpcheck",
        abstract: "Check a program's frame-pointer chains: samples by unwind status and every broken frame record.",
        discussion: """
            Exit status: 0 healthy, 3 frame-pointer loops or cycles found, 1 the check could not run.
            Examples:
              fpprof fpcheck -- ./myprog
              fpprof fpcheck --pid 4242 --duration 10 --folded flagged.folded
            """
    )

    @OptionGroup var target: TargetOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var symbols: SymbolOptions

    @Option(help: "Also write the flagged stacks, folded, to this file.")
    var folded: String?

    func run() async throws {
        do {
            try OutputPath.checkNotEmpty(folded, option: "--folded")
            if let folded { try AtomicFile.checkWritable(folded) }
            let recording = try await Recording.run(
                target: target.target, configuration: sampling.configuration(for: target.target),
                duration: target.duration, perThread: false, raw: nil, symbols: symbols.settings)
            let profile = recording.profile
            var namer = FrameNamer(
                symbolizer: ElfSymbolizer(options: symbols.symbolizerOptions), modules: profile.modules)
            let report = FPCheckReport(
                profile: profile, event: recording.event, frequency: sampling.frequency)
            try StandardOutput.write(Array(report.text(namer: &namer).utf8))
            if let folded {
                let text = FoldedWriter().render(FrameRecordReport.flaggedOnly(profile), namer: &namer)
                try AtomicFile.write(Data(text.utf8), to: folded)
            }
            if FrameRecordReport.hasLoops(profile) { throw FPProfExit.unhealthy }
        } catch let e as UserFacingError {
            StandardError.write("fpprof: \(e.message)\n")
            throw e.exitCode
        }
    }
}
