/// A file read front to back in pieces, each piece read(2) straight into the array returned: `fpprof report`
/// reads captures of hundreds of MB this way. Foundation's `FileHandle.read(upToCount:)` allocated a `Data` per
/// piece that was then copied into the array the pipeline takes, a second copy and a second set of fresh pages
/// per chunk (a fifth of a report's time on a 58 MB capture).
public final class InputFile {
    private let fd: Int32
    private let owned: Bool

    /// Opens `path` for reading. Errors carry strerror's text.
    public init(path: String) throws(SamplerError) {
        do { fd = try Sys.openForReading(path) } catch let e { throw .call("open", e) }
        owned = true
    }

    /// Standard input, left open when this object goes away.
    public init(standardInput: Void) {
        fd = 0
        owned = false
    }

    deinit { if owned { Sys.close(fd) } }

    /// The next `count` bytes, or fewer at the end of the file: one allocation, no copy.
    public func read(upTo count: Int) throws(SamplerError) -> [UInt8] {
        do { return try Sys.readFully(fd, count: count) } catch let e { throw .call("read", e) }
    }
}
