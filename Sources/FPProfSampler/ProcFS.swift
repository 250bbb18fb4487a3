import Glibc

/// What the sampler reads from /proc and /sys: the threads to open events on, the CPUs to open them on, and the
/// state of a target from before the events existed. The parsers are pure functions over text, tested on their own.
enum ProcFS {
    /// The CPUs to open one event per thread on: /sys/devices/system/cpu/online (e.g. "0-3,5").
    static func onlineCPUs() throws(SamplerError) -> [Int32] {
        let path = "/sys/devices/system/cpu/online"
        let text: String
        do { text = String(decoding: try Sys.readFile(path), as: UTF8.self) } catch {
            throw .call("read \(path)", error)
        }
        guard let cpus = parseCPUList(text), !cpus.isEmpty else {
            throw SamplerError(
                code: .system, context: "read \(path)", description: "read \(path): cannot parse \"\(text)\"")
        }
        return cpus
    }

    /// Parses the kernel's cpulist format ("0-3,8,10-11\n"); nil if malformed.
    static func parseCPUList(_ text: String) -> [Int32]? {
        var cpus = [Int32]()
        for part in text.split(whereSeparator: { $0 == "," || $0 == "\n" || $0 == " " }) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard let first = bounds.first.flatMap({ Int32($0) }) else { return nil }
            let last: Int32
            switch bounds.count {
            case 1: last = first
            case 2:
                guard let l = Int32(bounds[1]), l >= first else { return nil }
                last = l
            default: return nil
            }
            cpus += Array(first...last)
        }
        return cpus
    }

    /// The thread ids of a process (/proc/PID/task), ascending, so the thread group leader comes first.
    static func threads(of pid: Int32) throws(Errno) -> [Int32] {
        try Sys.listDirectory("/proc/\(pid)/task").compactMap { Int32($0) }.sorted()
    }

    /// A thread's name (/proc/PID/task/TID/comm), without the newline; nil if the thread is gone.
    static func threadName(pid: Int32, tid: Int32) -> String? {
        guard let bytes = try? Sys.readFile("/proc/\(pid)/task/\(tid)/comm") else { return nil }
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    /// The thread group id of `pid` (/proc/PID/status "Tgid:"): a user may hand us a thread id.
    static func threadGroupID(of pid: Int32) throws(Errno) -> Int32 {
        let text = String(decoding: try Sys.readFile("/proc/\(pid)/status"), as: UTF8.self)
        return parseTgid(status: text) ?? pid
    }

    static func parseTgid(status text: String) -> Int32? {
        for line in text.split(separator: "\n") where line.hasPrefix("Tgid:") {
            return Int32(line.dropFirst(5).trimmingSpaces)
        }
        return nil
    }

    /// Whether a process has exited: gone from /proc, or a zombie its parent has not reaped yet (kill(pid, 0) still
    /// succeeds on a zombie, so it cannot answer this alone).
    static func hasExited(_ pid: Int32) -> Bool {
        guard let bytes = try? Sys.readFile("/proc/\(pid)/stat") else { return true }
        return parseState(stat: String(decoding: bytes, as: UTF8.self)).map { $0 == "Z" || $0 == "X" } ?? true
    }

    /// The state letter of /proc/PID/stat; the command name before it may hold spaces and parentheses, so the
    /// state is found after the last ')'.
    static func parseState(stat text: String) -> Character? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].first(where: { $0 != " " })
    }

    /// /proc/sys/kernel/perf_event_max_sample_rate, the highest frequency the kernel accepts.
    static func maxSampleRate() -> Int? {
        guard let bytes = try? Sys.readFile("/proc/sys/kernel/perf_event_max_sample_rate") else { return nil }
        return Int(String(decoding: bytes, as: UTF8.self).trimmingSpaces)
    }

    /// The mappings of a process (/proc/PID/maps).
    static func maps(of pid: Int32) throws(Errno) -> [MapsEntry] {
        let text = String(decoding: try Sys.readFile("/proc/\(pid)/maps"), as: UTF8.self)
        return text.split(separator: "\n").compactMap { MapsEntry(line: $0) }
    }
}

/// One line of /proc/PID/maps: `start-end perms offset major:minor inode   path`.
struct MapsEntry: Hashable, Sendable {
    var start: UInt64
    var end: UInt64
    var readable: Bool
    var writable: Bool
    var executable: Bool
    var shared: Bool
    var offset: UInt64
    var major: UInt32
    var minor: UInt32
    var inode: UInt64
    /// Empty for anonymous memory; "[vdso]", "[stack]" and the like for the kernel's special mappings; may end in
    /// " (deleted)".
    var path: String

    init?(line: Substring) {
        var fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)[...]
        guard fields.count >= 5 else { return nil }
        let range = fields.removeFirst().split(separator: "-")
        let perms = Array(fields.removeFirst().utf8)
        let offset = fields.removeFirst()
        let device = fields.removeFirst().split(separator: ":")
        let inode = fields.removeFirst()
        guard range.count == 2, let start = UInt64(range[0], radix: 16), let end = UInt64(range[1], radix: 16),
            start <= end, perms.count == 4, let off = UInt64(offset, radix: 16), device.count == 2,
            let major = UInt32(device[0], radix: 16), let minor = UInt32(device[1], radix: 16),
            let ino = UInt64(inode)
        else { return nil }
        self.start = start
        self.end = end
        self.readable = perms[0] == UInt8(ascii: "r")
        self.writable = perms[1] == UInt8(ascii: "w")
        self.executable = perms[2] == UInt8(ascii: "x")
        self.shared = perms[3] == UInt8(ascii: "s")
        self.offset = off
        self.major = major
        self.minor = minor
        self.inode = ino
        self.path = fields.first.map { String($0.trimmingSpaces) } ?? ""
    }

    /// `PROT_*` bits, as MMAP2 carries them.
    var protection: UInt32 {
        (readable ? UInt32(PROT_READ) : 0) | (writable ? UInt32(PROT_WRITE) : 0) | (executable ? UInt32(PROT_EXEC) : 0)
    }

    /// `MAP_SHARED` or `MAP_PRIVATE`, as MMAP2 carries them.
    var flags: UInt32 { shared ? UInt32(MAP_SHARED) : UInt32(MAP_PRIVATE) }

    /// Whether the mapping is backed by a file (rather than anonymous or a kernel special mapping).
    var isFile: Bool { path.hasPrefix("/") }
}

extension StringProtocol {
    /// The text without leading and trailing whitespace (Foundation's trimmingCharacters, without Foundation).
    var trimmingSpaces: Substring {
        let s = Substring(self)
        guard let first = s.firstIndex(where: { !$0.isWhitespace }) else { return s[s.endIndex...] }
        // Invariant: `first` found a character that is not whitespace, so a last one exists.
        let last = s.lastIndex(where: { !$0.isWhitespace })!
        return s[first...last]
    }
}
