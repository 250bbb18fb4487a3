// The programs that the end-to-end tests profile, and the code that builds them.
//
// Sources live in Tests/Fixtures/c (one C file per fixture, plus fixture_common.h) and Tests/Fixtures/go (one
// package per fixture; go/cgo has C files of its own).
// Each fixture is built at most once per test process, into /tmp/fpprof-fixtures-<uid>-<hash>/<name>, where the
// hash covers the fixture's source paths, contents and build flags: a later test process with the same sources
// reuses the build, and an edit to a source gets a fresh directory. The executable is named after the fixture's raw value, so the
// process name (comm) that a profile shows is `shares`, `recursion`, ..., `go-shares`.

import FPProfSampler
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A small program with a known CPU profile, built from Tests/Fixtures.
///
/// Every C fixture takes its run time in seconds as its first argument (fractions allowed, default 3, `0` = run
/// until killed, for attach tests) and exits with status 0. See `expectedStacks` for what a profile must show.
enum Fixture: String, CaseIterable, Sendable {
    /// `main;path_a;a1;leaf_a` 50 %, `main;path_b;leaf_b` 30 %, `main;path_c;c1;c2;c3;leaf_c` 20 %.
    case shares
    /// `main;recurse` × 300 `;spin_at_bottom` (second argument: the depth). Each level is a 16-byte frame.
    case recursion
    /// Half healthy (`main;healthy_work;healthy_leaf`), half under `loop_callee`, whose saved BP points at itself.
    /// With `FPPROF_FIXTURE_CHECK=1` it prints `selfloop ok` at exit.
    case fploop
    /// Half healthy, half under `cycle_callee`, whose frame chain cycles recA -> recB -> recA.
    /// With `FPPROF_FIXTURE_CHECK=1` it prints `cycle ok` at exit.
    case fpcycle
    /// `main;main_spin` from the start; after 1 s (second argument) a thread "late-worker" runs
    /// `late_thread_work;late_leaf`.
    case latethread
    /// `main;run_jitted;jitted_hot;jit_leaf`, where `jitted_hot` is machine code written at run time into anonymous
    /// memory and named only by the /tmp/perf-PID.map line the fixture writes (its path printed on stdout; the map
    /// stays after exit, for the profiler: remove it with `removeJITMaps(listedIn:)`).
    case jit
    /// Short-lived children, each with its own JIT page named `jit_child_N_PID` in its perf map (see jitchurn.c):
    /// `main;child_main;run_child_jit;jit_child_N_PID;jit_child_leaf`, then the parent's `main;parent_tail`.
    case jitchurn
    /// A SIGPROF handler (setitimer ITIMER_PROF every 10 ms of CPU) that burns about 3 ms in `sigprof_leaf`:
    /// `__restore_rt;on_sigprof;sigprof_leaf` (the kernel's signal frame returns into glibc's restorer), the rest
    /// `main;main_spin`. With `FPPROF_FIXTURE_CHECK=1` it prints `handled N` at exit.
    case sigprof
    /// `main;outer_fp;sort_nofp;qsort;<glibc>;compare_fp;leaf_nofp`: frames with and without frame records
    /// alternating, glibc's qsort (no frame pointers) between them, and junk in %rbp while it runs (see mixed.c).
    /// A frame-pointer walk cannot reach `main` from the leaf; `--unwind hybrid` must.
    case mixed
    /// Go: three goroutines, each `runtime.goexit;main.worker;main.workA|workB|workC` at 50/30/20 %.
    case goShares = "go-shares"
    /// `main;frameless_caller;frameless_leaf`, built with `-O2` (`optimizedCFlags`): the leaf pushes no frame record.
    case frameless
    /// `shares` (its stacks and shares) built `-O2 -fomit-frame-pointer` (`omittedFramePointerCFlags`), as
    /// distributions built C before 2023: no function of it keeps a frame record, and main uses BP as a register.
    case sharesOmitFP = "shares-omitfp"
    /// Go: goroutines allocating short-lived trees with GOGC=10: much of the CPU in the GC and the allocator on g0
    /// (under runtime.systemstack) and in background mark workers.
    case goGCHeavy = "go-gcheavy"
    /// Go: a ring of goroutines passing a token over unbuffered channels: mostly scheduler (mcall, systemstack).
    case goChanHeavy = "go-chanheavy"
    /// Go: `runtime.goexit;main.main.func1;main.worker;main.caller;main.leaf`, where the compiler gives main.leaf no frame record.
    case goLeaf = "go-leaf"
    /// Go: three goroutines spinning in `main.spinA`, `main.spinB`, `main.spinC` (each calling `main.churn`) with
    /// GOMAXPROCS=2; each prints `spinX ID` (its goroutine id, from runtime.Stack) to stdout when it starts.
    case goGoroutines = "go-goroutines"
    /// Go: `goGCHeavy` built with `-ldflags=-s -w`, as Debian ships Go programs: no `.symtab`, no DWARF.
    case goGCHeavyStripped = "go-gcheavy-s"
    /// Go: `runtime.goexit;runtime.main;main.main;main.worker;main.callC;main._Cfunc_c_outer;runtime.cgocall;
    /// runtime.asmcgocall;_cgo_..._Cfunc_c_outer;c_outer;c_middle;c_leaf`: nearly all the CPU in C code built
    /// `-O2 -fomit-frame-pointer` (burn.c), which cgo runs on the thread's g0 stack.
    case goCgo = "go-cgo"
    /// Go: an HTTP client loading a loopback URL (its second argument; without one, a server of its own) from four
    /// kept-alive connections; prints `requests N errors M`. The load for tests on a real server (Debian's caddy).
    case goHTTPLoad = "go-httpload"

    /// The executable's file name, which is also the process name (comm) in profiles.
    var executableName: String { rawValue }

    var isGo: Bool {
        [.goShares, .goGCHeavy, .goChanHeavy, .goLeaf, .goGoroutines, .goGCHeavyStripped, .goHTTPLoad, .goCgo]
            .contains(self)
    }

    /// `go build` flags beyond the defaults.
    var goBuildFlags: [String] { self == .goGCHeavyStripped ? ["-ldflags=-s -w"] : [] }

    /// The function names the fixture defines (all with a frame record; the C ones checked by FixtureTests).
    var functionNames: [String] {
        switch self {
        case .shares: ["main", "path_a", "a1", "leaf_a", "path_b", "leaf_b", "path_c", "c1", "c2", "c3", "leaf_c"]
        case .recursion: ["main", "recurse", "spin_at_bottom"]
        case .fploop: ["main", "healthy_work", "healthy_leaf", "loop_phase", "loop_caller", "loop_callee"]
        case .fpcycle:
            ["main", "healthy_work", "healthy_leaf", "cycle_phase", "cycle_caller", "cycle_callee"]
        case .latethread: ["main", "main_spin", "late_thread_work", "late_leaf"]
        case .jit: ["main", "run_jitted", "jit_leaf"]
        case .jitchurn: ["main", "child_main", "run_child_jit", "jit_child_leaf", "parent_tail"]
        case .sigprof: ["main", "main_spin", "on_sigprof", "sigprof_leaf"]
        // sort_nofp and leaf_nofp keep no frame record, by design.
        case .mixed: ["main", "outer_fp", "compare_fp"]
        case .goShares: ["main.main", "main.worker", "main.workA", "main.workB", "main.workC", "main.account"]
        // At -O2 gcc schedules other instructions into the callers' prologues; only main keeps the plain one.
        case .frameless: ["main"]
        // None keeps one, by design: FixtureTests checks that shares' functions are all there without a record.
        case .sharesOmitFP: []
        case .goGCHeavy, .goGCHeavyStripped: ["main.main", "main.worker", "main.build", "main.check"]
        case .goHTTPLoad: ["main.main", "main.serveItself"]
        case .goChanHeavy: ["main.main", "main.relay"]
        case .goLeaf: ["main.main", "main.worker", "main.caller", "main.leaf"]
        case .goGoroutines: ["main.main", "main.spinA", "main.spinB", "main.spinC", "main.churn"]
        // c_outer, c_middle and c_leaf keep no frame record, by design.
        case .goCgo: ["main.main", "main.worker", "main.callC"]
        }
    }

    /// The true stacks of the fixture's work, root-first, from its first own frame (`main`, the thread function,
    /// or `runtime.goexit` for goroutines) to the leaf, with the share of CPU samples each must get. Frames above
    /// `main` (`__libc_start_call_main`, `_start`) and above a thread function (`start_thread`, `clone3`) are left
    /// out: they vary with the C library. For `fploop` and `fpcycle` these are the stacks a DWARF unwinder sees; a
    /// frame-pointer walk must stop at the bad record (see `frameWalkBeforeMarker`).
    var expectedStacks: [ExpectedStack] {
        switch self {
        case .shares, .sharesOmitFP:
            [
                ExpectedStack(["main", "path_a", "a1", "leaf_a"], share: 0.5),
                ExpectedStack(["main", "path_b", "leaf_b"], share: 0.3),
                ExpectedStack(["main", "path_c", "c1", "c2", "c3", "leaf_c"], share: 0.2),
            ]
        case .recursion:
            [ExpectedStack(["main"] + Array(repeating: "recurse", count: 300) + ["spin_at_bottom"], share: 1.0)]
        case .fploop:
            [
                ExpectedStack(["main", "healthy_work", "healthy_leaf"], share: 0.5),
                ExpectedStack(["main", "loop_phase", "loop_caller", "loop_callee"], share: 0.5),
            ]
        case .fpcycle:
            [
                ExpectedStack(["main", "healthy_work", "healthy_leaf"], share: 0.5),
                ExpectedStack(["main", "cycle_phase", "cycle_caller", "cycle_callee"], share: 0.5),
            ]
        case .latethread:
            [
                ExpectedStack(["main", "main_spin"], share: nil, thread: "latethread"),
                ExpectedStack(["late_thread_work", "late_leaf"], share: nil, thread: "late-worker"),
            ]
        case .goShares:
            [
                ExpectedStack(["runtime.goexit", "main.worker", "main.workA"], share: 0.5),
                ExpectedStack(["runtime.goexit", "main.worker", "main.workB"], share: 0.3),
                ExpectedStack(["runtime.goexit", "main.worker", "main.workC"], share: 0.2),
            ]
        case .frameless: [ExpectedStack(["main", "frameless_caller", "frameless_leaf"], share: nil)]
        case .jit: [ExpectedStack(["main", "run_jitted", "jitted_hot", "jit_leaf"], share: 1.0)]
        case .sigprof:
            [
                ExpectedStack(["main", "main_spin"], share: nil),
                ExpectedStack(["__restore_rt", "on_sigprof", "sigprof_leaf"], share: nil),
            ]
        case .goLeaf:
            [
                ExpectedStack(
                    ["runtime.goexit", "main.main.func1", "main.worker", "main.caller", "main.leaf"], share: nil)
            ]
        // mixed: glibc's frames between sort_nofp and compare_fp vary with the C library (see HybridDifferentialTests).
        // go-cgo: cgo's generated `_cgo_<hash>_Cfunc_c_outer` between the switch and c_outer (see CgoStackTests).
        case .goGCHeavy, .goChanHeavy, .goGoroutines, .goGCHeavyStripped, .goHTTPLoad, .jitchurn, .mixed, .goCgo: []
        }
    }

    /// For the fixtures with a broken frame chain: the frames, leaf-first, that a frame-pointer walk finds in the
    /// broken half before it must stop with a marker (`[fp-loop]` for fploop, `[fp-cycle]` for fpcycle).
    /// perf's kernel walk instead repeats loop_caller (or cycle_frame_a, cycle_frame_b) up to 127 frames.
    var frameWalkBeforeMarker: [String]? {
        switch self {
        case .fploop: ["loop_callee", "loop_caller"]
        case .fpcycle: ["cycle_callee", "cycle_caller", "cycle_frame_a", "cycle_frame_b"]
        default: nil
        }
    }
}

extension Fixture {
    /// Removes the JIT maps whose paths the `jit` fixture printed in `output` (only /tmp/perf-PID.map paths).
    static func removeJITMaps(listedIn output: String) {
        for line in output.split(separator: "\n") where line.hasPrefix("/tmp/perf-") && line.hasSuffix(".map") {
            unlink(String(line))
        }
    }
}

/// One call path of a fixture, root-first.
struct ExpectedStack: Sendable, Equatable {
    var frames: [String]
    /// The fraction of the process's (or the thread's) CPU samples that end in this stack; nil when not fixed.
    var share: Double?
    /// The thread name (comm) the samples carry, when it differs between stacks.
    var thread: String?

    init(_ frames: [String], share: Double?, thread: String? = nil) {
        self.frames = frames
        self.share = share
        self.thread = thread
    }

    /// The frames joined with `;`, as a folded line writes them.
    var folded: String { frames.joined(separator: ";") }
}

/// A failure to build or run a fixture, with the command and what it wrote to stderr.
struct FixtureError: Error, CustomStringConvertible {
    var command: [String]
    var status: Int32?
    var message: String

    var description: String {
        let status = self.status.map { "exit status \($0)" } ?? "not run"
        return "\(command.joined(separator: " ")): \(status): \(message)"
    }
}

/// What a finished command wrote and how it ended.
struct CommandResult: Sendable {
    /// The exit status, or 128 + the signal number when a signal ended the process (as shells report it).
    var status: Int32
    /// The signal that ended the process, if one did.
    var signal: Int32?
    var stdout: String
    var stderr: String
}

/// Runs commands with Foundation's `Process`, output captured through temporary files (no pipe can fill up).
enum FixtureCommand {
    /// Runs `executable` to completion, or kills it (SIGKILL, this child only) after `timeout` seconds and throws.
    /// `environment` entries are added to (or replace) the test process's environment.
    static func run(
        _ executable: String, _ arguments: [String] = [], environment: [String: String] = [:],
        currentDirectory: String? = nil, timeout: Double = 120
    ) throws -> CommandResult {
        let command = [executable] + arguments
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "fpprof-cmd-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout")
        let errURL = scratch.appendingPathComponent("stderr")
        guard FileManager.default.createFile(atPath: outURL.path, contents: nil),
            FileManager.default.createFile(atPath: errURL.path, contents: nil)
        else {
            throw FixtureError(command: command, status: nil, message: "cannot create output files in \(scratch.path)")
        }
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        defer {
            try? out.close()
            try? err.close()
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        if let currentDirectory {
            process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory)
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        // The child inherits this thread's signal mask, and the threads tests run on block most signals: a program
        // that times itself with alarm() (`openssl speed`) would never stop. Unblocked for the spawn alone.
        var none = sigset_t()
        var saved = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, &saved)
        do {
            defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
            try process.run()
        } catch {
            throw FixtureError(command: command, status: nil, message: "cannot start: \(error)")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline {
            usleep(5_000)
        }
        var timedOut = false
        if process.isRunning {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        let signaled = process.terminationReason == .uncaughtSignal
        let result = CommandResult(
            status: signaled ? 128 + process.terminationStatus : process.terminationStatus,
            signal: signaled ? process.terminationStatus : nil,
            stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
        if timedOut {
            throw FixtureError(
                command: command, status: nil, message: "killed after \(timeout) s; stderr: \(result.stderr)")
        }
        return result
    }

    /// Runs a command that must succeed; throws with its stderr otherwise.
    @discardableResult
    static func check(
        _ executable: String, _ arguments: [String] = [], environment: [String: String] = [:],
        currentDirectory: String? = nil, timeout: Double = 120
    ) throws -> CommandResult {
        let result = try run(
            executable, arguments, environment: environment, currentDirectory: currentDirectory, timeout: timeout)
        guard result.status == 0 else {
            throw FixtureError(
                command: [executable] + arguments, status: result.status,
                message: result.stderr.isEmpty ? result.stdout : result.stderr)
        }
        return result
    }

    /// The absolute path of `name` found on PATH (or the usual system directories), if any.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/local/bin", "/usr/bin", "/bin"]
        for directory in directories where !directory.isEmpty {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// Builds fixtures on demand, once per test process; safe to call from tests running in parallel.
struct FixtureBuilder {
    /// gcc flags of every C fixture. gcc 12 still drops the frame of a leaf that needs no stack despite the first
    /// two; the fixtures force it with FIXTURE_KEEP_FRAME (see fixture_common.h).
    static let cFlags = [
        "-O1", "-g", "-fno-omit-frame-pointer", "-mno-omit-leaf-frame-pointer", "-fno-optimize-sibling-calls",
        "-Wall", "-Wextra",
    ]

    /// gcc flags of the fixtures that need the optimizer's frameless leaves (`frameless`).
    static let optimizedCFlags = [
        "-O2", "-g", "-fno-omit-frame-pointer", "-fno-optimize-sibling-calls", "-Wall", "-Wextra",
    ]

    /// gcc flags of the fixtures built as code without frame pointers (`sharesOmitFP`): `FIXTURE_OMIT_FRAME_POINTER`
    /// drops the frame record fixture_common.h otherwise forces on every leaf; sibling calls stay calls, so that
    /// every function stays a frame of its own.
    static let omittedFramePointerCFlags = [
        "-O2", "-g", "-fomit-frame-pointer", "-fno-optimize-sibling-calls", "-DFIXTURE_OMIT_FRAME_POINTER", "-Wall",
        "-Wextra",
    ]

    static func cFlags(_ fixture: Fixture) -> [String] {
        switch fixture {
        case .frameless: optimizedCFlags
        case .sharesOmitFP: omittedFramePointerCFlags
        default: cFlags
        }
    }

    /// Tests/Fixtures, found from this file's path.
    static var fixturesDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures")
    }

    /// The path of the fixture's executable, building it first if this process has not done so yet.
    /// Throws `FixtureError` (with the compiler's stderr) when the build fails; a failed build is not retried.
    static func path(for fixture: Fixture) throws -> String {
        let slot = slots[fixture]!
        return try slot.state.withLock { state in
            if let state { return try state.get() }
            let result = Result { try build(fixture) }
            state = result
            return try result.get()
        }
    }

    /// The C source file or the Go package directory of a fixture.
    static func source(of fixture: Fixture) -> URL {
        switch fixture {
        case .goShares: fixturesDirectory.appendingPathComponent("go/shares")
        case .goGCHeavy, .goGCHeavyStripped: fixturesDirectory.appendingPathComponent("go/gcheavy")
        case .goHTTPLoad: fixturesDirectory.appendingPathComponent("go/httpload")
        case .goChanHeavy: fixturesDirectory.appendingPathComponent("go/chanheavy")
        case .goLeaf: fixturesDirectory.appendingPathComponent("go/leaf")
        case .goGoroutines: fixturesDirectory.appendingPathComponent("go/goroutines")
        case .goCgo: fixturesDirectory.appendingPathComponent("go/cgo")
        case .sharesOmitFP: fixturesDirectory.appendingPathComponent("c/shares.c")
        default: fixturesDirectory.appendingPathComponent("c/\(fixture.rawValue).c")
        }
    }

    // MARK: - Building

    /// One lock and one remembered outcome per fixture, so that building one fixture never waits for another.
    private final class Slot: Sendable {
        let state = Locked<Result<String, any Error>?>(nil)
    }

    private static let slots: [Fixture: Slot] = Dictionary(
        uniqueKeysWithValues: Fixture.allCases.map { ($0, Slot()) })

    private static func build(_ fixture: Fixture) throws -> String {
        let inputs = try inputFiles(of: fixture)
        var hasher = FNV1a()
        for flag in cFlags(fixture) + pthreadFlags(fixture) + fixture.goBuildFlags {
            hasher.add(Array(flag.utf8) + [0])
        }
        for file in inputs {
            // The full path: DWARF names the source file, so two checkouts must not share a build.
            hasher.add(Array(file.path.utf8) + [0])
            hasher.add(Array(try Data(contentsOf: file)))
        }
        let directory = URL(fileURLWithPath: "/tmp/fpprof-fixtures-\(getuid())-\(hasher.hex)")
        let output = directory.appendingPathComponent(fixture.executableName)
        if FileManager.default.isExecutableFile(atPath: output.path) {
            return output.path  // built by an earlier test process from the same sources
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // Build under a unique name, then rename: a concurrent test process never sees a partial executable.
        let temporary = directory.appendingPathComponent(".\(fixture.executableName).\(getpid()).\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: temporary) }
        if fixture.isGo {
            try buildGo(fixture, to: temporary.path)
        } else {
            try buildC(fixture, to: temporary.path)
        }
        guard rename(temporary.path, output.path) == 0 else {
            throw FixtureError(
                command: ["rename", temporary.path, output.path], status: nil,
                message: String(cString: strerror(errno)))
        }
        return output.path
    }

    private static func pthreadFlags(_ fixture: Fixture) -> [String] {
        fixture == .latethread ? ["-pthread"] : []
    }

    private static func inputFiles(of fixture: Fixture) throws -> [URL] {
        let source = source(of: fixture)
        if fixture.isGo {
            // The fixture's package and the one every Go fixture shares (`fixtureargs`, through a `replace`).
            let shared = fixturesDirectory.appendingPathComponent("go/fixtureargs")
            return try [source, shared].flatMap { directory in
                try FileManager.default.contentsOfDirectory(atPath: directory.path)
                    .filter { name in [".go", ".c", ".h"].contains { name.hasSuffix($0) } || name == "go.mod" }
                    .sorted()
                    .map { directory.appendingPathComponent($0) }
            }
        }
        return [source, fixturesDirectory.appendingPathComponent("c/fixture_common.h")]
    }

    private static func buildC(_ fixture: Fixture, to output: String) throws {
        guard let gcc = FixtureCommand.which("gcc") else {
            throw FixtureError(command: ["gcc"], status: nil, message: "gcc not found on PATH")
        }
        try FixtureCommand.check(
            gcc, cFlags(fixture) + pthreadFlags(fixture) + ["-o", output, source(of: fixture).path])
    }

    /// The `go` command on PATH, or an error that says it is missing.
    static func goTool() throws -> String {
        guard let go = FixtureCommand.which("go") else {
            throw FixtureError(command: ["go"], status: nil, message: "go not found on PATH")
        }
        return go
    }

    private static func buildGo(_ fixture: Fixture, to output: String) throws {
        let go = try goTool()
        let inherited = ProcessInfo.processInfo.environment
        // The fixture has no dependencies: never touch the network, never switch toolchains.
        var environment = ["GOFLAGS": "", "GOPROXY": "off", "GOTOOLCHAIN": "local", "GO111MODULE": "on"]
        // cgo is on by default where gcc is; an environment that turns it off could not build go-cgo (import "C").
        if fixture == .goCgo { environment["CGO_ENABLED"] = "1" }
        let home = inherited["HOME"] ?? ""
        if inherited["GOCACHE"] == nil && (home.isEmpty || !FileManager.default.isWritableFile(atPath: home)) {
            environment["GOCACHE"] = "/tmp/fpprof-fixtures-\(getuid())-gocache"
        }
        try FixtureCommand.check(
            go, ["build", "-o", output] + fixture.goBuildFlags + ["."], environment: environment,
            currentDirectory: source(of: fixture).path)
    }
}

/// 64-bit FNV-1a, enough to name a build directory after its inputs.
struct FNV1a {
    private var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: [UInt8]) {
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
    }

    var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
