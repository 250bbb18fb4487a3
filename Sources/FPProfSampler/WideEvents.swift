import FPProfCore
import Glibc

/// What a per-CPU session with no single target process watches: every task on the host, or every task of one
/// cgroup v2 group (and its descendants).
enum WideScope: Sendable, Hashable {
    case all
    /// The absolute path of the group's folder under the cgroup2 mount.
    case cgroup(String)
}

extension EventSet {
    /// Opens one event per CPU for `scope`, as `perf record -a` (and `-G` for a cgroup) does: pid -1, or the fd of the
    /// cgroup's folder with PERF_FLAG_PID_CGROUP. Each event has its own ring. The number of fds is the number of
    /// CPUs, whatever the number of processes and threads it covers. No `inherit`: a per-CPU event already sees
    /// every task that runs there, new ones included.
    static func openPerCPU(configuration: SamplerConfiguration, scope: WideScope, cpus: [Int32]) throws(SamplerError)
        -> EventSet
    {
        var attributes = PerfEventAttributes(
            kind: configuration.event == .cpuClock ? .cpuClock : .cycles, configuration: configuration,
            enableOnExec: false)
        attributes.inherit = false
        var pid: Int32 = -1
        var cgroupFD: Int32?
        if case .cgroup(let path) = scope {
            do { cgroupFD = try Sys.openForReading(path) } catch let e {
                if e.rawValue == ENOENT { throw .invalidConfiguration("no such cgroup: \(path)") }
                throw .call("open(\(path))", e)
            }
            pid = cgroupFD ?? -1
            attributes.pidIsCgroup = true
        }
        // The kernel holds its own reference to the group once the events exist.
        defer { if let cgroupFD { Sys.close(cgroupFD) } }
        var kindDecided = configuration.event != .auto
        var fds = [Int32]()
        var rings = [MappedRing]()
        var success = false
        defer { if !success { for fd in fds { Sys.close(fd) } } }
        for cpu in cpus {
            let fd: Int32
            do {
                fd = try Sys.perfEventOpen(attributes.attr, pid: pid, cpu: cpu, cgroup: attributes.pidIsCgroup)
            } catch let e {
                guard !kindDecided, noHardwareErrnos.contains(e.rawValue) else {
                    throw openError(e, attributes: attributes, tid: pid, cpu: cpu)
                }
                attributes.kind = .cpuClock
                do {
                    fd = try Sys.perfEventOpen(attributes.attr, pid: pid, cpu: cpu, cgroup: attributes.pidIsCgroup)
                } catch let e {
                    throw openError(e, attributes: attributes, tid: pid, cpu: cpu)
                }
            }
            kindDecided = true
            fds.append(fd)
            do { rings.append(try MappedRing(fd: fd, dataPages: configuration.ringPages)) } catch let e {
                throw mapError(e, pages: configuration.ringPages, cpu: cpu)
            }
        }
        success = true
        return EventSet(kind: attributes.kind, fds: fds, rings: rings)
    }
}

extension WideScope {
    /// The processes in scope right now, for the records of what they mapped before the events existed.
    func currentProcesses() -> [Int32] {
        switch self {
        case .all:
            return ((try? Sys.listDirectory("/proc")) ?? []).compactMap { Int32($0) }.filter { $0 > 0 }.sorted()
        case .cgroup(let path):
            return CgroupProcesses.list(path)
        }
    }
}

/// The processes of a cgroup v2 group and of every group below it, read from `cgroup.procs`. Bounded: at most
/// `maxGroups` folders are read, deepest ones left out past that.
enum CgroupProcesses {
    static let maxGroups = 4096

    static func list(_ path: String) -> [Int32] {
        var pids = Set<Int32>()
        var pending = [path]
        var visited = 0
        while let folder = pending.popLast(), visited < maxGroups {
            visited += 1
            if let bytes = try? Sys.readFile(folder + "/cgroup.procs") {
                for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                    if let pid = Int32(line) { pids.insert(pid) }
                }
            }
            for entry in (try? Sys.listDirectory(folder)) ?? [] where !entry.hasPrefix(".") {
                let child = folder + "/" + entry
                if Sys.exists(child + "/cgroup.procs") { pending.append(child) }
            }
        }
        return pids.sorted()
    }
}

extension SamplingSession {
    /// COMM and MMAP2 records, stamped `time`, for what the processes in scope have now: the attached process, or
    /// every process of the host or the cgroup. `initialRecords()` is this at the current time; a consumer that
    /// starts a new profile mid-session (a window) calls it with time 0, so that the records order before every
    /// sample still waiting in the rings.
    public func currentProcessRecords(time: UInt64, only pids: [ProcessID]? = nil) -> RecordBatch {
        let processes: [Int32]
        switch watchedScope {
        case .process(let pid): processes = [pid]
        case .child: return RecordBatch(bytes: [])
        case .scope(let scope): processes = pids.map { $0.map(\.rawValue) } ?? scope.currentProcesses()
        }
        var bytes = [UInt8]()
        var buildIDs = [InitialRecords.FileKey: BuildID?]()
        for pid in processes {
            bytes += InitialRecords.synthesize(pid: pid, format: format, time: time, buildIDs: &buildIDs)
        }
        return RecordBatch(bytes: bytes)
    }
}

extension SamplingSession {
    /// Opens (and closes) one per-CPU cpu-clock event with no pid, which needs CAP_PERFMON (or root) whenever
    /// `perf_event_paranoid` is above 0: a service checks at start that it may sample at all, before it has a
    /// process to sample.
    public static func checkSamplingPermission() throws(SamplerError) {
        var attributes = PerfEventAttributes(
            kind: .cpuClock, configuration: SamplerConfiguration(), enableOnExec: false)
        attributes.inherit = false
        do {
            let fd = try Sys.perfEventOpen(attributes.attr, pid: -1, cpu: 0)
            Sys.close(fd)
        } catch let e {
            throw EventSet.openError(e, attributes: attributes, tid: -1, cpu: 0)
        }
    }
}
