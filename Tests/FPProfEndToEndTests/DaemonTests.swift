import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The real `fpprof daemon` binary on temporary configs and state folders, against fixture programs.
@Suite(.serialized) struct DaemonTests {
    /// A daemon started in the background; its stderr goes to a file read by the test.
    final class RunningDaemon {
        let process = Process()
        let log: String
        let folder: String

        /// `launcher`: a command the daemon runs under (such as `setpriv ... --`), or none.
        init(config: String, folder: String, environment: [String: String] = [:], launcher: [String] = []) throws {
            self.folder = folder
            log = folder + "/daemon.log"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            let command = launcher + [FPProf.executable, "daemon", "--config", config]
            process.executableURL = URL(fileURLWithPath: command[0])
            process.arguments = Array(command.dropFirst())
            var env = ProcessInfo.processInfo.environment
            env.removeValue(forKey: "JOURNAL_STREAM")
            process.environment = env.merging(environment) { _, new in new }
            process.standardError = handle
            process.standardOutput = FileHandle.nullDevice
            try process.run()
        }

        var text: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

        /// Waits until the log holds `needle` (up to `timeout` seconds).
        func waitFor(_ needle: String, timeout: Double = 60) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if text.contains(needle) { return true }
                usleep(100_000)
            }
            return false
        }

        /// Sends `signal` and waits for the exit; returns the seconds it took.
        func stop(_ signal: Int32 = SIGTERM, timeout: Double = 30) -> Double {
            let started = Date()
            kill(process.processIdentifier, signal)
            while process.isRunning && Date().timeIntervalSince(started) < timeout { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            return Date().timeIntervalSince(started)
        }

        /// The `samples=` of every "window written" line of `target`.
        func windowSamples(target: String) -> [Int] {
            text.split(separator: "\n").filter { $0.contains("window written") && $0.contains("target=\(target)") }
                .compactMap { line in
                    line.split(separator: " ").first { $0.hasPrefix("samples=") }.flatMap { Int($0.dropFirst(8)) }
                }
        }
    }

    static func makeFolder() throws -> String {
        let folder = NSTemporaryDirectory() + "fpprof-daemon-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// `go tool pprof -sample_index=samples -top FILE`: the "Total samples = N" of a window file.
    static func pprofSamples(_ path: String) throws -> Int {
        let result = try FixtureCommand.run(
            try FixtureBuilder.goTool(), ["tool", "pprof", "-sample_index=samples", "-top", path])
        guard result.status == 0, let range = result.stdout.range(of: "Total samples = ") else {
            throw FixtureError(command: ["go tool pprof", path], status: result.status, message: result.stderr)
        }
        return Int(result.stdout[range.upperBound...].prefix { $0.isNumber }) ?? -1
    }

    @Test(.enabled(if: FPProf.isRoot, "the daemon samples other processes: needs root or CAP_PERFMON"))
    func commTargetWindowsAddUpAndSIGTERMWritesThePartialWindow() throws {
        let folder = try Self.makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let fixture = try FixtureBuilder.path(for: .shares)
        try Self.write(
            """
            state_directory = "\(folder)/state"
            window = "2s"
            formats = ["pprof", "folded"]
            [[target]]
            name = "shares"
            comm = "shares"
            """, to: folder + "/fpprof.toml")
        let daemon = try RunningDaemon(config: folder + "/fpprof.toml", folder: folder)
        #expect(daemon.waitFor("sampling"), "\(daemon.text)")
        // Started after the daemon: it must be found by the /proc poll.
        let started = Date()
        let target = Process()
        target.executableURL = URL(fileURLWithPath: fixture)
        target.arguments = ["5"]
        try target.run()
        #expect(daemon.waitFor("process attached"), "\(daemon.text)")
        #expect(Date().timeIntervalSince(started) < 2.5, "picked up within 2 s (and a little for a loaded host)")
        target.waitUntilExit()
        // Mid-window: SIGTERM ends it early, writes it, and the daemon exits 0 within 5 s.
        usleep(700_000)
        let seconds = daemon.stop(SIGTERM)
        #expect(daemon.process.terminationStatus == 0, "\(daemon.text)")
        #expect(seconds < 5, "exit took \(seconds) s")
        #expect(daemon.text.contains("stopping: writing the partial windows"))

        let logged = daemon.windowSamples(target: "shares")
        #expect(logged.count >= 3, "\(daemon.text)")
        let stateFolder = folder + "/state/shares"
        let files = try FileManager.default.contentsOfDirectory(atPath: stateFolder).sorted()
        let profiles = files.filter { $0.hasSuffix(".pb.gz") }
        #expect(profiles.count == logged.count, "\(files)")
        var pprofTotal = 0
        var foldedTotal = 0
        for name in profiles {
            pprofTotal += try Self.pprofSamples(stateFolder + "/" + name)
            let folded = stateFolder + "/" + name.replacingOccurrences(of: ".pb.gz", with: ".folded")
            foldedTotal += try Folded(parsing: String(contentsOfFile: folded, encoding: .utf8)).total
        }
        let daemonTotal = logged.reduce(0, +)
        #expect(daemonTotal > 100, "5 s of a busy fixture at 99 Hz")
        #expect(pprofTotal == daemonTotal)
        #expect(foldedTotal == daemonTotal)
        // Windows are named by their UTC start, files 0640.
        let mode = try FileManager.default.attributesOfItem(atPath: stateFolder + "/" + profiles[0])[.posixPermissions]
        #expect((mode as? Int) == 0o640)
        #expect(profiles.allSatisfy { $0.count == "20261205T031200Z.pb.gz".count && $0.dropFirst(8).first == "T" })
    }

    /// `per_goroutine = true` in a target: each window's samples of the goroutine fixture's spin functions carry
    /// the id each goroutine printed (from `runtime.Stack`), and nearly all carry one. (The setting used to reach
    /// only the on-demand profiles of the HTTP side: the windows had no ids.)
    @Test(.enabled(if: FPProf.isRoot, "the daemon samples other processes: needs root or CAP_PERFMON"))
    func perGoroutineWindowsCarryTheRuntimesIDs() throws {
        let folder = try Self.makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let fixture = try FixtureBuilder.path(for: .goGoroutines)
        try Self.write(
            """
            state_directory = "\(folder)/state"
            window = "2s"
            formats = ["folded"]
            [[target]]
            name = "spinners"
            comm = "go-goroutines"
            per_goroutine = true
            frequency = 499
            """, to: folder + "/fpprof.toml")
        let daemon = try RunningDaemon(config: folder + "/fpprof.toml", folder: folder)
        #expect(daemon.waitFor("sampling"), "\(daemon.text)")
        let result = try FixtureCommand.run(fixture, ["4"], timeout: 30)
        #expect(daemon.waitFor("process attached"), "\(daemon.text)")
        _ = daemon.stop(SIGTERM)
        #expect(daemon.process.terminationStatus == 0, "\(daemon.text)")

        let ids = GoroutineTests.printedIDs(result.stdout).mapValues { "goroutine \($0)" }
        #expect(ids.count == 3, "the fixture printed: \(result.stdout)")
        let stateFolder = folder + "/state/spinners"
        var lines: [Folded.Line] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: stateFolder) where name.hasSuffix(".folded") {
            lines += try Folded(parsing: String(contentsOfFile: stateFolder + "/" + name, encoding: .utf8)).lines
        }
        for (function, id) in ids.sorted(by: { $0.key < $1.key }) {
            let picked = lines.filter { $0.frames.contains(function) }
            let total = picked.reduce(0) { $0 + $1.count }
            #expect(total > 100, "too few samples of \(function): \(total)\n\(daemon.text)")
            let labelled = picked.filter { $0.frames.contains { $0.hasPrefix("goroutine ") } }
            for line in labelled {
                #expect(line.frames.filter { $0.hasPrefix("goroutine ") } == [id], "\(function) in: \(line.text)")
            }
            let labelledSamples = labelled.reduce(0) { $0 + $1.count }
            #expect(labelledSamples * 100 >= total * 95, "\(function): ids on \(labelledSamples) of \(total)")
        }
    }

    @Test(.enabled(if: FPProf.isRoot, "the daemon samples other processes: needs root or CAP_PERFMON"))
    func notifyProtocolAndReloads() throws {
        let folder = try Self.makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let socketPath = folder + "/notify"
        let socket = try NotifySocket(path: socketPath)
        let config = folder + "/fpprof.toml"
        func targets(_ names: [String]) -> String {
            "state_directory = \"\(folder)/state\"\nwindow = \"2s\"\n"
                + names.map { "[[target]]\nname = \"\($0)\"\ncomm = \"no-such-\($0)\"\n" }.joined()
        }
        try Self.write(targets(["a", "b"]), to: config)
        let daemon = try RunningDaemon(
            config: config, folder: folder, environment: ["NOTIFY_SOCKET": socketPath, "WATCHDOG_USEC": "1000000"])
        #expect(socket.waitFor("READY=1"), "\(socket.messages) \(daemon.text)")
        #expect(socket.waitFor("WATCHDOG=1"), "\(socket.messages)")

        // A valid change: b removed, c added, a unchanged.
        try Self.write(targets(["a", "c"]), to: config)
        kill(daemon.process.processIdentifier, SIGHUP)
        #expect(daemon.waitFor("configuration reloaded targets=a,c"), "\(daemon.text)")
        #expect(daemon.text.contains("target removed or changed target=b"))
        #expect(daemon.text.contains("target started target=c"))
        #expect(!daemon.text.contains("target started target=a"), "an unchanged target keeps running")
        // A broken one: logged with line and key, the running one kept.
        try Self.write(targets(["a", "c"]) + "frequency = \"fast\"\n", to: config)
        kill(daemon.process.processIdentifier, SIGHUP)
        #expect(daemon.waitFor("reload refused"), "\(daemon.text)")
        #expect(daemon.text.contains("fpprof.toml:9: target.frequency: expected a positive integer"), "\(daemon.text)")
        #expect(daemon.waitFor("window written", timeout: 10))

        let seconds = daemon.stop(SIGTERM)
        #expect(daemon.process.terminationStatus == 0)
        #expect(seconds < 5)
        #expect(socket.waitFor("STOPPING=1"), "\(socket.messages)")
        // In order: ready, a reload (twice), stopping.
        let states = socket.messages.map { $0.split(separator: "\n").first.map(String.init) ?? "" }
            .filter { $0 != "WATCHDOG=1" }
        #expect(states == ["READY=1", "RELOADING=1", "READY=1", "RELOADING=1", "READY=1", "STOPPING=1"], "\(states)")
        for name in ["a", "b", "c"] {
            #expect(FileManager.default.fileExists(atPath: "\(folder)/state/\(name)"), "\(name)")
        }
    }

    @Test(.enabled(if: FPProf.isRoot, "needs root to make a cgroup and sample"))
    func cgroupTargetProfilesItsGroupOnly() throws {
        let mount = try #require(Self.cgroup2Mount(), "no cgroup2 mounted")
        let group = "fpprof-test-\(getpid())"
        try #require(mkdir(mount + "/" + group, 0o755) == 0, "cgroup v2 not writable at \(mount)")
        defer { rmdir(mount + "/" + group) }
        let folder = try Self.makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.write(
            """
            state_directory = "\(folder)/state"
            window = "2s"
            formats = ["folded"]
            [[target]]
            name = "group"
            cgroup = "\(group)"
            """, to: folder + "/fpprof.toml")
        // One fixture inside the group (moved there by a shell before it execs), one outside.
        let inside = Process()
        inside.executableURL = URL(fileURLWithPath: "/bin/sh")
        inside.arguments = [
            "-c", "echo $$ > \(mount)/\(group)/cgroup.procs && exec \(try FixtureBuilder.path(for: .shares)) 4",
        ]
        let outside = Process()
        outside.executableURL = URL(fileURLWithPath: try FixtureBuilder.path(for: .recursion))
        outside.arguments = ["4"]
        try inside.run()
        try outside.run()
        let daemon = try RunningDaemon(config: folder + "/fpprof.toml", folder: folder)
        inside.waitUntilExit()
        outside.waitUntilExit()
        _ = daemon.stop(SIGTERM, timeout: 120)
        #expect(daemon.process.terminationStatus == 0, "\(daemon.text)")
        var lines: [Folded.Line] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: folder + "/state/group") {
            lines += try Folded(parsing: String(contentsOfFile: folder + "/state/group/" + name, encoding: .utf8)).lines
        }
        let processes = Set(lines.map { $0.frames.first ?? "" })
        #expect(processes.contains("shares"), "\(processes)")
        #expect(!processes.contains("recursion"), "\(processes)")
    }

    @Test(.enabled(if: FPProf.isRoot, "needs root to mount a tmpfs and sample"))
    func aFullDiskSkipsWindowsAndRecovers() throws {
        let folder = try Self.makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let disk = folder + "/disk"
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        let mount = try FixtureCommand.run("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", disk])
        try #require(mount.status == 0, "cannot mount a tmpfs: \(mount.stderr)")
        defer { _ = try? FixtureCommand.run("/bin/umount", [disk]) }
        try Self.write(
            """
            state_directory = "\(disk)"
            window = "1s"
            formats = ["svg"]
            [[target]]
            name = "shares"
            comm = "shares"
            """, to: folder + "/fpprof.toml")
        let target = Process()
        target.executableURL = URL(fileURLWithPath: try FixtureBuilder.path(for: .shares))
        target.arguments = ["12"]
        try target.run()
        defer {
            kill(target.processIdentifier, SIGKILL)
            target.waitUntilExit()  // Foundation keeps a Process alive until it has seen its child end
        }
        let daemon = try RunningDaemon(config: folder + "/fpprof.toml", folder: folder)
        #expect(daemon.waitFor("window skipped: disk full", timeout: 20), "\(daemon.text)")
        // Room again: the next window is written.
        for name in try FileManager.default.contentsOfDirectory(atPath: disk + "/shares") {
            try FileManager.default.removeItem(atPath: disk + "/shares/" + name)
        }
        let before = daemon.text.components(separatedBy: "window written").count
        usleep(2_500_000)
        let after = daemon.text.components(separatedBy: "window written").count
        #expect(after > before, "\(daemon.text)")
        _ = daemon.stop(SIGTERM)
        #expect(daemon.process.terminationStatus == 0)
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: disk + "/shares").contains { $0.hasPrefix(".") }))
    }

    static func cgroup2Mount() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.contains(" - cgroup2 ") {
            let fields = line.split(separator: " ")
            if fields.count > 4 { return String(fields[4]) }
        }
        return nil
    }

    @Test func checkConfigExitsZeroOnTheExamplesAndOneWithLineAndKey() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let examples = try FileManager.default.contentsOfDirectory(atPath: root.path + "/config").filter {
            $0.hasSuffix(".toml")
        }
        #expect(!examples.isEmpty)
        for name in examples {
            let result = try FPProf.run(["daemon", "--check-config", root.path + "/config/" + name])
            #expect(result.status == 0, "\(name): \(result.stderr)")
        }
        let folder = try Self.makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.write("[[target]]\nname = \"a\"\nall = true\nwindow_size = 3\n", to: folder + "/bad.toml")
        let result = try FPProf.run(["daemon", "--check-config", folder + "/bad.toml"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("bad.toml:4: target.window_size: unknown key"), "\(result.stderr)")
    }

    @Test(
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze"), "needs systemd-analyze"))
    func theUnitVerifiesAndScoresOK() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let folder = try Self.makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // The unit names the installed binary; point it at the built one so that verify finds an executable.
        let unit = try String(contentsOfFile: root.path + "/systemd/fpprof.service", encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/fpprof", with: FPProf.executable)
        try Self.write(unit, to: folder + "/fpprof.service")
        let verify = try FixtureCommand.run("/usr/bin/systemd-analyze", ["verify", folder + "/fpprof.service"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let security = try FixtureCommand.run(
            "/usr/bin/systemd-analyze", ["security", "--offline=true", folder + "/fpprof.service"])
        let marker = "Overall exposure level for fpprof.service: "
        let range = try #require(security.stdout.range(of: marker), "\(security.stdout)")
        let score = Double(security.stdout[range.upperBound...].prefix { $0.isNumber || $0 == "." }) ?? 99
        #expect(score <= 3.0, "exposure \(score)")
    }
}

/// The service manager's side of the notify protocol: a datagram socket whose path goes in NOTIFY_SOCKET.
final class NotifySocket: @unchecked Sendable {
    // Invariant: `fd` is only read by `waitFor`, called from one test at a time; closed in deinit.
    private let fd: Int32
    private(set) var messages: [String] = []

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard fd >= 0, bound == 0 else {
            throw FixtureError(command: ["bind", path], status: errno, message: String(cString: strerror(errno)))
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func waitFor(_ message: String, timeout: Double = 60) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if messages.contains(where: { $0.hasPrefix(message) }) { return true }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { messages.append(String(decoding: buffer[..<n], as: UTF8.self)) }
        }
        return messages.contains { $0.hasPrefix(message) }
    }
}
