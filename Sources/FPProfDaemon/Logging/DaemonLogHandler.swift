import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// swift-log to stderr, one line per message, in the form the reader of stderr wants. Under systemd (journald sets
/// `JOURNAL_STREAM` for the service's stderr) each line starts with its syslog priority, `<3>` to `<7>`, which
/// journald turns into the entry's priority, and carries no timestamp (the journal has its own). Elsewhere, a
/// person reads it: an ISO 8601 UTC time and the level spelt out.
public struct DaemonLogHandler: LogHandler {
    public enum Style: Sendable, Equatable {
        case journal
        case timestamped
    }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public let label: String
    public let style: Style

    public init(label: String, style: Style) {
        self.label = label
        self.style = style
    }

    /// The style for this process: journal when `JOURNAL_STREAM` is set.
    public static func detectedStyle(environment: [String: String] = ProcessInfo.processInfo.environment) -> Style {
        environment["JOURNAL_STREAM"] != nil ? .journal : .timestamped
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let line = Self.format(
            level: event.level, message: "\(event.message)", metadata: merged, style: style, date: Date())
        let bytes = Array(line.utf8)
        // One write(2) per line, so that lines of concurrent tasks never interleave mid-line.
        bytes.withUnsafeBytes { raw in _ = Glibc.write(2, raw.baseAddress, raw.count) }
    }

    /// The syslog priority of a level: debug 7, info 6, notice 5, warning 4, error 3, critical 2.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// One line, newline included. Metadata follows the message as `key=value`, sorted by key; values with spaces
    /// are quoted.
    static func format(
        level: Logger.Level, message: String, metadata: Logger.Metadata, style: Style, date: Date
    ) -> String {
        var text = message.replacingOccurrences(of: "\n", with: " ")
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            let rendered = "\(value)"
            text += rendered.contains(" ") || rendered.isEmpty ? " \(key)=\"\(rendered)\"" : " \(key)=\(rendered)"
        }
        switch style {
        case .journal:
            return "<\(priority(level))>\(text)\n"
        case .timestamped:
            return "\(timestamp(date)) \(level) \(text)\n"
        }
    }

    /// `2026-12-05T03:12:00.123Z`.
    static func timestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(milliseconds % 1000))
    }
}
