/// Finds the line of a key in a TOML text. TOMLKit reports where a syntax error is, but not where a parsed value came
/// from, so a semantic error ("frequency must be positive") would have no line without this scan. It follows table
/// headers (`[retention]`, `[[target]]`, `[target.retention]`) and `key =` lines, counting array-of-tables
/// occurrences so that `target#2.frequency` finds the third block's line. Multi-line strings are skipped. Inline
/// tables (`retention = { max_age = "1d" }`) are located at their key's line.
struct KeyLocator {
    /// "path" (e.g. `target#1.retention.max_age`, `window`) -> first line (1-based).
    private var lines: [String: Int] = [:]

    init(text: String) {
        var arrayCounts: [String: Int] = [:]
        var section = ""
        var inMultiline: String?
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingSpaces
            if let delimiter = inMultiline {
                if line.contains(delimiter) { inMultiline = nil }
                continue
            }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("[[") {
                guard let end = line.range(of: "]]") else { continue }
                let name = String(line[line.index(line.startIndex, offsetBy: 2)..<end.lowerBound]).trimmingSpaces
                let resolved = Self.resolve(name, arrayCounts: arrayCounts)
                let index = arrayCounts[resolved, default: -1] + 1
                arrayCounts[resolved] = index
                section = "\(resolved)#\(index)"
                record(section, number + 1)
                record(resolved, number + 1)
                continue
            }
            if line.hasPrefix("[") {
                guard let end = line.firstIndex(of: "]") else { continue }
                let name = String(line[line.index(after: line.startIndex)..<end]).trimmingSpaces
                section = Self.withIndexes(name, arrayCounts: arrayCounts)
                record(section, number + 1)
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].split(separator: ".").map { Self.unquote($0.trimmingSpaces) }.joined(
                separator: ".")
            record(section.isEmpty ? key : "\(section).\(key)", number + 1)
            let value = line[line.index(after: equals)...].trimmingSpaces
            for delimiter in ["\"\"\"", "'''"] where value.hasPrefix(delimiter) {
                if !value.dropFirst(3).contains(delimiter) { inMultiline = delimiter }
            }
        }
    }

    /// The line of `path`, or of its nearest enclosing key or table that is in the text.
    func line(of path: String) -> Int? {
        var candidate = path
        while true {
            if let line = lines[candidate] { return line }
            guard let dot = candidate.lastIndex(of: ".") else { return nil }
            candidate = String(candidate[..<dot])
        }
    }

    private mutating func record(_ path: String, _ line: Int) {
        if lines[path] == nil { lines[path] = line }
    }

    /// `[[target.x]]` names the array `x` of the last `target` block.
    private static func resolve(_ name: String, arrayCounts: [String: Int]) -> String {
        let components = name.split(separator: ".").map { unquote($0.trimmingSpaces) }
        guard let last = components.last else { return name }
        let parent = withIndexes(components.dropLast().joined(separator: "."), arrayCounts: arrayCounts)
        return parent.isEmpty ? last : "\(parent).\(last)"
    }

    /// Gives each component that is an array of tables seen so far its current index: `target.retention` under the
    /// third `[[target]]` is `target#2.retention`.
    private static func withIndexes(_ name: String, arrayCounts: [String: Int]) -> String {
        var prefix = ""
        for component in name.split(separator: ".").map({ unquote($0.trimmingSpaces) }) {
            let plain = prefix.isEmpty ? component : "\(prefix).\(component)"
            if let index = arrayCounts[plain] {
                prefix = "\(plain)#\(index)"
            } else {
                prefix = plain
            }
        }
        return prefix
    }

    private static func unquote(_ key: String) -> String {
        if key.count >= 2, let first = key.first, first == "\"" || first == "'", key.last == first {
            return String(key.dropFirst().dropLast())
        }
        return key
    }
}
