import FPProfSampler
import Foundation

/// Where an output path leads, decided by `fstat` on a descriptor of the path itself (opened `O_PATH`, which has
/// no effect on a device or FIFO), never by a `stat` before: a link planted in a shared folder is judged by what
/// it points to now, the moment the decision is made.
public enum OutputTarget {
    /// Nothing there yet: a new regular file is made.
    case newFile
    /// A regular file (or a link to one): replaced by temp file + fsync + rename, keeping its mode.
    case regularFile(mode: mode_t)
    /// A character device or FIFO the user named (`/dev/null`, `/dev/stdout` of a pipe or terminal): written in
    /// place, never replaced. `device`/`inode` identify it, so the open for writing is checked to reach it.
    case inPlace(device: UInt64, inode: UInt64)

    /// Classifies `path`; a block device, directory or socket is refused with the reason.
    public static func classify(_ path: String) throws(EngineError) -> OutputTarget {
        guard !path.isEmpty else {
            throw EngineError(.output, "the output path is empty")
        }
        let descriptor = open(path, openPathOnly | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return try newFileDirectory(path) }
            throw EngineError(.output, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw EngineError(.output, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG where path.hasPrefix("/dev/") || path.hasPrefix("/proc/"):
            // `-o /dev/stdout` redirected to a file: renaming would replace the /dev/stdout link itself.
            return .inPlace(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        case S_IFREG: return .regularFile(mode: info.st_mode & 0o7777)
        case S_IFCHR, S_IFIFO: return .inPlace(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        case S_IFDIR: throw EngineError(.output, "cannot write \(path): it is a directory")
        case S_IFBLK:
            throw EngineError(
                .output, "cannot write \(path): it is a block device; fpprof never writes a profile onto a disk")
        default: throw EngineError(.output, "cannot write \(path): not a regular file, device or FIFO")
        }
    }

    /// A dangling link, or a missing file: its folder must exist for the temporary file.
    private static func newFileDirectory(_ path: String) throws(EngineError) -> OutputTarget {
        var info = stat()
        if lstat(path, &info) == 0 {
            // A link to nothing: renaming over it would replace the link, writing through it would create a file
            // wherever it points. Neither is what `-o` asked for.
            throw EngineError(.output, "cannot write \(path): it is a link to a file that does not exist")
        }
        let directory = AtomicFile.directory(of: path)
        guard stat(directory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw EngineError(.output, "cannot write \(path): directory \(directory) does not exist")
        }
        guard access(directory, W_OK) == 0 else {
            throw EngineError(.output, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        return .newFile
    }

    /// Opens an in-place target for writing and checks it is still the device or FIFO that was classified.
    public static func openInPlace(_ path: String, device: UInt64, inode: UInt64) throws(EngineError) -> Int32 {
        let descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw EngineError(.output, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0, UInt64(info.st_dev) == device, UInt64(info.st_ino) == inode,
            [S_IFCHR, S_IFIFO, S_IFREG].contains(info.st_mode & S_IFMT)
        else {
            close(descriptor)
            throw EngineError(.output, "cannot write \(path): it changed while fpprof was running")
        }
        return descriptor
    }
}

/// `O_PATH` (x86-64 and arm64 value), which Glibc's module does not export without _GNU_SOURCE.
private let openPathOnly: Int32 = 0o10000000

/// The modes new files get: a raw capture holds the target's stack memory (its secrets), so only its owner may read
/// it, as perf writes perf.data; a profile holds names and counts and is readable as the umask allows.
public enum OutputMode {
    public static let capture: mode_t = 0o600
    public static let profile: mode_t = 0o644
}

/// Temporary files of writes in progress, removed by a signal that ends fpprof at once (`StopSignals`). At most
/// two at a time (the profile and the capture).
public enum PendingFiles {
    private static let paths = Locked<Set<String>>([])
    public static func add(_ path: String) { _ = paths.withLock { $0.insert(path) } }
    public static func remove(_ path: String) { _ = paths.withLock { $0.remove(path) } }
    public static func removeAll() { paths.withLock { for path in $0 { unlink(path) } } }
}

/// Writes output files so that a reader sees the old file or the whole new one, never a half-written file: the
/// bytes go to a temporary file in the same directory (created 0600 with O_EXCL, so a planted link is never
/// followed and the secrets of a capture are never readable by others, even if fpprof is killed), are flushed, get
/// the mode of the file they replace (or of a new file), and are renamed over the target. Devices and FIFOs the
/// user named are written in place (see `OutputTarget`).
public enum AtomicFile {
    public static func write(_ data: Data, to path: String, newMode: mode_t = OutputMode.profile) throws(EngineError) {
        let file = try StreamingFile(path: path, newMode: newMode)
        file.write([UInt8](data))
        try file.commit()
    }

    /// Fails early, before a long recording, if `path` cannot be written at the end.
    public static func checkWritable(_ path: String) throws(EngineError) {
        if case .inPlace = try OutputTarget.classify(path) {
            guard access(path, W_OK) == 0 else {
                throw EngineError(.output, "cannot write \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    public static func directory(of path: String) -> String {
        URL(fileURLWithPath: path).deletingLastPathComponent().path
    }

    /// Whether two paths name the same file: the same device and inode if both exist, else the same absolute path.
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        var first = stat()
        var second = stat()
        if stat(a, &first) == 0, stat(b, &second) == 0 {
            // Two writers into /dev/null, or one pipe, destroy nothing.
            guard first.st_mode & S_IFMT == S_IFREG else { return false }
            return first.st_dev == second.st_dev && first.st_ino == second.st_ino
        }
        return URL(fileURLWithPath: a).standardizedFileURL.path == URL(fileURLWithPath: b).standardizedFileURL.path
    }
}

/// A file written piece by piece (a raw capture grows during the recording) that appears under its name only
/// when `commit()` succeeds; until then it is a hidden temporary (0600) beside the target. A device or FIFO is
/// written in place instead.
public final class StreamingFile: Sendable {
    public let path: String
    private let temporary: String?
    private let descriptor: Int32
    private let finalMode: mode_t
    /// The first write failure, reported by `commit()`. Behind a lock: the engine appends from its `run()` while
    /// the front end that made the file commits it afterwards.
    private let failure = Locked<String?>(nil)

    public init(path: String, newMode: mode_t = OutputMode.capture) throws(EngineError) {
        self.path = path
        switch try OutputTarget.classify(path) {
        case .inPlace(let device, let inode):
            temporary = nil
            finalMode = 0
            descriptor = try OutputTarget.openInPlace(path, device: device, inode: inode)
            return
        case .regularFile(let mode):
            finalMode = mode
        case .newFile:
            let mask = umask(0)
            umask(mask)
            finalMode = newMode & ~mask
        }
        let url = URL(fileURLWithPath: path)
        let name = ".\(url.lastPathComponent).fpprof-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let temporary = url.deletingLastPathComponent().appendingPathComponent(name).path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw EngineError(.output, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        PendingFiles.add(temporary)
        self.temporary = temporary
        self.descriptor = descriptor
    }

    /// Appends; the first failure (a full disk, say) is kept and reported by `commit()`.
    public func write(_ bytes: [UInt8]) {
        failure.withLock { failure in
            guard failure == nil else { return }
            var done = 0
            while done < bytes.count {
                // Invariant: `done < bytes.count`, so the buffer is not empty and has a base address.
                let n = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + done, $0.count - done) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    failure = n < 0 ? String(cString: strerror(errno)) : "nothing was written"
                    return
                }
                done += n
            }
        }
    }

    public func commit() throws(EngineError) {
        defer { close(descriptor) }
        let failure = self.failure.withLock { failure in
            if failure == nil, temporary != nil {
                if fchmod(descriptor, finalMode) != 0 {
                    failure = String(cString: strerror(errno))
                } else if fsync(descriptor) != 0 {
                    failure = String(cString: strerror(errno))
                }
            }
            return failure
        }
        guard let temporary else {
            if let failure { throw EngineError(.output, "cannot write \(path): \(failure)") }
            return
        }
        defer { PendingFiles.remove(temporary) }
        if let failure {
            unlink(temporary)
            throw EngineError(.output, "cannot write \(path): \(failure) (disk full?)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw EngineError(.output, "cannot write \(path): \(reason)")
        }
    }

    public func abandon() {
        close(descriptor)
        if let temporary {
            unlink(temporary)
            PendingFiles.remove(temporary)
        }
    }
}
