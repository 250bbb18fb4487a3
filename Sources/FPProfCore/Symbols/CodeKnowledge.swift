/// What the pure pipeline needs to know about the code it walks, from whoever reads the binaries (FPProfSymbols'
/// `ElfSymbolizer`): given to `ProfileBuilder` at construction, so that a reader sees from its signature what it
/// depends on. Every question is about a module's file (a normalized address), never a process, and the builder
/// caches each answer by address: an answer must not change during a recording.
public protocol CodeKnowledge {
    /// The module's root functions (where stacks end) and stack-switch functions, as file-offset ranges; asked
    /// once per module, when its first mapping appears.
    func codeRanges(for module: ModuleID) -> SpecialCode
    /// How the function running at `address` is entered for the first frame of a walk (from CFI or a runtime's
    /// frame tables); `.framePointer` when nothing is known.
    func entryFrame(for address: NormalizedAddress) -> EntryFrame
    /// The traits of the stack-switch function holding `address` (see `StackSwitchRepair`).
    func stackSwitchTraits(at address: NormalizedAddress) -> StackSwitchTraits
    /// The entry of the function hidden between the switch at `switchAt` and the return address `above`, given an
    /// address inside the switch's callee when there is one; nil when it cannot be named for certain.
    func hiddenCaller(switchAt: NormalizedAddress, above: NormalizedAddress, callee: NormalizedAddress?)
        -> HiddenCaller<FileOffset>?
}

/// Knows nothing about code: no roots, no stack switches, every function entered with its frame record in place.
/// For tests and for pipelines without binaries.
public struct NoCodeKnowledge: CodeKnowledge {
    public init() {}
    public func codeRanges(for module: ModuleID) -> SpecialCode { SpecialCode() }
    public func entryFrame(for address: NormalizedAddress) -> EntryFrame { .framePointer }
    public func stackSwitchTraits(at address: NormalizedAddress) -> StackSwitchTraits { StackSwitchTraits() }
    public func hiddenCaller(switchAt: NormalizedAddress, above: NormalizedAddress, callee: NormalizedAddress?)
        -> HiddenCaller<FileOffset>?
    { nil }
}

/// Fixed roots per module and nothing else: for tests that need walks to end complete.
public struct RootRanges: CodeKnowledge {
    public var roots: (ModuleID) -> [Range<FileOffset>]
    public init(_ roots: @escaping (ModuleID) -> [Range<FileOffset>]) { self.roots = roots }
    public func codeRanges(for module: ModuleID) -> SpecialCode { SpecialCode(roots: roots(module)) }
    public func entryFrame(for address: NormalizedAddress) -> EntryFrame { .framePointer }
    public func stackSwitchTraits(at address: NormalizedAddress) -> StackSwitchTraits { StackSwitchTraits() }
    public func hiddenCaller(switchAt: NormalizedAddress, above: NormalizedAddress, callee: NormalizedAddress?)
        -> HiddenCaller<FileOffset>?
    { nil }
}
