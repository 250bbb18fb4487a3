/// Walks a stack by frame records where the code keeps them and by call frame information (CFI rules) where it
/// does not: code built without frame pointers (most distributions' C, C++ and Rust before 2023), where BP is a
/// general register and a frame-pointer walk stops after two frames or, worse, skips the frames between two
/// records silently.
///
/// At each frame the rule of its code decides (the sampled IP for frame 0, `return address - 1` for callers):
/// - `.framePointer`, or no rule at all (code the CFI does not describe: JIT code, Go functions), is a
///   frame-pointer step with every check of `FramePointerUnwinder`: BP aligned and above the callee's frame, a
///   saved BP equal to the record's own (`selfLoop`) or to any record walked before (`cycle`), so a CFI step never
///   hides a loop in code that keeps records;
/// - a CFI rule computes the CFA from SP or BP (or the word at SP + n or BP + n, plus m), reads the return address
///   at `CFA - 8` and the caller's BP where the rule saved it, unless that slot lies below SP (an epilogue popped
///   it: BP holds the caller's value). The CFA must progress: a rule that gives a CFA at or below SP ends the walk
///   as `badFrame`.
/// - a CFA on another register (`.register`) is followed with the sampled value of that register: in the sampled
///   frame, and in callers for the call-clobbered registers (see `carried`); otherwise it ends the walk as
///   `.unsupported` does;
/// - `.unsupported` ends the walk `truncated`: the callers are unknown, and a marker says so.
///
/// A stack switch (`runtime.systemstack`, ...) lets the next frame-pointer step go down, a few times per walk, as
/// in `FramePointerUnwinder`.
///
/// A walk that runs out of copied stack at the very record the sampled BP points at (C code built without frame
/// pointers leaves BP alone, and cgo runs it on the g0 stack while that record lies on the goroutine's) says so:
/// the kernel's callchain of the sample starts at that record, so from its second frame on it is this walk's
/// continuation (`KernelChainSplice.rejoin`).
public struct HybridUnwinder: Sendable {
    public var maxDepth: Int
    public var maxSwitches: Int

    public init(maxDepth: Int = 2048, maxSwitches: Int = 4) {
        self.maxDepth = maxDepth
        self.maxSwitches = maxSwitches
    }

    /// How a walk ended, and whether any of its steps needed CFI.
    public struct Outcome: Hashable, Sendable {
        public var status: UnwindStatus
        /// Frames found by a CFI step (frame 0 never counts).
        public var cfiFrames: Int
        /// The walk ended `truncated` at the frame record the sampled BP points at, outside the stack copy.
        public var endsAtSampledRecord = false
        /// How far above the sampled SP the walk's last frame lies (its SP): about the bytes of the stack copy it
        /// read, which the thread's next walk will likely read too (for a prefetch).
        public var reach: UInt64 = 0
        public var usedCFI: Bool { cfiFrames > 0 }
    }

    /// Appends frame 0 (`ip`) and each caller's raw return address to `frames`. `entry` is used for frame 0 only
    /// where no CFI rule covers the IP (Go code, whose entry rules come from `.gopclntab`); `registers` gives the
    /// sampled frame's other registers by DWARF number, for a CFA on one of them.
    public func unwind<Memory: StackMemory, Code: CodeMap, Rules: CallFrameRuleMap>(
        ip: UInt64, sp: UInt64, bp: UInt64, memory: Memory, code: Code, rules: Rules, frames: inout [UInt64],
        entry: EntryFrame = .framePointer, registers: (UInt8) -> UInt64? = { _ in nil }
    ) -> Outcome {
        let before = frames.count
        frames.append(ip)
        let sampledBP = bp
        var pc = ip
        var sp = sp
        var bp = bp
        var floor = sp
        var switches = 0
        var switchPending = false
        var lastRecord: UInt64? = nil
        var records: [UInt64] = []
        var cfiFrames = 0
        var hint = -1
        var ruleHint = -1
        let sampledSP = sp
        func outcome(_ status: UnwindStatus) -> Outcome {
            Outcome(status: status, cfiFrames: cfiFrames, reach: sp > sampledSP ? sp &- sampledSP : 0)
        }

        switch code.classify(ip, hint: &hint) {
        case .root: return outcome(.complete)
        case .stackSwitch:
            floor = 0
            switches = 1
            switchPending = true
        case .code, .none: break
        }
        var first = true
        while true {
            if before &+ frames.count > maxDepth { return outcome(.truncated) }
            var rule = rules.rule(at: first ? pc : pc &- 1, hint: &ruleHint)
            // The entry rule (Go's `.gopclntab`, a frameless leaf) is what the frame-pointer walk uses too: a
            // step by it is not a CFI step.
            var byEntryRule = false
            if first, rule == nil {
                switch entry {
                case .framePointer: break
                case .returnAddressAtSP(let offset):
                    rule = .stack(cfa: Int32(truncatingIfNeeded: offset + 8), savedBP: nil)
                    byEntryRule = true
                case .recordAtSP(let offset): bp = sp &+ UInt64(offset)
                }
            }
            let sampled = first
            first = false
            let ret: UInt64
            let nextSP: UInt64
            let nextBP: UInt64
            var viaCFI = false
            switch rule {
            case nil, .framePointer:
                // A frame-pointer step: the checks of `FramePointerUnwinder`, against the last record read.
                if bp == 0 { return outcome(.complete) }
                if bp & 7 != 0 { return outcome(.badFrame) }
                if let last = lastRecord {
                    if bp == last { return outcome(.selfLoop) }
                    if bp < last {
                        if records.contains(bp) { return outcome(.cycle) }
                        guard switchPending, switches < maxSwitches else { return outcome(.badFrame) }
                        switches += 1
                        floor = 0
                    }
                } else if switchPending, bp < floor {
                    floor = 0
                }
                if bp < floor { return outcome(.badFrame) }
                records.append(bp)
                guard let saved = memory.word(at: bp), let r = memory.word(at: bp &+ 8) else {
                    var ended = outcome(.truncated)
                    ended.endsAtSampledRecord = bp == sampledBP
                    return ended
                }
                if saved == 0 && r == 0 { return outcome(.complete) }
                ret = r
                nextSP = bp &+ 16
                nextBP = saved
                lastRecord = bp
            case .unsupported:
                return outcome(.truncated)
            case let cfi?:
                var register: UInt64? = nil
                if case .register(let number, _, _) = cfi, sampled || Self.carried(number) {
                    register = registers(number)
                }
                switch Self.step(cfi, sp: sp, bp: bp, register: register, memory: memory) {
                case .end(let status): return outcome(status)
                case .caller(let r, let cfa, let callerBP):
                    ret = r
                    nextSP = cfa
                    nextBP = callerBP
                }
                viaCFI = !byEntryRule
            }
            switchPending = false
            switch code.classify(ret, hint: &hint) {
            case .none: return outcome(.badFrame)
            case .root:
                frames.append(ret)
                if viaCFI { cfiFrames += 1 }
                return outcome(.complete)
            case .stackSwitch: switchPending = true
            case .code: break
            }
            if before &+ frames.count >= maxDepth { return outcome(.truncated) }
            frames.append(ret)
            if viaCFI { cfiFrames += 1 }
            pc = ret
            sp = nextSP
            bp = nextBP
            if floor != 0 { floor = max(floor, sp) }
        }
    }

    /// Whether DWARF register `number` keeps its sampled value in the callers' frames as far as the walk can tell:
    /// the call-clobbered registers (RAX, RDX, RCX, RSI, RDI, R8-R11), whose saves compilers never describe, so a
    /// caller's CFA on one of them is hand-written assembly counting on its own callees to keep it (OpenSSL's AES-GCM
    /// keeps its entry SP in RAX across `_aesni_ctr32_ghash_6x`), as libdw's unwinder does where the CFI says
    /// nothing. The callee-saved ones (RBX, R12-R15) are often saved and reused by callees: known in the sampled
    /// frame only. A wrong value gives a CFA the progress check or the code map rejects.
    @inline(__always)
    private static func carried(_ number: UInt8) -> Bool {
        number <= 2 || number == 4 || number == 5 || (8...11).contains(number)
    }

    /// Where one step by a CFI rule leads: the caller's return address, SP (the CFA) and BP, or how the walk ends.
    private enum Step {
        case caller(ret: UInt64, sp: UInt64, bp: UInt64)
        case end(UnwindStatus)
    }

    /// One step by a rule that computes the CFA (not `.framePointer` or `.unsupported`, which the walk handles).
    /// `register`: the value of a `.register` rule's register where the walk knows it (see `carried`).
    @inline(__always)
    private static func step<Memory: StackMemory>(
        _ rule: CallFrameRule, sp: UInt64, bp: UInt64, register: UInt64?, memory: Memory
    ) -> Step {
        @inline(__always) func plus(_ base: UInt64, _ n: Int32) -> UInt64 { base &+ UInt64(bitPattern: Int64(n)) }
        let cfa: UInt64
        let slot: UInt64?
        switch rule {
        case .stack(let c, let saved):
            cfa = plus(sp, c)
            slot = saved.map { plus(cfa, $0) }
        case .base(let c, let saved):
            cfa = plus(bp, c)
            slot = saved.map { plus(cfa, $0) }
        case .stackIndirect(let c, let add, let saved), .baseIndirect(let c, let add, let saved):
            let base = if case .stackIndirect = rule { sp } else { bp }
            guard let word = memory.word(at: plus(base, c)) else { return .end(.truncated) }
            cfa = plus(word, add)
            slot = saved.map { plus(cfa, $0) }
        case .register(_, let c, let saved):
            guard let register else { return .end(.truncated) }
            cfa = plus(register, c)
            slot = saved.map { plus(cfa, $0) }
        case .realigned(let c):
            guard let word = memory.word(at: plus(bp, c)) else { return .end(.truncated) }
            cfa = word
            slot = bp
        case .framePointer, .unsupported:
            return .end(.truncated)
        }
        // The CFA is the caller's SP: it must lie above this frame's SP, whatever stack it is on.
        guard cfa > sp, cfa & 7 == 0 else { return .end(.badFrame) }
        guard let ret = memory.word(at: cfa &- 8) else { return .end(.truncated) }
        // No save, or a save slot below SP: popped already, and BP holds the caller's value. GCC's epilogues keep
        // the prologue's "BP saved at CFA - n" while they pop the registers (no `.cfi_restore`), so between
        // `pop %rbp` and `ret` the rule points below SP, where the copy has nothing. (Reading there ended 1.4 % of
        // the walks of gcc's cc1 after one frame.)
        guard let slot, slot >= sp else { return .caller(ret: ret, sp: cfa, bp: bp) }
        guard let callerBP = memory.word(at: slot) else { return .end(.truncated) }
        return .caller(ret: ret, sp: cfa, bp: callerBP)
    }
}
