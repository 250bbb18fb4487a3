public import FPProfSampler

/// Why the engine could not do what it was asked, phrased for a person: a front end prints `message` and picks its
/// exit code (or, for a daemon, whether to retry) from `code`.
public struct EngineError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Hashable {
        /// The sampler could not open or run (no such process, no permission, command not found): see `sampler`.
        case sampler
        /// `/proc/kallsyms` could not be read or shows no addresses (`SymbolSettings.kernel`).
        case kernelSymbols
        /// An output or capture file could not be written.
        case output
        /// The input of a report could not be opened or read.
        case input
        /// A raw capture could not be read (not a capture, corrupt, cut before any sample).
        case capture
        /// A profile could not be rendered in the asked format.
        case render
    }

    public var code: Code
    public var message: String
    /// The sampler's own error, for `.sampler`: it tells a permanent failure from one worth retrying.
    public var sampler: SamplerError?

    public init(_ code: Code, _ message: String, sampler: SamplerError? = nil) {
        self.code = code
        self.message = message
        self.sampler = sampler
    }

    init(_ error: SamplerError) {
        self.init(.sampler, error.description, sampler: error)
    }

    public var description: String { message }
}
