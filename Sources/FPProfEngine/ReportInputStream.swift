import Foundation

/// The input of `fpprof report`, read in pieces: a raw capture is replayed chunk by chunk as it is read, so the
/// report holds one chunk of it at a time (a few hundred KiB) besides the profile, not the whole file, which may be
/// hundreds of MB. Bytes looked at to tell a capture from folded text are given back to the next read.
public final class ReportInputStream {
    private let handle: FileHandle
    private let closesHandle: Bool
    private var pending: [UInt8] = []
    /// Bytes handed out so far: the file offset of the next byte.
    public private(set) var offset = 0

    /// Opens `path` (`-`: standard input), with errors that name it.
    public init(path: String) throws(EngineError) {
        if path == "-" {
            handle = FileHandle.standardInput
            closesHandle = false
            return
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw EngineError(.input, "\(path): no such file")
        }
        guard !isDirectory.boolValue else { throw EngineError(.input, "\(path): is a directory") }
        guard let opened = FileHandle(forReadingAtPath: path) else {
            throw EngineError(.input, "\(path): cannot read: \(String(cString: strerror(errno)))")
        }
        handle = opened
        closesHandle = true
    }

    deinit {
        if closesHandle { try? handle.close() }
    }

    /// The next `count` bytes without consuming them (fewer at the end of the input).
    public func peek(_ count: Int) throws -> [UInt8] {
        if pending.count < count, let more = try handle.read(upToCount: count - pending.count) {
            pending += more
        }
        return Array(pending.prefix(count))
    }

    /// The next `count` bytes; fewer only at the end of the input.
    public func read(_ count: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        if !pending.isEmpty {
            out = Array(pending.prefix(count))
            pending.removeFirst(out.count)
        }
        while out.count < count, let more = try handle.read(upToCount: count - out.count), !more.isEmpty {
            out += more
        }
        offset += out.count
        return out
    }

    /// Everything that is left.
    public func readToEnd() throws -> [UInt8] {
        var out = pending
        pending = []
        if let rest = try handle.readToEnd() { out += rest }
        offset += out.count
        return out
    }
}
