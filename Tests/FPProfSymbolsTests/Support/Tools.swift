import Foundation

/// Runs the reference tools (gcc, nm, readelf, addr2line, eu-addr2line, strip) the tests compare fpprof with.
enum Tools {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Whether `name` is an executable on PATH.
    static func available(_ name: String) -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
    }

    /// Runs `tool` with `arguments` and returns its standard output; throws with its standard error when it fails
    /// (unless `anyStatus`: eu-addr2line exits with 1 when some address has no answer, and still prints all).
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], anyStatus: Bool = false) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read before waiting: a tool whose output fills the pipe would otherwise never exit.
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 || anyStatus else {
            let message = String(decoding: err, as: UTF8.self)
            throw Failure(description: "\(tool) \(arguments.joined(separator: " ")): \(message)")
        }
        return String(decoding: out, as: UTF8.self)
    }
}
