import ArgumentParser
import FPProfCore
import FPProfEngine
import FPProfOutput
import FPProfSampler
import FPProfSymbols
import Foundation

/// `fpprof record`: sample a process, unwind every sample in Swift, write folded stacks.
struct RecordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Profile a command or a running process and write folded stacks, pprof, SVG or speedscope.",
        discussion: """
            Examples:
              fpprof record -o out.folded -- ./myprog arg1 arg2
              fpprof record -o cpu.pb.gz -- ./myprog          (then: go tool pprof -top cpu.pb.gz)
              fpprof record -o flame.svg --raw run.fpc -- ./myprog
              fpprof record --pid 4242 --duration 10 -o out.folded
              fpprof record --pid 4242 | flamegraph.pl > out.svg
            """
    )

    @OptionGroup var target: TargetOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(name: [.short, .long], help: "Write the profile here (atomically) instead of stdout.")
    var output: String?

    @OptionGroup var rendering: OutputOptions
    @OptionGroup var symbols: SymbolOptions

    @Flag(help: "Add each thread's name and tid as a frame after the process name.")
    var perThread = false

    @Flag(
        help: """
            Add each Go sample's goroutine id as a frame `goroutine N` after the process (and thread) name, and as \
            the pprof label `goroutine`. Read from the live process; `fpprof report` of a raw capture has no ids.
            """)
    var perGoroutine = false

    @Option(help: "Also keep the raw capture (every record, versioned) in this file, for `fpprof report`.")
    var raw: String?

    func run() async throws {
        do {
            try OutputPath.checkNotEmpty(output, option: "--output")
            try OutputPath.checkNotEmpty(raw, option: "--raw")
            try rendering.check(output: output)
            if let output, let raw, AtomicFile.sameFile(output, raw) {
                throw UserFacingError(
                    message: "--raw and --output name the same file (\(raw)): one would overwrite the other",
                    exitCode: FPProfExit.usage)
            }
            if let output { try AtomicFile.checkWritable(output) }
            let rawFile = try raw.map { path throws(EngineError) in try StreamingFile(path: path) }
            let options = rendering.renderOptions(output: output)
            let settings = EngineSettings(
                sampler: sampling.configuration(for: target.target),
                perThread: perThread || options.format.needsThreadKeys, perGoroutine: perGoroutine,
                symbols: symbols.settings, unwind: symbols.unwind)
            if case .pid(let pid) = target.target { try PtraceAccess.check(pid: pid.rawValue) }
            let recording: LiveRecording
            do {
                recording = try await LiveRecording.run(
                    target: target.target, settings: settings, duration: target.duration, raw: rawFile,
                    formats: [options])
            } catch {
                rawFile?.abandon()
                throw error
            }
            // The profile and the raw capture are written each whatever becomes of the other: a capture that
            // fills its disk must not cost the profile, which may well fit on another.
            var failures: [EngineError] = []
            do { try rawFile?.commit() } catch { failures.append(error) }
            do { try ProfileOutput.write(recording.window.outputs[options.format] ?? [], to: output) } catch {
                failures.append(error)
            }
            StandardError.write(recording.summary)
            if let last = failures.last {
                for failure in failures.dropLast() { StandardError.write("fpprof: \(failure.message)\n") }
                throw last
            }
            if recording.lostData { throw FPProfExit.partial }
        } catch let e as UserFacingError {
            StandardError.write("fpprof: \(e.message)\n")
            throw e.exitCode
        } catch let e as EngineError {
            StandardError.write("fpprof: \(e.message)\n")
            throw FPProfExit.failure
        }
    }
}
