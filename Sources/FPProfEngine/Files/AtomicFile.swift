import Foundation
import Synchronization

/// Writes output files so that a reader sees the old file or the whole new one, never a half-written file: the
/// bytes go to a temporary file in the same directory, are flushed, and are renamed over the target.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws(EngineError) {
        if isSpecialFile(path) {
            // A device or FIFO (`-o /dev/null`, a pipe) is written in place: renaming over it would replace it.
            guard let handle = FileHandle(forWritingAtPath: path) else {
                throw EngineError(.output, "cannot write \(path): \(String(cString: strerror(errno)))")
            }
            do {
                try handle.write(contentsOf: data)
                try handle.close()
            } catch {
                throw EngineError(.output, "cannot write \(path): \(error.localizedDescription)")
            }
            return
        }
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw EngineError(.output, "cannot write \(path): directory \(directory.path) does not exist")
        }
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).fpprof-\(getpid())")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw EngineError(.output, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        do {
            let handle = try FileHandle(forWritingTo: temporary)
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
            guard rename(temporary.path, url.path) == 0 else {
                let reason = String(cString: strerror(errno))
                throw EngineError(.output, "cannot write \(path): \(reason)")
            }
        } catch let e as EngineError {
            unlink(temporary.path)
            throw e
        } catch {
            unlink(temporary.path)
            throw EngineError(.output, "cannot write \(path): \(error.localizedDescription) (disk full?)")
        }
    }

    /// Whether `path` exists and is something other than a regular file or a directory.
    public static func isSpecialFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        let kind = info.st_mode & S_IFMT
        return kind != S_IFREG && kind != S_IFDIR
    }

    /// Fails early, before a long recording, if `path` cannot be written at the end.
    public static func checkWritable(_ path: String) throws(EngineError) {
        if isSpecialFile(path) {
            guard access(path, W_OK) == 0 else {
                throw EngineError(.output, "cannot write \(path): \(String(cString: strerror(errno)))")
            }
            return
        }
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw EngineError(.output, "cannot write \(path): directory \(directory) does not exist")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw EngineError(.output, "cannot write \(path): it is a directory")
        }
        guard access(directory, W_OK) == 0 else {
            throw EngineError(.output, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// A file written piece by piece (a raw capture grows during the recording) that appears under its name only
/// when `commit()` succeeds; until then it is a hidden temporary beside the target. Its calls are serialized by a
/// lock: the engine appends from its `run()` while the front end that made the file commits it afterwards.
public final class StreamingFile: Sendable {
    public let path: String
    private let temporary: String
    private let handle: FileHandle
    /// The first write failure, reported by `commit()`.
    private let failure = Mutex<String?>(nil)

    public init(path: String) throws(EngineError) {
        try AtomicFile.checkWritable(path)
        self.path = path
        let url = URL(fileURLWithPath: path)
        temporary =
            url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).fpprof-\(getpid())")
            .path
        guard FileManager.default.createFile(atPath: temporary, contents: nil),
            let handle = FileHandle(forWritingAtPath: temporary)
        else {
            throw EngineError(.output, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        self.handle = handle
    }

    /// Appends; the first failure (a full disk, say) is kept and reported by `commit()`.
    public func write(_ bytes: [UInt8]) {
        failure.withLock { failure in
            guard failure == nil else { return }
            do { try handle.write(contentsOf: bytes) } catch { failure = error.localizedDescription }
        }
    }

    public func commit() throws(EngineError) {
        defer { try? handle.close() }
        let failure = self.failure.withLock { failure in
            if failure == nil {
                do { try handle.synchronize() } catch { failure = error.localizedDescription }
            }
            return failure
        }
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
        try? handle.close()
        unlink(temporary)
    }
}
