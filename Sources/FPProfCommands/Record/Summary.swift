import FPProfCore
import Foundation

/// The end-of-recording report on stderr: enough to judge whether the profile can be trusted.
struct Summary {
    var stats: ProfileStats
    var event: String
    var frequency: Int
    var elapsed: Duration
    var droppedBatches: Int

    var text: String {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        var out = "fpprof: \(stats.samples) samples in \(String(format: "%.1f", seconds)) s"
        out += " (event \(event) at \(frequency) Hz), \(stats.lostRecords) lost"
        if droppedBatches > 0 { out += ", \(droppedBatches) batches dropped by fpprof" }
        out += ", \(stats.threads.count) threads in \(stats.processes.count) processes\n"
        let parts = UnwindStatus.allCases.compactMap { status -> String? in
            let n = stats.samplesByStatus[status, default: 0]
            guard n > 0 || status == .complete else { return nil }
            let share = stats.samples > 0 ? 100.0 * Double(n) / Double(stats.samples) : 0
            return "\(status) \(n) (\(String(format: "%.1f", share))%)"
        }
        out += "fpprof: unwind: " + parts.joined(separator: ", ") + "\n"
        out += "fpprof: walked: " + WalkShares(stats).text + "\n"
        if stats.decodeErrors > 0 { out += "fpprof: \(stats.decodeErrors) records could not be decoded\n" }
        return out
    }
}
