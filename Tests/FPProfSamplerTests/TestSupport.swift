import FPProfCore
import FPProfSampler
import Foundation
import Testing

/// Decoded records of a session, by kind.
struct Collected {
    var samples: [Sample] = []
    var mmaps: [Mmap2] = []
    var comms: [Comm] = []
    var forks: [TaskEvent] = []
    var exits: [TaskEvent] = []
    var lost: [Lost] = []
    var decodeErrors: [RecordDecodeError] = []
    /// How many buffers were added: the batches of a stream.
    var batches = 0

    mutating func add(_ bytes: [UInt8], decoder: RecordDecoder) {
        batches += 1
        for result in RecordStream(decoder: decoder, bytes: bytes[...]) {
            switch result {
            case .success(.sample(let s)): samples.append(s)
            case .success(.mmap2(let m)): mmaps.append(m)
            case .success(.comm(let c)): comms.append(c)
            case .success(.fork(let t)): forks.append(t)
            case .success(.exit(let t)): exits.append(t)
            case .success(.lost(let l)): lost.append(l)
            case .success(.other): break
            case .failure(let e): decodeErrors.append(e)
            }
        }
    }
}

/// Consumes a session's stream until it ends. A watchdog stops the session after `timeout` so that a reader that
/// never ends its stream fails the test instead of hanging it; `stopWhen` stops it early once enough was seen.
func collect(
    _ session: SamplingSession, _ stream: AsyncStream<RecordBatch>, timeout: Duration = .seconds(30),
    stopWhen: (@Sendable (Collected) -> Bool)? = nil
) async throws -> (records: Collected, endedByItself: Bool) {
    let decoder = try RecordDecoder(format: session.format)
    let watchdogFired = Locked(false)
    let watchdog = Task {
        try await Task.sleep(for: timeout)
        watchdogFired.withLock { $0 = true }
        session.stop()
    }
    defer { watchdog.cancel() }
    var collected = Collected()
    var stopped = false
    for await batch in stream {
        collected.add(batch.bytes, decoder: decoder)
        if !stopped, let stopWhen, stopWhen(collected) {
            stopped = true
            session.stop()
        }
    }
    return (collected, !stopped && !watchdogFired.withLock { $0 })
}

/// A process started with Foundation's Process (which reaps only its own children, so the sessions' waitpid
/// calls are undisturbed).
func startProcess(_ path: String, _ arguments: [String]) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    // Not the test runner's pipes: a process left running by a crashed test would hold them open.
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

/// Waits until a just-started process runs `executable` and has mapped its code: Process.run() may return before
/// the child's exec, and the exec switches /proc/PID/exe before it maps the new image.
func waitForExec(_ process: Process, _ executable: String) throws {
    let maps = "/proc/\(process.processIdentifier)/maps"
    for _ in 0..<500 {
        if let text = try? String(contentsOfFile: maps, encoding: .utf8),
            text.split(separator: "\n").contains(where: { $0.contains(" r-xp ") && $0.hasSuffix(" " + executable) })
        {
            return
        }
        usleep(10_000)
    }
    throw ExecTimedOut()
}

struct ExecTimedOut: Error {}

/// The file a path resolves to (/bin/sh -> /usr/bin/dash), as the kernel names it in MMAP2 records.
func resolvedPath(_ path: String) -> String {
    URL(fileURLWithPath: path).resolvingSymlinksInPath().path
}

let isRoot = geteuid() == 0
let hasGCC = FileManager.default.isExecutableFile(atPath: "/usr/bin/gcc")

/// Builds a C program into a fresh temporary directory and returns the executable's path.
func buildC(_ source: String, name: String) throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fpprof-sampler-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let sourceFile = directory.appendingPathComponent("\(name).c")
    try source.write(to: sourceFile, atomically: true, encoding: .utf8)
    let output = directory.appendingPathComponent(name).path
    let gcc = try startProcess(
        "/usr/bin/gcc", ["-O1", "-fno-omit-frame-pointer", "-pthread", "-o", output, sourceFile.path])
    gcc.waitUntilExit()
    guard gcc.terminationStatus == 0 else { throw BuildFailed() }
    return output
}

struct BuildFailed: Error {}
