import Glibc

/// Starts a command held at a gate: it is forked now, but executes only when the session releases the gate, after
/// its events exist (they are enabled by the exec itself, `enable_on_exec`). Nothing of the command runs unsampled
/// and nothing of ours is sampled.
struct LaunchedChild: Sendable {
    let pid: Int32
    /// Closing it without writing makes the child exit without exec.
    let gate: Int32
    /// Close-on-exec in the child: EOF means exec succeeded; four bytes are exec's errno.
    let errorPipe: Int32
    let path: String
}

enum TargetLauncher {
    /// The executable `command` names: itself if it holds a slash, else the first executable file of that name
    /// along PATH (execvp's rules, with the same default PATH when it is unset).
    static func resolve(
        _ command: String, searchPath: String?, isExecutable: (String) -> Bool = Sys.isExecutableFile
    ) -> String? {
        guard !command.isEmpty else { return nil }
        if command.contains("/") { return isExecutable(command) ? command : nil }
        let directories = (searchPath ?? "/bin:/usr/bin").split(separator: ":", omittingEmptySubsequences: false)
        for directory in directories {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + command
            if isExecutable(candidate) { return candidate }
        }
        return nil
    }

    /// Resolves argv[0] (failing before any fork), then forks the child held at its gate.
    static func spawn(_ arguments: [String]) throws(SamplerError) -> LaunchedChild {
        guard let command = arguments.first, !command.isEmpty else {
            throw .invalidConfiguration("launch needs a command")
        }
        guard let path = resolve(command, searchPath: Sys.environment("PATH")) else {
            if command.contains("/") && Sys.exists(command) {
                throw SamplerError(
                    code: .permissionDenied, underlyingErrno: EACCES, context: "execute \(command)",
                    description: "cannot execute \(command): permission denied or not a regular file")
            }
            throw SamplerError(
                code: .commandNotFound, underlyingErrno: ENOENT, context: "execute \(command)",
                description: "command not found: \(command)")
        }
        let gate: (read: Int32, write: Int32)
        let errors: (read: Int32, write: Int32)
        do { gate = try Sys.pipe() } catch let e { throw .call("pipe2", e) }
        do { errors = try Sys.pipe() } catch let e {
            Sys.close(gate.read)
            Sys.close(gate.write)
            throw .call("pipe2", e)
        }
        defer {
            // The child holds its own copies; the parent keeps only the write end of the gate and the read end of
            // the error pipe.
            Sys.close(gate.read)
            Sys.close(errors.write)
        }
        do {
            let pid = try Sys.spawnHeld(path: path, arguments: arguments, gate: gate.read, errorPipe: errors.write)
            return LaunchedChild(pid: pid, gate: gate.write, errorPipe: errors.read, path: path)
        } catch let e {
            Sys.close(gate.write)
            Sys.close(errors.read)
            throw .call("fork", e)
        }
    }

    /// Opens the gate and waits until the child has exec'd (the error pipe reaches EOF) or failed to (exec's errno
    /// arrives); a failed child is reaped.
    static func release(_ child: LaunchedChild) throws(SamplerError) {
        defer { Sys.close(child.errorPipe) }
        do {
            try Sys.write(child.gate, [1])
        } catch let e {
            Sys.close(child.gate)
            throw .call("write(launch gate of pid \(child.pid))", e)
        }
        Sys.close(child.gate)
        let report = (try? Sys.read(child.errorPipe, count: 4)) ?? []
        guard report.count == 4 else { return }
        let errno = Int32(bitPattern: UInt32(report.le32(0)))
        _ = try? Sys.waitpid(child.pid, options: 0)
        let context = "execv(\(child.path))"
        switch errno {
        case ENOENT:
            throw SamplerError(
                code: .commandNotFound, underlyingErrno: errno, context: context,
                description: "command not found: \(child.path) (\(Errno(errno).message))")
        case EACCES, EPERM:
            throw SamplerError(
                code: .permissionDenied, underlyingErrno: errno, context: context,
                description: "\(context): \(Errno(errno).message)")
        default:
            throw .call(context, Errno(errno))
        }
    }

    /// Ends a released child that is still running, as `timeout` does: SIGTERM, up to two seconds' grace, then
    /// SIGKILL; always reaped (or already reaped by the reader: ECHILD), so no zombie outlives fpprof.
    static func end(_ pid: Int32) {
        try? Sys.kill(pid, SIGTERM)
        for _ in 0..<40 {
            do {
                if try Sys.waitpid(pid, options: WNOHANG) != nil { return }
            } catch {
                return
            }
            usleep(50_000)
        }
        try? Sys.kill(pid, SIGKILL)
        _ = try? Sys.waitpid(pid, options: 0)
    }

    /// Kills a child that will never be released, and reaps it.
    static func abandon(_ child: LaunchedChild) {
        Sys.close(child.gate)
        Sys.close(child.errorPipe)
        try? Sys.kill(child.pid, SIGKILL)
        _ = try? Sys.waitpid(child.pid, options: 0)
    }
}
