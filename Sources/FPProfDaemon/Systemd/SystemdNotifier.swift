internal import CSystemd
import Foundation

/// The service manager's notify protocol through libsystemd's `sd_notify(3)`: READY=1 once sampling runs,
/// RELOADING=1 and READY=1 around a reload, STOPPING=1 at shutdown, WATCHDOG=1 while alive. Outside systemd
/// (`NOTIFY_SOCKET` unset) every call does nothing.
public struct SystemdNotifier: Sendable {
    public init() {}

    /// Sends `state` (`KEY=value` lines). Returns whether a message went out.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        sd_notify(0, state) > 0
    }

    public func ready(status: String? = nil) {
        notify("READY=1" + (status.map { "\nSTATUS=\($0)" } ?? ""))
    }

    /// RELOADING=1 with the monotonic time systemd 253 and later ask of a reload notification.
    public func reloading() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let microseconds = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        notify("RELOADING=1\nMONOTONIC_USEC=\(microseconds)")
    }

    public func stopping() { notify("STOPPING=1") }

    public func watchdog() { notify("WATCHDOG=1") }

    /// The interval at which to send WATCHDOG=1: half of `WatchdogSec` (`WATCHDOG_USEC`, for this process when
    /// `WATCHDOG_PID` names it), as sd_watchdog_enabled(3) advises; nil when the watchdog is off.
    public func watchdogInterval() -> Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return .microseconds(Int64(microseconds / 2))
    }
}
