internal import CElfutils
internal import Glibc

/// Opens the files a target process or a capture names (binaries, debug files, perf maps, the vdso copy) the way
/// a root process on a host it does not own must: a capture or a container chooses these paths, so one could name a
/// FIFO (a blocking `open` hangs forever), a device (opening `/dev/watchdog` or a tape has effects), or plant a
/// link out of its root.
///
/// The path is first opened `O_PATH`, which reads nothing and has no effect on a device or FIFO; `fstat` on that
/// descriptor checks it is a regular file; only then is it opened for reading, through `/proc/self/fd`, with
/// `O_NONBLOCK`, and checked again to be the same file. A path under `/proc/PID/root/` is resolved by `openat2`
/// with `RESOLVE_IN_ROOT`, so links inside it stay in the container's root, and magic links are refused.
enum TargetFileOpener {
    /// A read-only descriptor of the regular file at `path` and its `fstat`, which the caller owns and closes.
    static func openRegular(_ path: String) throws(ElfReadError.Reason) -> (descriptor: Int32, status: stat) {
        let located = try openLocation(path)
        defer { close(located) }
        var first = stat()
        guard fstat(located, &first) == 0 else { throw .cannotOpen(errno: errno) }
        guard first.st_mode & S_IFMT == S_IFREG else { throw .notRegularFile }
        let descriptor = open("/proc/self/fd/\(located)", O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw .cannotOpen(errno: errno) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let code = errno
            close(descriptor)
            throw .cannotOpen(errno: code)
        }
        guard status.st_mode & S_IFMT == S_IFREG, status.st_dev == first.st_dev, status.st_ino == first.st_ino else {
            close(descriptor)
            throw .notRegularFile
        }
        return (descriptor, status)
    }

    /// An `O_PATH` descriptor of `path`: inside a process's root when the path goes through `/proc/PID/root/`.
    private static func openLocation(_ path: String) throws(ElfReadError.Reason) -> Int32 {
        if let (root, inside) = splitProcessRoot(path) {
            let rootDescriptor = open(root, openPathOnly | O_DIRECTORY | O_CLOEXEC)
            guard rootDescriptor >= 0 else { throw .cannotOpen(errno: errno) }
            defer { close(rootDescriptor) }
            // RESOLVE_IN_ROOT (0x10) | RESOLVE_NO_MAGICLINKS (0x02), from linux/openat2.h.
            var descriptor = celfutils_openat2(rootDescriptor, inside, openPathOnly | O_CLOEXEC, 0x10 | 0x02)
            if descriptor < 0 && errno == ENOSYS {
                // A kernel before 5.6: at least the last component may not be a link.
                descriptor = openat(rootDescriptor, inside, openPathOnly | O_NOFOLLOW | O_CLOEXEC)
            }
            guard descriptor >= 0 else { throw .cannotOpen(errno: errno) }
            return descriptor
        }
        let descriptor = open(path, openPathOnly | O_CLOEXEC)
        guard descriptor >= 0 else { throw .cannotOpen(errno: errno) }
        return descriptor
    }

    /// `/proc/4242/root/usr/lib/x.so` gives (`/proc/4242/root`, `usr/lib/x.so`); nil for any other path.
    static func splitProcessRoot(_ path: String) -> (root: String, inside: String)? {
        let parts = path.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0].isEmpty, parts[1] == "proc", !parts[2].isEmpty,
            parts[2].allSatisfy(\.isASCIIDigit), parts[3].hasPrefix("root/")
        else { return nil }
        let inside = parts[3].dropFirst("root/".count)
        guard !inside.isEmpty else { return nil }
        return ("/proc/\(parts[2])/root", String(inside))
    }
}

/// `O_PATH` from `<fcntl.h>` (x86-64 and arm64 value), which Glibc's module does not export without _GNU_SOURCE.
private let openPathOnly: Int32 = 0o10000000

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
