import Foundation

/// Diagnostics go to stderr so that stdout can carry the profile itself (`fpprof record --pid N | flamegraph.pl`).
enum StandardError {
    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    static var isTerminal: Bool { isatty(STDERR_FILENO) == 1 }
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
