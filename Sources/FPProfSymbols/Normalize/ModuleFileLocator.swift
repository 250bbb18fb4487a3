internal import FPProfCore
import Foundation

/// Where on this machine the file behind a module can be read. A module's path is the one the target process saw,
/// in its own mount namespace: a containerized process's `/usr/lib/libc.so.6` is reached from the host through
/// `/proc/PID/root`, which works while the process lives.
///
/// A file deleted or replaced while mapped (the kernel then shows its path with a ` (deleted)` suffix, or the
/// MMAP2 record's path no longer opens) stays reachable through the process's `/proc/PID/map_files/START-END`
/// links. A module that has a build-id is looked for there last, and the build-id check in `ElfFile` makes sure
/// the right file is taken.
struct ModuleFileLocator: Sendable {
    /// Prepended to every module path instead of the /proc routes, as `perf --symfs` does: for tests, and for
    /// symbolizing against a copy of another machine's files.
    var rootPrefix: String?

    /// The paths to try, in order. The vdso is read from fpprof's own copy (`VdsoImage`). Empty for other
    /// pseudo-files such as `//anon`, which have no file on disk: they are not a failure worth a warning.
    func candidates(for module: ModuleID) -> [String] {
        var path = module.path
        if path == "[vdso]", rootPrefix == nil { return VdsoImage.path.map { [$0] } ?? [] }
        guard path.hasPrefix("/"), !path.hasPrefix("//") else { return [] }
        if path.hasSuffix(Self.deletedSuffix) { path.removeLast(Self.deletedSuffix.count) }
        if let rootPrefix { return [rootPrefix + path] }
        var paths = [path]
        if let pid = module.pidHint {
            paths.append("/proc/\(pid.rawValue)/root" + path)
            if module.buildID != nil { paths += Self.mapFiles(of: pid) }
        }
        return paths
    }

    static let deletedSuffix = " (deleted)"

    /// The process's file-backed mappings, one link each (empty once the process is gone).
    static func mapFiles(of pid: ProcessID) -> [String] {
        let directory = "/proc/\(pid.rawValue)/map_files"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return entries.sorted().map { "\(directory)/\($0)" }
    }

    /// Whether a candidate is one of the map_files links, which are tried in bulk and not worth naming in warnings.
    static func isMapFile(_ path: String) -> Bool { path.contains("/map_files/") }
}
