import Glibc

/// CPU time a target used (user and kernel), to compare a recording's samples with: at F Hz, a target that ran
/// for S CPU-seconds should give about S x F samples. Far fewer says the profile misses something (threads too
/// short-lived to be sampled, records lost), and the summary says so instead of leaving the user to guess.
public struct CPUTime: Hashable, Sendable {
    public var user: Duration
    public var system: Duration
    public init(user: Duration, system: Duration) {
        self.user = user
        self.system = system
    }
    public var total: Duration { user + system }

    static func - (a: CPUTime, b: CPUTime) -> CPUTime {
        CPUTime(user: a.user - b.user, system: a.system - b.system)
    }
}

/// Measures a target's CPU time over a recording: `start` before the target runs (or is attached to), `finish`
/// after the recording ended and a launched command was reaped.
///
/// - A launched command: fpprof's own `RUSAGE_CHILDREN` (the command is fpprof's only child; the kernel adds a
///   reaped child's time, its threads' and its reaped children's, when it is waited for).
/// - `--pid`: `/proc/PID/stat`'s utime, stime (all threads, living and exited) and cutime, cstime (reaped
///   children); unknown when the process exited before `finish` (its time went with it).
/// - `--cgroup`: the group's `cpu.stat` (user_usec, system_usec), which counts every process that ran in it.
/// - `--all`: unknown (the host's whole CPU time includes fpprof itself).
public struct CPUTimeProbe: Sendable {
    private let target: SamplerTarget
    private let first: CPUTime?

    public static func start(_ target: SamplerTarget) -> CPUTimeProbe {
        CPUTimeProbe(target: target, first: read(target))
    }

    /// The CPU time used since `start`; nil when it cannot be known.
    public func finish() -> CPUTime? {
        guard let first, let last = Self.read(target) else { return nil }
        let used = last - first
        return used.user >= .zero && used.system >= .zero ? used : nil
    }

    private static func read(_ target: SamplerTarget) -> CPUTime? {
        switch target {
        case .launch:
            var usage = rusage()
            guard getrusage(RUSAGE_CHILDREN.rawValue, &usage) == 0 else { return nil }
            return CPUTime(user: duration(usage.ru_utime), system: duration(usage.ru_stime))
        case .pid(let pid):
            guard let bytes = try? Sys.readFile("/proc/\(pid.rawValue)/stat"),
                let ticks = parseTicks(stat: String(decoding: bytes, as: UTF8.self))
            else { return nil }
            let perSecond = Int64(sysconf(Int32(_SC_CLK_TCK)))
            guard perSecond > 0 else { return nil }
            func time(_ count: Int64) -> Duration? {
                let (nanoseconds, overflow) = count.multipliedReportingOverflow(by: 1_000_000_000 / perSecond)
                return overflow ? nil : .nanoseconds(nanoseconds)
            }
            guard let user = time(ticks.user), let system = time(ticks.system) else { return nil }
            return CPUTime(user: user, system: system)
        case .cgroup(let folder):
            guard let bytes = try? Sys.readFile(folder + "/cpu.stat") else { return nil }
            return parseCgroupStat(String(decoding: bytes, as: UTF8.self))
        case .all:
            return nil
        }
    }

    private static func duration(_ time: timeval) -> Duration {
        .seconds(Int64(time.tv_sec)) + .microseconds(Int64(time.tv_usec))
    }

    /// utime + cutime and stime + cstime of a /proc/PID/stat line, in clock ticks. The fields are counted after the
    /// last ')' (the command name may hold spaces and parentheses): state is the first there, utime the 12th.
    static func parseTicks(stat text: String) -> (user: Int64, system: Int64)? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 14, let utime = Int64(fields[11]), let stime = Int64(fields[12]),
            let cutime = Int64(fields[13]), let cstime = Int64(fields[14]),
            utime >= 0, stime >= 0, cutime >= 0, cstime >= 0
        else { return nil }
        let user = utime.addingReportingOverflow(cutime)
        let system = stime.addingReportingOverflow(cstime)
        guard !user.overflow, !system.overflow else { return nil }
        return (user.partialValue, system.partialValue)
    }

    /// `user_usec` and `system_usec` of a cgroup v2 `cpu.stat`.
    static func parseCgroupStat(_ text: String) -> CPUTime? {
        var user: Int64?
        var system: Int64?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = Int64(parts[1]), value >= 0 else { continue }
            if parts[0] == "user_usec" { user = value }
            if parts[0] == "system_usec" { system = value }
        }
        guard let user, let system else { return nil }
        return CPUTime(user: .microseconds(user), system: .microseconds(system))
    }
}
