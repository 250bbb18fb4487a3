import FPProfCore
import FPProfSampler
import Foundation
import Prometheus

/// `/metrics`: the daemon's counters in Prometheus's text format, kept in a swift-prometheus registry. The
/// daemon's own counters (`DaemonCounters`, `DaemonActivity`) are cumulative values; at each scrape the registry's
/// counters are raised by what changed since the previous scrape, so they never go down (a target removed and
/// added again starts its own values from zero, and its counters wait until they pass the old ones).
///
/// Metrics are made through the registry's own API rather than the swift-metrics façade, because only the former
/// takes HELP text and `promtool check metrics` reports every metric without it.
///
/// Bounds: one series per configured target and label value (unwind statuses, five), per `[[upload]]` receiver,
/// and per endpoint class and status code of `RequestClass` (a dozen each); a removed target's series are
/// unregistered at the next scrape.
public final class DaemonMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    /// The value each counter was raised to at the previous scrape: by target ("" for the daemon's own), then by
    /// name and labels.
    private let exported = Locked<[String: [String: Double]]>([:])
    private let targetSeries = Locked<[String: [Series]]>([:])

    private enum Series: @unchecked Sendable {
        case counter(Counter)
        case gauge(Gauge)
    }

    public init() {}

    /// Counts one answered request, by the endpoint's class (never the raw path, which a client chooses).
    func countRequest(endpoint: String, status: Int) {
        counter(
            "fpprof_http_requests_total", [("endpoint", endpoint), ("code", String(status))],
            help: "HTTP requests answered, by endpoint and status code."
        ).increment()
    }

    func counter(_ name: String, _ labels: [(String, String)], help: String) -> Counter {
        registry.makeCounter(descriptor: Self.descriptor(name, help), labels: labels)
    }

    func gauge(_ name: String, _ labels: [(String, String)], help: String) -> Gauge {
        registry.makeGauge(descriptor: Self.descriptor(name, help), labels: labels)
    }

    /// The whole name as the descriptor's base name (its unit part left empty): the names here are final already.
    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// Brings the registry up to date and renders it.
    func scrape(counters: DaemonCounters) -> String {
        let snapshot = counters.snapshot
        let totals = counters.activity.totals
        var seen: [String: [Series]] = [:]
        for (target, c) in snapshot {
            var series: [Series] = []
            let labels = [("target", target)]
            func raise(_ name: String, _ labels: [(String, String)], _ value: Double, _ help: String) {
                let counter = counter(name, labels, help: help)
                series.append(.counter(counter))
                raiseCounter(counter, owner: target, key: name + "\(labels)", to: value)
            }
            raise("fpprof_samples_total", labels, Double(c.samples), "Samples taken, over all windows written.")
            raise(
                "fpprof_lost_records_total", labels, Double(c.lostRecords),
                "Sample records the kernel dropped (ring full).")
            raise(
                "fpprof_own_samples_dropped_total", labels, Double(c.ownSamples),
                "Samples of the daemon's own process, which a per-CPU target meets and its windows leave out.")
            raise(
                "fpprof_symbol_modules_forgotten_total", labels, Double(c.modulesForgotten),
                "Modules whose symbols were dropped whole to stay under symbol_memory (read again when met again).")
            raise(
                "fpprof_dropped_batches_total", labels, Double(totals[target]?.droppedBatches ?? 0),
                "Batches of records dropped because the daemon read them too slowly.")
            raise("fpprof_windows_written_total", labels, Double(c.windowsWritten), "Windows written to disk.")
            raise(
                "fpprof_windows_skipped_total", labels, Double(c.windowsSkipped),
                "Windows not (or partly) written, for example on a full disk.")
            raise("fpprof_write_errors_total", labels, Double(c.writeErrors), "Window files that could not be written.")
            raise(
                "fpprof_retention_errors_total", labels, Double(c.retentionErrors),
                "Old window files retention could not remove.")
            raise(
                "fpprof_retention_removed_files_total", labels, Double(c.filesRemoved),
                "Window files removed by retention.")
            let byStatus = totals[target]?.samplesByStatus ?? [:]
            for status in UnwindStatus.allCases {
                raise(
                    "fpprof_unwind_samples_total", labels + [("status", status.metricLabel)],
                    Double(byStatus[status] ?? 0),
                    "Samples by how their frame-pointer walk ended (complete, or the marker the stack carries).")
            }
            let processes = gauge(
                "fpprof_processes", labels, help: "Processes in the target's last window.")
            processes.set(Double(c.processes))
            series.append(.gauge(processes))
            seen[target] = series
        }
        let gone = targetSeries.withLock { known in
            let gone = known.filter { seen[$0.key] == nil }.flatMap(\.value)
            known = seen
            return gone
        }
        for s in gone {
            switch s {
            case .counter(let c): registry.unregisterCounter(c)
            case .gauge(let g): registry.unregisterGauge(g)
            }
        }
        exported.withLock { last in last = last.filter { owner, _ in owner.isEmpty || seen[owner] != nil } }
        let usage = ProcessUsage.current()
        raiseCounter(
            counter("process_cpu_seconds_total", [], help: "CPU time the daemon used, user and system, in seconds."),
            owner: "", key: "process_cpu_seconds_total", to: usage.cpuSeconds)
        gauge("process_resident_memory_bytes", [], help: "The daemon's resident memory, in bytes.")
            .set(Double(usage.residentBytes))
        return registry.emitToString()
    }

    private func raiseCounter(_ counter: Counter, owner: String, key: String, to value: Double) {
        let delta = exported.withLock { last -> Double in
            let previous = last[owner]?[key] ?? 0
            last[owner, default: [:]][key] = value
            return value - previous
        }
        if delta > 0 { counter.increment(by: delta) }
    }
}

extension UnwindStatus {
    /// The `status` label of `fpprof_unwind_samples_total`, after the marker frame the status puts in a stack.
    var metricLabel: String {
        switch self {
        case .complete: "complete"
        case .selfLoop: "fp_loop"
        case .cycle: "fp_cycle"
        case .truncated: "truncated"
        case .badFrame: "bad_frame"
        }
    }
}

/// The daemon's own CPU time and resident memory, from /proc/self.
struct ProcessUsage {
    var cpuSeconds: Double
    var residentBytes: Int

    static func current() -> ProcessUsage {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let cpu =
            Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
        // statm's second field: resident pages.
        var resident = 0
        if let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
            let fields = text.split(separator: " ")
            if fields.count > 1, let pages = Int(fields[1]) { resident = pages * Int(sysconf(Int32(_SC_PAGESIZE))) }
        }
        return ProcessUsage(cpuSeconds: cpu, residentBytes: resident)
    }
}
