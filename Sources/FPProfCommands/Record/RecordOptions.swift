import ArgumentParser
import FPProfCore
import FPProfSampler
import FPProfSymbols

extension EventChoice: ExpressibleByArgument {}

/// When samples carry the kernel's own walk of the user frame pointers (`--user-callchain`).
enum UserCallchainChoice: String, ExpressibleByArgument, CaseIterable {
    /// Only for a Go executable, whose walks continue through the kernel's chain past a g0 -> goroutine switch.
    case auto
    case always
    case never

    /// Whether to ask for the chain when profiling `target`.
    func wanted(for target: SamplerTarget) -> Bool {
        switch self {
        case .always: true
        case .never: false
        case .auto: target.executablePath.map(GoExecutable.isGo(path:)) ?? false
        }
    }
}

/// What to sample and how, shared by `record` and, later, `fpcheck`.
struct SamplingOptions: ParsableArguments {
    @Option(name: [.customShort("F"), .long], help: "Samples per second per thread.")
    var frequency: Int = 99

    @Option(help: "Bytes of user stack copied with each sample (a multiple of 8, below 65536).")
    var stackSize: Int = 16384

    @Option(help: "auto: cycles where a hardware PMU exists, else cpu-clock.")
    var event: EventChoice = .auto

    @Option(
        help: """
            Also take the kernel's frame-pointer walk of the user stack with each sample (auto, always, never). \
            fpprof unwinds from the stack copy; the kernel's chain only continues a walk where the copy ends: past \
            Go's switch from g0 to a goroutine's stack, or above a stack deeper than --stack-size. The kernel makes \
            it in every sampling interrupt, at the target's expense. auto: only when the executable (the command, \
            or the --pid process's) is a Go program; a Go program started through a shell or script needs always.
            """)
    var userCallchain: UserCallchainChoice = .auto

    func validate() throws {
        guard (1...100_000).contains(frequency) else {
            throw ValidationError("--frequency must be between 1 and 100000 Hz")
        }
        guard stackSize > 0, stackSize % 8 == 0, stackSize < 65536 else {
            throw ValidationError("--stack-size must be a positive multiple of 8 below 65536")
        }
    }

    /// The configuration for `target`: `--user-callchain auto` looks at its executable.
    func configuration(for target: SamplerTarget) -> SamplerConfiguration {
        var c = SamplerConfiguration()
        c.frequency = frequency
        c.stackSize = stackSize
        c.event = event
        c.includeUserCallchain = userCallchain.wanted(for: target)
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

    @Flag(help: "Profile every process on the host: one event per CPU, whatever the number of threads.")
    var all = false

    @Option(
        help: """
            Profile the processes of this cgroup v2 group and its descendants: a path under the cgroup2 mount \
            (system.slice/caddy.service) or an absolute folder. One event per CPU, as perf record -G.
            """)
    var cgroup: String?

    @Option(help: "Stop after this many seconds (default: when the target exits, or on Ctrl-C).")
    var duration: Double?

    @Argument(parsing: .captureForPassthrough, help: "The command to launch and profile, after --.")
    var command: [String] = []

    var launchCommand: [String] {
        command.first == "--" ? Array(command.dropFirst()) : command
    }

    /// The longest `--duration` taken: about 31 years, far past any recording, and small enough that its
    /// milliseconds fit an `Int` (`inf` or 1e300 would trap when the timer converts them).
    static let maximumDuration: Double = 1e9

    func validate() throws {
        // The passthrough argument swallows a help flag given before `--`.
        if command.first == "--help" || command.first == "-h" { throw CleanExit.helpRequest() }
        // Options end at `--` or at the first operand, as in `perf record`: what the passthrough argument
        // captured starts with an option only when ArgumentParser did not know it. Run as the command, a
        // misspelt `--frequncy` would fail as "command not found" and hide the typo.
        if let first = command.first, first != "--", first.hasPrefix("-"), first != "-" {
            throw ValidationError(
                "unknown option '\(first)'; options go before the command, which follows -- (see --help)")
        }
        let chosen = [pid != nil, !launchCommand.isEmpty, all, cgroup != nil].filter { $0 }.count
        if chosen > 1 {
            throw ValidationError("give one of --pid, --all, --cgroup or a command after --, not several")
        }
        if chosen == 0 {
            throw ValidationError("nothing to profile: give --pid PID, --all, --cgroup PATH or a command after --")
        }
        if let cgroup, CgroupV2.folder(of: cgroup) == nil {
            throw ValidationError("--cgroup \(cgroup): no cgroup2 file system is mounted; give an absolute folder")
        }
        if let d = duration, !(d > 0) {
            throw ValidationError("--duration must be a positive number of seconds")
        }
        if let d = duration, !(d <= Self.maximumDuration) {
            throw ValidationError(
                "--duration must be at most \(Int(Self.maximumDuration)) seconds; leave it out to record until "
                    + "the target exits or Ctrl-C")
        }
        if let p = pid, p <= 0 {
            throw ValidationError("--pid must be a positive process id")
        }
    }

    var target: SamplerTarget {
        if let pid { return .pid(ProcessID(pid)) }
        if all { return .all }
        if let cgroup, let folder = CgroupV2.folder(of: cgroup) { return .cgroup(folder) }
        return .launch(launchCommand)
    }
}
