import FPProfCore
import FPProfSampler
import Foundation

/// One window as the daemon wrote it: what the status page, `/metrics` and the uploaders need to know of it.
public struct WindowRecord: Sendable {
    public var target: String
    public var start: Date
    public var duration: Duration
    public var samples: Int
    public var lostRecords: UInt64
    public var samplesByStatus: [UnwindStatus: Int]
    public var processes: [Int32]
    /// The names of the files written, in the target's folder.
    public var files: [String]
}

/// What the daemon is doing and has done, beyond the plain counters: its phase (for `/healthz`), the recent windows
/// of each target (for the page at `/`), cumulative unwind-status counts and dropped batches (for `/metrics`), and
/// the listeners that want every window's pprof (the uploaders).
///
/// Bounds: `recentPerTarget` windows per target, one entry per configured target (a removed target goes at the
/// reload, with the counters), and the listeners registered at start (one per `[[upload]]`).
public final class DaemonActivity: Sendable {
    public static let recentPerTarget = 20

    public enum Phase: Sendable, Equatable {
        case starting
        case sampling(targets: Int)
        case stopping
    }

    /// A window's pprof bytes, by process for `per_process` targets (nil key: the whole target).
    public typealias WindowListener = @Sendable (WindowRecord, [Int32?: [UInt8]]) -> Void

    public struct Totals: Sendable, Equatable {
        public var samplesByStatus: [UnwindStatus: Int] = [:]
        public var droppedBatches: UInt64 = 0
    }

    private struct State {
        var phase: Phase = .starting
        var recent: [String: [WindowRecord]] = [:]
        var totals: [String: Totals] = [:]
        var listeners: [WindowListener] = []
    }

    private let state = Locked(State())

    public init() {}

    public var phase: Phase { state.withLock { $0.phase } }

    func setPhase(_ phase: Phase) { state.withLock { $0.phase = phase } }

    /// Newest first.
    public func recentWindows(of target: String) -> [WindowRecord] {
        state.withLock { $0.recent[target] ?? [] }.reversed()
    }

    public var totals: [String: Totals] { state.withLock { $0.totals } }

    public func addListener(_ listener: @escaping WindowListener) {
        state.withLock { $0.listeners.append(listener) }
    }

    /// Called by the target's worker after the window's files are written; the listeners must not block.
    func windowWritten(_ record: WindowRecord, pprof: [Int32?: [UInt8]]) {
        let listeners = state.withLock { s in
            var list = s.recent[record.target, default: []]
            list.append(record)
            if list.count > Self.recentPerTarget { list.removeFirst(list.count - Self.recentPerTarget) }
            s.recent[record.target] = list
            for (status, count) in record.samplesByStatus {
                s.totals[record.target, default: Totals()].samplesByStatus[status, default: 0] += count
            }
            return s.listeners
        }
        for listener in listeners { listener(record, pprof) }
    }

    func batchesDropped(_ target: String, _ count: UInt64) {
        guard count > 0 else { return }
        state.withLock { $0.totals[target, default: Totals()].droppedBatches += count }
    }

    func forget(except names: Set<String>) {
        state.withLock { s in
            s.recent = s.recent.filter { names.contains($0.key) }
            s.totals = s.totals.filter { names.contains($0.key) }
        }
    }
}
