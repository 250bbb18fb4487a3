import FPProfCore
import FPProfSampler
import Foundation
import TOMLKit

/// Turns the text of a config file into a `DaemonConfig`, or the first `ConfigError` found. Every key is checked
/// here, at load and at each reload, so that a running daemon never meets a bad value later.
public enum ConfigParser {
    static let topKeys = [
        "state_directory", "window", "frequency", "stack_size", "formats", "per_goroutine", "user_callchain",
        "kernel", "unwind", "retention", "symbol_memory", "target", "http", "upload",
    ]
    static let targetKeys = [
        "name", "pid", "exe", "comm", "cgroup", "unit", "all", "frequency", "stack_size", "formats",
        "per_goroutine", "user_callchain", "kernel", "unwind", "per_process", "retention", "labels",
    ]
    static let retentionKeys = ["max_age", "max_bytes"]
    static let httpKeys = ["listen", "allow_remote", "token_file", "max_profile_seconds"]
    static let uploadKeys = [
        "url", "format", "application_name", "labels", "basic_auth_user", "password_file", "token_file",
        "tenant_id", "spool_max_bytes",
    ]

    /// Reads and parses the file at `path`; with a `vetter` (the daemon's loads and `--check-config`), the TOML is
    /// parsed in a child process first (see `SyntaxVetter`).
    public static func load(path: String, vetter: SyntaxVetter? = nil) throws(ConfigError) -> DaemonConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, line: nil, key: nil, message: "cannot read: \(error.localizedDescription)")
        }
        return try parse(text, file: path, vetter: vetter)
    }

    public static func parse(_ text: String, file: String, vetter: SyntaxVetter? = nil) throws(ConfigError)
        -> DaemonConfig
    {
        if let line = headerWithoutKey(text) {
            throw ConfigError(
                file: file, line: line, key: nil,
                message: "TOML syntax: a table header must start with a key or a quoted key")
        }
        if let line = braceWhereAValueGoes(text) {
            throw ConfigError(
                file: file, line: line, key: nil, message: "TOML syntax: `}` where an array expects a value or `]`")
        }
        try vetter?.vet(text, file: file)
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let e as TOMLParseError {
            throw ConfigError(
                file: file, line: e.source.begin.line, key: nil,
                message: "TOML syntax: \(e.description) (column \(e.source.begin.column))")
        } catch {
            throw ConfigError(file: file, line: nil, key: nil, message: "TOML syntax: \(error)")
        }
        var top = TableReader(table: table, path: "", display: "", file: file, locator: KeyLocator(text: text))
        var config = DaemonConfig()

        if let state = try top.string("state_directory") {
            guard state.hasPrefix("/") else { throw top.error("state_directory", "expected an absolute path") }
            config.stateDirectory = state
        }
        if let window = try top.duration("window") {
            guard window >= .seconds(1) else { throw top.error("window", "expected at least 1s") }
            config.window = window
        }
        config.sampling = try sampling(&top, inheriting: SamplingDefaults())
        if var retention = try top.subtable("retention") {
            config.retention = try self.retention(&retention, inheriting: Retention())
        }
        if let memory = try top.size("symbol_memory") { config.symbolMemory = memory }

        var names: Set<String> = []
        for var block in try top.tableArray("target") {
            let target = try self.target(&block, defaults: config)
            guard names.insert(target.name).inserted else {
                throw block.error("name", "expected a name no other target has; \"\(target.name)\" is taken")
            }
            config.targets.append(target)
        }
        guard !config.targets.isEmpty else {
            // Nothing to point at: the file's first line stands for the whole file.
            var error = top.error("target", "expected at least one [[target]] block")
            error.line = error.line ?? 1
            throw error
        }
        if var http = try top.subtable("http") { config.http = try self.http(&http) }
        for var block in try top.tableArray("upload") { config.uploads.append(try upload(&block)) }
        try top.finish(known: topKeys)
        return config
    }

    /// Frequency, stack size, formats and the per-sample choices, where present, over `inheriting`.
    private static func sampling(_ t: inout TableReader, inheriting: SamplingDefaults) throws(ConfigError)
        -> SamplingDefaults
    {
        var s = inheriting
        if let frequency = try t.int("frequency", expected: "a positive integer (samples per second)") {
            guard frequency > 0, frequency <= 100_000 else {
                throw t.error("frequency", "expected a positive integer (samples per second) up to 100000")
            }
            s.frequency = frequency
        }
        if let stack = try t.size("stack_size") {
            guard stack % 8 == 0, stack < 65536 else {
                throw t.error("stack_size", "expected a multiple of 8 below 65536 bytes, got \(stack)")
            }
            s.stackSize = stack
        }
        let formatNames = WindowFormat.allCases.map(\.rawValue)
        let expectedFormats = "an array of formats out of \(formatNames.joined(separator: ", "))"
        if let formats = try t.stringArray("formats", expected: expectedFormats) {
            var parsed: [WindowFormat] = []
            for name in formats {
                guard let format = WindowFormat(rawValue: name) else {
                    throw t.error("formats", "expected \(expectedFormats), got \"\(name)\"")
                }
                if !parsed.contains(format) { parsed.append(format) }
            }
            guard !parsed.isEmpty else { throw t.error("formats", "expected at least one format") }
            s.formats = parsed
        }
        if let v = try t.bool("per_goroutine") { s.perGoroutine = v }
        if let v = try t.bool("kernel") { s.kernel = v }
        let choices = CallchainChoice.allCases.map(\.rawValue).joined(separator: ", ")
        if let v = try t.string("user_callchain", expected: "one of \(choices)") {
            guard let choice = CallchainChoice(rawValue: v) else {
                throw t.error("user_callchain", "expected one of \(choices), got \"\(v)\"")
            }
            s.userCallchain = choice
        }
        let modes = UnwindMode.allCases.map(\.rawValue).joined(separator: ", ")
        if let v = try t.string("unwind", expected: "one of \(modes)") {
            guard let mode = UnwindMode(rawValue: v) else {
                throw t.error("unwind", "expected one of \(modes), got \"\(v)\"")
            }
            s.unwind = mode
        }
        return s
    }

    private static func retention(_ t: inout TableReader, inheriting: Retention) throws(ConfigError) -> Retention {
        var r = inheriting
        if let age = try t.duration("max_age") { r.maxAge = age }
        if let bytes = try t.size("max_bytes") { r.maxBytes = bytes }
        try t.finish(known: retentionKeys)
        return r
    }

    private static func target(_ t: inout TableReader, defaults: DaemonConfig) throws(ConfigError) -> TargetConfig {
        guard let name = try t.string("name") else {
            throw t.error(nil, "expected a `name` in every [[target]] block")
        }
        guard TargetName.isValid(name) else {
            throw t.error(
                "name", "expected letters, digits, `.`, `_` or `-` (it names a folder), got \"\(name)\"")
        }
        var matches: [TargetMatch] = []
        if let pid = try t.int("pid", expected: "a process id") {
            guard pid > 0, pid <= Int(Int32.max) else { throw t.error("pid", "expected a process id, got \(pid)") }
            matches.append(.pid(Int32(pid)))
        }
        for key in ["exe", "comm"] {
            guard let glob = try t.string(key, expected: "a glob pattern") else { continue }
            guard !glob.isEmpty else { throw t.error(key, "expected a non-empty glob pattern") }
            matches.append(key == "exe" ? .exe(glob) : .comm(glob))
        }
        if let path = try t.string("cgroup", expected: "a cgroup v2 path such as \"system.slice/caddy.service\"") {
            guard !path.isEmpty, !path.split(separator: "/").contains("..") else {
                throw t.error("cgroup", "expected a cgroup v2 path such as \"system.slice/caddy.service\"")
            }
            matches.append(.cgroup(path))
        }
        if let unit = try t.string("unit", expected: "a systemd unit name such as \"caddy.service\"") {
            guard unit.contains("."), !unit.contains("/") else {
                throw t.error("unit", "expected a systemd unit name such as \"caddy.service\", got \"\(unit)\"")
            }
            matches.append(.unit(unit))
        }
        if let all = try t.bool("all") {
            guard all else { throw t.error("all", "expected `all = true` or no `all` key") }
            matches.append(.all)
        }
        let ways = "pid, exe, comm, cgroup, unit or all = true"
        guard let match = matches.first else {
            throw t.error(nil, "target \"\(name)\": expected one way to match processes: \(ways)")
        }
        guard matches.count == 1 else {
            throw t.error(
                matches[1].key,
                "target \"\(name)\": expected one way to match processes, got both "
                    + "\(matches[0].key) and \(matches[1].key)")
        }
        var target = TargetConfig(
            name: name, match: match, sampling: try sampling(&t, inheriting: defaults.sampling),
            retention: defaults.retention)
        if let perProcess = try t.bool("per_process") {
            if perProcess, case .pid = match {
                throw t.error("per_process", "a pid target has one process; per_process only applies to the others")
            }
            target.perProcess = perProcess
        }
        if var retention = try t.subtable("retention") {
            target.retention = try self.retention(&retention, inheriting: defaults.retention)
        }
        if let labels = try t.stringTable("labels") { target.labels = labels }
        try t.finish(known: targetKeys)
        return target
    }

    private static func http(_ t: inout TableReader) throws(ConfigError) -> HTTPConfig {
        guard let listen = try t.string("listen", expected: "an address such as \"127.0.0.1:6060\"") else {
            throw t.error("listen", "expected an address such as \"127.0.0.1:6060\" ([http] without it is empty)")
        }
        guard ListenAddress(listen) != nil else {
            throw t.error(
                "listen", "expected host:port such as \"127.0.0.1:6060\" or \"[::1]:6060\", got \"\(listen)\"")
        }
        var http = HTTPConfig(listen: listen)
        if let v = try t.bool("allow_remote") { http.allowRemote = v }
        if let v = try t.string("token_file", expected: "a path") { http.tokenFile = v }
        if let v = try t.int("max_profile_seconds", expected: "a positive number of seconds") {
            guard v > 0 else { throw t.error("max_profile_seconds", "expected a positive number of seconds") }
            http.maxProfileSeconds = v
        }
        if let address = ListenAddress(listen), !address.isLoopback, !http.allowRemote {
            throw t.error(
                "listen", "\"\(listen)\" is not a loopback address; set allow_remote = true to listen on it")
        }
        try t.finish(known: httpKeys)
        return http
    }

    private static func upload(_ t: inout TableReader) throws(ConfigError) -> UploadConfig {
        guard let url = try t.string("url", expected: "an http:// or https:// URL") else {
            throw t.error(nil, "expected a `url` in every [[upload]] block")
        }
        guard url.hasPrefix("http://") || url.hasPrefix("https://"), URL(string: url)?.host != nil else {
            throw t.error("url", "expected an http:// or https:// URL, got \"\(url)\"")
        }
        var upload = UploadConfig(url: url)
        if let format = try t.string("format", expected: "\"pprof\"") {
            guard format == "pprof" else { throw t.error("format", "expected \"pprof\", got \"\(format)\"") }
        }
        if let v = try t.string("application_name") { upload.applicationName = v }
        if let v = try t.stringTable("labels") { upload.labels = v }
        if let v = try t.string("basic_auth_user") { upload.basicAuthUser = v }
        if let v = try t.string("password_file", expected: "a path") { upload.passwordFile = v }
        if let v = try t.string("token_file", expected: "a path") { upload.tokenFile = v }
        if let v = try t.string("tenant_id") { upload.tenantID = v }
        if let v = try t.size("spool_max_bytes") { upload.spoolMaxBytes = v }
        if upload.passwordFile != nil, upload.basicAuthUser == nil {
            throw t.error("password_file", "expected basic_auth_user beside it")
        }
        if upload.tokenFile != nil, upload.basicAuthUser != nil {
            throw t.error("token_file", "expected either a bearer token_file or basic_auth_user, not both")
        }
        try t.finish(known: uploadKeys)
        return upload
    }
}

/// Target names become folder names under the state directory, so they are kept to a safe alphabet.
enum TargetName {
    static func isValid(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 64, name != ".", name != ".." else { return false }
        return name.unicodeScalars.allSatisfy { c in
            ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c)
                || "._-".unicodeScalars
                    .contains(c)
        }
    }
}

/// `host:port` of `[http] listen`: an IPv4 address, `[IPv6]`, or a host name.
struct ListenAddress {
    var host: String
    var port: Int

    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }

    var isLoopback: Bool { host == "localhost" || host == "::1" || host.hasPrefix("127.") }
}

extension ConfigParser {
    /// The first line (1-based) that opens a table header (`[` or `[[`) with neither a key, a quote nor `]` after
    /// it (`[[#`, `[=`, `[.`). toml++ 3 (inside TOMLKit) asserts on such a header, which aborts a debug build and
    /// is undefined behaviour in a release one; found by `scripts/fuzz.sh config`. Checked before TOMLKit sees the
    /// text. A line of a multi-line string starting so is refused too: no fpprof key holds such text.
    static func headerWithoutKey(_ text: String) -> Int? {
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            // A byte-order mark may open the file; toml++ skips it and then reads the header.
            var rest = line.drop { $0 == " " || $0 == "\t" || $0 == "\u{FEFF}" }
            guard rest.first == "[" else { continue }
            rest = rest.dropFirst()
            if rest.first == "[" { rest = rest.dropFirst() }
            guard let next = rest.first(where: { $0 != " " && $0 != "\t" }) else { return index + 1 }
            let isKey = next.isASCII && (next.isLetter || next.isNumber || next == "_" || next == "-")
            if !(isKey || next == "\"" || next == "'" || next == "]") { return index + 1 }
        }
        return nil
    }

    /// The line (1-based) of a `}` that follows `[` or `,` with nothing but blanks, line ends and comments between,
    /// outside strings and comments (`a = [}`, `a = [1, }`). toml++ 3 (inside TOMLKit) asserts on it in an array,
    /// which aborts even a release build (TOMLKit's C++ is built with assertions); found by `scripts/fuzz.sh
    /// config`. Such a brace is never valid TOML (nor is a trailing comma in an inline table), so nothing valid is
    /// refused. Strings of all four kinds are skipped as the TOML grammar delimits them.
    static func braceWhereAValueGoes(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        var i = 0
        var line = 1
        var afterOpenOrComma = false
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "\n"):
                line += 1
                i += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                i += 1
            case UInt8(ascii: "#"):
                while i < bytes.count, bytes[i] != UInt8(ascii: "\n") { i += 1 }
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                skipString(bytes, &i, &line)
                afterOpenOrComma = false
            case UInt8(ascii: "}"):
                if afterOpenOrComma { return line }
                i += 1
            case UInt8(ascii: "["), UInt8(ascii: ","):
                afterOpenOrComma = true
                i += 1
            default:
                afterOpenOrComma = false
                i += 1
            }
        }
        return nil
    }

    /// Moves `i` past the string that starts there: basic (`"`, with backslash escapes) or literal (`'`), each on
    /// one line or multi-line (three quotes, closed by three to five). An unclosed one ends at its line's end (or
    /// at the end of the text); the parser reports it.
    private static func skipString(_ bytes: [UInt8], _ i: inout Int, _ line: inout Int) {
        let quote = bytes[i]
        let multiLine = i + 2 < bytes.count && bytes[i + 1] == quote && bytes[i + 2] == quote
        i += multiLine ? 3 : 1
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\\"), quote == UInt8(ascii: "\"") {
                if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\n") { line += 1 }
                i += 2
                continue
            }
            if c == UInt8(ascii: "\n") {
                if !multiLine { return }
                line += 1
            }
            if c == quote {
                if !multiLine {
                    i += 1
                    return
                }
                var run = 0
                while i < bytes.count, bytes[i] == quote, run < 5 {
                    run += 1
                    i += 1
                }
                if run >= 3 { return }
                continue
            }
            i += 1
        }
    }
}
