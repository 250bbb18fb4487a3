/// Why a stack walk stopped. Only `complete` means the whole stack is known; the others say which part is
/// missing and why, and each becomes a marker frame in the outputs.
public enum UnwindStatus: UInt8, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// The walk reached the start of the stack: a known root frame (`_start`, `clone3`, `runtime.goexit`, ...), or
    /// a frame record whose saved BP is 0 (the outermost record of a thread's stack). Nothing else is complete.
    case complete
    /// A saved BP that points at itself (`[BP] == BP`): the Go `mcall` bug of 2023.
    case selfLoop
    /// The chain came back to an earlier frame record: a loop longer than one frame.
    case cycle
    /// The next record lies outside the memory that may be read, or the depth limit was hit.
    case truncated
    /// BP zero (before any record), misaligned or below SP, or a return address outside executable code.
    case badFrame

    public var description: String {
        switch self {
        case .complete: "complete"
        case .selfLoop: "self-loop"
        case .cycle: "cycle"
        case .truncated: "truncated"
        case .badFrame: "bad-frame"
        }
    }

    /// The frame written right after the process name when the callers above the walk are unknown.
    public var marker: String? {
        switch self {
        case .complete: nil
        case .selfLoop: "[fp-loop]"
        case .cycle: "[fp-cycle]"
        case .truncated: "[truncated]"
        case .badFrame: "[bad-frame]"
        }
    }
}
