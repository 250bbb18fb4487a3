import FPProfCore
import Glibc

/// State the session and its reader thread share: whether to stop, and how a launched child ended.
final class SessionControl: Sendable {
    /// An eventfd the reader polls next to its rings, so that stop() wakes it at once instead of at its next timeout.
    let bell: Int32
    private let state = Locked(State())

    struct State {
        var stopRequested = false
        var childExit: ChildExitStatus?
    }

    init() throws(SamplerError) {
        do { bell = try Sys.eventfd() } catch let e { throw .call("eventfd", e) }
    }

    deinit { Sys.close(bell) }

    var stopRequested: Bool { state.withLock { $0.stopRequested } }
    var childExit: ChildExitStatus? { state.withLock { $0.childExit } }

    func requestStop() {
        state.withLock { $0.stopRequested = true }
        Sys.ring(bell)
    }

    func recordChildExit(_ status: ChildExitStatus) { state.withLock { $0.childExit = status } }
}

/// How the reader learns that the target is gone, which ends the stream by itself.
enum TargetWatch: Sendable {
    /// A child we launched: reaped with waitpid, its status kept.
    case child(pid: Int32)
    /// A process we attached to: we cannot wait for it, so we watch for it to exit (gone or zombie).
    case process(pid: Int32)
    /// Per-CPU events over the host or a cgroup: there is no one process whose exit ends them.
    case scope(WideScope)

    var pid: Int32? {
        switch self {
        case .child(let pid), .process(let pid): pid
        case .scope: nil
        }
    }
}

/// The one OS thread that owns the rings while the session runs: it blocks in poll(2) on every ring, the stop bell
/// and (where the kernel has it) a pidfd of the target, drains every ring into batches and yields them. It ends the
/// stream after a final drain when asked to stop, when the consumer goes away, or when the target is gone.
struct ReaderThread: Sendable {
    let events: EventSet
    let control: SessionControl
    let stats: StatsCounter
    let watch: TargetWatch
    let continuation: AsyncStream<RecordBatch>.Continuation

    /// Poll timeout: bounds how late a quiet ring is drained and, without a pidfd, how late an exit is noticed.
    static let pollMilliseconds: Int32 = 100

    func start() throws(SamplerError) {
        let reader = self
        do { try Sys.startThread { reader.run() } } catch let e { throw .call("pthread_create(reader)", e) }
    }

    private func run() {
        Sys.adoptProcessNice()
        let pidfd = watch.pid.flatMap { try? Sys.pidfdOpen($0) }
        defer { if let pidfd { Sys.close(pidfd) } }
        var pollSet = events.rings.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        let bellIndex = pollSet.count
        pollSet.append(pollfd(fd: control.bell, events: Int16(POLLIN), revents: 0))
        let pidfdIndex = pollSet.count
        if let pidfd { pollSet.append(pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)) }

        var finished = false
        while !finished {
            let ready = (try? Sys.poll(&pollSet, timeoutMilliseconds: Self.pollMilliseconds)) ?? 0
            if ready > 0 {
                for i in 0..<bellIndex where pollSet[i].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 {
                    // The event owning this ring has exited with all its inherited children: it reports HUP from
                    // now on. Stop polling it (negative fds are ignored) but keep draining, other events of the
                    // CPU may still write into its ring.
                    pollSet[i].fd = -1
                }
                if pollSet[bellIndex].revents & Int16(POLLIN) != 0 { _ = try? Sys.read(control.bell, count: 8) }
            }
            // Decide before draining: whatever the target wrote before it was seen gone is in the rings by now,
            // so the drain below is the final one.
            let targetGone = checkTarget(pidfdReadable: pidfd.map { _ in pollSet[pidfdIndex].revents != 0 })
            let stopping = control.stopRequested
            let consumerGone = !drainAll()
            finished = targetGone || stopping || consumerGone
        }
        // Nobody reads the rings any more: stop filling them (the consumer may keep the session for a while).
        events.disable()
        continuation.finish()
    }

    /// Whether the target has exited; for a launched child, reaps it and records its status. `pidfdReadable` is nil
    /// without a pidfd (before Linux 5.3): /proc is asked instead, which cannot tell an exited leader from an exited
    /// process and may be fooled by pid reuse, so the pidfd's answer is preferred.
    private func checkTarget(pidfdReadable: Bool?) -> Bool {
        switch watch {
        case .child(let pid):
            do {
                guard let status = try Sys.waitpid(pid, options: WNOHANG) else { return false }
                control.recordChildExit(status)
                return true
            } catch {
                // ECHILD: someone else reaped it (SIGCHLD ignored, say); its status is lost but it is gone.
                return true
            }
        case .process(let pid):
            return pidfdReadable ?? ProcFS.hasExited(pid)
        case .scope:
            return false
        }
    }

    /// Drains every ring into its own batch. Returns false once the consumer has gone away.
    private func drainAll() -> Bool {
        var consumerPresent = true
        for ring in events.rings {
            var bytes = [UInt8]()
            let drained = ring.drain(into: &bytes)
            guard drained.backlog > 0 else { continue }
            var dropped = false
            if !bytes.isEmpty {
                switch continuation.yield(RecordBatch(bytes: bytes)) {
                case .enqueued: break
                case .dropped: dropped = true
                case .terminated: consumerPresent = false
                @unknown default: break
                }
            }
            stats.update { s in
                s.bytesRead += UInt64(drained.bytes)
                s.recordsRead += UInt64(drained.records)
                s.kernelLostRecords += drained.lost
                s.ringHighWater = max(s.ringHighWater, drained.backlog)
                if drained.overrun { s.ringOverruns += 1 }
                if !bytes.isEmpty { s.batchesYielded += 1 }
                if dropped {
                    s.batchesDropped += 1
                    s.bytesDropped += UInt64(bytes.count)
                }
            }
        }
        return consumerPresent
    }
}
