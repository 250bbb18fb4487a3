import Glibc

/// Why a session could not be set up or started. Each message names the failing call and what to do about it,
/// because the person reading it is usually at a shell prompt, not in a debugger.
public struct SamplerError: Error, CustomStringConvertible, Hashable, Sendable {
    /// What kind of failure: lets a CLI pick an exit code and a daemon decide whether to retry.
    public enum Code: String, Hashable, Sendable {
        /// The target pid (or every thread of it) is gone.
        case noSuchProcess
        /// The kernel refused the event (EACCES/EPERM), or the command cannot be executed.
        case permissionDenied
        /// A `.launch` target's argv[0] is not an executable file, directly or through PATH.
        case commandNotFound
        /// The configuration (or the event it asks for) cannot work on this machine.
        case invalidConfiguration
        /// Any other system call failure.
        case system
    }

    public var code: Code
    /// The errno behind the failure, if a system call failed.
    public var underlyingErrno: Int32?
    /// The failing call and its arguments, e.g. `perf_event_open(pid: 4242, cpu: 3)`.
    public var context: String
    /// The whole message, context first.
    public var description: String

    public init(code: Code, underlyingErrno: Int32? = nil, context: String, description: String) {
        self.code = code
        self.underlyingErrno = underlyingErrno
        self.context = context
        self.description = description
    }

    static func invalidConfiguration(_ message: String) -> SamplerError {
        SamplerError(
            code: .invalidConfiguration, context: "configuration", description: "invalid configuration: \(message)")
    }

    static func noSuchProcess(_ pid: Int32, errno: Int32? = ESRCH) -> SamplerError {
        SamplerError(
            code: .noSuchProcess, underlyingErrno: errno, context: "pid \(pid)", description: "no such process: \(pid)")
    }

    /// A failed system call, classified by errno. `hint` is appended to the generic message.
    static func call(_ context: String, _ errno: Errno, hint: String? = nil) -> SamplerError {
        let code: Code
        switch errno.rawValue {
        case EACCES, EPERM: code = .permissionDenied
        case ESRCH: code = .noSuchProcess
        case EINVAL: code = .invalidConfiguration
        default: code = .system
        }
        var text = "\(context): \(errno.message)"
        if let hint { text += "; \(hint)" }
        return SamplerError(code: code, underlyingErrno: errno.rawValue, context: context, description: text)
    }
}

/// An errno value kept as a value: syscall wrappers throw it, callers turn it into a `SamplerError` with context.
struct Errno: Error, Hashable, Sendable {
    var rawValue: Int32

    init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// The errno of the call that just failed on this thread.
    static var current: Errno { Errno(errno) }

    /// strerror(3), lower-cased the way the rest of our messages are.
    var message: String {
        guard let text = strerror(rawValue) else { return "errno \(rawValue)" }
        let s = String(cString: text)
        guard let first = s.first else { return s }
        return first.lowercased() + s.dropFirst()
    }
}
