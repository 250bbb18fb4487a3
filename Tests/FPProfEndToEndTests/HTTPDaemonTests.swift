import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The daemon's HTTP side and uploads, on the real binary with real configs: `go tool pprof`, curl, promtool and
/// headless Chromium against it on a loopback port, and a Pyroscope-style receiver the test runs itself.
@Suite(.serialized) struct HTTPDaemonTests {
    /// A daemon with `[http]` on a free loopback port, and the fixture it profiles.
    final class Setup {
        let folder: String
        let port: Int
        let daemon: DaemonTests.RunningDaemon
        let fixtures: [Process]

        init(fixture: Fixture, extra: String = "", formats: String = "[\"pprof\", \"folded\", \"svg\"]") throws {
            folder = try DaemonTests.makeFolder()
            port = try HTTPDaemonTests.freePort()
            let path = try FixtureBuilder.path(for: fixture)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = ["0"]
            try process.run()
            fixtures = [process]
            try DaemonTests.write(
                """
                state_directory = "\(folder)/state"
                window = "2s"
                formats = \(formats)
                [[target]]
                name = "\(fixture.rawValue)"
                comm = "\(fixture.rawValue)"
                \(extra.replacingOccurrences(of: "PORT", with: "\(port)"))
                """, to: folder + "/fpprof.toml")
            daemon = try DaemonTests.RunningDaemon(config: folder + "/fpprof.toml", folder: folder)
        }

        var base: String { "http://127.0.0.1:\(port)" }

        /// `curl` one path: status, content type and body.
        func get(_ path: String, headers: [String] = []) throws -> (status: Int, type: String, body: String) {
            let bodyFile = folder + "/body-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: bodyFile) }
            let r = try FixtureCommand.run(
                "/usr/bin/curl",
                ["-s", "-o", bodyFile, "-w", "%{http_code} %{content_type}", "--max-time", "60"]
                    + headers.flatMap { ["-H", $0] } + [base + path])
            let parts = r.stdout.split(separator: " ", maxSplits: 1).map(String.init)
            let body = (try? String(contentsOfFile: bodyFile, encoding: .utf8)) ?? ""
            return (Int(parts.first ?? "") ?? -1, parts.count > 1 ? parts[1] : "", body)
        }

        func finish() {
            for p in fixtures {
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
            }
            _ = daemon.stop(SIGTERM)
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    /// A port nobody listens on now: bound to port 0, read back, closed.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, length) == 0 && getsockname(fd, sa, &length) == 0
            }
        }
        guard bound else { throw FixtureError(command: ["bind"], status: nil, message: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// `go tool pprof -top` of a URL or file: flat share of each function, by samples.
    static func flatShares(_ source: String, extra: [String] = [], folder: String) throws -> [String: Double] {
        let r = try FixtureCommand.run(
            try FixtureBuilder.goTool(), ["tool", "pprof", "-sample_index=samples", "-top"] + extra + [source],
            environment: ["PPROF_TMPDIR": folder, "HOME": folder], timeout: 120)
        guard r.status == 0 else {
            throw FixtureError(command: ["go tool pprof", source], status: r.status, message: r.stderr)
        }
        var shares: [String: Double] = [:]
        for line in r.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1].hasSuffix("%"), let share = Double(fields[1].dropLast()) else {
                continue
            }
            shares[String(fields[5]), default: 0] += share / 100
        }
        return shares
    }

    @Test(.enabled(if: FPProf.isRoot, "the daemon samples other processes: needs root or CAP_PERFMON"))
    func goToolPprofGetsTheFixtureSplitAndErrorsArePlainText() throws {
        let setup = try Setup(
            fixture: .shares,
            extra: "frequency = 999\n[http]\nlisten = \"127.0.0.1:PORT\"\nmax_profile_seconds = 10")
        defer { setup.finish() }
        #expect(setup.daemon.waitFor("http listening"), "\(setup.daemon.text)")
        #expect(setup.daemon.waitFor("process attached"), "\(setup.daemon.text)")

        let shares = try Self.flatShares(
            setup.base + "/debug/pprof/profile?target=shares", extra: ["-seconds", "2"], folder: setup.folder)
        for (leaf, expected) in [("leaf_a", 0.5), ("leaf_b", 0.3), ("leaf_c", 0.2)] {
            let share = shares[leaf] ?? 0
            #expect(abs(share - expected) <= 0.05, "\(leaf): \(share) of \(shares)")
        }

        let unknown = try setup.get("/debug/pprof/profile?target=nope&seconds=1")
        #expect(unknown.status == 404)
        #expect(unknown.type.hasPrefix("text/plain"))
        #expect(unknown.body.contains("no target named \"nope\""), "\(unknown.body)")
        let abc = try setup.get("/debug/pprof/profile?seconds=abc")
        #expect(abc.status == 400)
        #expect(abc.body.contains("bad seconds"), "\(abc.body)")
        let long = try setup.get("/debug/pprof/profile?target=shares&seconds=11")
        #expect(long.status == 400)
        #expect(long.body.contains("exceeds the server's bound of 10s"), "\(long.body)")
        let both = try setup.get("/debug/pprof/profile?target=shares&pid=1")
        #expect(both.status == 400)

        let index = try setup.get("/debug/pprof/")
        #expect(index.status == 200 && index.type.hasPrefix("text/html") && index.body.contains("profile?seconds=30"))
        let health = try setup.get("/healthz")
        #expect(health.status == 200 && health.body.hasPrefix("ok: sampling 1 target"), "\(health)")

        #expect(setup.daemon.waitFor("window written"), "\(setup.daemon.text)")
        let latest = try setup.get("/targets/shares/latest.folded")
        #expect(latest.status == 200 && latest.type.hasPrefix("text/plain") && latest.body.contains("leaf_a"))
        let svg = try setup.get("/targets/shares/latest.svg")
        #expect(svg.status == 200 && svg.type == "image/svg+xml" && svg.body.contains("<svg"))
        let pprof = setup.folder + "/latest.pb.gz"
        let fetched = try FixtureCommand.run(
            "/usr/bin/curl", ["-s", "-D", "-", "-o", pprof, setup.base + "/targets/shares/latest.pb.gz"])
        #expect(fetched.stdout.lowercased().contains("content-type: application/octet-stream"), "\(fetched.stdout)")
        #expect(try Self.flatShares(pprof, folder: setup.folder)["leaf_a"] != nil)
        #expect(try setup.get("/targets/nope/latest.svg").status == 404)
        #expect(try setup.get("/targets/shares/files/..%2F..%2Ffpprof.toml").status == 404)
        #expect(try setup.get("/no/such/page").status == 404)
    }

    @Test(.enabled(if: FPProf.isRoot, "the daemon samples other processes: needs root or CAP_PERFMON"))
    func remoteListenIsRefusedAndTheTokenGuardsAllButHealthz() throws {
        let folder = try DaemonTests.makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try DaemonTests.write(
            """
            state_directory = "\(folder)/state"
            [[target]]
            name = "one"
            comm = "nothing-by-this"
            [http]
            listen = "0.0.0.0:6060"
            """, to: folder + "/remote.toml")
        let refused = try FPProf.run(["daemon", "--config", folder + "/remote.toml"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("allow_remote"), "\(refused.stderr)")

        let tokenFolder = try DaemonTests.makeFolder()
        try "s3cret-token\n".write(toFile: tokenFolder + "/token", atomically: true, encoding: .utf8)
        let setup = try Setup(
            fixture: .shares,
            extra: "[http]\nlisten = \"127.0.0.1:PORT\"\ntoken_file = \"\(tokenFolder)/token\"")
        defer {
            setup.finish()
            try? FileManager.default.removeItem(atPath: tokenFolder)
        }
        #expect(setup.daemon.waitFor("http listening"), "\(setup.daemon.text)")
        for path in ["/", "/metrics", "/debug/pprof/", "/debug/pprof/profile?seconds=1", "/targets/shares/latest.svg"] {
            let none = try setup.get(path)
            #expect(none.status == 401, "\(path) without a token: \(none.status)")
            let wrong = try setup.get(path, headers: ["Authorization: Bearer s3cret-tokem"])
            #expect(wrong.status == 401, "\(path) with a wrong token: \(wrong.status)")
        }
        #expect(try setup.get("/metrics", headers: ["Authorization: Bearer s3cret-token"]).status == 200)
        let health = try setup.get("/healthz")
        #expect(health.status == 200, "\(health)")
    }

    /// promtool on a real scrape; counters rise across windows; the unwind-status counters equal the markers of
    /// the folded files written (fploop: half its samples end in `[fp-loop]`).
    @Test(
        .enabled(if: FPProf.isRoot, "the daemon samples other processes: needs root or CAP_PERFMON"),
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool"),
            "needs promtool (Debian's prometheus package)"))
    func metricsPassPromtoolRiseAndMatchTheFoldedMarkers() throws {
        let setup = try Setup(
            fixture: .fploop, extra: "[http]\nlisten = \"127.0.0.1:PORT\"", formats: "[\"pprof\", \"folded\"]")
        defer { setup.finish() }
        #expect(setup.daemon.waitFor("http listening"), "\(setup.daemon.text)")
        #expect(setup.daemon.waitFor("window written"), "\(setup.daemon.text)")
        let first = try Self.scrapeConsistent(setup)
        let deadline = Date().addingTimeInterval(20)
        while setup.daemon.windowSamples(target: "fploop").count < 3 && Date() < deadline { usleep(200_000) }
        let second = try Self.scrapeConsistent(setup)
        #expect(
            second.value("fpprof_windows_written_total", ["target": "fploop"])
                > first.value("fpprof_windows_written_total", ["target": "fploop"]))
        #expect(
            second.value("fpprof_samples_total", ["target": "fploop"])
                > first.value("fpprof_samples_total", ["target": "fploop"]))
        #expect(second.value("fpprof_http_requests_total", ["endpoint": "/metrics", "code": "200"]) >= 1)
        #expect(second.value("process_cpu_seconds_total", [:]) > 0)
        #expect(second.value("process_resident_memory_bytes", [:]) > 1_000_000)

        let file = setup.folder + "/metrics.txt"
        try second.text.write(toFile: file, atomically: true, encoding: .utf8)
        let check = try FixtureCommand.run("/bin/sh", ["-c", "/usr/bin/promtool check metrics < '\(file)'"])
        #expect(check.status == 0, "promtool: \(check.stdout) \(check.stderr)")
        // The markers: every folded line's count by the marker frame it carries (none: complete).
        let folder = setup.folder + "/state/fploop"
        var markers: [String: Double] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasSuffix(".folded") {
            for line in try String(contentsOfFile: folder + "/" + name, encoding: .utf8).split(separator: "\n") {
                guard let space = line.lastIndex(of: " "), let count = Double(line[line.index(after: space)...])
                else { continue }
                let frames = line[..<space].split(separator: ";").map(String.init)
                let status =
                    [
                        "[fp-loop]": "fp_loop", "[fp-cycle]": "fp_cycle", "[truncated]": "truncated",
                        "[bad-frame]": "bad_frame",
                    ].first { frames.contains($0.key) }?.value ?? "complete"
                markers[status, default: 0] += count
            }
        }
        #expect((markers["fp_loop"] ?? 0) > 0, "\(markers)")
        for status in ["complete", "fp_loop", "fp_cycle", "truncated", "bad_frame"] {
            #expect(
                second.value("fpprof_unwind_samples_total", ["target": "fploop", "status": status])
                    == markers[status] ?? 0, "\(status): \(markers)")
        }
    }

    /// A parsed scrape.
    struct Scrape {
        var text: String
        func value(_ name: String, _ labels: [String: String]) -> Double {
            for line in text.split(separator: "\n") where line.hasPrefix(name) && !line.hasPrefix("#") {
                let head = line.split(separator: " ").dropLast().joined(separator: " ")
                guard head == name || head.hasPrefix(name + "{") else { continue }
                if labels.allSatisfy({ head.contains("\($0.key)=\"\($0.value)\"") }) {
                    return Double(line.split(separator: " ").last ?? "") ?? .nan
                }
            }
            return 0
        }
    }

    /// A scrape taken when no window is half-counted: as many folded files as windows written, and the unwind
    /// counters adding up to the samples.
    static func scrapeConsistent(_ setup: Setup) throws -> Scrape {
        let folder = setup.folder + "/state/fploop"
        for _ in 0..<40 {
            let r = try setup.get("/metrics")
            let scrape = Scrape(text: r.body)
            let files =
                (try? FileManager.default.contentsOfDirectory(atPath: folder))?.filter {
                    $0.hasSuffix(".folded")
                }.count ?? -1
            let unwind = ["complete", "fp_loop", "fp_cycle", "truncated", "bad_frame"].reduce(0.0) {
                $0 + scrape.value("fpprof_unwind_samples_total", ["target": "fploop", "status": $1])
            }
            let written = scrape.value("fpprof_windows_written_total", ["target": "fploop"])
            if r.status == 200, Double(files) == written,
                unwind == scrape.value("fpprof_samples_total", ["target": "fploop"])
            {
                return scrape
            }
            usleep(150_000)
        }
        throw FixtureError(command: ["curl", "/metrics"], status: nil, message: "no consistent scrape in 6 s")
    }
}
