import ArgumentParser

/// Exit codes, so scripts can tell a usage mistake from a failed recording from a partial one.
enum FPProfExit {
    /// Nothing useful was produced: no target, no permission, output not writable.
    static let failure = ExitCode(1)
    /// A profile was written, but something was lost on the way (records dropped, unreadable binaries).
    static let partial = ExitCode(2)
    /// Frame-pointer loops or cycles were found (`fpcheck`).
    static let unhealthy = ExitCode(3)
    /// Modules built without frame pointers were found (`fpcheck --require-frame-pointers`).
    static let missingFramePointers = ExitCode(4)
    /// ArgumentParser's own code for bad flags.
    static let usage = ExitCode(64)
}

/// An error already phrased for the user: printed as `fpprof: <message>` and mapped to an exit code.
struct UserFacingError: Error, CustomStringConvertible {
    var message: String
    var exitCode: ExitCode = FPProfExit.failure
    var description: String { message }
}
