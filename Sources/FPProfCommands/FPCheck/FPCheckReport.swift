import FPProfCore
import Foundation

/// The text `fpcheck` prints: one line of totals, the samples per unwind status, then one line per broken frame
/// record naming the function that owns it and where its return address points.
struct FPCheckReport {
    var profile: RawProfile
    var event: String
    var frequency: Int

    func text<S: Symbolizer>(namer: inout FrameNamer<S>) -> String {
        let stats = profile.stats
        var out = "fpcheck: \(stats.samples) samples (event \(event) at \(frequency) Hz)\n"
        let statuses = UnwindStatus.allCases.map { status -> String in
            let n = stats.samplesByStatus[status, default: 0]
            let share = stats.samples > 0 ? 100.0 * Double(n) / Double(stats.samples) : 0
            return "\(status) \(n) (\(String(format: "%.1f", share))%)"
        }
        out += "unwind: " + statuses.joined(separator: ", ") + "\n"
        let flagged = FrameRecordReport.flagged(in: profile)
        if flagged.isEmpty {
            out += "flagged frame records: none\n"
        } else {
            out += "flagged frame records:\n"
            // Records at different sampled addresses of the same function read the same to a user: one line each.
            var lines: [String] = []
            var counts: [String: Int] = [:]
            for (record, samples) in flagged {
                var line = "  \(record.status)  \(name(record.owner, &namer))"
                if let caller = record.caller {
                    line += "  returns into \(name(caller, &namer)) (\(location(caller, returnAddress: true)))"
                } else {
                    line += "  in \(module(record.owner))"
                }
                if counts[line] == nil { lines.append(line) }
                counts[line, default: 0] += samples
            }
            for line in lines.sorted(by: { counts[$0]! > counts[$1]! }) {
                out += line + "  \(counts[line]!) samples\n"
            }
        }
        let healthy = !FrameRecordReport.hasLoops(profile)
        out += "verdict: " + (healthy ? "healthy" : "frame-pointer loops or cycles found") + "\n"
        return out
    }

    /// The outermost (real, non-inlined) function of a frame.
    private func name<S: Symbolizer>(_ packed: UInt64, _ namer: inout FrameNamer<S>) -> String {
        namer.frames(for: packed).first?.function ?? "?"
    }

    /// `module+0xOFFSET` of the frame; for a caller, of the return address itself (the call site is one before).
    private func location(_ packed: UInt64, returnAddress: Bool) -> String {
        "\(module(packed))+0x\(String(ModuleTable.unpack(packed).offset + (returnAddress ? 1 : 0), radix: 16))"
    }

    private func module(_ packed: UInt64) -> String {
        let index = ModuleTable.unpack(packed).module
        return index < profile.modules.modules.count ? profile.modules.modules[index].shortName : "?"
    }
}
