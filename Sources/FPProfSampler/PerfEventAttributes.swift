internal import CPerfEvent
import FPProfCore
import Glibc

/// The `perf_event_attr` every event of a session is opened with. All fields live here, so the record layout the
/// kernel writes and the `RecordFormat` the decoder reads are derived from one place.
struct PerfEventAttributes {
    static let format = RecordFormat.amd64Profiling

    var kind: EventKind
    var configuration: SamplerConfiguration
    /// For a launched target: count from the exec on, not from the fork (the gate and our own code stay unsampled).
    var enableOnExec: Bool
    /// Switches used by the EINVAL diagnosis to find which field the kernel refuses.
    var buildID = true
    var useClockID = true
    var sampleRegisters = true
    var sampleStack = true
    var commExec = true
    /// Off for per-CPU events with no pid (`all`, cgroups): they see every task of their CPU, so there is nothing to
    /// inherit, and `perf record -a` leaves it off too.
    var inherit = true
    /// The pid argument is an fd of a cgroup v2 folder (`PERF_FLAG_PID_CGROUP`), for events scoped to that group.
    var pidIsCgroup = false

    var attr: perf_event_attr {
        var a = perf_event_attr()
        a.size = UInt32(MemoryLayout<perf_event_attr>.size)
        switch kind {
        case .cycles:
            a.type = PERF_TYPE_HARDWARE.rawValue
            a.config = UInt64(PERF_COUNT_HW_CPU_CYCLES.rawValue)
        case .cpuClock:
            a.type = PERF_TYPE_SOFTWARE.rawValue
            a.config = UInt64(PERF_COUNT_SW_CPU_CLOCK.rawValue)
        }
        var fields = Self.format.sampleFields
        if !sampleRegisters { fields.remove(.regsUser) }
        if !sampleStack { fields.remove(.stackUser) }
        a.sample_type = fields.rawValue
        a.freq = 1
        a.sample_freq = UInt64(configuration.frequency)
        if sampleRegisters { a.sample_regs_user = Self.format.userRegisterMask }
        if sampleStack { a.sample_stack_user = UInt32(configuration.stackSize) }
        a.sample_id_all = Self.format.sampleIDAll ? 1 : 0
        // Side band: mappings, the names of threads and execs, forks and exits. With mmap2 set the kernel writes
        // MMAP2 records instead of MMAP, but mmap must be set too: the kernel only reports mappings at all while
        // some event with `mmap` (or `mmap_data`) exists (nr_mmap_events), and mmap2 alone does not count.
        a.mmap = 1
        a.mmap2 = 1
        a.comm = 1
        a.comm_exec = commExec ? 1 : 0
        a.task = 1
        a.build_id = buildID ? 1 : 0
        // Kernel-mode samples are kept: their user registers and stack still unwind the user side, and dropping
        // them would hide time spent in system calls. The kernel part of the chain is only wanted on request.
        a.exclude_kernel = 0
        a.exclude_callchain_kernel = configuration.includeKernelCallchain ? 0 : 1
        // The kernel's walk of the user frame pointers runs in every sampling interrupt, charged to the target; it is
        // asked for only when the profile will use it (see `SamplerConfiguration.includeUserCallchain`). With both
        // parts excluded the kernel still writes the callchain field, empty.
        a.exclude_callchain_user = configuration.includeUserCallchain ? 0 : 1
        a.exclude_hv = 1
        a.inherit = inherit ? 1 : 0
        a.disabled = 1
        a.enable_on_exec = enableOnExec ? 1 : 0
        // CLOCK_MONOTONIC instead of the kernel's perf clock, so record times line up with user-space clocks
        // (profile windows, logs).
        if useClockID {
            a.use_clockid = 1
            a.clockid = CLOCK_MONOTONIC
        }
        // Wake the reader when a quarter of the ring is full (or at every record, when asked); its poll timeout
        // covers quieter rings.
        a.watermark = 1
        a.wakeup_watermark =
            configuration.wakeupEverySample ? 1 : UInt32(clamping: configuration.ringPages * Sys.pageSize / 4)
        return a
    }

    /// Names the field the kernel refused with EINVAL, by switching the optional ones off one at a time and
    /// retrying on the same (pid, cpu). Only runs on the error path.
    func diagnoseInvalid(pid: Int32, cpu: Int32) -> String? {
        let probes: [(String, WritableKeyPath<PerfEventAttributes, Bool>)] = [
            ("build_id (MMAP2 build-ids need Linux 5.12+)", \.buildID),
            ("use_clockid/clockid", \.useClockID),
            ("sample_regs_user 0x\(String(Self.format.userRegisterMask, radix: 16))", \.sampleRegisters),
            ("sample_stack_user \(configuration.stackSize)", \.sampleStack),
            ("comm_exec", \.commExec),
        ]
        for (name, key) in probes {
            var variant = self
            variant[keyPath: key] = false
            if let fd = try? Sys.perfEventOpen(variant.attr, pid: pid, cpu: cpu, cgroup: pidIsCgroup) {
                Sys.close(fd)
                return name
            }
        }
        return nil
    }
}
