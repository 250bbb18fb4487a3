import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The uploads to a Pyroscope-style receiver run by the test, and the status page in headless Chromium.
@Suite(.serialized) struct HTTPPushAndPageTests {
    /// A loopback receiver for Pyroscope's HTTP ingest API (`POST /ingest?name=&from=&until=&format=&sampleRate=
    /// &spyName=`, the pprof as the multipart part `profile`): each request becomes `<n>.query` and `<n>.pb.gz` in
    /// `folder`; it answers 200 (or 400 for a request missing what the API requires).
    static let receiverScript = #"""
        import cgi, http.server, os, sys, urllib.parse
        folder, port = sys.argv[1], int(sys.argv[2])
        class Ingest(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                ctype, params = cgi.parse_header(self.headers.get("Content-Type", ""))
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if url.path != "/ingest" or ctype != "multipart/form-data" or "name" not in query:
                    self.send_response(400); self.end_headers(); return
                params["boundary"] = params["boundary"].encode()
                import io
                form = cgi.parse_multipart(io.BytesIO(body), params)
                n = len([f for f in os.listdir(folder) if f.endswith(".query")])
                with open(os.path.join(folder, "%04d.pb.gz" % n), "wb") as f: f.write(form["profile"][0])
                with open(os.path.join(folder, "%04d.query" % n), "w") as f: f.write(url.query)
                self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
            def log_message(self, *args): pass
        http.server.HTTPServer(("127.0.0.1", port), Ingest).serve_forever()
        """#

    final class Receiver {
        let process = Process()
        init(folder: String, port: Int, script: String) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = [script, folder, String(port)]
            process.standardError = FileHandle.nullDevice
            try process.run()
        }
        func stop() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    static func received(_ folder: String) -> [(query: [String: String], profile: String)] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter {
            $0.hasSuffix(".query")
        }.sorted()
        return names.map { name in
            let text = (try? String(contentsOfFile: folder + "/" + name, encoding: .utf8)) ?? ""
            var query: [String: String] = [:]
            for pair in text.split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
                if kv.count == 2 { query[kv[0]] = kv[1] }
            }
            return (query, folder + "/" + name.replacingOccurrences(of: ".query", with: ".pb.gz"))
        }
    }

    /// Receiver down at start: windows spool (the bound drops the oldest, counted), then arrive in order, one
    /// request per window, each body the very pprof file of its window.
    @Test(.enabled(if: FPProf.isRoot, "the daemon samples other processes: needs root or CAP_PERFMON"))
    func windowsArriveInOrderAfterTheReceiverComesBackAndTheSpoolDropsOldestFirst() throws {
        let receiverPort = try HTTPDaemonTests.freePort()
        let setup = try HTTPDaemonTests.Setup(
            fixture: .shares,
            extra: """
                labels = { env = "test" }
                [http]
                listen = "127.0.0.1:PORT"
                [[upload]]
                url = "http://127.0.0.1:\(receiverPort)"
                application_name = "fixture"
                labels = { host = "h1" }
                tenant_id = "team-a"
                spool_max_bytes = "4KiB"
                """, formats: "[\"pprof\"]")
        defer { setup.finish() }
        let inbox = setup.folder + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let script = setup.folder + "/receiver.py"
        try Self.receiverScript.write(toFile: script, atomically: true, encoding: .utf8)
        #expect(setup.daemon.waitFor("http listening"), "\(setup.daemon.text)")
        // Down for five windows: more than 4 KiB of them, so the oldest must go.
        let deadline = Date().addingTimeInterval(30)
        while setup.daemon.windowSamples(target: "shares").count < 5 && Date() < deadline { usleep(200_000) }
        #expect(setup.daemon.text.contains("upload failed"), "\(setup.daemon.text)")
        let receiver = try Receiver(folder: inbox, port: receiverPort, script: script)
        defer { receiver.stop() }
        var arrivals = Self.received(inbox)
        let until = Date().addingTimeInterval(45)
        while Date() < until {
            arrivals = Self.received(inbox)
            if arrivals.count >= 3 { break }
            usleep(300_000)
        }
        let metrics = try setup.get("/metrics")
        let droppedLine = metrics.body.split(separator: "\n").first {
            $0.hasPrefix("fpprof_upload_spool_dropped_total{")
        }
        let dropped = droppedLine.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
        #expect(dropped >= 1, "\(metrics.body)")
        #expect(arrivals.count >= 3, "\(setup.daemon.text)")

        let windows = (try FileManager.default.contentsOfDirectory(atPath: setup.folder + "/state/shares"))
            .filter { $0.hasSuffix(".pb.gz") }.sorted()
        let froms = arrivals.compactMap { Int($0.query["from"] ?? "") }
        #expect(froms == froms.sorted() && Set(froms).count == froms.count, "in order, once each: \(froms)")
        // The oldest windows were dropped: the first arrival is not the first window.
        let firstWindow = windows.first.map { String($0.prefix(16)) } ?? ""
        #expect(froms.first.map { Self.basic($0) } != firstWindow, "\(froms) vs \(windows)")
        for arrival in arrivals {
            let q = arrival.query
            #expect(q["name"] == "fixture.cpu{env=test,host=h1,service_name=shares}", "\(q)")
            #expect(q["format"] == "pprof" && q["spyName"] == "fpprof" && q["sampleRate"] == "99", "\(q)")
            guard let from = Int(q["from"] ?? ""), let to = Int(q["until"] ?? "") else {
                Issue.record("from/until: \(q)")
                continue
            }
            // Windows of 2 s; the first one runs from the daemon's start, a second or so longer.
            #expect(to > from && to - from <= 5, "\(q)")
            // The body is byte for byte the window file of that start.
            let file = setup.folder + "/state/shares/" + Self.basic(from) + ".pb.gz"
            #expect(FileManager.default.contents(atPath: file) == FileManager.default.contents(atPath: arrival.profile))
        }
    }

    static func basic(_ unix: Int) -> String {
        var time = time_t(unix)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "%04d%02d%02dT%02d%02d%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// Headless Chromium loads `/`: the page lists the target, and its window's link opens the SVG flamegraph with
    /// the fixture's frames.
    @Test(
        .enabled(if: FPProf.isRoot, "the daemon samples other processes: needs root or CAP_PERFMON"),
        .enabled(if: chromium != nil, "needs Debian's chromium"))
    func headlessChromiumShowsTheTargetsAndAWindowOpensItsFlamegraph() throws {
        let setup = try HTTPDaemonTests.Setup(fixture: .shares, extra: "[http]\nlisten = \"127.0.0.1:PORT\"")
        defer { setup.finish() }
        #expect(setup.daemon.waitFor("http listening"), "\(setup.daemon.text)")
        #expect(setup.daemon.waitFor("window written"), "\(setup.daemon.text)")
        let browser = try #require(Self.chromium)
        let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(setup.folder)/chromium"]
        let dom = try FixtureCommand.run(browser, flags + ["--dump-dom", setup.base + "/"], timeout: 90)
        #expect(dom.stdout.contains("<h2>shares</h2>"), "\(dom.stdout.prefix(2000)) \(dom.stderr.suffix(500))")
        #expect(dom.stdout.contains("comm = &quot;shares&quot;") || dom.stdout.contains("comm = \"shares\""))
        let link = dom.stdout.components(separatedBy: "href=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
            .first { $0.hasPrefix("/targets/shares/files/") && $0.hasSuffix(".svg") }
        let svgPath = try #require(link.map(String.init), "no flamegraph link in \(dom.stdout.prefix(3000))")
        let svg = try FixtureCommand.run(browser, flags + ["--dump-dom", setup.base + svgPath], timeout: 90)
        for frame in ["leaf_a", "path_b", "leaf_c"] {
            #expect(svg.stdout.contains(frame), "\(frame) in \(svg.stdout.prefix(1000))")
        }
        if let shot = ProcessInfo.processInfo.environment["FPPROF_SCREENSHOT"] {
            _ = try FixtureCommand.run(
                browser, flags + ["--screenshot=\(shot)", "--window-size=1366,900", setup.base + "/"], timeout: 90)
        }
    }
}
