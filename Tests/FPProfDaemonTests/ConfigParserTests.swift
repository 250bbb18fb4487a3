import Foundation
import Testing

@testable import FPProfDaemon

@Suite struct ConfigParserTests {
    static var configFolder: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config")
    }

    static var examples: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: configFolder.path)) ?? []
        return names.filter { $0.hasSuffix(".toml") }.sorted()
    }

    /// `scripts/fuzz.sh config` found TOMLKit's toml++ asserting (abort) on a table header with no key: refused
    /// first, naming the line.
    @Test(arguments: ["[[#", "[=", "[#", "[[ #", "[.", "[[,", "[[# fpproA daemon configuration"])
    func tableHeaderWithoutAKeyIsASyntaxError(header: String) {
        #expect(throws: ConfigError.self) { try ConfigParser.parse("[daemon]\n\n" + header + "\n", file: "f.toml") }
        #expect(ConfigParser.headerWithoutKey("[daemon]\n\n" + header + "\n") == 3)
        #expect(ConfigParser.headerWithoutKey("[[target]]\n[ target.retention ]\n['q']\nx = [\n [1], ]\n") == nil)
    }

    /// The same after a byte-order mark (as the fuzzer found it: BOM, `[`, a line end), and a valid marked file.
    @Test func headerWithoutAKeyAfterAByteOrderMark() throws {
        let text = "\u{FEFF}[\n1 \u{0237}\u{DD}\u{8C}ti "
        #expect(ConfigParser.headerWithoutKey(text) == 1)
        #expect(throws: ConfigError.self) { try ConfigParser.parse(text, file: "f.toml") }
        #expect(ConfigParser.headerWithoutKey("\u{FEFF}[daemon]\nstate_directory = \"/s\"\n") == nil)
    }

    /// `scripts/fuzz.sh config` found toml++ asserting (abort, in release builds too) on a `}` where an array
    /// expects a value: refused first, naming the line of the brace.
    @Test(arguments: [
        ("formats = [}", 1), ("a = [1, }", 1), ("a = [ # note\n}", 2), ("a = [[}]]", 1), ("x = 1\na = [\n\n, }\n", 4),
        ("# fpprof daemon configun --check-cig /et\nformats = [}\u{0}\"pproF\",,# fpprogedddddddt95KiB\"at", 2),
    ])
    func braceWhereAnArrayValueGoesIsASyntaxError(text: String, line: Int) {
        #expect(ConfigParser.braceWhereAValueGoes(text) == line)
        #expect(
            throws: ConfigError(
                file: "f.toml", line: line, key: nil,
                message: "TOML syntax: `}` where an array expects a value or `]`")
        ) {
            try ConfigParser.parse(text, file: "f.toml")
        }
    }

    /// Braces in strings of every kind, in comments, and closing inline tables are not that.
    @Test func bracesInStringsCommentsAndTablesAreLeftAlone() {
        for text in [
            "a = \"[}\"", "a = '[ }'", "a = \"\"\"\n[\n}\n\"\"\"", "a = '\'\'[\n}\'\'\'", "# [ }", "a = \"\\\"[}\"",
            "[t]\nb = {c = 1}", "a = [1, 2]\nb = {c = [1], d = {}}", "a = \"\"\"x\"\"\"\"\"\nb = [1]",
        ] {
            #expect(ConfigParser.braceWhereAValueGoes(text) == nil, "\(text)")
        }
        for name in Self.examples {
            let text = (try? String(contentsOf: Self.configFolder.appendingPathComponent(name), encoding: .utf8)) ?? ""
            #expect(!text.isEmpty && ConfigParser.braceWhereAValueGoes(text) == nil, "\(name)")
        }
    }

    @Test func everyExampleInConfigIsValid() throws {
        #expect(!Self.examples.isEmpty)
        for name in Self.examples {
            let path = Self.configFolder.appendingPathComponent(name).path
            #expect(throws: Never.self, "\(name)") { try ConfigParser.load(path: path) }
        }
    }

    @Test func theMainExampleHasTheDocumentedDefaults() throws {
        let config = try ConfigParser.load(path: Self.configFolder.appendingPathComponent("fpprof.toml").path)
        #expect(config.stateDirectory == "/var/lib/fpprof")
        #expect(config.window == .seconds(60))
        #expect(config.sampling.frequency == 99)
        #expect(config.sampling.stackSize == 16384)
        #expect(config.sampling.formats == [.pprof])
        #expect(config.retention == Retention(maxAge: .seconds(7 * 86400), maxBytes: 1 << 30))
        #expect(config.symbolMemory == 64 << 20)
        #expect(config.targets.map(\.name) == ["host", "postgres", "caddy"])
        #expect(config.targets[0].match == .all)
        #expect(config.targets[0].sampling.frequency == 49)
        #expect(config.targets[1].match == .comm("postgres"))
        #expect(config.targets[1].sampling.formats == [.pprof, .folded])
        #expect(config.targets[1].retention == Retention(maxAge: .seconds(2 * 86400), maxBytes: 256 << 20))
        #expect(config.targets[2].match == .exe("*/caddy"))
        #expect(config.targets[2].labels == ["env": "prod"])
        #expect(config.targets[2].retention == config.retention)
    }

    @Test func anEmptyTargetListIsTheOnlyRequiredPart() throws {
        let config = try ConfigParser.parse("[[target]]\nname = \"a\"\npid = 1\n", file: "t.toml")
        #expect(
            config
                == {
                    var c = DaemonConfig()
                    c.targets = [TargetConfig(name: "a", match: .pid(1))]
                    return c
                }())
    }

    @Test func httpAndUploadBlocksAreParsed() throws {
        let text = """
            [[target]]
            name = "a"
            unit = "caddy.service"
            [http]
            listen = "127.0.0.1:6060"
            token_file = "/etc/fpprof/token"
            max_profile_seconds = 60
            [[upload]]
            url = "http://pyroscope:4040"
            labels = { service_name = "web" }
            basic_auth_user = "u"
            password_file = "/etc/fpprof/p"
            tenant_id = "t"
            spool_max_bytes = "64MiB"
            """
        let config = try ConfigParser.parse(text, file: "t.toml")
        #expect(
            config.http == HTTPConfig(listen: "127.0.0.1:6060", tokenFile: "/etc/fpprof/token", maxProfileSeconds: 60))
        #expect(config.uploads.count == 1)
        #expect(config.uploads[0].labels == ["service_name": "web"])
        #expect(config.uploads[0].spoolMaxBytes == 64 << 20)
        #expect(config.uploads[0].tenantID == "t")
    }

    /// Each broken config, the line and key its error must name, and a word of what was expected.
    static let broken: [(String, Int, String?, String)] = [
        ("window = \"soon\"\n[[target]]\nname = \"a\"\nall = true", 1, "window", "duration"),
        ("window = 90\n[[target]]\nname = \"a\"\nall = true", 1, "window", "duration"),
        ("window = \"0s\"\n[[target]]\nname = \"a\"\nall = true", 1, "window", "at least 1s"),
        ("frequency = \"fast\"\n[[target]]\nname = \"a\"\nall = true", 1, "frequency", "positive integer"),
        ("# c\nfrequncy = 99\n[[target]]\nname = \"a\"\nall = true", 2, "frequncy", "unknown key"),
        (
            "[[target]]\nname = \"a\"\nall = true\n[[target]]\nname = \"b\"\ncomm = \"x\"\nfrequency = -3", 7,
            "target.frequency", "positive integer"
        ),
        (
            "[[target]]\nname = \"a\"\nall = true\n\n[[target]]\nname = \"b\"\ncomm = \"x\"\nexe = \"/bin/x\"", 7,
            "target.comm", "one way"
        ),
        ("[[target]]\nname = \"a\"\nall = true\n[[target]]\nname = \"b\"\n", 4, "target", "one way to match"),
        ("[[target]]\nname = \"a\"\nall = true\n[[target]]\nname = \"a\"\npid = 3", 5, "target.name", "taken"),
        ("[[target]]\nname = \"a/b\"\nall = true", 2, "target.name", "folder"),
        ("[[target]]\nname = \"a\"\nall = true\nformats = [\"pprof\", \"png\"]", 4, "target.formats", "png"),
        ("[[target]]\nname = \"a\"\nall = true\nstack_size = 100", 4, "target.stack_size", "multiple of 8"),
        (
            "[[target]]\nname = \"a\"\nall = true\n[target.retention]\nmax_bytes = \"lots\"", 5,
            "target.retention.max_bytes", "size"
        ),
        (
            "[[target]]\nname = \"a\"\nall = true\n[target.retention]\nmax_agee = \"1d\"", 5,
            "target.retention.max_agee", "unknown key"
        ),
        ("[retention]\nmax_age = \"7x\"\n[[target]]\nname = \"a\"\nall = true", 2, "retention.max_age", "duration"),
        ("[[target]]\nname = \"a\"\nall = false", 3, "target.all", "all = true"),
        ("[[target]]\nname = \"a\"\ncomm = \"x\"\nuser_callchain = \"maybe\"", 4, "target.user_callchain", "auto"),
        ("[[target]]\nname = \"a\"\nall = true\nper_process = \"yes\"", 4, "target.per_process", "true or false"),
        ("state_directory = \"relative\"\n[[target]]\nname = \"a\"\nall = true", 1, "state_directory", "absolute"),
        ("[[target]]\nname = \"a\"\nall = true\n[http]\nlisten = \"0.0.0.0:6060\"", 5, "http.listen", "allow_remote"),
        ("[[target]]\nname = \"a\"\nall = true\n[http]\nlisten = \"6060\"", 5, "http.listen", "host:port"),
        ("[[target]]\nname = \"a\"\nall = true\n[[upload]]\nurl = \"ftp://x\"", 5, "upload.url", "http://"),
        (
            "[[target]]\nname = \"a\"\nall = true\n[[upload]]\nurl = \"http://x\"\nformat = \"svg\"", 6,
            "upload.format", "pprof"
        ),
        (
            "[[target]]\nname = \"a\"\nall = true\n[http]\nlisten = \"127.0.0.1:1\"\nport = 3", 6, "http.port",
            "unknown key"
        ),
        ("[[target]]\nname = \"a\"\npid = 1\nper_process = true", 4, "target.per_process", "pid target"),
        ("window = \"1m\"", 1, "target", "at least one"),
        // Syntax errors: the line TOMLKit reports, no key.
        ("window = \"1m\n[[target]]", 1, nil, "TOML syntax"),
        ("[[target]]\nname = \"a\"\nall = true\nfrequency = = 3", 4, nil, "TOML syntax"),
    ]

    @Test(arguments: broken.indices) func brokenConfigsNameTheLineAndKey(_ index: Int) {
        let (text, line, key, expected) = Self.broken[index]
        do {
            _ = try ConfigParser.parse(text, file: "/etc/fpprof/broken.toml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.file == "/etc/fpprof/broken.toml")
            #expect(error.line == line, "\(error)")
            #expect(error.key == key, "\(error)")
            #expect(error.message.contains(expected), "\(error)")
            #expect(error.description.hasPrefix("/etc/fpprof/broken.toml:\(line): "))
        }
    }

    @Test func aMissingFileIsAnErrorNamingIt() {
        #expect(throws: ConfigError.self) { try ConfigParser.load(path: "/nonexistent/fpprof.toml") }
    }
}
