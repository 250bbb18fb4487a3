import FPProfCore
import FPProfSampler
import FPProfSymbols

/// Reads the goroutine id of a live Go sample: R14 holds the running `g` in Go's ABIInternal code, and the
/// binary's `runtime.g` layout says where `goid` and `stack` are in it. The `g` counts only when SP lies in
/// `[g.stack.lo, g.stack.hi)` (in C code or Go assembly R14 may be any value) and its goid is positive. Samples on a
/// g0 or signal goroutine (goid 0: runtime code under `systemstack` or `mcall`, the scheduler, signal handlers)
/// get no id: the memory is read when the sample is processed, milliseconds after it was taken, and by then the
/// thread's `m.curg` has usually moved on to another goroutine, so following it would name the wrong one.
///
/// The same delay means a `g` whose goroutine exited and was reused in between gives the new goroutine's id; rare
/// for long-lived goroutines, possible for short ones. Each read's result is kept per (pid, g) and used only when
/// the read fails (the process exited before its last samples were processed). Only a live recording can ask: a
/// raw capture replayed by `fpprof report` has no process memory, so its goroutine is always unknown.
final class GoroutineReader {
    private struct Goroutine {
        var lo: UInt64
        var hi: UInt64
        var id: Int64
    }

    private let symbolizer: ElfSymbolizer
    private var layouts: [ModuleID: GoRuntimeLayout?] = [:]
    private var seen: [ProcessID: [UInt64: Goroutine]] = [:]

    init(symbolizer: ElfSymbolizer) {
        self.symbolizer = symbolizer
    }

    func goroutine(pid: ProcessID, module: ModuleID, g: UInt64, sp: UInt64) -> Int64? {
        let layout: GoRuntimeLayout?
        if let known = layouts[module] {
            layout = known
        } else {
            layout = symbolizer.goRuntimeLayout(for: module)
            layouts[module] = layout
        }
        guard let layout, g != 0, g & 7 == 0 else { return nil }
        let goroutine: Goroutine
        if let fields = Self.read(pid, g, [layout.stackLo, layout.stackHi, layout.goid]) {
            goroutine = Goroutine(lo: fields[0], hi: fields[1], id: Int64(bitPattern: fields[2]))
            seen[pid, default: [:]][g] = goroutine
        } else if let known = seen[pid]?[g] {
            goroutine = known
        } else {
            return nil
        }
        guard goroutine.lo < goroutine.hi, sp >= goroutine.lo, sp < goroutine.hi, goroutine.id > 0 else { return nil }
        return goroutine.id
    }

    /// The words at `offsets` (multiples of 8) from `base`, in one read of the span that covers them.
    private static func read(_ pid: ProcessID, _ base: UInt64, _ offsets: [Int]) -> [UInt64]? {
        guard let last = offsets.max(), offsets.allSatisfy({ $0 >= 0 && $0 % 8 == 0 }),
            let words = ProcessMemory.words(pid: pid, at: base, count: last / 8 + 1)
        else { return nil }
        return offsets.map { words[$0 / 8] }
    }
}
