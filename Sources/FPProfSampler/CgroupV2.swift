/// Where cgroup v2 lives on this host and how a group's path becomes its folder. A pure v2 host mounts it at
/// /sys/fs/cgroup, a hybrid one (systemd's "unified" layout) at /sys/fs/cgroup/unified: /proc/self/mountinfo says
/// which.
public enum CgroupV2 {
    /// The mount point of the cgroup2 file system, or nil when none is mounted.
    public static func mountPoint() -> String? {
        guard let bytes = try? Sys.readFile("/proc/self/mountinfo") else { return nil }
        return parseMountPoint(mountinfo: String(decoding: bytes, as: UTF8.self))
    }

    /// The first cgroup2 mount in a mountinfo text: field 5 is the mount point, the file-system type follows " - ".
    static func parseMountPoint(mountinfo: String) -> String? {
        for line in mountinfo.split(separator: "\n") {
            let halves = line.split(separator: " - ", maxSplits: 1)
            guard halves.count == 2, halves[1].split(separator: " ").first == "cgroup2" else { continue }
            let fields = halves[0].split(separator: " ")
            if fields.count > 4 { return String(fields[4]).replacingOctalEscapes }
        }
        return nil
    }

    /// The folder of `path`: an absolute path is taken as is, a relative one (`system.slice/caddy.service`, as
    /// `perf record -G` takes it) is under the cgroup2 mount. Nil when no cgroup2 is mounted for a relative path.
    public static func folder(of path: String) -> String? {
        if path.hasPrefix("/") { return path }
        guard let mount = mountPoint() else { return nil }
        return mount + "/" + path
    }

    /// The group of process `pid`, relative to the cgroup2 mount (`/proc/PID/cgroup`'s `0::` line), without the
    /// leading slash.
    public static func group(of pid: Int32) -> String? {
        guard let bytes = try? Sys.readFile("/proc/\(pid)/cgroup") else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("0::") {
            return String(line.dropFirst(3).drop { $0 == "/" })
        }
        return nil
    }
}

extension StringProtocol {
    /// mountinfo writes space, tab, newline and backslash in paths as `\040`-style octal escapes.
    var replacingOctalEscapes: String {
        var out = [UInt8]()
        let bytes = Array(utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\\"), i + 3 < bytes.count,
                let value = UInt8(String(decoding: bytes[(i + 1)...(i + 3)], as: UTF8.self), radix: 8)
            {
                out.append(value)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
