import FPProfCore
import Foundation

/// The text `fpcheck` prints: one line of totals, the samples per unwind status, then one line per broken frame
/// record naming the function that owns it and where its return address points.
struct FPCheckReport {
    var profile: RawProfile
    var event: String
    var frequency: Int
    /// Modules whose caller frames keep no frame record (`FramelessModules.find`).
    var frameless: [FramelessModule] = []

    /// The modules `--require-frame-pointers` fails on: those whose missing records are not a rare exception.
    var lackingFramePointers: [FramelessModule] {
        frameless.filter { $0.share >= Self.reportedShare && $0.withoutRecord >= Self.reportedFrames }
    }
    /// A module is named on at least this many caller frames without a record: one sample of glibc's exit path
    /// (`__cxa_finalize`) under a program built with frame pointers is not a finding about that program.
    static let reportedFrames = 3
    /// At least this share of a module's caller frames without a record names the module (a few hand-written
    /// assembly functions in a module built with frame pointers stay below it).
    static let reportedShare = 0.05
    /// From this share on, the module as a whole was built without frame pointers.
    static let builtWithoutShare = 0.5

    func text<S: Symbolizer>(namer: inout FrameNamer<S>) -> String {
        let stats = profile.stats
        var out = "fpcheck: \(stats.samples) samples (event \(event) at \(frequency) Hz)\n"
        let statuses = UnwindStatus.allCases.map { status -> String in
            let n = stats.samplesByStatus[status, default: 0]
            let share = stats.samples > 0 ? 100.0 * Double(n) / Double(stats.samples) : 0
            return "\(status) \(n) (\(String(format: "%.1f", share))%)"
        }
        out += "unwind: " + statuses.joined(separator: ", ") + "\n"
        out += "walked: " + WalkShares(stats).text + "\n"
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
        out += framelessText(namer: &namer)
        let healthy = !FrameRecordReport.hasLoops(profile)
        out += "verdict: " + (healthy ? "healthy" : "frame-pointer loops or cycles found") + "\n"
        return out
    }

    /// One line per module lacking frame records, with the functions most often found without one.
    private func framelessText<S: Symbolizer>(namer: inout FrameNamer<S>) -> String {
        let modules = lackingFramePointers
        guard !modules.isEmpty else { return "modules without frame pointers: none\n" }
        var out = "modules without frame pointers:\n"
        for m in modules {
            let percent = Int((m.share * 100).rounded())
            let verdict =
                m.share >= Self.builtWithoutShare
                ? "built without frame pointers" : "some functions keep no frame record"
            out += "  \(module(m.module)): \(percent) % of its frames recovered by CFI: \(verdict)\n"
            var byFunction: [String: Int] = [:]
            for (site, samples) in m.sites { byFunction[name(site, &namer), default: 0] += samples }
            let top = byFunction.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(5)
            out += "    functions: " + top.map { "\($0.key) (\($0.value))" }.joined(separator: ", ") + "\n"
        }
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

    private func module(_ packed: UInt64) -> String { module(ModuleTable.unpack(packed).module) }

    private func module(_ index: Int) -> String {
        index < profile.modules.modules.count ? profile.modules.modules[index].shortName : "?"
    }
}
