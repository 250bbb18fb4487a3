/// The process and thread names that stack keys refer to by index (`StackKey.processName`, `threadName`), and the
/// index of each pid's and tid's current name, so that a sample costs an integer lookup, not a string hash.
///
/// Bounds: the names table holds at most `limit` names past a cut, then starts over (a window's profile holds its
/// own copy, so its keys stay named); names are few per process (its own and its threads'), so only a long run of
/// uniquely named processes or threads reaches it. The per-pid and per-tid indexes hold the tracked processes and
/// threads: a COMM record drops the entry it changes, a FORK the new thread's, a cut those of forgotten processes
/// and threads.
struct InternedNames {
    /// Names by index, in the order first asked.
    private(set) var names: [String] = []
    private var index: [String: Int32] = [:]
    private var processNames: [ProcessID: Int32] = [:]
    private var threadNames: [ThreadID: Int32] = [:]

    /// The names kept at most across a cut (see the type).
    static let limit = 1 << 14

    /// The index of the process's name as the table knows it now.
    mutating func process(_ pid: ProcessID, in table: ProcessTable) -> Int32 {
        if let i = processNames[pid] { return i }
        let i = intern(table.processName(pid))
        processNames[pid] = i
        return i
    }

    /// The index of the thread's name, or of its process's when the thread has none of its own.
    mutating func thread(_ tid: ThreadID, of pid: ProcessID, in table: ProcessTable) -> Int32 {
        if let i = threadNames[tid] { return i }
        let i = intern(table.threadName(tid) ?? table.processName(pid))
        threadNames[tid] = i
        return i
    }

    /// A COMM record: the thread (and, for its main thread, the process) is named anew.
    mutating func renamed(pid: ProcessID, tid: ThreadID) {
        processNames[pid] = nil
        threadNames[tid] = nil
    }

    /// A FORK record: a new thread, whose id may have named another thread before.
    mutating func forked(tid: ThreadID) {
        threadNames[tid] = nil
    }

    /// At a cut, before the table forgets anything: past `limit`, everything starts over.
    mutating func startOverIfFull() {
        guard names.count > Self.limit else { return }
        names.removeAll()
        index.removeAll()
        processNames.removeAll()
        threadNames.removeAll()
    }

    /// At a cut: the entries of the processes the table forgot and of the threads it no longer tracks go.
    mutating func forget(processes: [ProcessID], keepingThreadsOf table: ProcessTable) {
        for pid in processes { processNames[pid] = nil }
        threadNames = threadNames.filter { table.processOfThread[$0.key] != nil }
    }

    /// Entries of the per-pid and per-tid indexes, for tests of the bound.
    var trackedEntries: (processes: Int, threads: Int) { (processNames.count, threadNames.count) }

    private mutating func intern(_ name: String) -> Int32 {
        if let i = index[name] { return i }
        let i = Int32(names.count)
        names.append(name)
        index[name] = i
        return i
    }
}
