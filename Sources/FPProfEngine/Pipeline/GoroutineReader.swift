import FPProfCore
import FPProfSampler
import FPProfSymbols

/// Reads the goroutine id of a live Go sample: R14 holds the running `g` in Go's ABIInternal code, and the
/// binary's `runtime.g` layout says where `goid`, `stack` and `m` are in it. The `g` counts when SP lies in
/// `[g.stack.lo, g.stack.hi)`, or else when its scheduler context names it (`g.sched.g == g`): in C code or Go
/// assembly R14 may be any value, and a busy goroutine's stack has often moved by the time it is read.
///
/// A sample on a thread's g0 (goid 0: runtime code under `systemstack`, `mcall`, `morestack`) works for the
/// goroutine whose frames the walk reached past the switch: the first frame pointer outside g0's stack lies on
/// that goroutine's stack. The memory is read when the sample is processed, a few milliseconds after it was taken
/// (the engine wakes its reader for every sample when goroutine ids are asked for; the time ordering holds a sample
/// until the next batch), so nothing that may have changed since is trusted on its own: the thread's `m.curg`
/// names the goroutine only if its stack holds that frame pointer, and otherwise a goroutine seen before whose
/// stack (read again now) holds it, or a `g` that the frame calling the switch keeps (`owner(of:)`).
/// Goroutine stacks never overlap, so either answer is the goroutine the frames belong to. A signal handler's stack
/// ends at its trampoline, with no frame past it, and gets no id.
///
/// A sample on g0 that no goroutine claims, on a thread whose `m.curg` is nil when read, gets id 0: g0's own,
/// which the runtime's tracebacks print as "goroutine 0". That is sysmon, the scheduler looking for work, and
/// a goroutine's `mcall` into the scheduler once it parked (the walk may still show that goroutine's frames above
/// the switch: they are where the thread came from, not whom it works for). A walk through `systemstack` worked for
/// a goroutine that was running then: it gets that goroutine's id when it can be proven, and none otherwise.
///
/// The delay also means a `g` whose goroutine exited and was reused in between gives the new goroutine's id; rare
/// for long-lived goroutines, possible for short ones. Each read's result is kept per (pid, g) and used only when
/// the read fails (the process exited before its last samples were processed). Only a live recording can ask: a
/// raw capture replayed by `fpprof report` has no process memory, so its goroutine is always unknown.
final class GoroutineReader {
    private struct Goroutine {
        var lo: UInt64
        var hi: UInt64
        var id: Int64
        var m: UInt64

        func holds(_ address: UInt64) -> Bool { lo < hi && address >= lo && address < hi }
    }

    private let symbolizer: ElfSymbolizer
    /// By module (nil: not a Go binary); as many as the modules sampled, which the symbolizer holds anyway.
    private var layouts: [ModuleID: GoRuntimeLayout?] = [:]
    /// Each Go process's runtime layout, for its samples outside the Go binary. At most `processLimit` processes
    /// (then all are forgotten and learnt again from the next sample in each binary).
    private var processLayouts: [ProcessID: GoRuntimeLayout] = [:]
    /// The goroutines read, per process: at most `processLimit` processes, `goroutineLimit` goroutines each and
    /// `totalLimit` in all (about 10 MB; past a limit, that level is forgotten and learnt again from the next reads:
    /// a daemon sees processes come and go for days).
    private var seen: [ProcessID: [UInt64: Goroutine]] = [:]
    private var seenCount = 0
    private static let processLimit = 1024
    private static let goroutineLimit = 65_536
    private static let totalLimit = 131_072

    init(symbolizer: ElfSymbolizer) {
        self.symbolizer = symbolizer
    }

    func goroutine(
        pid: ProcessID, module: ModuleID, g: UInt64, sp: UInt64, framePointers: ArraySlice<UInt64> = [],
        underRunningGoroutine: () -> Bool = { false }
    ) -> Int64? {
        let layout: GoRuntimeLayout
        if let own = runtimeLayout(of: module) {
            layout = own
            if processLayouts.count >= Self.processLimit { processLayouts.removeAll() }
            processLayouts[pid] = own
        } else if let known = processLayouts[pid] {
            // Sampled outside the Go binary (the vdso under `runtime.nanotime1`, cgo's C, libc): `g` is still the
            // process's, in the layout of the runtime seen in its other samples.
            layout = known
        } else {
            return nil
        }
        guard let running = read(pid, g: g, layout, fallBackToSeen: true) else { return nil }
        guard running.holds(sp) else {
            // The goroutine's stack moved since the sample (the GC shrinks stacks, growth copies them: a busy
            // server's goroutines move every few collections), or SP is on g0 under a cgo or vdso call that left
            // R14 alone. The `g` still counts when it is one.
            guard running.id > 0, pointsAtItself(pid, g: g, layout) else { return nil }
            return running.id
        }
        if running.id > 0 { return running.id }
        guard running.id == 0 else { return nil }
        // The thread's `m.curg` and `m.g0`.
        let thread = running.m != 0 && running.m & 7 == 0 ? Self.read(pid, running.m, [layout.mCurg, layout.mG0]) : nil
        if let crossing = framePointers.first(where: { !running.holds($0) }) {
            if let curg = thread?[0], let current = read(pid, g: curg, layout), current.holds(crossing),
                current.id > 0
            {
                return current.id
            }
            if let candidate = seen[pid]?.first(where: { $0.value.holds(crossing) && $0.value.id > 0 })?.key,
                let fresh = read(pid, g: candidate, layout), fresh.holds(crossing), fresh.id > 0
            {
                return fresh.id
            }
            if let found = owner(of: crossing, pid, layout) { return found }
        }
        // No goroutine's stack holds the frames past the switch, and the thread runs no goroutine: the sample is its
        // g0's own work (sysmon, the scheduler looking for work or parking a goroutine), under the id the runtime
        // gives g0 and prints in its own tracebacks ("goroutine 0"). Only when `g` is that thread's g0 indeed, and
        // the walk passes no `systemstack`: under one, a goroutine was running when the sample was taken (it has
        // left the thread since, or its stack moved), and which one cannot be told now.
        if let thread, thread[0] == 0, thread[1] == g, !underRunningGoroutine() { return 0 }
        return nil
    }

    /// The goroutine whose stack holds `crossing`, found among the words of the frame that called the switch
    /// (the frame record at `crossing` and the locals below it): a goroutine that runs on g0 for long keeps its own
    /// `g` there (`gp := getg()`, which a `systemstack` closure captures: the GC's mark workers, `newproc`). A word
    /// counts only if it is a `g` (`g.sched.g` names it) whose stack holds `crossing`, and goroutine stacks never
    /// overlap, so the answer is exact however the word came to be there. This finds the goroutines that run on
    /// g0 only, such as the mark workers, when they have parked before the read; each one found is remembered, so
    /// it is done once per goroutine. At most `ownerCandidates` words are tried, one read of the target each.
    private func owner(of crossing: UInt64, _ pid: ProcessID, _ layout: GoRuntimeLayout) -> Int64? {
        let below = UInt64(Self.ownerFrameBytes)
        guard crossing > below,
            let words = ProcessMemory.words(pid: pid, at: crossing - below, count: Int(below / 8) + 2)
        else { return nil }
        var tried: Set<UInt64> = []
        // Nearest the record first: the caller's own locals.
        for word in words.reversed() where word & 7 == 0 && word > 1 << 20 {
            // Pointers into this stack (saved BPs, addresses of locals) are not a `g`.
            if word > crossing &- Self.nearStack && word < crossing &+ Self.nearStack { continue }
            guard tried.insert(word).inserted else { continue }
            if tried.count > Self.ownerCandidates { break }
            // One read for the check and the fields; only a `g` is remembered.
            guard
                let fields = Self.read(
                    pid, word, [layout.stackLo, layout.stackHi, layout.goid, layout.m, layout.schedG]),
                fields[4] == word
            else { continue }
            let candidate = remember(pid, g: word, fields)
            if candidate.holds(crossing), candidate.id > 0 { return candidate.id }
        }
        return nil
    }

    private static let ownerFrameBytes = 512
    private static let ownerCandidates = 16
    private static let nearStack: UInt64 = 64 << 10

    /// The `runtime.g` layout of a module: nil for one that is no Go binary. Asked once per module.
    private func runtimeLayout(of module: ModuleID) -> GoRuntimeLayout? {
        if let known = layouts[module] { return known }
        let layout = symbolizer.goRuntimeLayout(for: module)
        layouts[module] = layout
        return layout
    }

    /// Whether the pointer `g` is a goroutine's `g`, running or not: its scheduler context names it
    /// (`g.sched.g == g`). A pointer that is no `g` (R14 in code that uses it for something else) fails this.
    private func pointsAtItself(_ pid: ProcessID, g: UInt64, _ layout: GoRuntimeLayout) -> Bool {
        Self.read(pid, g, [layout.schedG])?[0] == g
    }

    /// The fields of the `g` at `g`, remembered per process; with `fallBackToSeen`, the remembered ones when the
    /// process can no longer be read.
    private func read(_ pid: ProcessID, g: UInt64, _ layout: GoRuntimeLayout, fallBackToSeen: Bool = false)
        -> Goroutine?
    {
        guard g != 0, g & 7 == 0 else { return nil }
        if let fields = Self.read(pid, g, [layout.stackLo, layout.stackHi, layout.goid, layout.m]) {
            return remember(pid, g: g, fields)
        }
        return fallBackToSeen ? seen[pid]?[g] : nil
    }

    /// The goroutine of a `g`'s fields as read (`stack.lo`, `stack.hi`, `goid`, `m` first), kept within the limits.
    private func remember(_ pid: ProcessID, g: UInt64, _ fields: [UInt64]) -> Goroutine {
        let goroutine = Goroutine(lo: fields[0], hi: fields[1], id: Int64(bitPattern: fields[2]), m: fields[3])
        if seenCount >= Self.totalLimit || (seen[pid] == nil && seen.count >= Self.processLimit) {
            seen.removeAll()
            seenCount = 0
        }
        if let count = seen[pid]?.count, count >= Self.goroutineLimit {
            seen[pid] = nil
            seenCount -= count
        }
        if seen[pid, default: [:]].updateValue(goroutine, forKey: g) == nil { seenCount += 1 }
        return goroutine
    }

    /// The words at `offsets` (multiples of 8) from `base`, in one read of the span that covers them.
    private static func read(_ pid: ProcessID, _ base: UInt64, _ offsets: [Int]) -> [UInt64]? {
        guard let last = offsets.max(), offsets.allSatisfy({ $0 >= 0 && $0 % 8 == 0 }),
            let words = ProcessMemory.words(pid: pid, at: base, count: last / 8 + 1)
        else { return nil }
        return offsets.map { words[$0 / 8] }
    }
}
