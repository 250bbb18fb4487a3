/// What the reader saw while draining, so that a profile can say how much of the truth it holds. The kernel's own
/// drops arrive as LOST records inside the batches; they are tallied here too because the reader walks every header
/// anyway.
public struct SamplerStats: Hashable, Sendable {
    /// Bytes of records copied out of the rings.
    public var bytesRead: UInt64 = 0
    /// Records copied out of the rings.
    public var recordsRead: UInt64 = 0
    /// Batches handed to the stream (whether or not it kept them).
    public var batchesYielded: UInt64 = 0
    /// Batches the stream refused because its buffer was full: the consumer fell behind.
    public var batchesDropped: UInt64 = 0
    /// Bytes inside the dropped batches.
    public var bytesDropped: UInt64 = 0
    /// Records the kernel could not write because a ring was full (the sum of LOST records' counts).
    public var kernelLostRecords: UInt64 = 0
    /// Times a ring held a header that could not be trusted (size below 8, not a multiple of 8, or past the
    /// kernel's head), or claimed more unread bytes than it can hold: the reader skipped to the head.
    public var ringOverruns: UInt64 = 0
    /// The largest backlog (unread bytes) seen in any ring: how close the reader came to losing records.
    public var ringHighWater: UInt64 = 0

    public init() {}
}

/// The stats shared by the reader thread, which writes them, and the session, which reads them from anywhere.
final class StatsCounter: Sendable {
    private let state = Locked(SamplerStats())

    var snapshot: SamplerStats { state.withLock { $0 } }

    func update(_ body: (inout SamplerStats) -> Void) { state.withLock { body(&$0) } }
}
