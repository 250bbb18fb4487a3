import FPProfSampler
import Foundation

/// Compares a recording's samples with the target's CPU time and, when they are far apart, says why in the
/// summary: at F Hz a target busy for S CPU-seconds (user and kernel: samples are taken in both) gives about
/// S x F samples, whatever its threads. Far fewer means the profile under-represents something the user should
/// know of before trusting its shares.
struct CPUTimeCheck {
    var samples: Int
    var frequency: Int
    /// The target's CPU time over the recording; nil when it cannot be known (`--all`, a `--pid` that exited).
    var cpuTime: CPUTime?
    var elapsed: Duration
    var lostRecords: UInt64
    var sampledThreads: Int
    var tasksStarted: Int

    /// Below this share of the expected samples, the summary explains. Sampling at a fixed frequency is exact to a
    /// few percent for a busy thread; half is far outside any scheduling noise.
    static let farBelow = 0.5
    /// Fewer expected samples than this are too few to compare (a target that ran 50 ms at 99 Hz).
    static let fewestToCompare = 20.0

    /// Lines for the summary, each ending in a newline; empty when samples and CPU time agree (or nothing is
    /// known and samples were taken).
    var lines: [String] {
        guard let cpuTime else {
            return samples == 0 ? ["fpprof: no samples were taken; was the target running on a CPU?\n"] : []
        }
        let cpu = Self.seconds(cpuTime.total)
        let wall = Self.seconds(elapsed)
        let expected = cpu * Double(frequency)
        let usage =
            "the target used \(Self.format(cpu)) s of CPU time (\(Self.format(Self.seconds(cpuTime.system))) s in "
            + "the kernel) in \(Self.format(wall)) s"
        guard expected >= Self.fewestToCompare else {
            guard samples < Int(Self.fewestToCompare) else { return [] }
            return [
                "fpprof: \(usage): it ran little (idle, waiting, or not given a CPU), too little for more "
                    + "samples at \(frequency) Hz\n"
            ]
        }
        guard Double(samples) < Self.farBelow * expected else { return [] }
        let share = 100 * Double(samples) / expected
        var reasons: [String] = []
        if lostRecords > 0 {
            reasons.append("\(lostRecords) records were lost (the kernel's ring was full)")
        }
        if tasksStarted > 2 * max(sampledThreads, 1) {
            reasons.append(
                "\(tasksStarted) threads or processes were started and \(sampledThreads) sampled: threads that live "
                    + "shorter than a sampling period (\(Self.format(1000 / Double(frequency))) ms) are rarely sampled")
        }
        if reasons.isEmpty {
            reasons.append(
                "no records were lost and no short-lived threads seen; the kernel may have lowered the rate "
                    + "(kernel.perf_cpu_time_max_percent), or the time went to processes not followed")
        }
        return [
            "fpprof: warning: \(samples) samples, about \(Int(expected.rounded())) expected: \(usage), "
                + "\(Self.format(share))% of it sampled at \(frequency) Hz; " + reasons.joined(separator: "; ") + "\n"
        ]
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func format(_ value: Double) -> String { String(format: "%.1f", value) }
}
