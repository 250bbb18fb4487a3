import ArgumentParser
import FPProfCore
import FPProfEngine
import FPProfSymbols
import Foundation

/// `fpprof fpcheck`: a frame-pointer health report that a runtime's CI can gate on (exit 3 on loops or cycles).
struct FPCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fpcheck",
        abstract: "Check a program's frame-pointer chains: samples by unwind status and every broken frame record.",
        discussion: """
            Exit status: 0 healthy, 3 frame-pointer loops or cycles found, 4 modules without frame pointers found \
            (only with --require-frame-pointers), 1 the check could not run. Modules whose code keeps no frame \
            records are always reported, with the functions the samples found.
            Examples:
              fpprof fpcheck -- ./myprog
              fpprof fpcheck --pid 4242 --duration 10 --folded flagged.folded
            """
    )

    @OptionGroup var target: TargetOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var symbols: SymbolOptions

    @Flag(help: "Exit 4 when a module of the samples is built without frame pointers (loops and cycles still exit 3).")
    var requireFramePointers = false

    @Option(help: "Also write the flagged stacks, folded, to this file.")
    var folded: String?

    func run() async throws {
        do {
            try OutputPath.checkNotEmpty(folded, option: "--folded")
            if let folded { try AtomicFile.checkWritable(folded) }
            let settings = EngineSettings(
                sampler: sampling.configuration(for: target.target), symbols: symbols.settings,
                unwind: symbols.unwind)
            // No format is rendered: the report and the flagged stacks are named with the engine's own symbolizer.
            if case .pid(let pid) = target.target { try PtraceAccess.check(pid: pid.rawValue) }
            let recording = try await LiveRecording.run(
                target: target.target, settings: settings, duration: target.duration, raw: nil, formats: [])
            let profile = recording.window.profile
            var report = FPCheckReport(
                profile: profile, event: recording.engine.event.rawValue, frequency: sampling.frequency)
            let (text, flagged, lacking) = recording.engine.withSymbols { symbolizer, _ in
                report.frameless = FramelessModules.find(in: profile) { index in
                    index < profile.modules.modules.count
                        ? symbolizer.callFrameRules(for: profile.modules.modules[index]) : nil
                }
                var namer = FrameNamer(symbolizer: symbolizer, modules: profile.modules)
                let text = report.text(namer: &namer)
                let flagged = folded.map { _ in
                    FoldedWriter().render(FrameRecordReport.flaggedOnly(profile), namer: &namer)
                }
                return (text, flagged, !report.lackingFramePointers.isEmpty)
            }
            try StandardOutput.write(Array(text.utf8))
            if let folded, let flagged { try AtomicFile.write(Data(flagged.utf8), to: folded) }
            if FrameRecordReport.hasLoops(profile) { throw FPProfExit.unhealthy }
            if requireFramePointers && lacking { throw FPProfExit.missingFramePointers }
        } catch let e as UserFacingError {
            StandardError.write("fpprof: \(e.message)\n")
            throw e.exitCode
        } catch let e as EngineError {
            StandardError.write("fpprof: \(e.message)\n")
            throw FPProfExit.failure
        }
    }
}
