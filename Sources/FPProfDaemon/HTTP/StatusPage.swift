import FPProfCore
import FPProfOutput
import Foundation

/// The page at `/`: each target with its processes, samples and unwind health in its last window, and its recent
/// windows, each linking its flamegraph (the window's SVG, when the target writes `svg`) or its other files.
/// Self-contained: one HTML document with its style inline, no script, font or image from anywhere.
struct StatusPage {
    let config: DaemonConfig
    let counters: DaemonCounters

    func html() -> String {
        let phase: String
        switch counters.activity.phase {
        case .starting: phase = "starting"
        case .sampling(let n): phase = "sampling \(n) target(s)"
        case .stopping: phase = "stopping"
        }
        let snapshot = counters.snapshot
        let sections = config.targets.map { section($0, totals: snapshot[$0.name]) }.joined(separator: "\n")
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>fpprof on \(XMLText.escape(Self.hostName))</title>
            <style>
            body { font: 15px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 72em; padding: 0 1em;
                   color: #222; background: #fafafa; }
            h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { font-size: 1.2em; margin: 1.6em 0 .3em; }
            .sub { color: #666; } table { border-collapse: collapse; width: 100%; background: #fff; }
            th, td { text-align: left; padding: .25em .6em; border-bottom: 1px solid #e4e4e4; }
            th { background: #f0f0f0; font-weight: 600; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
            .ok { color: #176b2c; } .warn { color: #9a5b00; } code { font-size: .95em; }
            nav a { margin-right: 1em; }
            </style></head>
            <body>
            <h1>fpprof on \(XMLText.escape(Self.hostName))</h1>
            <p class="sub">\(XMLText.escape(phase)) · windows of \(Self.seconds(config.window)) ·
            state in <code>\(XMLText.escape(config.stateDirectory))</code></p>
            <nav><a href="/debug/pprof/">/debug/pprof/</a><a href="/metrics">/metrics</a><a href="/healthz">/healthz</a></nav>
            \(sections.isEmpty ? "<p>No targets are configured.</p>" : sections)
            </body></html>

            """
    }

    private func section(_ target: TargetConfig, totals: DaemonCounters.Target?) -> String {
        let recent = counters.activity.recentWindows(of: target.name)
        var out = "<section class=\"target\" id=\"target-\(XMLText.escape(target.name))\">\n"
        out += "<h2>\(XMLText.escape(target.name))</h2>\n"
        out += "<p class=\"sub\"><code>\(XMLText.escape(target.match.summary))</code> · formats "
        out += "\(XMLText.escape(WindowFiles.formats(target))) · \(target.sampling.frequency) Hz"
        if let totals { out += " · \(totals.windowsWritten) window(s), \(totals.samples) samples in all" }
        out += "</p>\n"
        guard let last = recent.first else {
            return out + "<p>No window written yet.</p>\n</section>"
        }
        let pids = last.processes.prefix(20).map(String.init).joined(separator: ", ")
        let more = last.processes.count > 20 ? " and \(last.processes.count - 20) more" : ""
        out += "<p>Last window: <b>\(last.processes.count)</b> process(es) (\(pids)\(more)), "
        out += "<b>\(last.samples)</b> samples, \(last.lostRecords) lost records; unwind: \(Self.health(last))</p>\n"
        out += "<table><thead><tr><th>Window (UTC)</th><th>Length</th><th>Samples</th><th>Processes</th>"
        out += "<th>Complete stacks</th><th>Files</th></tr></thead><tbody>\n"
        for window in recent {
            let files = window.files.sorted { Self.rank($0) < Self.rank($1) }
            let start = XMLText.escape(WindowName.timestamp(window.start))
            let opened =
                files.first.map { "<a href=\"\(Self.link(target, $0))\">\(start)</a>" } ?? start
            let links = files.map { "<a href=\"\(Self.link(target, $0))\">\(XMLText.escape(Self.kind($0)))</a>" }
                .joined(separator: " ")
            out += "<tr><td>\(opened)</td><td class=\"n\">\(Self.seconds(window.duration))</td>"
            out += "<td class=\"n\">\(window.samples)</td><td class=\"n\">\(window.processes.count)</td>"
            out += "<td class=\"n\">\(Self.completeShare(window))</td><td>\(links)</td></tr>\n"
        }
        return out + "</tbody></table>\n</section>"
    }

    static func health(_ window: WindowRecord) -> String {
        let flagged = UnwindStatus.allCases.filter { $0 != .complete }
            .compactMap { s -> String? in
                guard let n = window.samplesByStatus[s], n > 0, let marker = s.marker else { return nil }
                return "\(XMLText.escape(marker)) \(n)"
            }
        let share = completeShare(window)
        return flagged.isEmpty
            ? "<span class=\"ok\">\(share) complete</span>"
            : "<span class=\"warn\">\(share) complete; \(flagged.joined(separator: ", "))</span>"
    }

    static func completeShare(_ window: WindowRecord) -> String {
        guard window.samples > 0 else { return "–" }
        let complete = window.samplesByStatus[.complete] ?? 0
        return String(format: "%.1f %%", 100 * Double(complete) / Double(window.samples))
    }

    /// The flamegraph first: it is what a click on the window opens.
    static func rank(_ file: String) -> Int {
        file.hasSuffix(".svg") ? 0 : file.hasSuffix(".pb.gz") ? 1 : file.hasSuffix(".folded") ? 2 : 3
    }

    static func kind(_ file: String) -> String {
        if file.hasSuffix(".svg") { return "flamegraph" }
        if file.hasSuffix(".pb.gz") { return "pprof" }
        if file.hasSuffix(".folded") { return "folded" }
        return "speedscope"
    }

    static func link(_ target: TargetConfig, _ file: String) -> String {
        XMLText.escape("/targets/\(target.name)/files/\(file)")
    }

    static func seconds(_ duration: Duration) -> String {
        let s = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return String(format: "%.1f s", s)
    }

    /// gethostname(2) itself: Foundation's `hostName` may ask the resolver, which a page must not wait for.
    static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "this host" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
