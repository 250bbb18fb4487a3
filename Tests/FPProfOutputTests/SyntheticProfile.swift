import FPProfCore
import Foundation
import Testing

@testable import FPProfOutput

/// A symbolizer over fixed (module path, offset range) entries, with one inlined chain.
struct TableSymbols: Symbolizer {
    var table: [(String, Range<UInt64>, [SymbolFrame])]
    mutating func frames(for address: NormalizedAddress) -> [SymbolFrame] {
        table.first { $0.0 == address.module.path && $0.1.contains(address.offset.rawValue) }?.2 ?? []
    }
}

/// A small profile with every case the writers handle: a deep stack, a call site with an inlined callee, a
/// self-loop (flagged) stack, an address without a symbol, two modules with build-ids, two threads.
enum Synthetic {
    static let appPath = "/opt/app/app"
    static let libcPath = "/usr/lib/x86_64-linux-gnu/libc.so.6"
    static let appBuildID = BuildID(bytes: [0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89])
    static let libcBuildID = BuildID(bytes: [0x11, 0x22, 0x33, 0x44])

    static var symbols: TableSymbols {
        TableSymbols(table: [
            (appPath, 0x1000..<0x1100, [SymbolFrame(function: "main", file: "/src/app.c", line: 10)]),
            (
                appPath, 0x1100..<0x1200,
                [
                    SymbolFrame(function: "work", file: "/src/app.c", line: 22),
                    SymbolFrame(function: "helper", isInlined: true, file: "/src/helper.h", line: 31),
                ]
            ),
            (appPath, 0x1200..<0x1300, [SymbolFrame(function: "leaf", file: "/src/app.c", line: 40)]),
            (libcPath, 0x2000..<0x2100, [SymbolFrame(function: "__libc_start_call_main")]),
        ])
    }

    /// Leaf-first frames as (module, offset), status, tid, samples.
    static let stacks: [([(Int, UInt64)], UnwindStatus, Int32, Int)] = [
        ([(1, 0x1250), (1, 0x1150), (1, 0x1050), (2, 0x2050)], .complete, 100, 60),
        ([(1, 0x1180), (1, 0x1060), (2, 0x2050)], .complete, 101, 30),
        ([(1, 0x1250), (1, 0x1150)], .selfLoop, 101, 10),
        ([(1, 0x5000), (1, 0x1050), (2, 0x2050)], .complete, 100, 5),
    ]
    static let total = 105

    /// The profile as `ProfileBuilder` would give it; per thread when `perThread`.
    static func raw(perThread: Bool) -> RawProfile {
        var p = RawProfile()
        #expect(p.modules.intern(ModuleID(path: appPath, buildID: appBuildID)) == 1)
        #expect(p.modules.intern(ModuleID(path: libcPath, buildID: libcBuildID)) == 2)
        p.names = ["app", "app", "worker"]
        for (frames, status, tid, samples) in stacks {
            let key = StackKey(
                pid: ProcessID(100), tid: ThreadID(perThread ? tid : 0), processName: 0,
                threadName: perThread ? (tid == 100 ? 1 : 2) : -1, status: status,
                frames: frames.map { ModuleTable.pack(module: $0.0, offset: $0.1) })
            p.stacks[key, default: StackWeight()].samples += samples
            p.stacks[key, default: StackWeight()].period += UInt64(samples) * 10_101_010
            p.stats.samples += samples
        }
        return p
    }

    static var metadata: ProfileMetadata {
        ProfileMetadata(
            event: "cpu-clock", frequency: 99, startNanos: 1_700_000_000_000_000_000, durationNanos: 1_060_000_000)
    }

    static func named(perThread: Bool = false) -> NamedProfile {
        var namer = FrameNamer(symbolizer: symbols, modules: raw(perThread: perThread).modules)
        return NamedProfile(raw: raw(perThread: perThread), namer: &namer, metadata: metadata)
    }
}

/// Runs a tool and returns its stdout bytes; throws with stderr when it fails.
enum Tool {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func path(_ name: String) -> String? {
        for dir in ["/usr/bin", "/bin", "/usr/local/bin", "/usr/local/go/bin", "/usr/lib/go/bin"] {
            if FileManager.default.isExecutableFile(atPath: dir + "/" + name) { return dir + "/" + name }
        }
        return nil
    }

    static func run(_ tool: String, _ arguments: [String], stdin: [UInt8]? = nil) throws -> [UInt8] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fpprof-out-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("out")
        let errURL = dir.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["HOME": dir.path, "GOCACHE": dir.path + "/gocache", "PPROF_TMPDIR": dir.path]) { $1 }
        if let stdin {
            let inURL = dir.appendingPathComponent("in")
            try Data(stdin).write(to: inURL)
            process.standardInput = try FileHandle(forReadingFrom: inURL)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        process.waitUntilExit()
        let out = try Array(Data(contentsOf: outURL))
        guard process.terminationStatus == 0 else {
            let err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            throw Failure(description: "\(tool) \(arguments.joined(separator: " ")): \(err)")
        }
        return out
    }

    static func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
        try run(path("gzip")!, ["-dc"], stdin: bytes)
    }
}

/// With FPPROF_TEST_ARTIFACTS=DIR, tests copy what they wrote there, for a person (or a browser) to look at.
enum Artifacts {
    static func keep(_ path: String, as name: String) {
        guard let dir = ProcessInfo.processInfo.environment["FPPROF_TEST_ARTIFACTS"] else { return }
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: dir + "/" + name)
        try? FileManager.default.copyItem(atPath: path, toPath: dir + "/" + name)
    }
}
