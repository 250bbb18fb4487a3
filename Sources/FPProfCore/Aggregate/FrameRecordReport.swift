/// Which frame records broke the walks, for `fpprof fpcheck`: a runtime's developers need the function whose
/// record is wrong, not only the count of bad stacks.
public struct FlaggedRecord: Hashable, Sendable {
    public var status: UnwindStatus
    /// The packed frame of the function whose record is bad: the callee that pushed it.
    public var owner: UInt64
    /// The packed frame its return address points into (the caller, at its call site), when the record had one.
    public var caller: UInt64?

    public init(status: UnwindStatus, owner: UInt64, caller: UInt64?) {
        self.status = status
        self.owner = owner
        self.caller = caller
    }
}

public enum FrameRecordReport {
    /// Flagged records with their sample counts, most samples first.
    ///
    /// A self-loop or a cycle is found after the bad record's return address was taken, so the record belongs to
    /// the next-to-last frame and points into the last. A bad frame stops before its return address is taken: the
    /// last frame owns the record.
    public static func flagged(in profile: RawProfile) -> [(record: FlaggedRecord, samples: Int)] {
        var counts: [FlaggedRecord: Int] = [:]
        for (key, weight) in profile.stacks {
            let frames = key.frames
            let record: FlaggedRecord
            switch key.status {
            case .selfLoop, .cycle:
                guard frames.count >= 2 else { continue }
                record = FlaggedRecord(status: key.status, owner: frames[frames.count - 2], caller: frames.last)
            case .badFrame:
                guard let last = frames.last else { continue }
                record = FlaggedRecord(status: .badFrame, owner: last, caller: nil)
            case .complete, .truncated:
                continue
            }
            counts[record, default: 0] += weight.samples
        }
        return counts.map { (record: $0.key, samples: $0.value) }.sorted {
            $0.samples != $1.samples ? $0.samples > $1.samples : $0.record.owner < $1.record.owner
        }
    }

    /// Whether the profile shows a broken chain a runtime must fix: a loop or a cycle. Bad frames alone are not
    /// counted: hand-written assembly without a frame record makes them in healthy programs too.
    public static func hasLoops(_ profile: RawProfile) -> Bool {
        profile.stats.samplesByStatus[.selfLoop, default: 0] + profile.stats.samplesByStatus[.cycle, default: 0] > 0
    }

    /// The profile reduced to its flagged stacks, for `fpcheck --folded`.
    public static func flaggedOnly(_ profile: RawProfile) -> RawProfile {
        var p = profile
        p.stacks = profile.stacks.filter { $0.key.status != .complete && $0.key.status != .truncated }
        return p
    }
}
