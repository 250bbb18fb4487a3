import FPProfOutput

/// `GET /debug/pprof/`: the index Go's `net/http/pprof` serves, for the one profile this daemon has (CPU), with
/// the targets it can be asked for.
enum PprofIndex {
    static func html(config: DaemonConfig) -> String {
        let targets = config.targets.map { t in
            "<li><a href=\"profile?seconds=30&amp;target=\(XMLText.escape(t.name))\">\(XMLText.escape(t.name))</a> "
                + "(\(XMLText.escape(t.match.summary)))</li>"
        }.joined(separator: "\n")
        return """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>/debug/pprof/</title></head>
            <body>
            <p>/debug/pprof/ of fpprof</p>
            <p>Types of profiles available:</p>
            <table>
            <thead><td>Count</td><td>Profile</td></thead>
            <tr><td></td><td><a href="profile?seconds=30">profile</a></td></tr>
            </table>
            <p><b>profile</b>: CPU profile, sampled by fpprof with frame pointers. Parameters: <code>seconds</code>
            (default 30, at most the configured bound), <code>target=NAME</code> (a configured target) or
            <code>pid=P</code>; neither profiles every configured target. After you get the profile file, use the
            <code>go tool pprof</code> command to investigate it.</p>
            <p>Targets:</p>
            <ul>
            \(targets)
            </ul>
            </body></html>

            """
    }
}

extension TargetMatch {
    /// `comm = "postgres*"`, as the config says it.
    var summary: String {
        switch self {
        case .pid(let pid): "pid = \(pid)"
        case .exe(let glob): "exe = \"\(glob)\""
        case .comm(let glob): "comm = \"\(glob)\""
        case .cgroup(let path): "cgroup = \"\(path)\""
        case .unit(let unit): "unit = \"\(unit)\""
        case .all: "all = true"
        }
    }
}
