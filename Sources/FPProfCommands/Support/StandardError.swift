import Foundation

/// Diagnostics go to stderr so that stdout can carry the profile itself (`fpprof record --pid N | flamegraph.pl`).
enum StandardError {
    /// A failure to write a diagnostic is ignored: there is nowhere left to report it, and the profile matters more.
    /// (`FileHandle.write(_: Data)` traps on a failed write; `write(contentsOf:)` throws.)
    static func write(_ text: String) {
        try? FileHandle.standardError.write(contentsOf: Data(text.utf8))
    }

    static var isTerminal: Bool { isatty(STDERR_FILENO) == 1 }
}

/// The profile itself, when no `-o` was given. A failed write (`>/dev/full`, a closed stdout) is an error with
/// the reason, never a trap: `FileHandle.write(_: Data)` would end the process on it and lose the summary.
enum StandardOutput {
    static func write(_ bytes: [UInt8]) throws(UserFacingError) {
        var done = 0
        while done < bytes.count {
            // Invariant: `done < bytes.count`, so the buffer is not empty and has a base address.
            let n = bytes.withUnsafeBytes { raw in
                Glibc.write(STDOUT_FILENO, raw.baseAddress! + done, raw.count - done)
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let reason = n < 0 ? String(cString: strerror(errno)) : "nothing was written"
                throw UserFacingError(message: "cannot write to standard output: \(reason)")
            }
            done += n
        }
    }
}

/// Descriptors 0, 1 and 2 that fpprof was started without (`fpprof record ... >&-`) are taken by /dev/null,
/// opened read-only, before anything else is opened. Otherwise the next file opened (a perf event, the raw capture)
/// gets number 1, and the profile is written into it. Read-only, a reserved stdout makes the profile's write fail
/// with EBADF, which `StandardOutput` reports, instead of vanishing into /dev/null with exit 0.
public enum StandardStreams {
    public static func reserve() {
        for descriptor in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] {
            guard fcntl(descriptor, F_GETFD) < 0, errno == EBADF else { continue }
            // open(2) returns the lowest free number, which is this one.
            let opened = open("/dev/null", O_RDONLY)
            if opened >= 0, opened != descriptor {
                dup2(opened, descriptor)
                close(opened)
            }
        }
    }
}

/// One status line, redrawn in place while recording on a terminal, and cleared before the summary.
struct StatusLine {
    private var lastDraw: ContinuousClock.Instant?
    private let enabled = StandardError.isTerminal
    private var drawn = false

    mutating func update(elapsed: Duration, samples: Int, lost: UInt64) {
        guard enabled else { return }
        let now = ContinuousClock.now
        if let last = lastDraw, now - last < .milliseconds(250) { return }
        lastDraw = now
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        StandardError.write(
            "\r\u{1b}[Kfpprof: recording \(String(format: "%.1f", seconds)) s, \(samples) samples, \(lost) lost")
        drawn = true
    }

    mutating func clear() {
        guard enabled, drawn else { return }
        StandardError.write("\r\u{1b}[K")
        drawn = false
    }
}
