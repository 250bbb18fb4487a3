import Foundation
import Testing

/// Runs the built `fpprof` executable the way a user does, and reads what it wrote.
enum FPProf {
    /// The `fpprof` binary next to this test bundle (SwiftPM builds it because the test target depends on it).
    static let executable: String = {
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        var candidates = [bundleDirectory.appendingPathComponent("fpprof").path]
        // Swift Testing may run from a helper; fall back to the package's own build folder.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/fpprof").path)
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }()

    static func run(_ arguments: [String], timeout: Double = 120) throws -> CommandResult {
        try FixtureCommand.run(executable, arguments, timeout: timeout)
    }

    /// Records `arguments` into a temporary folded file and returns it parsed.
    static func record(_ arguments: [String], timeout: Double = 120) throws -> (Folded, CommandResult) {
        let output = temporaryPath("folded")
        defer { unlink(output) }
        let result = try run(["record", "-o", output] + arguments, timeout: timeout)
        // 2: written, but the kernel dropped records (a loaded machine); the profile is still there to judge.
        guard result.status == 0 || result.status == 2 else {
            throw FixtureError(command: [executable] + arguments, status: result.status, message: result.stderr)
        }
        let text = try String(contentsOfFile: output, encoding: .utf8)
        return (try Folded(parsing: text), result)
    }

    static func temporaryPath(_ suffix: String) -> String {
        NSTemporaryDirectory() + "fpprof-test-\(getpid())-\(UUID().uuidString).\(suffix)"
    }

    static var isRoot: Bool { geteuid() == 0 }
}

/// A parsed folded file: each line's frames (root first) and count.
struct Folded {
    struct Line {
        var frames: [String]
        var count: Int
        var text: String { frames.joined(separator: ";") }
    }

    var lines: [Line]

    init(parsing text: String) throws {
        lines = []
        for raw in text.split(separator: "\n") {
            guard let space = raw.lastIndex(of: " "), let count = Int(raw[raw.index(after: space)...]) else {
                throw FixtureError(command: ["parse folded"], status: nil, message: "bad line: \(raw)")
            }
            lines.append(Line(frames: raw[..<space].split(separator: ";").map(String.init), count: count))
        }
    }

    var total: Int { lines.reduce(0) { $0 + $1.count } }

    func count(where predicate: (Line) -> Bool) -> Int {
        lines.filter(predicate).reduce(0) { $0 + $1.count }
    }

    /// Samples whose stack ends (leaf last) with `suffix`.
    func count(endingWith suffix: [String]) -> Int {
        count { $0.frames.count >= suffix.count && Array($0.frames.suffix(suffix.count)) == suffix }
    }

    func share(endingWith suffix: [String]) -> Double {
        total == 0 ? 0 : Double(count(endingWith: suffix)) / Double(total)
    }

    static let markers: Set<String> = ["[fp-loop]", "[fp-cycle]", "[truncated]", "[bad-frame]"]
}

/// The folded lines with their counts, most frequent first (twenty at most), for failure messages.
func describe(_ lines: [Folded.Line]) -> String {
    lines.sorted { $0.count > $1.count }.prefix(20).map { "  \($0.text) \($0.count)" }.joined(separator: "\n")
}
