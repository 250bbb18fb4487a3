import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What the discovery loop knows of one process, as read from /proc.
public struct ProcessInfoSnapshot: Sendable, Equatable {
    public var pid: Int32
    public var parent: Int32
    /// `/proc/PID/comm`: the name, at most 15 bytes.
    public var comm: String
    /// `/proc/PID/exe`'s target, nil for kernel threads and processes we may not look at.
    public var executable: String?

    public init(pid: Int32, parent: Int32, comm: String, executable: String?) {
        self.pid = pid
        self.parent = parent
        self.comm = comm
        self.executable = executable
    }
}

/// Whether a process belongs to a `pid`/`exe`/`comm` target. Kernel threads (no executable) never match: they have
/// no user stack to sample.
public enum ProcessMatcher {
    public static func matches(_ match: TargetMatch, _ process: ProcessInfoSnapshot) -> Bool {
        guard let executable = process.executable else { return false }
        switch match {
        case .pid(let pid): return process.pid == pid
        // No FNM_PATHNAME: `*/caddy` matches `/usr/local/bin/caddy`, as a person writing it means.
        case .exe(let glob):
            let path = executable.hasSuffix(" (deleted)") ? String(executable.dropLast(10)) : executable
            return fnmatch(glob, path, 0) == 0
        case .comm(let glob): return fnmatch(glob, process.comm, 0) == 0
        case .cgroup, .unit, .all: return false
        }
    }
}

/// Reads the processes of the host from /proc. One pass reads, per process, its `stat` (for the parent and the
/// name) and the link of its executable (which also tells kernel threads apart): 4 syscalls per process and pass.
public enum ProcessScanner {
    public static func scan() -> [ProcessInfoSnapshot] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var result: [ProcessInfoSnapshot] = []
        for entry in entries {
            guard let pid = Int32(entry), pid > 0 else { continue }
            guard let stat = readSmallFile("/proc/\(pid)/stat"), let parsed = parseStat(stat) else { continue }
            let executable = readLink("/proc/\(pid)/exe")
            result.append(
                ProcessInfoSnapshot(pid: pid, parent: parsed.parent, comm: parsed.comm, executable: executable))
        }
        return result
    }

    /// `pid (comm) state ppid ...`: the name may hold spaces and parentheses, so it runs to the last `)`.
    static func parseStat(_ text: String) -> (comm: String, parent: Int32)? {
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { return nil }
        let comm = String(text[text.index(after: open)..<close])
        let rest = text[text.index(after: close)...].split(separator: " ")
        guard rest.count >= 2, let parent = Int32(rest[1]) else { return nil }
        return (comm, parent)
    }

    static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n], as: UTF8.self)
    }

    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
