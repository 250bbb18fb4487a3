internal import CPerfEvent
import Glibc

/// Every system call the sampler makes, one thin wrapper each (the shape of swift-system's `Syscalls.swift`): errno
/// becomes a thrown `Errno` right where it is set, EINTR is retried here, and the rest of the module never touches
/// errno or a C return convention.
enum Sys {
    /// sysconf(_SC_PAGESIZE).
    static let pageSize: Int = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// perf_event_open(2) with PERF_FLAG_FD_CLOEXEC, so event fds never leak into launched targets.
    /// With `cgroup`, `pid` is the fd of a cgroup v2 folder (PERF_FLAG_PID_CGROUP) and `cpu` must be one CPU.
    static func perfEventOpen(_ attr: perf_event_attr, pid: Int32, cpu: Int32, cgroup: Bool = false) throws(Errno)
        -> Int32
    {
        var attr = attr
        let flags = UInt(PERF_FLAG_FD_CLOEXEC) | (cgroup ? UInt(PERF_FLAG_PID_CGROUP) : 0)
        let fd = cperf_event_open(&attr, pid, cpu, -1, flags)
        guard fd >= 0 else { throw .current }
        return fd
    }

    /// ioctl(PERF_EVENT_IOC_ENABLE).
    static func enable(_ fd: Int32) throws(Errno) {
        guard cperf_enable(fd) == 0 else { throw .current }
    }

    /// ioctl(PERF_EVENT_IOC_DISABLE).
    static func disable(_ fd: Int32) throws(Errno) {
        guard cperf_disable(fd) == 0 else { throw .current }
    }

    /// ioctl(PERF_EVENT_IOC_SET_OUTPUT): `fd` writes into `target`'s ring.
    static func setOutput(_ fd: Int32, to target: Int32) throws(Errno) {
        guard cperf_set_output(fd, target) == 0 else { throw .current }
    }

    /// mmap(2) of a perf ring, shared and writable (so the kernel honours `data_tail` and never overwrites unread
    /// records).
    static func mapRing(_ fd: Int32, length: Int) throws(Errno) -> UnsafeMutableRawPointer {
        // Invariant: the caller owns the returned mapping of `length` bytes and unmaps it exactly once.
        let p = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let p, p != MAP_FAILED else { throw .current }
        return p
    }

    /// munmap(2).
    static func unmap(_ address: UnsafeMutableRawPointer, length: Int) {
        _ = munmap(address, length)
    }

    /// close(2). Not retried on EINTR: on Linux the fd is gone either way.
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// poll(2). Returns the number of ready fds; an interrupted call counts as a timeout.
    static func poll(_ fds: inout [pollfd], timeoutMilliseconds: Int32) throws(Errno) -> Int {
        // Invariant: the buffer pointer is only used for the duration of the call, with its own count.
        let n = fds.withUnsafeMutableBufferPointer { Glibc.poll($0.baseAddress, nfds_t($0.count), timeoutMilliseconds) }
        if n < 0 {
            let e = Errno.current
            if e.rawValue == EINTR { return 0 }
            throw e
        }
        return Int(n)
    }

    /// kill(2).
    static func kill(_ pid: Int32, _ signal: Int32) throws(Errno) {
        guard Glibc.kill(pid, signal) == 0 else { throw .current }
    }

    /// waitpid(2). Returns nil when WNOHANG was given and the child still runs.
    static func waitpid(_ pid: Int32, options: Int32) throws(Errno) -> ChildExitStatus? {
        var status: Int32 = 0
        while true {
            let r = Glibc.waitpid(pid, &status, options)
            if r == 0 { return nil }
            if r > 0 { break }
            let e = Errno.current
            if e.rawValue != EINTR { throw e }
        }
        // The W* macros are not imported; these are their glibc definitions.
        let signal = status & 0x7f
        if signal == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(signal)
    }

    /// pipe2(2) with O_CLOEXEC on both ends.
    static func pipe() throws(Errno) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard cperf_pipe_cloexec(&fds) == 0 else { throw .current }
        return (fds[0], fds[1])
    }

    /// read(2) of up to `count` bytes; an empty result means EOF.
    static func read(_ fd: Int32, count: Int) throws(Errno) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        while true {
            // Invariant: `buffer` holds `count` bytes, the most read(2) may write.
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, count) }
            if n >= 0 {
                buffer.removeSubrange(n...)
                return buffer
            }
            let e = Errno.current
            if e.rawValue != EINTR { throw e }
        }
    }

    /// read(2) until `count` bytes or EOF, straight into the array returned (no zero fill, no second copy); fewer
    /// than `count` only at EOF. For inputs of hundreds of MB read in large pieces.
    static func readFully(_ fd: Int32, count: Int) throws(Errno) -> [UInt8] {
        guard count > 0 else { return [] }
        var failure: Errno? = nil
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            // Invariant: every read(2) writes within `buffer[initialized..<count]`, and `initialized` counts only the
            // bytes read.
            initialized = 0
            while initialized < count {
                let n = Glibc.read(fd, buffer.baseAddress! + initialized, count - initialized)
                if n > 0 {
                    initialized += n
                } else if n == 0 {
                    break
                } else if errno != EINTR {
                    failure = Errno.current
                    break
                }
            }
        }
        if let failure { throw failure }
        return bytes
    }

    /// pread(2) of up to `count` bytes at `offset`.
    static func pread(_ fd: Int32, count: Int, offset: Int) throws(Errno) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        while true {
            // Invariant: `buffer` holds `count` bytes, the most pread(2) may write.
            let n = buffer.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress, count, off_t(offset)) }
            if n >= 0 {
                buffer.removeSubrange(n...)
                return buffer
            }
            let e = Errno.current
            if e.rawValue != EINTR { throw e }
        }
    }

    /// write(2) of all of `bytes`.
    static func write(_ fd: Int32, _ bytes: [UInt8]) throws(Errno) {
        var done = 0
        while done < bytes.count {
            // Invariant: 0 <= done < bytes.count, so the range written lies inside `bytes`.
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                let e = Errno.current
                if e.rawValue == EINTR { continue }
                throw e
            }
            done += n
        }
    }

    /// open(2), read-only and close-on-exec.
    static func openForReading(_ path: String) throws(Errno) -> Int32 {
        while true {
            let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            if fd >= 0 { return fd }
            let e = Errno.current
            if e.rawValue != EINTR { throw e }
        }
    }

    /// The whole of a small file, such as one under /proc (which reports a size of 0, so read until EOF).
    static func readFile(_ path: String, limit: Int = 64 << 20) throws(Errno) -> [UInt8] {
        let fd = try openForReading(path)
        defer { close(fd) }
        var out = [UInt8]()
        while out.count < limit {
            let chunk = try read(fd, count: 65536)
            if chunk.isEmpty { break }
            out += chunk
        }
        return out
    }

    /// The names in a directory (opendir/readdir), without "." and "..".
    static func listDirectory(_ path: String) throws(Errno) -> [String] {
        guard let dir = opendir(path) else { throw .current }
        defer { closedir(dir) }
        var names = [String]()
        while let entry = readdir(dir) {
            // Invariant: d_name is a NUL-terminated array inside the dirent that readdir returned, valid until the
            // next readdir on `dir`; it is copied into a String before that.
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Whether `path` is a regular file this process may execute (stat + access(X_OK)).
    static func isExecutableFile(_ path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return false }
        return access(path, X_OK) == 0
    }

    /// Whether `path` exists at all (stat).
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// eventfd(2), non-blocking: the stop bell the reader thread polls next to its rings.
    static func eventfd() throws(Errno) -> Int32 {
        let fd = cperf_eventfd()
        guard fd >= 0 else { throw .current }
        return fd
    }

    /// Adds one to an eventfd, waking whoever polls it.
    static func ring(_ eventfd: Int32) {
        var one: UInt64 = 1
        _ = Glibc.write(eventfd, &one, 8)
    }

    /// pidfd_open(2).
    static func pidfdOpen(_ pid: Int32) throws(Errno) -> Int32 {
        let fd = cperf_pidfd_open(pid)
        guard fd >= 0 else { throw .current }
        return fd
    }

    /// fork + wait at the gate + execv, in C (see `cperf_spawn_held`).
    static func spawnHeld(path: String, arguments: [String], gate: Int32, errorPipe: Int32) throws(Errno) -> Int32 {
        // The C strings are made before fork: the child may only make async-signal-safe calls.
        // Invariant: each strdup'd string is freed once, by the defer, after the child has its own copy (fork).
        var cStrings: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        cStrings.append(nil)
        defer { for p in cStrings { free(p) } }
        let pid = cperf_spawn_held(path, cStrings, gate, errorPipe, processNice())
        guard pid > 0 else { throw .current }
        return pid
    }

    /// getpriority(2) of the process's main thread (a pid names it): the nice value fpprof was started with, which
    /// libdispatch's worker threads do not keep (they are reniced by QoS).
    static func processNice() -> Int32 {
        errno = 0
        let value = getpriority(processPriority, id_t(getpid()))
        return errno == 0 ? value : 0
    }

    /// Gives the calling thread the process's nice value (Linux keeps one per thread, and `who` 0 names the calling
    /// thread). Threads inherit it from the thread that creates them, so fpprof's reader, started from a libdispatch
    /// worker, ran at that worker's 0 under `nice -n -19 fpprof record`, behind a target running at -19: it fell
    /// behind and the rings overflowed. Failure (raising priority without privilege) leaves the value as it was.
    static func adoptProcessNice() {
        let wanted = processNice()
        errno = 0
        let current = getpriority(processPriority, 0)
        guard errno == 0, current != wanted else { return }
        _ = setpriority(processPriority, 0, wanted)
    }

    /// Raises the soft RLIMIT_NOFILE to the hard limit; a process with many threads on many CPUs needs one fd per
    /// (thread, CPU). Returns whether the limit went up.
    static func raiseOpenFileLimit() -> Bool {
        var limit = rlimit()
        guard getrlimit(openFileResource, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return false }
        limit.rlim_cur = limit.rlim_max
        return setrlimit(openFileResource, &limit) == 0
    }

    private static var openFileResource: __rlimit_resource_t { __rlimit_resource_t(RLIMIT_NOFILE.rawValue) }
    private static var processPriority: __priority_which_t { __priority_which_t(PRIO_PROCESS.rawValue) }

    /// clock_gettime(CLOCK_MONOTONIC), the clock the events stamp their records with.
    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// getenv(3).
    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }

    /// pthread_create(3) of a detached thread running `body`: the reader must be a real OS thread, because it blocks
    /// in poll(2) for its whole life and must not starve Swift's cooperative pool.
    static func startThread(_ body: @escaping @Sendable () -> Void) throws(Errno) {
        final class Box: Sendable {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        // Invariant: this retain is balanced by exactly one takeRetainedValue (in the thread) or release (on failure).
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var thread = pthread_t()
        let rc = pthread_create(
            &thread, &attributes,
            { context in
                // Invariant: `context` is the Box retained just above, released exactly once, here.
                let box = Unmanaged<Box>.fromOpaque(context!).takeRetainedValue()
                box.body()
                return nil
            }, context)
        guard rc == 0 else {
            // Invariant: the thread was not created, so the retain above is still ours to release.
            Unmanaged<Box>.fromOpaque(context).release()
            throw Errno(rc)
        }
    }
}
