import Foundation

/// The DWARF fixtures of `Tests/Fixtures/symbols`, built once per test run: the inlining C program (`-O2 -g`), the
/// C++, Swift and Rust name fixtures, and the Go program with and without `-ldflags=-s -w`.
enum DwarfFixtures {
    static let directory: Result<String, Tools.Failure> = {
        do {
            let directory = try Fixtures.scratchDirectory("dwarf")
            atexit {
                if case .success(let directory) = DwarfFixtures.directory {
                    try? FileManager.default.removeItem(atPath: directory)
                }
            }
            return .success(directory)
        } catch {
            return .failure(Tools.Failure(description: "\(error)"))
        }
    }()

    static let source = Fixtures.sourceDirectory

    /// `inlined.c`, `-O2 -g`, PIE.
    static let inlined: Result<String, Tools.Failure> = build("inlined") { output in
        try Tools.run("gcc", ["-O2", "-g", "-fno-omit-frame-pointer", "-o", output, source + "/inlined.c"])
    }

    /// `names.cpp`, `-O2 -g`.
    static let cxx: Result<String, Tools.Failure> = build("names-cxx") { output in
        try Tools.run("g++", ["-O2", "-g", "-fno-omit-frame-pointer", "-o", output, source + "/names.cpp"])
    }

    /// `names.cpp` without debug information: names come from the symbol table, mangled.
    static let cxxSymbolsOnly: Result<String, Tools.Failure> = build("names-cxx-g0") { output in
        try Tools.run("g++", ["-O2", "-g0", "-fno-omit-frame-pointer", "-o", output, source + "/names.cpp"])
    }

    /// `names.swift`, `-Onone -g`.
    static let swift: Result<String, Tools.Failure> = build("names-swift") { output in
        let scratch = output + ".build"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        try Tools.run(
            "swiftc",
            [
                "-g", "-Onone", "-module-name", "main", "-module-cache-path", scratch, "-o", output,
                source + "/names.swift",
            ])
    }

    /// `names.rs`, with frame pointers and full debug information.
    static let rust: Result<String, Tools.Failure> = build("names-rust") { output in
        try Tools.run(
            "rustc",
            [
                "-C", "force-frame-pointers=yes", "-C", "debuginfo=2", "-C", "opt-level=1", "-o", output,
                source + "/names.rs",
            ])
    }

    /// The Go program, as `go build` makes it (DWARF, symbol table, `.gopclntab`).
    static let go: Result<String, Tools.Failure> = build("go") { output in try goBuild(output, stripped: false) }

    /// The Go program built with `-ldflags=-s -w`: `.gopclntab` only.
    static let goStripped: Result<String, Tools.Failure> = build("go-stripped") { output in
        try goBuild(output, stripped: true)
    }

    static let hasRust = Tools.available("rustc")
    static let hasSwift = Tools.available("swiftc")

    private static func goBuild(_ output: String, stripped: Bool) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["go", "build", "-o", output] + (stripped ? ["-ldflags=-s -w"] : []) + ["."]
        process.currentDirectoryURL = URL(fileURLWithPath: source + "/go")
        var environment = ProcessInfo.processInfo.environment
        environment["GOFLAGS"] = "-mod=mod"
        environment["GOTOOLCHAIN"] = "local"
        environment["CGO_ENABLED"] = "0"
        if environment["GOCACHE"] == nil { environment["GOCACHE"] = NSTemporaryDirectory() + "fpprof-gocache" }
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Tools.Failure(description: "go build: " + String(decoding: message, as: UTF8.self))
        }
    }

    private static func build(_ name: String, _ body: (String) throws -> Void) -> Result<String, Tools.Failure> {
        do {
            let output = try directory.get() + "/" + name
            try body(output)
            return .success(output)
        } catch let failure as Tools.Failure {
            return .failure(failure)
        } catch {
            return .failure(Tools.Failure(description: "\(error)"))
        }
    }
}

/// Random link-time addresses inside a file's executable sections, from a seed, so a failure can be reproduced.
func randomCodeAddresses(_ reference: ReferenceElf, count: Int, seed: UInt64) -> [UInt64] {
    var generator = CorruptElfTests.SplitMix(state: seed)
    let sections = reference.executableSections.filter { $0.size > 0 }
    let total = sections.reduce(0) { $0 + $1.size }
    return (0..<count).map { _ in
        var pick = UInt64.random(in: 0..<total, using: &generator)
        for section in sections {
            if pick < section.size { return section.address + pick }
            pick -= section.size
        }
        return sections[0].address
    }
}

/// One frame as the reference tools print it: the function and `file:line` (`??:0` when unknown).
struct PrintedFrame: Hashable, CustomStringConvertible {
    var function: String
    var location: String
    var description: String { "\(function) at \(location)" }
}

enum EuAddr2line {
    /// `eu-addr2line --pretty-print -f -i -C` for each address: its frames, innermost first, columns dropped and
    /// symbol versions (`@GLIBC_2.2.5`, which fpprof leaves out by design) removed.
    static func frames(path: String, addresses: [UInt64]) throws -> [[PrintedFrame]] {
        let arguments =
            ["--pretty-print", "-f", "-i", "-C", "-e", path] + addresses.map { "0x" + String($0, radix: 16) }
        var blocks: [[PrintedFrame]] = []
        for line in try Tools.run("eu-addr2line", arguments, anyStatus: true).split(separator: "\n") {
            let inlined = line.hasPrefix(" (inlined by) ")
            let text = inlined ? line.dropFirst(" (inlined by) ".count) : line[...]
            guard let at = text.range(of: " at ", options: .backwards) else { continue }
            var function = String(text[..<at.lowerBound])
            if let version = function.firstIndex(of: "@"), version != function.startIndex {
                function = String(function[..<version])
            }
            var location = String(text[at.upperBound...])
            // `file:line:column` -> `file:line`
            let parts = location.split(separator: ":", omittingEmptySubsequences: false)
            if parts.count >= 3, Int(parts[parts.count - 1]) != nil, Int(parts[parts.count - 2]) != nil {
                location = parts.dropLast().joined(separator: ":")
            }
            let frame = PrintedFrame(function: function, location: location)
            if inlined, !blocks.isEmpty { blocks[blocks.count - 1].append(frame) } else { blocks.append([frame]) }
        }
        return blocks
    }
}
