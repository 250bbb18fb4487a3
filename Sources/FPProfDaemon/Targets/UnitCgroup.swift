import FPProfSampler
import Foundation

/// A systemd unit's cgroup: systemd gives every unit a group named after it (`system.slice/caddy.service`,
/// `user.slice/user-1000.slice/user@1000.service/app.slice/foo.service`). The group is found by a breadth-first
/// search of the cgroup2 tree for a folder of that name, at most `maxFolders` folders and `maxDepth` levels deep,
/// so a host with many groups cannot stall a reload.
public enum UnitCgroup {
    static let maxFolders = 20_000
    static let maxDepth = 8

    /// The group's path relative to the cgroup2 mount, or nil when the unit has no group (not running) or no
    /// cgroup2 is mounted.
    public static func resolve(_ unit: String, mount: String? = CgroupV2.mountPoint()) -> String? {
        guard let mount else { return nil }
        var queue: [(path: String, depth: Int)] = [("", 0)]
        var visited = 0
        var index = 0
        while index < queue.count, visited < maxFolders {
            let (relative, depth) = queue[index]
            index += 1
            visited += 1
            let folder = relative.isEmpty ? mount : mount + "/" + relative
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { continue }
            for entry in entries.sorted() {
                let child = relative.isEmpty ? entry : relative + "/" + entry
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: mount + "/" + child, isDirectory: &isFolder),
                    isFolder.boolValue
                else { continue }
                if entry == unit { return child }
                if depth + 1 < maxDepth { queue.append((child, depth + 1)) }
            }
        }
        return nil
    }
}
