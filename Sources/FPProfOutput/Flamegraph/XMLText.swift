/// Text made safe for XML content and attribute values: the five special characters escaped, and characters
/// XML 1.0 forbids (control characters that may hide in odd symbol names) replaced, so the file always parses.
/// Also what the daemon's HTML pages put their names and paths through.
public enum XMLText {
    public static func escape(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: needsWork) else { return s }
        var out = ""
        out.reserveCapacity(s.utf8.count + 16)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(u)
            default: out.unicodeScalars.append(isAllowed(u) ? u : "\u{FFFD}")
            }
        }
        return out
    }

    private static func needsWork(_ u: Unicode.Scalar) -> Bool {
        "&<>\"'".unicodeScalars.contains(u) || !isAllowed(u)
    }

    private static func isAllowed(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: true
        default: false
        }
    }

    /// A coordinate with three decimals and no trailing zeros: exact enough that widths stay proportional to
    /// counts (to 0.0005 px), short enough for profiles with many thousands of boxes.
    static func number(_ v: Double) -> String {
        let thousandths = Int((v * 1000).rounded())
        let sign = thousandths < 0 ? "-" : ""
        let magnitude = abs(thousandths)
        let whole = magnitude / 1000
        var fraction = magnitude % 1000
        guard fraction != 0 else { return sign + String(whole) }
        var digits = 3
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let f = String(fraction)
        return sign + String(whole) + "." + String(repeating: "0", count: digits - f.count) + f
    }
}
