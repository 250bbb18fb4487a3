import ArgumentParser
import FPProfCore
import FPProfEngine
import FPProfOutput
import FPProfSymbols
import Foundation

/// `fpprof report`: render a profile again, in any format, without running the workload again.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a raw capture or folded stacks as folded text, pprof, an SVG flamegraph or speedscope JSON.",
        discussion: """
            A raw capture (from `fpprof record --raw FILE`) is replayed through the same pipeline as the live \
            recording and symbolized again from the binaries on this machine, matched by build-id: its folded \
            output is the live run's, byte for byte, as long as the binaries are the same. A binary that is \
            missing or changed gives module+0xOFFSET frames and one warning. Give the naming options of the \
            recording again (--no-inline, --demangle, --kernel, --per-thread): the capture does not keep them.

            Folded stacks (fpprof's, or stackcollapse-perf.pl's) are read as they are.

            Examples:
              fpprof report capture.fpc -o profile.svg
              fpprof report capture.fpc --format pprof -o cpu.pb.gz && go tool pprof -top cpu.pb.gz
              fpprof report out.folded -o out.speedscope.json
            """
    )

    @Argument(help: "A raw capture or a folded-stacks file; - reads standard input.")
    var input: String

    @Option(name: [.short, .long], help: "Write the profile here (atomically) instead of stdout.")
    var output: String?

    @OptionGroup var rendering: OutputOptions

    /// For a capture: the naming choices of the `record` run (they are not stored in the capture), so that the
    /// replay names frames the same way. `--kernel` reads this machine's /proc/kallsyms: use it on the machine and
    /// boot the capture was recorded on.
    @OptionGroup var symbols: SymbolOptions

    @Flag(help: "For a capture: add each thread's name and tid as a frame after the process name.")
    var perThread = false

    @Option(
        help: ArgumentHelp(
            "For a capture: read the binaries under this directory (a copy of the recording machine's files).",
            valueName: "dir"))
    var symfs: String?

    func run() throws {
        do {
            try OutputPath.checkNotEmpty(output, option: "--output")
            try rendering.check(output: output)
            if let output, input != "-", AtomicFile.sameFile(input, output) {
                throw UserFacingError(
                    message: "the input and --output name the same file (\(output)): the output would destroy it",
                    exitCode: FPProfExit.usage)
            }
            if let output { try AtomicFile.checkWritable(output) }
            let stream = try ReportInputStream(path: input)
            let options = rendering.renderOptions(output: output)
            let rendered: Rendered
            if (try? stream.peek(Capture.magic.count)) == Capture.magic {
                let replayed = try CaptureReplay.render(
                    stream, name: input, perThread: perThread, symbols: symbols.settings, symfs: symfs,
                    unwind: symbols.unwind, options: options, modificationTime: ReportInput.modificationTime(input))
                rendered = Rendered(bytes: replayed.bytes, warnings: replayed.warnings, partial: replayed.partial)
            } else {
                rendered = try FoldedReport.render(
                    try ReportInput.read(stream, name: input), name: input, options: options)
            }
            try ProfileOutput.write(rendered.bytes, to: output)
            for warning in rendered.warnings { StandardError.write("fpprof: warning: \(warning)\n") }
            if rendered.partial { throw FPProfExit.partial }
        } catch let e as UserFacingError {
            StandardError.write("fpprof: \(e.message)\n")
            throw e.exitCode
        } catch let e as EngineError {
            StandardError.write("fpprof: \(e.message)\n")
            throw FPProfExit.failure
        }
    }
}

/// A rendered profile and what the user should know about it.
struct Rendered {
    var bytes: [UInt8]
    var warnings: [String] = []
    /// Part of the input could not be used: exit with `FPProfExit.partial` after writing.
    var partial = false
}

/// Reading the input file, with errors that name it.
enum ReportInput {
    /// The rest of `stream` (folded text, read whole), with errors that name it.
    static func read(_ stream: ReportInputStream, name: String) throws(UserFacingError) -> [UInt8] {
        let bytes: [UInt8]
        do { bytes = try stream.readToEnd() } catch {
            throw UserFacingError(message: "\(name): cannot read: \(error)")
        }
        guard !bytes.isEmpty else {
            throw UserFacingError(message: "\(name): is empty; expected a raw capture or folded stacks")
        }
        return bytes
    }

    static func modificationTime(_ path: String) -> Date? {
        guard path != "-" else { return nil }
        return (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }
}
