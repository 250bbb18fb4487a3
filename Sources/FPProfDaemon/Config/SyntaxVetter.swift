import FPProfSampler
import Foundation
import TOMLKit

/// Parses a config's TOML once in a child process before the daemon parses it itself, so that the parser can abort
/// where an abort costs nothing.
///
/// toml++ (the C++ parser inside TOMLKit) keeps its assertions in release builds, and fuzzing found three inputs
/// that fail one (`ConfigParser.headerWithoutKey` and `braceWhereAValueGoes` refuse those first). An assertion
/// aborts the whole process: at start that is a failed start, but on SIGHUP it would kill a daemon that was
/// profiling fine over an edit of its config. The child gets the very bytes the parent will parse, and the parser
/// is deterministic, so a child that comes back means the parent's parse comes back too. A child killed by a signal
/// is a config refused, with the first line whose prefix of the file makes the parser abort.
public struct SyntaxVetter: Sendable {
    /// The program run as the child, with `childArguments`: fpprof itself (`/proc/self/exe` still names the
    /// running binary after a package upgrade replaced the file).
    public var executable: String
    public var childArguments: [String]
    /// A child that has not finished by then is killed and the config refused.
    public var timeout: Duration
    /// Runs the parse some other way than by `executable` (the config fuzzer forks itself: with an exec of fpprof
    /// per input it ran 33 inputs a second, with a fork 70).
    public var runner: (@Sendable (String) -> Verdict)?

    /// The flag of `fpprof daemon` that makes it the child: parse standard input and exit 0.
    public static let childFlag = "--vet-toml"
    /// The most bytes a config may have: the child's input, which must fit in one pipe (`ShortChild.maxInput`).
    public static let maxBytes = ShortChild.maxInput

    public init(
        executable: String = "/proc/self/exe", childArguments: [String] = ["daemon", childFlag],
        timeout: Duration = .seconds(10)
    ) {
        self.executable = executable
        self.childArguments = childArguments
        self.timeout = timeout
    }

    /// A vetter whose parse runs in `runner`.
    public init(runner: @escaping @Sendable (String) -> Verdict) {
        self.init()
        self.runner = runner
    }

    /// Throws when the parser does not come back from `text`: aborted (with the line), timed out, or the child could
    /// not be run at all (then nothing is known, and the config is not applied either).
    public func vet(_ text: String, file: String) throws(ConfigError) {
        guard text.utf8.count <= Self.maxBytes else {
            throw ConfigError(file: file, line: nil, key: nil, message: "expected a config file of at most 1 MiB")
        }
        switch run(text) {
        case .returned: return
        case .aborted(let signal):
            let line = firstAbortingLine(of: text)
            throw ConfigError(
                file: file, line: line, key: nil,
                message: "TOML syntax: the TOML parser (toml++) fails an internal check on this line "
                    + "(signal \(signal)); nothing was applied")
        case .timedOut:
            throw ConfigError(
                file: file, line: nil, key: nil,
                message: "TOML syntax: the TOML parser did not finish within \(timeout); nothing was applied")
        case .notRun(let reason):
            throw ConfigError(
                file: file, line: nil, key: nil,
                message: "cannot check the TOML syntax in a child process (\(reason)); nothing was applied")
        }
    }

    /// The child's side: parses standard input, and exits 0 whatever the parser thought of it (the parent parses
    /// again and reports syntax errors itself). Only an abort ends it otherwise. `_exit`: no at-exit work runs, which
    /// in a sanitizer build is a leak check that fails on TOMLKit's leaks and made every config "not checked".
    public static func runChild() -> Never {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        if let text = String(data: data, encoding: .utf8) { _ = try? TOMLTable(string: text) }
        _exit(0)
    }

    /// How one child run ended.
    public enum Verdict: Equatable, Sendable {
        case returned
        case aborted(Int32)
        case timedOut
        case notRun(String)
    }

    /// The smallest number of lines from the top whose text makes the parser abort (the whole file does): the line
    /// to name. A binary search, one child per step.
    private func firstAbortingLine(of text: String) -> Int {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count > 1 else { return 1 }
        var lo = 1
        var hi = lines.count
        // Invariant: the first `hi` lines abort; fewer than `lo` lines were not found to.
        while lo < hi {
            let mid = (lo + hi) / 2
            let prefix = lines[..<mid].joined(separator: "\n") + "\n"
            if case .aborted = run(prefix) { hi = mid } else { lo = mid + 1 }
        }
        return hi
    }

    /// Runs the child on `text` (see `ShortChild`).
    public func run(_ text: String) -> Verdict {
        if let runner { return runner(text) }
        // An abort is expected here: Swift's crash backtracer would only spend time symbolizing it.
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        let ending = ShortChild.run(
            path: executable, arguments: childArguments, environment: environment, input: Array(text.utf8),
            timeout: timeout)
        switch ending {
        case .exited(0): return .returned
        case .exited(let code): return .notRun("it exited with status \(code)")
        case .signaled(let signal): return .aborted(signal)
        case .timedOut: return .timedOut
        case .notStarted(let reason): return .notRun(reason)
        }
    }
}
