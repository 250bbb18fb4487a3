/// What the walk asks the symbolizer about code (`CodeKnowledge`: entry-frame rules, stack-switch traits, hidden
/// callers), each answer kept by packed (module, offset) frame, so that a sampled address is asked about once.
///
/// Bounds: each cache keeps at most `limit` entries, one per distinct address asked in live code, so only a long
/// run over much code fills one; past it that cache starts over. The entries of released modules go at the cut
/// that releases them (`release(modules:)`), since their indexes will name other modules.
struct CodeAnswers {
    let code: any CodeKnowledge
    private var entryCache: [UInt64: EntryFrame] = [:]
    private var switchTraitCache: [UInt64: StackSwitchTraits] = [:]
    private var hiddenCallerCache: [HiddenCallerQuestion: HiddenCaller<FileOffset>?] = [:]

    /// The entries each cache keeps at most (see the type).
    static let limit = 1 << 16

    /// A `hiddenCaller` question by packed (module, offset) frames; `callee` is `.max` when there is none.
    private struct HiddenCallerQuestion: Hashable {
        var switchAt: UInt64
        var above: UInt64
        var callee: UInt64
    }

    init(code: any CodeKnowledge) {
        self.code = code
    }

    /// The entry-frame rule at the sampled IP; `.framePointer` outside every mapping.
    mutating func entryFrame(_ ip: UInt64, _ map: ProcessMap) -> EntryFrame {
        guard let at = locate(ip, map) else { return .framePointer }
        if let hit = entryCache[at.packed] { return hit }
        let rule = code.entryFrame(for: normalized(at, map))
        if entryCache.count >= Self.limit { entryCache.removeAll() }
        entryCache[at.packed] = rule
        return rule
    }

    mutating func switchTraits(_ address: UInt64, _ map: ProcessMap) -> StackSwitchTraits {
        guard let at = locate(address, map) else { return StackSwitchTraits() }
        if let known = switchTraitCache[at.packed] { return known }
        let traits = code.stackSwitchTraits(at: normalized(at, map))
        if switchTraitCache.count >= Self.limit { switchTraitCache.removeAll() }
        switchTraitCache[at.packed] = traits
        return traits
    }

    /// The caller a stack switch hides, as an address in the mapping of the frame above; a target outside that
    /// mapping is not trusted (nil inside).
    mutating func hiddenCaller(
        switchAt: UInt64, above: UInt64, callee: UInt64?, _ map: ProcessMap
    ) -> HiddenCaller<UInt64>? {
        guard let switchFrame = locate(switchAt, map), let aboveFrame = locate(above, map) else { return nil }
        let calleeFrame = callee.flatMap { locate($0, map) }
        let question = HiddenCallerQuestion(
            switchAt: switchFrame.packed, above: aboveFrame.packed, callee: calleeFrame?.packed ?? .max)
        let answer: HiddenCaller<FileOffset>?
        if let known = hiddenCallerCache[question] {
            answer = known
        } else {
            answer = code.hiddenCaller(
                switchAt: normalized(switchFrame, map), above: normalized(aboveFrame, map),
                callee: calleeFrame.map { normalized($0, map) })
            if hiddenCallerCache.count >= Self.limit { hiddenCallerCache.removeAll() }
            hiddenCallerCache[question] = answer
        }
        let bounds = map.bounds[aboveFrame.mapping]
        return answer?.map { entry in
            let absolute = entry.rawValue &+ bounds.fileBase
            return bounds.contains(absolute) ? absolute : nil
        }
    }

    /// Drops every answer keyed by one of these module indexes.
    mutating func release(modules released: Set<Int>) {
        guard !released.isEmpty else { return }
        func isReleased(_ frame: UInt64) -> Bool { released.contains(ModuleTable.unpack(frame).module) }
        entryCache = entryCache.filter { !isReleased($0.key) }
        switchTraitCache = switchTraitCache.filter { !isReleased($0.key) }
        hiddenCallerCache = hiddenCallerCache.filter {
            !isReleased($0.key.switchAt) && !isReleased($0.key.above)
                && ($0.key.callee == .max || !isReleased($0.key.callee))
        }
    }

    /// Entries of the three caches, for tests of the bound.
    var counts: (entry: Int, switchTraits: Int, hiddenCallers: Int) {
        (entryCache.count, switchTraitCache.count, hiddenCallerCache.count)
    }

    /// An address a mapping holds: its packed frame word (the caches' key) and the mapping's index.
    private struct Located {
        var address: UInt64
        var packed: UInt64
        var mapping: Int
    }

    private func locate(_ address: UInt64, _ map: ProcessMap) -> Located? {
        guard let m = map.index(of: address) else { return nil }
        return Located(address: address, packed: map.bounds[m].packed(address), mapping: m)
    }

    /// The address as the symbolizer is asked about it. Built only when a cache misses: it copies the module's id.
    private func normalized(_ at: Located, _ map: ProcessMap) -> NormalizedAddress {
        let mapping = map.mappings[at.mapping]
        return NormalizedAddress(module: mapping.module, offset: mapping.fileOffset(of: at.address))
    }
}
