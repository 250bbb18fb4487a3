import FPProfCore
import Foundation
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The outputs people open, made from real recordings of the fixtures: pprof read by `go tool pprof`, the SVG
/// flamegraph, speedscope JSON, and `fpprof report` re-rendering raw captures. Serialized: each recording keeps
/// the CPUs busy.
@Suite(.serialized, .enabled(if: FPProf.isRoot, "perf_event_open on other processes needs root here"))
struct OutputTests {
    /// Records `fixture` once with `-o output` and `--raw`, then renders the capture as folded text with
    /// `fpprof report`, so both outputs come from the very same samples.
    func recordWithCapture(
        _ fixture: Fixture, seconds: String = "2", output: String, extra: [String] = []
    ) throws -> (capture: String, folded: Folded, foldedText: String) {
        let capture = FPProf.temporaryPath("fpc")
        let record = try FPProf.run(
            ["record", "-F", "499", "-o", output, "--raw", capture] + extra
                + ["--", try FixtureBuilder.path(for: fixture), seconds])
        // 2 (partial: the kernel dropped records on a busy machine) still writes both files.
        guard record.status == 0 || record.status == 2 else {
            throw FixtureError(command: ["fpprof", "record"], status: record.status, message: record.stderr)
        }
        let folded = FPProf.temporaryPath("folded")
        defer { unlink(folded) }
        let report = try FPProf.run(["report", capture, "-o", folded])
        guard report.status == 0 else {
            throw FixtureError(command: ["fpprof", "report"], status: report.status, message: report.stderr)
        }
        let text = try String(contentsOfFile: folded, encoding: .utf8)
        return (capture, try Folded(parsing: text), text)
    }

    /// `go tool pprof -top`, `-traces` and `-raw` read the profile; flat and cumulative shares of the fixture's
    /// functions match the folded output of the same capture within half a point; `-raw` shows the build-id.
    @Test(.enabled(if: FixtureCommand.which("go") != nil, "needs go (golang-go) for go tool pprof"))
    func goToolPprofAgreesWithFoldedOutput() throws {
        let profile = FPProf.temporaryPath("pb.gz")
        defer { unlink(profile) }
        let (capture, folded, _) = try recordWithCapture(.shares, output: profile)
        defer { unlink(capture) }
        // Both sides come from the same capture, so a busy machine's lower total does not weaken the comparison.
        #expect(folded.total > 150)

        for index in ["samples", "cpu"] {
            let top = try GoPprof.run(["-top", "-nodecount=200", "-sample_index=\(index)", profile])
            let rows = GoPprof.topRows(top)
            for name in Fixture.shares.functionNames {
                let flat = 100 * Double(folded.count { $0.frames.last == name }) / Double(folded.total)
                let cum = 100 * Double(folded.count { $0.frames.contains(name) }) / Double(folded.total)
                guard cum > 0 else { continue }
                let row = try #require(rows[name], "\(name) missing from go tool pprof -top:\n\(top)")
                // Counts must agree exactly (up to the printed rounding); CPU time up to the period jitter.
                #expect(abs(row.flat - flat) <= 0.5, "\(index) flat of \(name): \(row.flat) vs \(flat)")
                #expect(abs(row.cum - cum) <= 0.5, "\(index) cum of \(name): \(row.cum) vs \(cum)")
            }
        }

        let traces = try GoPprof.run(["-traces", profile])
        #expect(traces.contains("leaf_a"))
        #expect(traces.contains("thread:"), "per-thread labels")
        let raw = try GoPprof.run(["-raw", profile])
        if let buildID = try ElfNotes.buildID(of: try FixtureBuilder.path(for: .shares)) {
            #expect(raw.contains(buildID), "build-id \(buildID) missing from -raw:\n\(raw.prefix(3000))")
        }
        #expect(raw.contains("samples/count cpu/nanoseconds"))
        #expect(raw.contains("event: cpu-clock at 499 Hz"))
    }

    /// A function inlined into its caller (DWARF inline chain) is one pprof location with two lines, which
    /// `go tool pprof` prints as `mix (inline)`; folded output writes it `mix_[i]`.
    @Test(
        .enabled(
            if: FixtureCommand.which("go") != nil && FixtureCommand.which("gcc") != nil, "needs go and gcc"))
    func inlinedFramesShowAsInlined() throws {
        let directory = FPProf.temporaryPath("inline")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = """
            static inline __attribute__((always_inline)) unsigned long mix(unsigned long x) {
                for (int i = 0; i < 200; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
                return x;
            }
            __attribute__((noinline)) unsigned long outer(unsigned long x) { return mix(x) ^ (x >> 3); }
            int main(void) {
                volatile unsigned long acc = 0;
                for (long i = 0; i < 4000000L; i++) acc += outer(i);
                return (int)(acc & 1);
            }
            """
        try source.write(toFile: directory + "/inl.c", atomically: true, encoding: .utf8)
        try FixtureCommand.check(
            FixtureCommand.which("gcc")!,
            ["-O2", "-g", "-fno-omit-frame-pointer", "-o", directory + "/inl", directory + "/inl.c"])
        let profile = directory + "/inl.pb.gz"
        let capture = directory + "/inl.fpc"
        let r = try FPProf.run(["record", "-F", "999", "-o", profile, "--raw", capture, "--", directory + "/inl"])
        #expect(r.status == 0, "\(r.stderr)")
        let traces = try GoPprof.run(["-traces", profile])
        #expect(traces.contains("mix (inline)"), "\(traces.prefix(2000))")
        let folded = try FPProf.run(["report", capture])
        #expect(folded.stdout.contains(";outer;mix_[i] "), "\(folded.stdout)")
    }

    /// `report` of a raw capture writes the live run's folded output, byte for byte: with a broken chain, per
    /// thread, for Go (stack switches, entry frames), with kernel frames and without inline frames, as long as
    /// `report` is given the same naming options.
    @Test(arguments: [
        (Fixture.fploop, [String]()), (.fploop, ["--per-thread"]), (.goShares, []), (.shares, ["--kernel"]),
        (.shares, ["--no-inline", "--demangle", "none"]),
    ])
    func reportOfCaptureIsByteIdenticalToTheLiveRun(fixture: Fixture, extra: [String]) throws {
        let live = FPProf.temporaryPath("folded")
        defer { unlink(live) }
        let capture = FPProf.temporaryPath("fpc")
        defer { unlink(capture) }
        let record = try FPProf.run(
            ["record", "-F", "499", "-o", live, "--raw", capture] + extra
                + ["--", try FixtureBuilder.path(for: fixture), "1.5"])
        // 2 (partial: records dropped on a busy machine) still writes the capture and the profile.
        #expect(record.status == 0 || record.status == 2, "\(record.stderr)")
        let again = FPProf.temporaryPath("folded")
        defer { unlink(again) }
        let report = try FPProf.run(["report", capture, "-o", again] + extra)
        #expect(report.status == 0, "\(report.stderr)")
        let a = try Data(contentsOf: URL(fileURLWithPath: live))
        let b = try Data(contentsOf: URL(fileURLWithPath: again))
        #expect(!a.isEmpty)
        #expect(a == b)
        // And once more to stdout, in the default format.
        let stdout = try FPProf.run(["report", capture] + extra)
        #expect(Data(stdout.stdout.utf8) == a)
    }

    /// The flamegraph of a fixture with a broken frame chain: valid XML, nothing from the network, every box as
    /// wide as its count says, the flagged half violet; counts agree with the folded output of the same capture.
    @Test func flamegraphOfAFlaggedFixture() throws {
        let svg = FPProf.temporaryPath("svg")
        defer { unlink(svg) }
        let (capture, folded, _) = try recordWithCapture(.fploop, seconds: "1.5", output: svg)
        defer { unlink(capture) }
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        let doc = try FlamegraphXML(text)
        Self.keep(svg, as: "fploop.svg")

        var rest = text[...]
        while let r = rest.range(of: "http") {
            #expect(rest[r.lowerBound...].hasPrefix("http://www.w3.org/2000/svg\""))
            rest = rest[r.upperBound...]
        }
        #expect(!text.contains("href") && !text.contains("url("))

        let total = try #require(Double(doc.root["data-total"] ?? ""))
        let inner = try #require(Double(doc.root["data-inner-width"] ?? ""))
        #expect(Int(total) == folded.total)
        for frame in doc.frames {
            #expect(abs(frame.width - Double(frame.count) * inner / total) < 0.001, "\(frame.name)")
        }
        let marker = try #require(doc.frames.first { $0.name == "[fp-loop]" })
        #expect(marker.count == folded.count { $0.frames.contains("[fp-loop]") })
        #expect(marker.fill == "rgb(125,48,196)")
        let flagged = doc.frames.filter { $0.classes.contains("flagged") }
        #expect(Set(flagged.map(\.name)).isSuperset(of: ["[fp-loop]", "loop_caller", "loop_callee"]))
        // Each flagged box lies under a marker: the loop's, or a rare [bad-frame] (a sample in the dynamic
        // loader's startup code, whose BP register is 0: no frame pointer).
        let markers = doc.frames.filter { Folded.markers.contains($0.name) }
        for frame in flagged {
            #expect(
                markers.contains { frame.start >= $0.start && frame.start + frame.count <= $0.start + $0.count },
                "\(frame.name)")
            #expect(frame.fill == marker.fill || FlamegraphXML.isViolet(frame.fill), "\(frame.name) \(frame.fill)")
        }
        for frame in doc.frames where !frame.classes.contains("flagged") {
            #expect(!FlamegraphXML.isViolet(frame.fill), "\(frame.name) \(frame.fill)")
        }
        let healthy = try #require(doc.frames.first { $0.name == "healthy_leaf" })
        #expect(healthy.count == folded.count { $0.frames.last == "healthy_leaf" })
    }

    /// speedscope JSON straight from a recording: schema, frame table, weights that add up to endValue; and
    /// from the folded text of the same capture, sample counts that add up to the folded total.
    @Test func speedscopeOfARecording() throws {
        let json = FPProf.temporaryPath("speedscope.json")
        defer { unlink(json) }
        let (capture, folded, foldedText) = try recordWithCapture(.shares, seconds: "1.5", output: json)
        defer { unlink(capture) }
        let file = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        #expect(file["$schema"] as? String == "https://www.speedscope.app/file-format-schema.json")
        let frames = try #require((file["shared"] as? [String: Any])?["frames"] as? [[String: Any]])
        let names = frames.compactMap { $0["name"] as? String }
        #expect(Set(names).isSuperset(of: Fixture.shares.functionNames))
        let profiles = try #require(file["profiles"] as? [[String: Any]])
        #expect(profiles.count == 1)
        let samples = try #require(profiles[0]["samples"] as? [[Int]])
        let weights = try #require(profiles[0]["weights"] as? [Int])
        #expect(profiles[0]["type"] as? String == "sampled")
        #expect(samples.count == weights.count && !samples.isEmpty)
        #expect(weights.reduce(0, +) == profiles[0]["endValue"] as? Int)
        #expect(samples.allSatisfy { $0.allSatisfy(frames.indices.contains) })

        // From folded text: counts, which must add up to the folded total.
        let input = FPProf.temporaryPath("folded")
        defer { unlink(input) }
        try foldedText.write(toFile: input, atomically: true, encoding: .utf8)
        let r = try FPProf.run(["report", input, "--format", "speedscope"])
        #expect(r.status == 0, "\(r.stderr)")
        let fromFolded = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let p = try #require((fromFolded["profiles"] as? [[String: Any]])?.first)
        #expect(p["unit"] as? String == "none")
        #expect((p["weights"] as? [Int])?.reduce(0, +) == folded.total)
    }

    /// Every format from one capture, chosen by --format or by the output's name; --icicle only with svg.
    @Test func formatsFromOneCapture() throws {
        let folded = FPProf.temporaryPath("folded")
        defer { unlink(folded) }
        let (capture, _, _) = try recordWithCapture(.shares, seconds: "1", output: folded)
        defer { unlink(capture) }
        let cases: [([String], String, (Data) -> Bool)] = [
            (["--format", "pprof"], "out", { $0.starts(with: [0x1f, 0x8b]) }),
            ([], "pb.gz", { $0.starts(with: [0x1f, 0x8b]) }),
            ([], "pprof", { $0.starts(with: [0x1f, 0x8b]) }),
            ([], "svg", { $0.starts(with: Data("<?xml".utf8)) }),
            (["--icicle"], "svg", { String(decoding: $0, as: UTF8.self).contains("Icicle Graph") }),
            ([], "speedscope.json", { $0.starts(with: Data("{\"$schema\"".utf8)) }),
            ([], "txt", { $0.starts(with: Data("shares;".utf8)) }),
            (["--format", "folded"], "svg", { $0.starts(with: Data("shares;".utf8)) }),
        ]
        for (flags, suffix, check) in cases {
            let out = FPProf.temporaryPath(suffix)
            defer { unlink(out) }
            let r = try FPProf.run(["report", capture, "-o", out] + flags)
            #expect(r.status == 0, "\(flags) \(suffix): \(r.stderr)")
            #expect(check(try Data(contentsOf: URL(fileURLWithPath: out))), "\(flags) \(suffix)")
        }
        let icicle = try FPProf.run(["report", capture, "--icicle", "-o", FPProf.temporaryPath("folded")])
        #expect(icicle.status == 64)
        #expect(icicle.stderr.contains("--icicle"))
    }

    /// A binary that is gone by report time: its frames become `name+0xOFFSET`, with one warning for it.
    @Test func missingBinaryGivesOffsetsAndOneWarning() throws {
        let directory = FPProf.temporaryPath("dir")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let copy = directory + "/shares-gone"
        try FileManager.default.copyItem(atPath: try FixtureBuilder.path(for: .shares), toPath: copy)
        let capture = directory + "/run.fpc"
        let record = try FPProf.run([
            "record", "-F", "499", "--raw", capture, "-o", directory + "/live.folded", "--", copy, "1",
        ])
        #expect(record.status == 0 || record.status == 2, "\(record.stderr)")
        try FileManager.default.removeItem(atPath: copy)
        let r = try FPProf.run(["report", capture])
        #expect(r.status == 0, "\(r.stderr)")
        let folded = try Folded(parsing: r.stdout)
        let offsets = folded.lines.flatMap(\.frames).filter { $0.hasPrefix("shares-gone+0x") }
        #expect(!offsets.isEmpty, "\(r.stdout)")
        #expect(!folded.lines.flatMap(\.frames).contains("leaf_a"))
        let warnings = r.stderr.split(separator: "\n").filter { $0.contains("warning") && $0.contains("shares-gone") }
        #expect(warnings.count == 1, "\(r.stderr)")

        // A copy of the machine's files under --symfs (the binary kept elsewhere, /usr linked) names them again.
        let symfs = directory + "/symfs"
        try FileManager.default.createDirectory(atPath: symfs + directory, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: symfs + "/usr", withDestinationPath: "/usr")
        try FileManager.default.copyItem(atPath: try FixtureBuilder.path(for: .shares), toPath: symfs + copy)
        let named = try FPProf.run(["report", capture, "--symfs", symfs])
        #expect(named.status == 0, "\(named.stderr)")
        #expect(named.stdout == (try String(contentsOfFile: directory + "/live.folded", encoding: .utf8)))
    }

    static func keep(_ path: String, as name: String) {
        guard let dir = ProcessInfo.processInfo.environment["FPPROF_TEST_ARTIFACTS"] else { return }
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: dir + "/" + name)
        try? FileManager.default.copyItem(atPath: path, toPath: dir + "/" + name)
    }
}

/// `fpprof report` on inputs that are not what they claim: a clear message and exit 1, never a trap. These need
/// no privileges: the captures are made here with the core's encoder.
@Suite(.serialized) struct ReportInputTests {
    /// A capture with a process name and `count` samples whose registers are missing (so they end `[truncated]`).
    static func syntheticCapture(samples count: Int = 5) -> [UInt8] {
        let format = RecordFormat.amd64Profiling
        let encoder = RecordEncoder(format: format)
        var records: [UInt8] = []
        records += encoder.encode(.comm(Comm(pid: ProcessID(77), tid: ThreadID(77), name: "demo", isExec: true)))
        for i in 0..<count {
            records += encoder.encode(
                .sample(
                    Sample(
                        ip: VirtualAddress(0x1000), pid: ProcessID(77), tid: ThreadID(77), time: UInt64(10 + i),
                        cpu: 0, period: 1_000_000)))
        }
        return Capture.encodeHeader(CaptureHeader(format: format, frequency: 99, stackSize: 8192, event: "cpu-clock"))
            + Capture.encodeRecords(records)
    }

    func report(_ bytes: [UInt8], _ arguments: [String] = []) throws -> CommandResult {
        let path = FPProf.temporaryPath("input")
        defer { unlink(path) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return try FPProf.run(["report", path] + arguments)
    }

    @Test func syntheticCaptureRendersInEveryFormat() throws {
        let r = try report(Self.syntheticCapture())
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("demo;[truncated]"), "\(r.stdout)")
        #expect(r.stdout.hasSuffix(" 5\n"))
        let svg = try report(Self.syntheticCapture(), ["--format", "svg"])
        #expect(svg.status == 0)
        #expect(try FlamegraphXML(svg.stdout).frames.contains { $0.name == "[truncated]" && $0.count == 5 })
    }

    /// A capture cut inside its header, or before its first whole sample, is a clear error; one cut later gives the
    /// samples before the cut, a warning and exit 2, as `perf report` reads an unfinished perf.data.
    @Test func truncatedCaptureIsAClearErrorOrAPartialProfile() throws {
        let whole = Self.syntheticCapture()
        let header = Capture.encodeHeader(
            CaptureHeader(format: .amd64Profiling, frequency: 99, stackSize: 8192, event: "cpu-clock"))
        for cut in [12, 40, header.count + 20] {
            let r = try report(Array(whole.prefix(cut)))
            #expect(r.status == 1, "cut at \(cut): \(r.stderr)")
            #expect(r.signal == nil)
            #expect(r.stderr.contains("capture is truncated at byte"), "\(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
        // Inside the fifth sample: four are whole.
        let r = try report(Array(whole.prefix(whole.count - 9)))
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("capture is truncated at byte \(header.count)"), "\(r.stderr)")
        #expect(r.stderr.contains("the 4 samples before the cut are used"), "\(r.stderr)")
        #expect(r.stdout == "demo;[truncated] 4\n")
    }

    @Test func garbageIsAClearError() throws {
        var generator = SystemRandomNumberGenerator()
        let garbage = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let r = try report(garbage)
        #expect(r.status == 1)
        #expect(r.signal == nil)
        #expect(r.stderr.contains("not an fpprof capture"), "\(r.stderr)")
        // Text that is not folded stacks names the line.
        let text = try report(Array("hello world\nthis is not a profile\n".utf8))
        #expect(text.status == 1)
        #expect(text.stderr.contains("line 1"), "\(text.stderr)")
        // An empty file and a missing one.
        #expect(try report([]).status == 1)
        let missing = try FPProf.run(["report", "/nonexistent/capture.fpc"])
        #expect(missing.status == 1 && missing.stderr.contains("no such file"))
    }

    /// Garbage inside a well-framed capture: records that do not decode are counted, never trusted.
    @Test func corruptRecordsNeverCrash() throws {
        let whole = Self.syntheticCapture(samples: 50)
        let header = Capture.encodeHeader(
            CaptureHeader(format: .amd64Profiling, frequency: 99, stackSize: 8192, event: "cpu-clock"))
        var generator = SystemRandomNumberGenerator()
        for round in 0..<20 {
            var bytes = whole
            for _ in 0..<(1 + round) {
                let i = Int.random(in: (header.count + 16)..<bytes.count, using: &generator)
                bytes[i] = UInt8.random(in: 0...255, using: &generator)
            }
            let r = try report(bytes, ["--format", round % 2 == 0 ? "pprof" : "svg", "-o", "/dev/null"])
            #expect(r.signal == nil, "round \(round): \(r.stderr)")
            #expect([0, 1, 2].contains(r.status), "round \(round): \(r.status) \(r.stderr)")
        }
        let allGarbage = header + Capture.encodeRecords((0..<512).map { UInt8(truncatingIfNeeded: $0 &* 131) })
        let r = try report(allGarbage)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("corrupt"), "\(r.stderr)")
    }

    /// Runs fpprof with `input` on its standard input (the shared runner gives it /dev/null); the exit status.
    static func runWithStandardInput(_ arguments: [String], input: String) throws -> Int32 {
        let path = FPProf.temporaryPath("stdin")
        defer { unlink(path) }
        try input.write(toFile: path, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: FPProf.executable)
        process.arguments = arguments
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// stackcollapse-perf.pl's output renders to every other format.
    @Test func stackcollapseOutputRenders() throws {
        let folded = "perf-demo;_start;main;compute 30\nperf-demo;_start;main;[unknown] 10\nswapper;cpu_idle_[k] 60\n"
        let svg = try report(Array(folded.utf8), ["--format", "svg"])
        #expect(svg.status == 0, "\(svg.stderr)")
        let doc = try FlamegraphXML(svg.stdout)
        #expect(doc.frames.first { $0.name == "compute" }?.count == 30)
        #expect(doc.frames.first { $0.depth == 0 }?.count == 100)
        let back = try report(Array(folded.utf8))
        #expect(back.stdout == folded.split(separator: "\n").sorted().joined(separator: "\n") + "\n")
        let path = FPProf.temporaryPath("pb.gz")
        defer { unlink(path) }
        let status = try Self.runWithStandardInput(["report", "-", "-o", path], input: folded)
        #expect(status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).starts(with: [0x1f, 0x8b]))
    }
}

/// `go tool pprof`, run in a scratch HOME so it writes nothing of the user's.
enum GoPprof {
    static func run(_ arguments: [String]) throws -> String {
        let home = FPProf.temporaryPath("home")
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        let result = try FixtureCommand.check(
            FixtureCommand.which("go")!, ["tool", "pprof"] + arguments,
            environment: ["HOME": home, "PPROF_TMPDIR": home, "GOCACHE": home + "/cache"])
        return result.stdout
    }

    struct Row {
        var flat: Double
        var cum: Double
    }

    /// `-top` rows: `flat flat% sum% cum cum% name`, by name.
    static func topRows(_ text: String) -> [String: Row] {
        var rows: [String: Row] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1].hasSuffix("%"), fields[4].hasSuffix("%"),
                let flat = Double(fields[1].dropLast()), let cum = Double(fields[4].dropLast())
            else { continue }
            rows[fields[5...].joined(separator: " ")] = Row(flat: flat, cum: cum)
        }
        return rows
    }
}

/// The GNU build-id of an ELF file, read with `readelf -n` (binutils), as hex.
enum ElfNotes {
    static func buildID(of path: String) throws -> String? {
        guard let readelf = FixtureCommand.which("readelf") else { return nil }
        let out = try FixtureCommand.check(readelf, ["-n", path]).stdout
        guard let line = out.split(separator: "\n").first(where: { $0.contains("Build ID:") }) else { return nil }
        return line.split(separator: " ").last.map(String.init)
    }
}

/// A flamegraph's frames as an XML parser reads them.
struct FlamegraphXML {
    struct Frame {
        var classes: Set<String>
        var start = 0
        var count = 0
        var depth = 0
        var name = ""
        var width = 0.0
        var fill = ""
    }

    var root: [String: String] = [:]
    var frames: [Frame] = []

    init(_ text: String) throws {
        let collector = Collector()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = collector
        guard parser.parse() else {
            throw FixtureError(
                command: ["XMLParser"], status: nil, message: "\(String(describing: parser.parserError))")
        }
        root = collector.root
        frames = collector.frames
    }

    /// The flamegraph's violet band (hue 266...282 degrees): only flagged stacks use it.
    static func isViolet(_ fill: String) -> Bool {
        let parts = fill.dropFirst(4).dropLast().split(separator: ",").compactMap { Double($0) }
        guard fill.hasPrefix("rgb("), parts.count == 3 else { return false }
        let (r, g, b) = (parts[0], parts[1], parts[2])
        let maxV = max(r, g, b)
        let d = maxV - min(r, g, b)
        guard d > 0, maxV == b else { return false }
        let hue = 60 * ((r - g) / d + 4)
        return (260...290).contains(hue)
    }

    private final class Collector: NSObject, XMLParserDelegate {
        var root: [String: String] = [:]
        var frames: [Frame] = []
        var current: Frame?
        var inTitle = false
        var title = ""

        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            if name == "svg" { root = attributes }
            let classes = Set((attributes["class"] ?? "").split(separator: " ").map(String.init))
            if name == "g", classes.contains("f") {
                current = Frame(
                    classes: classes, start: Int(attributes["data-x"] ?? "") ?? -1,
                    count: Int(attributes["data-n"] ?? "") ?? -1, depth: Int(attributes["data-d"] ?? "") ?? -1)
            } else if name == "title", current != nil {
                inTitle = true
                title = ""
            } else if name == "rect", current != nil {
                current!.width = Double(attributes["width"] ?? "") ?? .nan
                current!.fill = attributes["fill"] ?? ""
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if inTitle { title += string }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "title", inTitle {
                current?.name = String(title.split(separator: "\n").first ?? "")
                inTitle = false
            } else if name == "g", let frame = current {
                frames.append(frame)
                current = nil
            }
        }
    }
}
