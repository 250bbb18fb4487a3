import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writes one window file so that a reader (the HTTP side, `go tool pprof`, a backup) sees either no file or the
/// whole one, and so that the file survives a crash right after: temp file in the same folder, write, fsync,
/// rename, fsync of the folder. Files are 0640 and folders 0750 whatever the umask: profiles show code and
/// arguments, and the daemon's group (not the world) may read them. Kept to one small type so it can fold into a
/// shared file-output path later.
public struct WindowFileWriter: Sendable {
    public struct WriteError: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var call: String
        public var errno: Int32
        /// The disk (or the quota) is full: the window is skipped and the next one tried again.
        public var isNoSpace: Bool { errno == ENOSPC || errno == EDQUOT }
        public var description: String { "\(call) \(path): \(String(cString: strerror(errno)))" }
    }

    public static let fileMode: mode_t = 0o640
    public static let folderMode: mode_t = 0o750

    public init() {}

    /// Creates `folder` (and missing parents) with mode 0750.
    public func makeFolder(_ folder: String) throws(WriteError) {
        var path = ""
        for component in folder.split(separator: "/", omittingEmptySubsequences: true) {
            path += "/" + component
            if mkdir(path, Self.folderMode) != 0 {
                let e = errno
                guard e == EEXIST else { throw WriteError(path: path, call: "mkdir", errno: e) }
                continue
            }
            // mkdir's mode passes through the umask; the folder we made gets exactly 0750.
            _ = chmod(path, Self.folderMode)
        }
    }

    /// Writes `bytes` as `folder/name` atomically. On failure nothing is left behind (the temp file is removed).
    public func write(_ bytes: [UInt8], folder: String, name: String) throws(WriteError) {
        try makeFolder(folder)
        let final = folder + "/" + name
        let temporary = folder + "/.\(name).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, Self.fileMode)
        guard fd >= 0 else { throw WriteError(path: temporary, call: "open", errno: errno) }
        var committed = false
        defer { if !committed { unlink(temporary) } }
        do {
            defer { close(fd) }
            guard fchmod(fd, Self.fileMode) == 0 else {
                throw WriteError(path: temporary, call: "fchmod", errno: errno)
            }
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { raw in
                    Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw WriteError(path: temporary, call: "write", errno: errno)
                }
                offset += written
            }
            guard fsync(fd) == 0 else { throw WriteError(path: temporary, call: "fsync", errno: errno) }
        }
        guard rename(temporary, final) == 0 else { throw WriteError(path: final, call: "rename", errno: errno) }
        committed = true
        // The rename is durable once the folder's entry is: fsync the folder too.
        let folderFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folderFD >= 0 else { throw WriteError(path: folder, call: "open", errno: errno) }
        defer { close(folderFD) }
        guard fsync(folderFD) == 0 else { throw WriteError(path: folder, call: "fsync", errno: errno) }
    }
}
