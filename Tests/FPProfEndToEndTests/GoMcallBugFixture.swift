// The 2023 Go frame-pointer loop, re-created on Debian's Go 1.19 for the end-to-end tests (GoMcallBugTests).
//
// In March 2023 a Go change gave `runtime.mcall` a frame record of its own and it saved that frame's BP in
// `g.sched.bp` instead of its caller's; `gogo` then resumed goroutines with a BP pointing into the dead mcall frame
// just below SP, and the next call pushed a saved BP that pointed at itself (fixed by Go commit b52f6d3, "runtime:
// fix frame pointer loop on amd64"). Tests/Fixtures/gobug/mcall-frame-loop.patch puts that shape into Go 1.19's
// `runtime·mcall` (src/runtime/asm_amd64.s); Tests/Fixtures/gobug/mcallbug is a program that loops on
// `runtime.Gosched()` followed by a call of a non-leaf function, then runs a phase that never yields.
//
// `GoMcallBug.path(for: .buggy)` copies the Go 1.19 tree (symlinks followed), applies the patch and builds the
// program with the copy's `go` (which recompiles the changed runtime and everything above it into a GOCACHE of its
// own, in seconds); `.stock` builds the same program with the unchanged tree. Both are built at most once per test
// process, into /tmp/fpprof-gobug-<uid>-<hash>/, where the hash covers the patch, the program's source paths and
// contents, and the stock tree's path, VERSION and original asm_amd64.s: a later test process reuses the builds. The
// copy of the tree and the build caches are deleted once both executables are in place.

import FPProfSampler
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The program that shows the Go mcall frame-pointer loop when built by a patched Go 1.19, and its two builds.
enum GoMcallBug {
    /// Which runtime the program is built with. The raw value is the executable's name and so the process name.
    enum Build: String, CaseIterable, Sendable {
        /// Go 1.19 with mcall-frame-loop.patch: `main.yieldWork`'s frame record holds its own address.
        case buggy = "gobug-buggy"
        /// Debian's Go 1.19 as installed: every chain whole.
        case stock = "gobug-stock"
        /// The buggy build linked with `-ldflags=-s -w`: no `.symtab`, no DWARF, as distributions ship Go programs.
        case buggyStripped = "gobug-buggy-s"

        /// `go build` flags beyond the defaults.
        var flags: [String] { self == .buggyStripped ? ["-ldflags=-s -w"] : [] }
    }

    /// The looping function: it calls `runtime.Gosched` (inlined: `mcall(gosched_m)`) and then `loopCallee`.
    static let loopFunction = "main.yieldLoop"
    /// The non-leaf function that the looping function calls after each Gosched: the owner of the self-referential
    /// frame record in the buggy build (its return address points into `loopFunction`).
    static let loopCallee = "main.yieldWork"
    /// The second phase's function, which never yields: its chain is whole in both builds.
    static let steadyFunction = "main.steadyLoop"
    static let steadyCallee = "main.steadyWork"

    /// Tests/Fixtures/gobug.
    static var directory: URL { FixtureBuilder.fixturesDirectory.appendingPathComponent("gobug") }
    /// The change to Go 1.19's src/runtime/asm_amd64.s, a unified diff applied with `patch -p1` in the tree's copy.
    static var patchFile: URL { directory.appendingPathComponent("mcall-frame-loop.patch") }
    /// The Go package directory of the program (main.go, framepointer_amd64.s, go.mod).
    static var programDirectory: URL { directory.appendingPathComponent("mcallbug") }

    /// The Go 1.19 tree to copy and to build the stock program with: `go env GOROOT` of the `go` on PATH when that is
    /// Go 1.19, else Debian's /usr/lib/go-1.19; nil when neither is a Go 1.19 tree with src/runtime/asm_amd64.s.
    static let stockGoroot: String? = {
        var candidates: [String] = []
        if let go = FixtureCommand.which("go"),
            let result = try? FixtureCommand.run(go, ["env", "GOROOT"], environment: ["GOTOOLCHAIN": "local"]),
            result.status == 0
        {
            let root = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if !root.isEmpty { candidates.append(root) }
        }
        candidates.append("/usr/lib/go-1.19")
        return candidates.first { root in
            guard let file = try? String(contentsOfFile: root + "/VERSION", encoding: .utf8) else { return false }
            let version = file.split(separator: "\n").first.map(String.init) ?? ""  // "go1.19.8"
            return (version == "go1.19" || version.hasPrefix("go1.19."))
                && FileManager.default.isExecutableFile(atPath: root + "/bin/go")
                && FileManager.default.fileExists(atPath: root + "/src/runtime/asm_amd64.s")
        }
    }()

    /// Whether both builds can be made here: a Go 1.19 tree, `cp` and `patch`, on x86-64.
    static var isAvailable: Bool {
        #if arch(x86_64)
            return stockGoroot != nil && FixtureCommand.which("patch") != nil && FixtureCommand.which("cp") != nil
        #else
            return false
        #endif
    }

    /// The executable of `build`, building both builds first if this process has not done so yet.
    /// Throws `FixtureError` (with the failing command's output) when a step fails; a failed build is not retried.
    static func path(for build: Build) throws -> String {
        let paths = try state.withLock { state in
            if let state { return try state.get() }
            let result = Result { try buildAll() }
            state = result
            return try result.get()
        }
        return paths[build]!
    }

    // MARK: - Building

    private static let state = Locked<Result<[Build: String], any Error>?>(nil)

    /// The program's files that go into the build: its Go and assembly sources and go.mod, sorted.
    private static func programFiles() throws -> [URL] {
        let names = try FileManager.default.contentsOfDirectory(atPath: programDirectory.path)
            .filter { $0.hasSuffix(".go") || $0.hasSuffix(".s") || $0 == "go.mod" }.sorted()
        return names.map { programDirectory.appendingPathComponent($0) }
    }

    private static func buildAll() throws -> [Build: String] {
        guard let goroot = stockGoroot else {
            throw FixtureError(command: ["go", "env", "GOROOT"], status: nil, message: "no Go 1.19 tree found")
        }
        var hasher = BuildHasher()
        hasher.add(goroot)
        hasher.add(try Data(contentsOf: URL(fileURLWithPath: goroot + "/VERSION")))
        hasher.add(try Data(contentsOf: URL(fileURLWithPath: goroot + "/src/runtime/asm_amd64.s")))
        hasher.add(try Data(contentsOf: patchFile))
        for build in Build.allCases { hasher.add(build.rawValue + build.flags.joined(separator: " ")) }
        for file in try programFiles() {
            // The full path: DWARF names the source files, so two checkouts must not share a build.
            hasher.add(file.path)
            hasher.add(try Data(contentsOf: file))
        }
        let directory = URL(fileURLWithPath: "/tmp/fpprof-gobug-\(getuid())-\(hasher.hex)")
        var paths: [Build: String] = [:]
        for build in Build.allCases {
            paths[build] = directory.appendingPathComponent(build.rawValue).path
        }
        if paths.values.allSatisfy({ FileManager.default.isExecutableFile(atPath: $0) }) {
            return paths  // built by an earlier test process from the same inputs
        }

        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // Everything is made in a work directory of this process and the executables renamed into place at the end:
        // a concurrent test process never sees a partial executable or a half-patched tree.
        let work = directory.appendingPathComponent(".work-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }

        let stock = work.appendingPathComponent(Build.stock.rawValue).path
        try goBuild(goroot: goroot, cache: work.appendingPathComponent("gocache-stock").path, output: stock)

        let patched = work.appendingPathComponent("goroot").path
        try copyTree(goroot, to: patched)
        try FixtureCommand.check(
            FixtureCommand.which("patch")!,
            ["-p1", "--forward", "--batch", "--no-backup-if-mismatch", "-d", patched, "-i", patchFile.path])
        let buggy = work.appendingPathComponent(Build.buggy.rawValue).path
        try goBuild(goroot: patched, cache: work.appendingPathComponent("gocache-patched").path, output: buggy)
        let stripped = work.appendingPathComponent(Build.buggyStripped.rawValue).path
        try goBuild(
            goroot: patched, cache: work.appendingPathComponent("gocache-patched").path, output: stripped,
            flags: Build.buggyStripped.flags)

        for (build, built) in [(Build.stock, stock), (Build.buggy, buggy), (Build.buggyStripped, stripped)] {
            guard rename(built, paths[build]!) == 0 else {
                throw FixtureError(
                    command: ["rename", built, paths[build]!], status: nil, message: String(cString: strerror(errno)))
            }
        }
        return paths
    }

    /// Copies the Go tree at `source` to `destination`, following its symlinks (Debian's /usr/lib/go-1.19/src and
    /// others link into /usr/share/go-1.19), so the copy's files can be changed without touching the installed Go.
    /// `test` (Go's own test suite) is left out: `go build` never reads it.
    private static func copyTree(_ source: String, to destination: String) throws {
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
        let entries = try FileManager.default.contentsOfDirectory(atPath: source).filter { $0 != "test" }.sorted()
        try FixtureCommand.check(
            FixtureCommand.which("cp")!, ["-rL"] + entries.map { source + "/" + $0 } + [destination], timeout: 300)
    }

    /// Builds the program with the `go` of the tree at `goroot` (GOROOT set to it), into `output`.
    private static func goBuild(goroot: String, cache: String, output: String, flags: [String] = []) throws {
        let environment = [
            "GOROOT": goroot,
            "GOCACHE": cache,
            // The program has no dependencies: never read a user's go env file, a workspace, or the network.
            "GOPATH": cache + "-gopath",
            "GOENV": "off", "GOFLAGS": "", "GOWORK": "off", "GOPROXY": "off", "GOTOOLCHAIN": "local",
            "GO111MODULE": "on",
        ]
        try FixtureCommand.check(
            goroot + "/bin/go", ["build", "-o", output] + flags + ["."], environment: environment,
            currentDirectory: programDirectory.path, timeout: 600)
    }
}

/// FNV-1a (`Fixtures.swift`) over length-prefixed inputs, enough to name a build directory after its inputs.
private struct BuildHasher {
    private var hash = FNV1a()

    mutating func add(_ string: String) { add(Data(string.utf8)) }

    mutating func add(_ data: Data) {
        var length = UInt64(data.count).littleEndian
        hash.add(withUnsafeBytes(of: &length) { Array($0) })
        hash.add(Array(data))
    }

    var hex: String { hash.hex }
}
