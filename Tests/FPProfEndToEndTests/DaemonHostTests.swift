import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The real daemon on host-wide targets, retention on disk and the unit's reduced rights: the parts of the service
/// that only show when it runs as it will run on a host.
@Suite(.serialized) struct DaemonHostTests {
    typealias RunningDaemon = DaemonTests.RunningDaemon

    /// Every folded line of every window file of `target`, keyed by file name.
    static func foldedWindows(_ folder: String) throws -> [String: [Folded.Line]] {
        var windows: [String: [Folded.Line]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasSuffix(".folded") {
            windows[name] = try Folded(parsing: String(contentsOfFile: folder + "/" + name, encoding: .utf8)).lines
        }
        return windows
    }

    static func start(_ fixture: Fixture, seconds: Int) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try FixtureBuilder.path(for: fixture))
        process.arguments = ["\(seconds)"]
        try process.run()
        return process
    }

    @Test(.enabled(if: FPProf.isRoot, "an all target opens per-CPU events: needs root or CAP_PERFMON"))
    func anAllTargetProfilesEveryBusyProcessOfTheHost() throws {
        let folder = try DaemonTests.makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try DaemonTests.write(
            """
            state_directory = "\(folder)/state"
            window = "2s"
            formats = ["folded"]
            [[target]]
            name = "host"
            all = true
            per_process = true
            """, to: folder + "/fpprof.toml")
        let daemon = try RunningDaemon(config: folder + "/fpprof.toml", folder: folder)
        #expect(daemon.waitFor("sampling"), "\(daemon.text)")
        let shares = try Self.start(.shares, seconds: 4)
        let recursion = try Self.start(.recursion, seconds: 4)
        shares.waitUntilExit()
        recursion.waitUntilExit()
        _ = daemon.stop(SIGTERM, timeout: 120)
        #expect(daemon.process.terminationStatus == 0, "\(daemon.text)")
        let lines = try Self.foldedWindows(folder + "/state/host").values.flatMap { $0 }
        var byProcess: [String: Int] = [:]
        for line in lines { byProcess[line.frames.first ?? "", default: 0] += line.count }
        // Both fixtures were started after the daemon: an `all` target needs no discovery to see them. Each ran
        // about 4 s of CPU at 99 Hz (about 400 samples); a host loaded by builds takes much of that: a floor of 10 %.
        #expect(byProcess["shares", default: 0] > 40, "\(byProcess)")
        #expect(byProcess["recursion", default: 0] > 40, "\(byProcess)")
        // Their stacks are named through the per-CPU events as through a per-process one.
        let sharesLeaves = Set(lines.filter { $0.frames.first == "shares" }.compactMap(\.frames.last))
        #expect(sharesLeaves.isSuperset(of: ["leaf_a", "leaf_b", "leaf_c"]), "\(sharesLeaves)")
        // The daemon leaves itself out: its per-CPU events see its own work (cutting the first window alone takes
        // a few hundred milliseconds of CPU), and no window has a file of its pid (`per_process` names each file
        // after its process), while the fixtures have theirs.
        let files = try FileManager.default.contentsOfDirectory(atPath: folder + "/state/host")
        #expect(!files.contains { $0.contains(".pid\(daemon.process.processIdentifier).") }, "\(files)")
        #expect(files.contains { $0.contains(".pid\(shares.processIdentifier).") }, "\(files)")
    }

    @Test(.enabled(if: FPProf.isRoot, "the daemon samples other processes: needs root or CAP_PERFMON"))
    func retentionByAgeAndByBytesRemovesOldestFirst() throws {
        let folder = try DaemonTests.makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Two targets over the same process, one bounded by age and one by bytes.
        try DaemonTests.write(
            """
            state_directory = "\(folder)/state"
            window = "1s"
            formats = ["folded"]
            [[target]]
            name = "by-age"
            comm = "shares"
            [target.retention]
            max_age = "3s"
            [[target]]
            name = "by-bytes"
            comm = "shares"
            [target.retention]
            max_bytes = "1KiB"
            """, to: folder + "/fpprof.toml")
        let daemon = try RunningDaemon(config: folder + "/fpprof.toml", folder: folder)
        #expect(daemon.waitFor("sampling"), "\(daemon.text)")
        let target = try Self.start(.shares, seconds: 9)
        target.waitUntilExit()
        _ = daemon.stop(SIGTERM)
        #expect(daemon.process.terminationStatus == 0, "\(daemon.text)")

        for name in ["by-age", "by-bytes"] {
            let written = Self.filesWritten(daemon.text, target: name)
            let kept = try FileManager.default.contentsOfDirectory(atPath: folder + "/state/" + name)
                .filter { !$0.hasPrefix(".") }.sorted()
            #expect(written.count >= 6, "\(name): \(daemon.text)")
            #expect(!kept.isEmpty && kept.count < written.count, "\(name): kept \(kept) of \(written)")
            // Oldest first: what is left is the newest windows, with no gap.
            #expect(kept == Array(written.suffix(kept.count)), "\(name): kept \(kept) of \(written)")
            #expect(daemon.text.contains("retention removed files") && daemon.text.contains("target=\(name)"))
        }
        let byBytes = folder + "/state/by-bytes/"
        let bytes = try FileManager.default.contentsOfDirectory(atPath: byBytes).reduce(0) {
            $0 + ((try FileManager.default.attributesOfItem(atPath: byBytes + $1)[.size] as? Int) ?? 0)
        }
        #expect(bytes <= 1024, "by-bytes holds \(bytes) bytes")
        // By age: the last sweep ran at the last window, so nothing kept is older than 3 s plus that window's 1 s.
        let ages = try FileManager.default.contentsOfDirectory(atPath: folder + "/state/by-age").count
        #expect(ages <= 5, "by-age keeps \(ages) files of 1 s windows")
    }

    /// The `files=` of every "window written" line of `target`, in the order written.
    static func filesWritten(_ log: String, target: String) -> [String] {
        log.split(separator: "\n").filter { $0.contains("window written") && $0.contains("target=\(target)") }
            .flatMap { line -> [String] in
                guard let field = line.split(separator: " ").first(where: { $0.hasPrefix("files=") }) else { return [] }
                return field.dropFirst(6).split(separator: ",").map(String.init)
            }
    }

    static let setprivPath = "/usr/bin/setpriv"
    static let unitCapabilities = ["perfmon", "sys_ptrace", "dac_read_search"]

    /// `setpriv` as the unit runs the daemon: user nobody, no groups, exactly `capabilities` (inheritable, ambient
    /// and bounding), no new privileges.
    static func asNobody(with capabilities: [String]) -> [String] {
        let list = capabilities.map { "+" + $0 }.joined(separator: ",")
        var arguments = [setprivPath, "--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs"]
        arguments += ["--bounding-set=-all" + (list.isEmpty ? "" : "," + list)]
        if !list.isEmpty { arguments += ["--inh-caps=-all," + list, "--ambient-caps=-all," + list] }
        return arguments + ["--"]
    }

    @Test(
        .enabled(if: FPProf.isRoot, "needs root to drop to another user"),
        .enabled(if: FileManager.default.isExecutableFile(atPath: setprivPath), "needs setpriv (util-linux)"))
    func theUnitsCapabilitiesAloneProfileARootOwnedTarget() throws {
        let folder = try DaemonTests.makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let state = folder + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        #expect(chown(state, 65534, 65534) == 0)
        #expect(chmod(folder, 0o755) == 0)
        try DaemonTests.write(
            """
            state_directory = "\(state)"
            window = "2s"
            formats = ["folded"]
            [[target]]
            name = "shares"
            comm = "shares"
            """, to: folder + "/fpprof.toml")
        let target = try Self.start(.shares, seconds: 6)
        defer {
            kill(target.processIdentifier, SIGKILL)
            target.waitUntilExit()  // Foundation keeps a Process alive until it has seen its child end
        }
        let daemon = try RunningDaemon(
            config: folder + "/fpprof.toml", folder: folder, launcher: Self.asNobody(with: Self.unitCapabilities))
        #expect(daemon.waitFor("process attached"), "\(daemon.text)")
        target.waitUntilExit()
        _ = daemon.stop(SIGTERM)
        #expect(daemon.process.terminationStatus == 0, "\(daemon.text)")
        let lines = try Self.foldedWindows(state + "/shares").values.flatMap { $0 }
        let total = lines.reduce(0) { $0 + $1.count }
        #expect(total > 100, "a root-owned busy fixture sampled by nobody with the unit's capabilities: \(total)")
        // Named: the binary and /proc/PID/maps of root's process were readable with those rights.
        #expect(lines.contains { $0.frames.last == "leaf_a" }, "\(lines.prefix(5))")
        let owner = try FileManager.default.attributesOfItem(atPath: state + "/shares")[.ownerAccountID] as? Int
        #expect(owner == 65534)
    }

    @Test(
        .enabled(if: FPProf.isRoot, "needs root to drop to another user"),
        .enabled(if: FileManager.default.isExecutableFile(atPath: setprivPath), "needs setpriv (util-linux)"),
        .enabled(
            if: (try? String(contentsOfFile: "/proc/sys/kernel/perf_event_paranoid", encoding: .utf8))
                .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }.map { $0 >= 1 } ?? false,
            "with perf_event_paranoid below 1 any user may sample: nothing to refuse"))
    func withoutCapPerfmonTheDaemonFailsAtStartNamingIt() throws {
        let folder = try DaemonTests.makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(chmod(folder, 0o755) == 0)
        try DaemonTests.write(
            """
            state_directory = "\(folder)/state"
            [[target]]
            name = "shares"
            comm = "shares"
            """, to: folder + "/fpprof.toml")
        let daemon = try RunningDaemon(
            config: folder + "/fpprof.toml", folder: folder,
            launcher: Self.asNobody(with: ["sys_ptrace", "dac_read_search"]))
        let started = Date()
        while daemon.process.isRunning && Date().timeIntervalSince(started) < 20 { usleep(50_000) }
        #expect(!daemon.process.isRunning, "still running: \(daemon.text)")
        if daemon.process.isRunning { _ = daemon.stop(SIGKILL) }
        daemon.process.waitUntilExit()
        #expect(daemon.process.terminationStatus != 0)
        #expect(daemon.text.contains("CAP_PERFMON"), "\(daemon.text)")
        #expect(!daemon.text.contains("sampling "), "\(daemon.text)")
    }
}
