import ArgumentParser
import FPProfCore
import FPProfSampler

extension EventChoice: ExpressibleByArgument {}

/// What to sample and how, shared by `record` and, later, `fpcheck`.
struct SamplingOptions: ParsableArguments {
    @Option(name: [.customShort("F"), .long], help: "Samples per second per thread.")
    var frequency: Int = 99

    @Option(help: "Bytes of user stack copied with each sample (a multiple of 8, below 65536).")
    var stackSize: Int = 16384

    @Option(help: "auto: cycles where a hardware PMU exists, else cpu-clock.")
    var event: EventChoice = .auto

    func validate() throws {
        guard (1...100_000).contains(frequency) else {
            throw ValidationError("--frequency must be between 1 and 100000 Hz")
        }
        guard stackSize > 0, stackSize % 8 == 0, stackSize < 65536 else {
            throw ValidationError("--stack-size must be a positive multiple of 8 below 65536")
        }
    }

    var configuration: SamplerConfiguration {
        var c = SamplerConfiguration()
        c.frequency = frequency
        c.stackSize = stackSize
        c.event = event
        c.ringPages = Self.ringPages(frequency: frequency, stackSize: stackSize)
        return c
    }

    /// Ring pages per CPU to hold a quarter second of samples, so a reader delayed by a busy machine loses
    /// nothing: a power of two between 128 (512 KiB, perf's default) and 2048 (8 MiB).
    static func ringPages(frequency: Int, stackSize: Int) -> Int {
        let bytes = frequency * (stackSize + 512) / 4
        var pages = 128
        while pages < 2048 && pages * 4096 < bytes { pages *= 2 }
        return pages
    }
}

/// Which process to profile: a running one by pid, or a command fpprof launches.
struct TargetOptions: ParsableArguments {
    @Option(name: [.short, .long], help: "Attach to this running process (all its threads).")
    var pid: Int32?

    @Option(help: "Stop after this many seconds (default: when the target exits, or on Ctrl-C).")
    var duration: Double?

    @Argument(parsing: .captureForPassthrough, help: "The command to launch and profile, after --.")
    var command: [String] = []

    var launchCommand: [String] {
        command.first == "--" ? Array(command.dropFirst()) : command
    }

    func validate() throws {
        // The passthrough argument swallows a help flag given before `--`.
        if command.first == "--help" || command.first == "-h" { throw CleanExit.helpRequest() }
        if pid != nil && !launchCommand.isEmpty {
            throw ValidationError("give either --pid or a command after --, not both")
        }
        if pid == nil && launchCommand.isEmpty {
            throw ValidationError("nothing to profile: give --pid PID or a command after --")
        }
        if let d = duration, !(d > 0) {
            throw ValidationError("--duration must be a positive number of seconds")
        }
        if let p = pid, p <= 0 {
            throw ValidationError("--pid must be a positive process id")
        }
    }

    var target: SamplerTarget {
        if let pid { return .pid(ProcessID(pid)) }
        return .launch(launchCommand)
    }
}
