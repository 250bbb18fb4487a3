import FPProfCore
import Glibc

/// The perf events of one session: one per (thread, CPU) that existed when it was opened, each with `inherit` so
/// threads and children created later are followed, and one ring per CPU. An event with `inherit` cannot be mapped
/// when it spans all CPUs (cpu = -1), hence the per-CPU events: the first fd of a CPU owns that CPU's ring and every
/// other fd of the CPU writes into it through PERF_EVENT_IOC_SET_OUTPUT. A thread created between the listing of
/// /proc/PID/task and the opening is covered only if its creator already had its events (as with `perf record -p`);
/// listing again would not help, since a thread that did inherit them would then be counted twice.
///
/// Invariant: after `open` returns, `fds`, `rings` and `kind` never change. The rings are read by one thread at a
/// time (the reader thread, the only caller of `MappedRing.drain`); other threads only issue ioctls on the fds,
/// which the kernel serializes. The fds are closed in deinit, when no thread can use them any more.
final class EventSet: @unchecked Sendable {
    let kind: EventKind
    let fds: [Int32]
    let rings: [MappedRing]

    init(kind: EventKind, fds: [Int32], rings: [MappedRing]) {
        self.kind = kind
        self.fds = fds
        self.rings = rings
    }

    deinit {
        for fd in fds { Sys.close(fd) }
    }

    /// Errnos with which a hardware event says "no such counter here" (no PMU, as in most VMs, or a PMU that
    /// cannot sample): `.auto` then falls back to cpu-clock.
    static let noHardwareErrnos: Set<Int32> = [ENOENT, ENODEV, ENXIO, EOPNOTSUPP]

    /// Opens events for `threads` of process `pid` on `cpus`. A thread that exits meanwhile (ESRCH) is skipped; if
    /// all of them did, the process is gone.
    static func open(
        configuration: SamplerConfiguration, pid: Int32, threads: [Int32], cpus: [Int32], enableOnExec: Bool
    ) throws(SamplerError) -> EventSet {
        var attributes = PerfEventAttributes(
            kind: configuration.event == .cpuClock ? .cpuClock : .cycles, configuration: configuration,
            enableOnExec: enableOnExec)
        var kindDecided = configuration.event != .auto
        var fds = [Int32]()
        var rings = [Int32: MappedRing]()
        var raisedFileLimit = false
        // On failure, whatever was opened is closed (rings unmap in their deinit).
        var success = false
        defer { if !success { for fd in fds { Sys.close(fd) } } }

        threadLoop: for tid in threads {
            for cpu in cpus {
                let fd: Int32
                do {
                    fd = try Sys.perfEventOpen(attributes.attr, pid: tid, cpu: cpu)
                } catch let e {
                    switch e.rawValue {
                    case ESRCH:
                        continue threadLoop
                    case EMFILE where !raisedFileLimit:
                        raisedFileLimit = true
                        if Sys.raiseOpenFileLimit() {
                            do { fd = try Sys.perfEventOpen(attributes.attr, pid: tid, cpu: cpu) } catch let e {
                                throw openError(e, attributes: attributes, tid: tid, cpu: cpu)
                            }
                        } else {
                            throw openError(e, attributes: attributes, tid: tid, cpu: cpu)
                        }
                    case let errno where !kindDecided && noHardwareErrnos.contains(errno):
                        attributes.kind = .cpuClock
                        kindDecided = true
                        do { fd = try Sys.perfEventOpen(attributes.attr, pid: tid, cpu: cpu) } catch let e {
                            if e.rawValue == ESRCH { continue threadLoop }
                            throw openError(e, attributes: attributes, tid: tid, cpu: cpu)
                        }
                    default:
                        throw openError(e, attributes: attributes, tid: tid, cpu: cpu)
                    }
                }
                kindDecided = true
                fds.append(fd)
                if let ring = rings[cpu] {
                    do { try Sys.setOutput(fd, to: ring.fd) } catch let e {
                        throw .call("ioctl(PERF_EVENT_IOC_SET_OUTPUT, tid: \(tid), cpu: \(cpu))", e)
                    }
                } else {
                    do { rings[cpu] = try MappedRing(fd: fd, dataPages: configuration.ringPages) } catch let e {
                        throw mapError(e, pages: configuration.ringPages, cpu: cpu)
                    }
                }
            }
        }
        guard !fds.isEmpty else { throw .noSuchProcess(pid) }
        success = true
        return EventSet(kind: attributes.kind, fds: fds, rings: cpus.compactMap { rings[$0] })
    }

    /// PERF_EVENT_IOC_ENABLE on every event.
    func enable() throws(SamplerError) {
        for fd in fds {
            do { try Sys.enable(fd) } catch let e { throw .call("ioctl(PERF_EVENT_IOC_ENABLE)", e) }
        }
    }

    /// PERF_EVENT_IOC_DISABLE on every event; failures are ignored, as there is nothing left to do about them.
    func disable() {
        for fd in fds { try? Sys.disable(fd) }
    }

    static func openError(_ e: Errno, attributes: PerfEventAttributes, tid: Int32, cpu: Int32) -> SamplerError {
        let context = "perf_event_open(pid: \(tid), cpu: \(cpu))"
        switch e.rawValue {
        case EACCES, EPERM:
            return SamplerError(
                code: .permissionDenied, underlyingErrno: e.rawValue, context: context,
                description: "\(context): permission denied; run as root, grant CAP_PERFMON, "
                    + "or lower /proc/sys/kernel/perf_event_paranoid")
        case let errno where attributes.kind == .cycles && noHardwareErrnos.contains(errno):
            return SamplerError(
                code: .invalidConfiguration, underlyingErrno: errno, context: context,
                description: "\(context): no hardware cycle counter here (\(e.message)); "
                    + "use the cpu-clock event, or auto to fall back to it")
        case EINVAL:
            let field = attributes.diagnoseInvalid(pid: tid, cpu: cpu)
            return SamplerError(
                code: .invalidConfiguration, underlyingErrno: e.rawValue, context: context,
                description: "\(context): invalid argument"
                    + (field.map { "; the kernel refuses \($0)" } ?? "; the kernel refuses the event attributes"))
        case EMFILE:
            return .call(context, e, hint: "too many open files: one fd per thread and CPU; raise `ulimit -n`")
        default:
            return .call(context, e)
        }
    }

    static func mapError(_ e: Errno, pages: Int, cpu: Int32) -> SamplerError {
        let context = "mmap(perf ring, cpu: \(cpu), \((pages + 1) * Sys.pageSize / 1024) KiB)"
        switch e.rawValue {
        case EPERM, ENOMEM:
            return .call(
                context, e,
                hint: "lower the ring pages, or raise /proc/sys/kernel/perf_event_mlock_kb or RLIMIT_MEMLOCK")
        default:
            return .call(context, e)
        }
    }
}
