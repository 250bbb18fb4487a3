import Foundation

/// Window file names: `<UTC start, ISO 8601 basic>[.pid<PID>].<ext>`, for example `20261205T031200Z.pb.gz`, so
/// that names sort in time order and a person finds 03:12 by eye.
public enum WindowName {
    /// `20261205T031200Z` for the second `date` falls in.
    public static func timestamp(_ date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "%04d%02d%02dT%02d%02d%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    /// The file name of a window that started at `start`; `pid` for `per_process` targets.
    public static func file(start: Date, format: WindowFormat, pid: Int32? = nil) -> String {
        timestamp(start) + (pid.map { ".pid\($0)" } ?? "") + "." + format.fileExtension
    }

    /// The start time a window file's name gives, or nil for a name that is not a window file (a temp file, or
    /// something a person put there).
    public static func start(of name: String) -> Date? {
        guard name.count >= 16, !name.hasPrefix(".") else { return nil }
        let stamp = Array(name.utf8.prefix(16))
        guard stamp[8] == UInt8(ascii: "T"), stamp[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int32? {
            Int32(String(decoding: stamp[range], as: UTF8.self))
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8), let hour = number(9..<11),
            let minute = number(11..<13), let second = number(13..<15)
        else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        let seconds = timegm(&parts)
        guard seconds >= 0 else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }
}
