import TOMLKit

/// Reads the keys of one TOML table with the checks and messages the config needs: each getter names what it
/// expects, and `finish()` rejects every key that no getter asked for, so a misspelt key is an error instead of a
/// silently ignored setting.
struct TableReader {
    let table: TOMLTable
    /// The locator path of this table (`target#2`), used to find lines.
    let path: String
    /// The dotted name shown to the user (`target`).
    let display: String
    let file: String
    let locator: KeyLocator
    private(set) var seen: Set<String> = []

    init(table: TOMLTable, path: String, display: String, file: String, locator: KeyLocator) {
        self.table = table
        self.path = path
        self.display = display
        self.file = file
        self.locator = locator
    }

    func error(_ key: String?, _ message: String) -> ConfigError {
        let fullPath = key.map { path.isEmpty ? $0 : "\(path).\($0)" } ?? path
        let fullDisplay = key.map { display.isEmpty ? $0 : "\(display).\($0)" } ?? display
        return ConfigError(
            file: file, line: locator.line(of: fullPath), key: fullDisplay.isEmpty ? nil : fullDisplay,
            message: message)
    }

    private mutating func value(_ key: String) -> (any TOMLValueConvertible)? {
        seen.insert(key)
        return table[key]
    }

    func has(_ key: String) -> Bool { table.contains(key: key) }

    mutating func string(_ key: String, expected: String = "a string") throws(ConfigError) -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v.string else { throw mismatch(key, expected, v) }
        return s
    }

    mutating func int(_ key: String, expected: String) throws(ConfigError) -> Int? {
        guard let v = value(key) else { return nil }
        guard let i = v.int else { throw mismatch(key, expected, v) }
        return i
    }

    mutating func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard let b = v.bool else { throw mismatch(key, "true or false", v) }
        return b
    }

    mutating func duration(_ key: String) throws(ConfigError) -> Duration? {
        let expected = "a duration such as \"90s\", \"15m\", \"2h\" or \"7d\""
        guard let v = value(key) else { return nil }
        guard let s = v.string, let d = Units.duration(s) else { throw mismatch(key, expected, v) }
        return d
    }

    /// A size: a string with a unit (`"512MiB"`) or an integer of bytes.
    mutating func size(_ key: String) throws(ConfigError) -> Int? {
        let expected = "a size such as \"512MiB\", \"1GiB\" or a number of bytes"
        guard let v = value(key) else { return nil }
        if let i = v.int, i >= 0 { return i }
        guard let s = v.string, let bytes = Units.size(s) else { throw mismatch(key, expected, v) }
        return bytes
    }

    mutating func stringArray(_ key: String, expected: String) throws(ConfigError) -> [String]? {
        guard let v = value(key) else { return nil }
        guard let array = v.array else { throw mismatch(key, expected, v) }
        var result: [String] = []
        for element in array {
            guard let s = element.string else { throw mismatch(key, expected, element) }
            result.append(s)
        }
        return result
    }

    /// A string-to-string table such as `labels = { env = "prod" }`.
    mutating func stringTable(_ key: String) throws(ConfigError) -> [String: String]? {
        let expected = "a table of strings such as { env = \"prod\" }"
        guard let v = value(key) else { return nil }
        guard let t = v.table else { throw mismatch(key, expected, v) }
        var result: [String: String] = [:]
        for (name, element) in t {
            guard let s = element.string else { throw mismatch("\(key).\(name)", "a string", element) }
            result[name] = s
        }
        return result
    }

    mutating func subtable(_ key: String) throws(ConfigError) -> TableReader? {
        guard let v = value(key) else { return nil }
        guard let t = v.table else { throw mismatch(key, "a table", v) }
        return TableReader(
            table: t, path: path.isEmpty ? key : "\(path).\(key)", display: display.isEmpty ? key : "\(display).\(key)",
            file: file, locator: locator)
    }

    /// The tables of an array of tables (`[[target]]`); a plain table there is accepted as a single block.
    mutating func tableArray(_ key: String) throws(ConfigError) -> [TableReader] {
        guard let v = value(key) else { return [] }
        let tables: [TOMLTable]
        if let array = v.array {
            var collected: [TOMLTable] = []
            for element in array {
                guard let t = element.table else { throw mismatch(key, "a [[\(key)]] block", element) }
                collected.append(t)
            }
            tables = collected
        } else if let t = v.table {
            tables = [t]
        } else {
            throw mismatch(key, "a [[\(key)]] block", v)
        }
        return tables.enumerated().map { index, t in
            TableReader(
                table: t, path: path.isEmpty ? "\(key)#\(index)" : "\(path).\(key)#\(index)",
                display: display.isEmpty ? key : "\(display).\(key)", file: file, locator: locator)
        }
    }

    /// Rejects every key no getter asked for, naming the keys this table does take.
    func finish(known: [String]) throws(ConfigError) {
        for key in table.keys.sorted() where !seen.contains(key) {
            throw error(key, "unknown key; expected one of: \(known.joined(separator: ", "))")
        }
    }

    func mismatch(_ key: String, _ expected: String, _ value: any TOMLValueConvertible) -> ConfigError {
        error(key, "expected \(expected), got \(Self.describe(value))")
    }

    static func describe(_ value: any TOMLValueConvertible) -> String {
        switch value.type {
        case .string: "\"\(value.string ?? "")\""
        case .int: "\(value.int ?? 0)"
        case .double: "\(value.double ?? 0)"
        case .bool: "\(value.bool ?? false)"
        case .array: "an array"
        case .table: "a table"
        default: "a \(value.type)"
        }
    }
}
