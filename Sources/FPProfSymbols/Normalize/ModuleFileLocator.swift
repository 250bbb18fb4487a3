internal import FPProfCore

/// Where on this machine the file behind a module can be read. A module's path is the one the target process saw,
/// in its own mount namespace: a containerized process's `/usr/lib/libc.so.6` is reached from the host through
/// `/proc/PID/root`, which works while the process lives.
///
/// A path with the kernel's ` (deleted)` suffix names a file that was replaced or removed while mapped; its old
/// contents remain reachable only through `/proc/PID/map_files/START-END`, which needs the mapping's range and is
/// not tried here, so such modules fall back to `module+0xOFFSET` frames.
struct ModuleFileLocator: Sendable {
    /// Prepended to every module path instead of the /proc routes, as `perf --symfs` does: for tests, and for
    /// symbolizing against a copy of another machine's files.
    var rootPrefix: String?

    /// The paths to try, in order. Empty for pseudo-files such as `[vdso]` or `//anon`, which have no file on disk:
    /// they are not a failure worth a warning.
    func candidates(for module: ModuleID) -> [String] {
        let path = module.path
        guard path.hasPrefix("/"), !path.hasPrefix("//") else { return [] }
        if let rootPrefix { return [rootPrefix + path] }
        var paths = [path]
        if let pid = module.pidHint { paths.append("/proc/\(pid.rawValue)/root" + path) }
        return paths
    }
}
