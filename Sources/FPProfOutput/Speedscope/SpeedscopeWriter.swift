import FPProfCore
import Foundation

/// Writes speedscope's JSON file format (https://www.speedscope.app/file-format-schema.json): one "sampled"
/// profile per process, or per thread when the profile is split per thread (speedscope shows one at a time and
/// offers the others in a menu), over one shared frame table. Each distinct stack is one sample, root first,
/// weighted by its CPU nanoseconds when the event counts time and by its sample count otherwise. Unwind markers
/// stay in the stacks as frames, so flagged stacks are visible there too.
public struct SpeedscopeWriter {
    static let schema = "https://www.speedscope.app/file-format-schema.json"

    public init() {}

    public func render(_ profile: NamedProfile, name: String? = nil) throws -> [UInt8] {
        let useNanoseconds =
            profile.metadata.periodIsNanoseconds && !profile.stacks.isEmpty
            && profile.stacks.allSatisfy { $0.period > 0 }

        struct GroupKey: Hashable {
            var process: String
            var pid: Int32?
            var thread: String?
            var tid: Int32?
        }
        var frameIndex: [FrameKey: Int] = [:]
        var frames: [SpeedscopeFile.Frame] = []
        var groups: [GroupKey: SpeedscopeFile.Profile] = [:]
        var order: [GroupKey] = []

        for stack in profile.stacks where stack.samples > 0 {
            let key = GroupKey(process: stack.process, pid: stack.pid, thread: stack.thread, tid: stack.tid)
            if groups[key] == nil {
                var title = stack.process + (stack.pid.map { " (pid \($0))" } ?? "")
                if let thread = stack.thread { title = thread + (stack.tid.map { "/\($0)" } ?? "") + " in " + title }
                groups[key] = SpeedscopeFile.Profile(
                    name: title, unit: useNanoseconds ? "nanoseconds" : "none", startValue: 0, endValue: 0,
                    samples: [], weights: [])
                order.append(key)
            }
            var sample: [Int] = []
            for frame in profile.displayFrames(of: stack, context: false) {
                var file: String?
                if let f = frame.function { file = profile.functions[f].file }
                if file == nil, let m = frame.module, m < profile.modules.count { file = profile.modules[m].path }
                let fk = FrameKey(name: frame.name, file: file)
                let index: Int
                if let i = frameIndex[fk] {
                    index = i
                } else {
                    index = frames.count
                    frames.append(SpeedscopeFile.Frame(name: frame.name, file: file))
                    frameIndex[fk] = index
                }
                sample.append(index)
            }
            let weight = useNanoseconds ? Int(clamping: stack.period) : stack.samples
            groups[key]!.samples.append(sample)
            groups[key]!.weights.append(weight)
            // Periods come from the capture, which may be crafted: the sum saturates instead of trapping.
            let (sum, overflow) = groups[key]!.endValue.addingReportingOverflow(weight)
            groups[key]!.endValue = overflow ? Int.max : sum
        }

        let profiles = order.map { groups[$0]! }
        let heaviest = profiles.indices.max { profiles[$0].endValue < profiles[$1].endValue } ?? 0
        let file = SpeedscopeFile(
            shared: .init(frames: frames), profiles: profiles,
            name: name ?? Set(profile.stacks.map(\.process)).sorted().joined(separator: ", "),
            activeProfileIndex: heaviest, exporter: "fpprof")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(file)) + [0x0A]
    }

    private struct FrameKey: Hashable {
        var name: String
        var file: String?
    }
}

/// The parts of speedscope's file format fpprof writes (see `file-format-spec.ts` in speedscope).
struct SpeedscopeFile: Codable {
    var schema = SpeedscopeWriter.schema
    var shared: Shared
    var profiles: [Profile]
    var name: String
    var activeProfileIndex: Int
    var exporter: String

    enum CodingKeys: String, CodingKey {
        case schema = "$schema"
        case shared, profiles, name, activeProfileIndex, exporter
    }

    struct Shared: Codable {
        var frames: [Frame]
    }

    struct Frame: Codable {
        var name: String
        var file: String?
    }

    struct Profile: Codable {
        var type = "sampled"
        var name: String
        /// "nanoseconds" when weights are CPU time, "none" when they are sample counts.
        var unit: String
        var startValue: Int
        var endValue: Int
        /// Stacks of frame indices, root first.
        var samples: [[Int]]
        var weights: [Int]
    }
}
