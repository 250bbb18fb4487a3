/// A configuration the daemon will not run with. The message names the file, the line (where the key or the
/// syntax error is), the key, and what was expected, as `nginx -t` does: `fpprof.toml:12: target.frequency: expected
/// a positive integer (samples per second), got "fast"`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based; nil when the file could not be read at all.
    public var line: Int?
    /// The dotted key (`target.retention.max_age`), or nil for a syntax error.
    public var key: String?
    public var message: String

    public init(file: String, line: Int?, key: String?, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if let key { text += "\(key): " }
        return text + message
    }
}
