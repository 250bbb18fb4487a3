import Foundation

/// Whether fpprof may read a `--pid` target's memory, checked before sampling. The stack copies and /proc files the
/// profile needs take the same ptrace access check as `process_vm_readv`; without it, perf could still count the
/// target's CPU time (with CAP_PERFMON) and the run ended with 0 samples and a hint about an idle target.
enum PtraceAccess {
    /// Throws, naming the missing right, when /proc/PID/maps cannot be read (it takes PTRACE_MODE_READ).
    static func check(pid: Int32) throws(UserFacingError) {
        let path = "/proc/\(pid)/maps"
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        var code = errno
        if descriptor >= 0 {
            var byte: UInt8 = 0
            let n = read(descriptor, &byte, 1)
            code = errno
            close(descriptor)
            if n >= 0 { return }
        }
        guard code == EACCES || code == EPERM else {
            if code == ENOENT || code == ESRCH { throw UserFacingError(message: "no such process: \(pid)") }
            throw UserFacingError(message: "cannot read \(path): \(String(cString: strerror(code)))")
        }
        throw UserFacingError(message: explanation(pid: pid))
    }

    /// Which of the three rules refused: another user's process, Yama's ptrace_scope, or a missing capability.
    static func explanation(pid: Int32) -> String {
        var owner = stat()
        let ownerUID = stat("/proc/\(pid)", &owner) == 0 ? Int(owner.st_uid) : nil
        let scope = (try? String(contentsOfFile: "/proc/sys/kernel/yama/ptrace_scope", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var text = "no ptrace access to pid \(pid), so its stacks cannot be read"
        if let ownerUID, ownerUID != Int(geteuid()) {
            text += "; it belongs to uid \(ownerUID) and fpprof runs as uid \(geteuid())"
        }
        if let scope, scope != "0" {
            text += "; Yama ptrace_scope is \(scope) (/proc/sys/kernel/yama/ptrace_scope)"
        }
        text += ". Run as root or as the target's user, or grant fpprof CAP_SYS_PTRACE"
        if let paranoid = perfRefusal() { text += "; " + paranoid }
        return text
    }

    /// Without CAP_PERFMON (or CAP_SYS_ADMIN) and with `kernel.perf_event_paranoid` above 1, perf_event_open
    /// refuses this user too: said beside the ptrace reason, so that one run names both rights that are missing.
    static func perfRefusal() -> String? {
        guard
            let paranoid = (try? String(contentsOfFile: "/proc/sys/kernel/perf_event_paranoid", encoding: .utf8))
                .flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }), paranoid > 1
        else { return nil }
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let effective =
            status.split(separator: "\n").first { $0.hasPrefix("CapEff:") }
            .flatMap { UInt64($0.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16) } ?? 0
        let perfmon: UInt64 = 1 << 38
        let sysAdmin: UInt64 = 1 << 21
        guard effective & (perfmon | sysAdmin) == 0 else { return nil }
        return "sampling is refused as well (perf_event_open: permission denied, kernel.perf_event_paranoid is "
            + "\(paranoid)); run as root or grant CAP_PERFMON"
    }
}
