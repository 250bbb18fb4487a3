import FPProfCore
import Foundation

/// How many samples were walked by frame pointers alone and how many needed call frame information: the line
/// `record`'s summary and `fpcheck` print under the unwind statuses. With `--unwind fp` nothing needs CFI.
struct WalkShares {
    var stats: ProfileStats

    init(_ stats: ProfileStats) { self.stats = stats }

    var text: String {
        let cfi = stats.samplesWithCFI
        let alone = stats.samples - cfi
        return "by frame pointers alone \(alone) (\(share(alone))%), with CFI \(cfi) (\(share(cfi))%)"
    }

    private func share(_ n: Int) -> String {
        String(format: "%.1f", stats.samples > 0 ? 100.0 * Double(n) / Double(stats.samples) : 0)
    }
}
