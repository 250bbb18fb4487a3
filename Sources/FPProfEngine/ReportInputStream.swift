import FPProfSampler
import Foundation

/// The input of `fpprof report`, read in pieces: a raw capture is replayed chunk by chunk as it is read, so the
/// report holds one chunk of it at a time (a few hundred KiB) besides the profile, not the whole file, which may be
/// hundreds of MB. Bytes looked at to tell a capture from folded text are given back to the next read.
public final class ReportInputStream {
    private let file: InputFile
    private let path: String
    private var pending: [UInt8] = []
    /// Bytes handed out so far: the file offset of the next byte.
    public private(set) var offset = 0

    /// Opens `path` (`-`: standard input), with errors that name it.
    public init(path: String) throws(EngineError) {
        self.path = path
        if path == "-" {
            file = InputFile(standardInput: ())
            return
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw EngineError(.input, "\(path): no such file")
        }
        guard !isDirectory.boolValue else { throw EngineError(.input, "\(path): is a directory") }
        do { file = try InputFile(path: path) } catch {
            throw EngineError(.input, "\(path): cannot read: \(error)")
        }
    }

    /// The next `count` bytes without consuming them (fewer at the end of the input).
    public func peek(_ count: Int) throws -> [UInt8] {
        if pending.count < count { pending += try more(count - pending.count) }
        return Array(pending.prefix(count))
    }

    /// The next `count` bytes; fewer only at the end of the input. Read straight into the array returned when
    /// nothing was given back by `peek`: each chunk of a capture is one allocation and one copy out of the page
    /// cache.
    public func read(_ count: Int) throws -> [UInt8] {
        var out: [UInt8]
        if pending.isEmpty {
            out = try more(count)
        } else {
            out = Array(pending.prefix(count))
            pending.removeFirst(out.count)
            if out.count < count { out += try more(count - out.count) }
        }
        offset += out.count
        return out
    }

    /// Everything that is left.
    public func readToEnd() throws -> [UInt8] {
        var out = pending
        pending = []
        while true {
            let piece = try more(1 << 20)
            if piece.isEmpty { break }
            out += piece
        }
        offset += out.count
        return out
    }

    private func more(_ count: Int) throws(EngineError) -> [UInt8] {
        do { return try file.read(upTo: count) } catch { throw EngineError(.input, "\(path): \(error)") }
    }
}
