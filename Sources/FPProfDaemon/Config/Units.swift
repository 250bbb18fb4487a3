/// Durations and sizes as people write them in a config file: `90s`, `15m`, `7d`, `512MiB`.
enum Units {
    /// `500ms`, `90s`, `15m`, `2h`, `7d`, `1w`; a fraction is allowed (`1.5h`). Nil for anything else, including a
    /// bare number, whose unit a reader could not know.
    static func duration(_ text: String) -> Duration? {
        let units: [(String, Double)] = [
            ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400), ("w", 7 * 86400),
        ]
        let trimmed = text.trimmingSpaces
        for (suffix, seconds) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count).trimmingSpaces
            // "5ms" also ends in "s": the longer suffix is tried first, and "5m" is not a number.
            guard let value = Double(number), value >= 0, value.isFinite, !number.hasPrefix("+") else { continue }
            // `1e300s` is a finite number, and converting its milliseconds to Int64 would trap: refused instead.
            let milliseconds = (value * seconds * 1000).rounded()
            guard milliseconds < Double(Int64.max) else { return nil }
            return .milliseconds(Int64(milliseconds))
        }
        return nil
    }

    /// `512MiB`, `1GiB`, `64KiB`, `10MB` (decimal units count in 1000s), `4096B` or `4096`: bytes.
    static func size(_ text: String) -> Int? {
        let units: [(String, Int)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40),
            ("kB", 1000), ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000),
            ("B", 1),
        ]
        let trimmed = text.trimmingSpaces
        if let plain = Int(trimmed), plain >= 0 { return plain }
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count).trimmingSpaces
            guard let value = Double(number), value >= 0, value.isFinite, !number.hasPrefix("+") else { continue }
            let bytes = value * Double(factor)
            guard bytes < Double(Int.max) else { return nil }
            return Int(bytes.rounded())
        }
        return nil
    }

    /// A duration as the config would write it, for messages and logs: `2s`, `15m`, `1.5s`.
    static func describe(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        for (suffix, unit) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
        where ms >= unit && ms % unit == 0 {
            return "\(ms / unit)\(suffix)"
        }
        return "\(ms)ms"
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}
