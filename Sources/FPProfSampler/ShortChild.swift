internal import CPerfEvent
import Glibc

/// Runs a short-lived helper process on some bytes of input and says how it ended: what the daemon needs to let a
/// parser that may abort (toml++) parse in a process of its own. posix_spawn in C (`cperf_spawn_filter`), not
/// Foundation's `Process`: that one keeps each object alive past the child's end from a background thread, where a
/// long-running daemon and the leak checker both see it stay.
public enum ShortChild {
    public enum Ending: Hashable, Sendable {
        case exited(Int32)
        case signaled(Int32)
        /// Still running at the deadline: killed (SIGKILL) and reaped.
        case timedOut
        case notStarted(String)
    }

    /// The most input bytes: what one pipe holds unprivileged (`/proc/sys/fs/pipe-max-size`). The input is in the
    /// pipe whole before the child starts, so no write can block on it, and a child that dies early cannot raise
    /// SIGPIPE in the caller.
    public static let maxInput = 1 << 20

    /// Runs `path` with `arguments` (argv[1...]) and `environment`, `input` on its standard input, standard output
    /// and error on /dev/null, and waits for it at most `timeout`.
    public static func run(
        path: String, arguments: [String], environment: [String: String], input: [UInt8], timeout: Duration
    ) -> Ending {
        guard input.count <= maxInput else { return .notStarted("input of \(input.count) bytes, more than a pipe") }
        let pipe: (read: Int32, write: Int32)
        do { pipe = try Sys.pipe() } catch { return .notStarted("pipe: \(error.message)") }
        defer { close(pipe.read) }
        if input.count > 60 << 10 {
            // F_SETPIPE_SZ (1031): the default pipe holds 64 KiB.
            _ = fcntl(pipe.write, 1031, Int32(maxInput))
        }
        var written = 0
        while written < input.count {
            let n = input.withUnsafeBytes { write(pipe.write, $0.baseAddress! + written, input.count - written) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                close(pipe.write)
                return .notStarted("cannot fill the pipe: \(Errno.current.message)")
            }
            written += n
        }
        close(pipe.write)

        // The C strings are made before the spawn, and freed after it (the child has its own copies by then).
        var argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) }
        argv.append(nil)
        var envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") }
        envp.append(nil)
        defer { for p in argv + envp { free(p) } }
        let pid = cperf_spawn_filter(path, argv, envp, pipe.read)
        guard pid > 0 else { return .notStarted("\(path): \(Errno.current.message)") }

        let deadline = ContinuousClock.now + timeout
        while true {
            let status: ChildExitStatus?
            do {
                status = try Sys.waitpid(pid, options: WNOHANG)
            } catch {
                return .notStarted("waitpid: \(error.message)")
            }
            switch status {
            case .exited(let code): return .exited(code)
            case .signaled(let signal): return .signaled(signal)
            case nil: break
            }
            if ContinuousClock.now >= deadline {
                _ = try? Sys.kill(pid, SIGKILL)
                _ = try? Sys.waitpid(pid, options: 0)
                return .timedOut
            }
            usleep(1000)
        }
    }
}
