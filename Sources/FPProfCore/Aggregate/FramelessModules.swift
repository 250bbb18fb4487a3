/// Which modules keep no frame records, read from the samples: the evidence `fpprof fpcheck` gives a distribution
/// or a team moving to `-fno-omit-frame-pointer` (Fedora 38 and Ubuntu 24.04 found such modules by hand).
///
/// A caller frame counts against its module when the CFI rule of its call site says the function keeps no frame
/// record there (CFA from SP, or from BP other than the plain record): a walk by frame pointers alone loses or
/// skips its caller, and the hybrid walk recovers it by CFI. Frame 0 is left out (a sample in a prologue or in a
/// leaf that keeps no record is normal in code built with frame pointers), and so is the outermost frame of a
/// complete walk (a root, nothing is read past it). Modules the CFI does not describe (kernel, JIT, Go code) are
/// not judged.
public struct FramelessModule: Sendable {
    /// Index in the profile's `ModuleTable`.
    public var module: Int
    /// Caller frames of the module in the samples, each weighted by its stack's samples.
    public var frames = 0
    /// Of those, frames whose function keeps no frame record at that call site.
    public var withoutRecord = 0
    /// The packed frames (module, call-site offset) without a record, with their samples.
    public var sites: [UInt64: Int] = [:]

    public var share: Double { frames > 0 ? Double(withoutRecord) / Double(frames) : 0 }
}

public enum FramelessModules {
    /// Modules with at least one caller frame that keeps no frame record, most such frames first. `rules` gives a
    /// module's compiled CFI by its index in `profile.modules` (nil: not judged). Bounded by the profile's frames.
    public static func find(in profile: RawProfile, rules: (Int) -> CallFrameRules?) -> [FramelessModule] {
        var known: [Int: CallFrameRules?] = [:]
        var found: [Int: FramelessModule] = [:]
        for (key, weight) in profile.stacks {
            let frames = key.frames
            let end = key.status == .complete ? frames.count - 1 : frames.count
            guard end > 1 else { continue }
            for i in 1..<end {
                let (module, offset) = ModuleTable.unpack(frames[i])
                guard module != ModuleTable.unmapped else { continue }
                let moduleRules: CallFrameRules?
                if let cached = known[module] {
                    moduleRules = cached
                } else {
                    moduleRules = rules(module)
                    known[module] = moduleRules
                }
                guard let moduleRules, let rule = moduleRules.rule(at: offset) else { continue }
                found[module, default: FramelessModule(module: module)].frames += weight.samples
                if !rule.keepsFrameRecord {
                    found[module]!.withoutRecord += weight.samples
                    found[module]!.sites[frames[i], default: 0] += weight.samples
                }
            }
        }
        return found.values.filter { $0.withoutRecord > 0 }.sorted {
            $0.withoutRecord != $1.withoutRecord ? $0.withoutRecord > $1.withoutRecord : $0.module < $1.module
        }
    }
}
