import FPProfSampler

/// What the daemon has done, per target, since it started: for the log now and for `/metrics` (issue 13) later.
/// Bounded by the number of configured targets (a removed target's entry goes at the reload).
public final class DaemonCounters: Sendable {
    public struct Target: Sendable, Equatable {
        public var windowsWritten = 0
        public var windowsSkipped = 0
        public var writeErrors = 0
        public var retentionErrors = 0
        public var filesRemoved = 0
        public var samples = 0
        public var lostRecords: UInt64 = 0
        public var ownSamples: UInt64 = 0
        public var modulesForgotten = 0
        public var processes = 0
    }

    private let state = Locked<[String: Target]>([:])
    /// Phase, recent windows and window listeners, for the HTTP side and the uploaders.
    public let activity = DaemonActivity()

    public init() {}

    func update(_ target: String, _ body: (inout Target) -> Void) {
        state.withLock { body(&$0[target, default: Target()]) }
    }

    func forget(except names: Set<String>) {
        state.withLock { counters in counters = counters.filter { names.contains($0.key) } }
        activity.forget(except: names)
    }

    public var snapshot: [String: Target] { state.withLock { $0 } }
}
