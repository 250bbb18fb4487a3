/// Counts samples by stack key (frames and labels) for the window in progress.
///
/// One key is kept and refilled for every sample, its frames swapped in rather than copied. A caller that counts
/// the same stack again and again (a thread deep in one call path, see `RepeatedWalks`) may keep the dictionary
/// index `count` returned and add to it with `countAgain(at:period:)` while `generation` has not moved: every
/// insertion (which may rehash) and every cut moves it. Bounded by the stacks of one window: a cut hands them out.
struct StackAggregator {
    private(set) var stacks: [StackKey: StackWeight] = [:]
    private var key = StackKey(
        pid: ProcessID(0), tid: ThreadID(0), processName: 0, threadName: -1, status: .complete, frames: [])
    /// Moved by every insertion into `stacks` and by every cut: an index is good only for the generation it was
    /// taken in.
    private(set) var generation: UInt64 = 1

    /// Adds one sample of the stack `frames` with these labels (`tid` 0 and `threadName` -1 when stacks are not
    /// split by thread; `walkedByCFI` when any frame was found by CFI rules); returns where it was counted, unless the stack was new. `frames` is unchanged on return.
    mutating func count(
        _ frames: inout [UInt64], pid: ProcessID, tid: ThreadID, processName: Int32, threadName: Int32,
        status: UnwindStatus, goroutine: Int64, walkedByCFI: Bool, period: UInt64
    ) -> [StackKey: StackWeight].Index? {
        key.pid = pid
        key.walkedByCFI = walkedByCFI
        key.status = status
        key.goroutine = goroutine
        key.processName = processName
        key.tid = tid
        key.threadName = threadName
        swap(&key.frames, &frames)
        defer { swap(&key.frames, &frames) }
        if let i = stacks.index(forKey: key) {
            stacks.values[i].samples += 1
            stacks.values[i].period &+= period
            return i
        }
        stacks[key] = StackWeight(samples: 1, period: period)
        generation &+= 1
        return nil
    }

    /// Adds one sample to the stack counted at `i`, an index `count` returned in the current `generation`.
    mutating func countAgain(at i: [StackKey: StackWeight].Index, period: UInt64) {
        stacks.values[i].samples += 1
        stacks.values[i].period &+= period
    }

    /// The window's stacks; the next window starts empty.
    mutating func cut() -> [StackKey: StackWeight] {
        generation &+= 1
        let window = stacks
        stacks = [:]
        return window
    }
}
