/// What a symbolizer knows about one stack-switch function (Go's `systemstack`, `mcall`, `morestack`,
/// `asmcgocall`, ...), beyond the fact that the record above it may lie on another stack.
public struct StackSwitchTraits: Hashable, Sendable {
    /// The switch never returns to its caller (`mcall`, `morestack`): the goroutine that called it is parked,
    /// preempted or having its stack copied, and another thread may be running on that stack by the time the
    /// kernel reads it. Its frames past the switch are kept only while the chain through them checks out.
    public var detaches: Bool
    /// The switch makes no frame record of its own and leaves its caller's BP in place for its callee, so the
    /// caller's own frame is never on the chain: its return address lies only at the goroutine's saved SP. The
    /// walk goes from the switch straight to the caller's caller.
    public var hidesCaller: Bool
    /// The switch makes g0 the running `g` (R14) for its callee (`systemstack`, `mcall`, `morestack`). The vdso
    /// callers and `asmcgocall` only move SP, so R14 on g0 inside one of them means it was called on g0.
    public var runsCalleeOnG0: Bool

    public init(detaches: Bool = false, hidesCaller: Bool = false, runsCalleeOnG0: Bool = false) {
        self.detaches = detaches
        self.hidesCaller = hidesCaller
        self.runsCalleeOnG0 = runsCalleeOnG0
    }
}

/// What lies between a frameless switch and the frame above it: `location` is where the hidden caller starts (a file
/// offset from the symbols, an absolute address in the walk).
public enum HiddenCaller<Location: Hashable & Sendable>: Hashable, Sendable {
    /// Nothing: the frame above called the switch itself (a switch that makes a frame record of its own, as
    /// `mcall` did in Go's 2023 bug).
    case nothing
    case function(Location)

    public func map<Other>(_ transform: (Location) -> Other?) -> HiddenCaller<Other>? {
        switch self {
        case .nothing: .nothing
        case .function(let location): transform(location).map { .function($0) }
        }
    }
}

/// Repairs a finished walk at the stack switches it crossed, in two ways, both per Go's own traceback:
///
/// - **A detaching switch ends a stack that goes bad past it.** Go's traceback treats `mcall` and `morestack` as
///   tops of the g0 stack. fpprof goes on into the goroutine's frames, which are right while the goroutine waits
///   for the switch, but a goroutine that was made runnable again may already be running elsewhere and rewriting
///   them when the kernel reads them. A walk past such a switch that ends bad or truncated, or whose hidden caller
///   (below) cannot be named, is cut back to the switch and is complete: its g0 frames are sound, and the
///   goroutine's are the ones that changed.
/// - **The hidden caller of a frameless switch is put back.** `systemstack(fn)` is called by, say, `(*mheap).alloc`;
///   `fn`'s record holds `alloc`'s BP, whose record names `alloc`'s caller, so `alloc` itself is never on the chain.
///   The symbols name it (`StackSwitchSymbols.hiddenCaller`), and the frame is that function's entry: the call
///   site within it is on the goroutine's stack only.
///
/// Frames are raw walk output (absolute addresses, callers' return addresses not yet `- 1`). Frame 0 counts too: a
/// sample inside a switch has its caller's BP, the same as the switch's callee has.
public enum StackSwitchRepair {
    /// `traits` answers for an address inside a frame the code map classifies `.stackSwitch` (the sampled IP, or a
    /// return address `- 1`). `hiddenCaller` gets that address, the raw return address of the frame above the
    /// switch, and an address inside the switch's callee (nil for a sample in the switch itself), and gives the
    /// absolute entry of the hidden caller, or `.nothing`; nil when it cannot say.
    public static func repair<Code: CodeMap>(
        _ frames: inout [UInt64], status: UnwindStatus, code: Code,
        traits: (UInt64) -> StackSwitchTraits,
        hiddenCaller: (_ switchAt: UInt64, _ above: UInt64, _ callee: UInt64?) -> HiddenCaller<UInt64>?
    ) -> UnwindStatus {
        var status = status
        var hidden: [(index: Int, entry: UInt64)] = []
        var hint = -1
        var i = 0
        while i < frames.count {
            defer { i += 1 }
            guard case .stackSwitch = code.classify(frames[i], hint: &hint) else { continue }
            let at = lookup(frames, i)
            let t = traits(at)
            var stale = t.detaches && (status == .badFrame || status == .truncated)
            if !stale, t.hidesCaller, i + 1 < frames.count {
                switch hiddenCaller(at, frames[i + 1], i > 0 ? lookup(frames, i - 1) : nil) {
                case .function(let entry): hidden.append((i + 1, entry))
                case .nothing: break
                case nil: stale = t.detaches
                }
            }
            if stale {
                frames.removeSubrange((i + 1)...)
                status = .complete
                break
            }
        }
        // Entries are stored as if they were return addresses (`+ 1`): normalization looks callers up at `- 1`.
        for h in hidden.reversed() { frames.insert(h.entry &+ 1, at: h.index) }
        return status
    }

    /// Where frame `i` is looked up: the sampled IP itself, a caller at its call site.
    private static func lookup(_ frames: [UInt64], _ i: Int) -> UInt64 {
        i == 0 ? frames[0] : frames[i] &- 1
    }
}

/// The symbolizer's answers `ProfileBuilder` needs to repair walks at stack switches (see `StackSwitchRepair`).
public struct StackSwitchSymbols {
    /// The traits of the stack-switch function holding `address`.
    public var traits: (NormalizedAddress) -> StackSwitchTraits
    /// The entry of the function hidden between the switch at `switchAt` and the return address `above` (in the
    /// same module), given an address inside the switch's callee when there is one; nil when it cannot be named
    /// for certain.
    public var hiddenCaller:
        (_ switchAt: NormalizedAddress, _ above: NormalizedAddress, _ callee: NormalizedAddress?) ->
            HiddenCaller<FileOffset>?

    public init(
        traits: @escaping (NormalizedAddress) -> StackSwitchTraits,
        hiddenCaller: @escaping (NormalizedAddress, NormalizedAddress, NormalizedAddress?) -> HiddenCaller<FileOffset>?
    ) {
        self.traits = traits
        self.hiddenCaller = hiddenCaller
    }
}
