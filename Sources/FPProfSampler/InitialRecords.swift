import FPProfCore

/// Records for what a process already had before its events existed: the kernel only reports mappings and names
/// as they change, so, as `perf record` does, we write COMM and MMAP2 records from /proc in the session's own
/// format. Downstream, one decoder path then builds every process map.
enum InitialRecords {
    /// One COMM per thread and one MMAP2 per executable mapping of `pid`. Mappings get the build-id the kernel
    /// would report when the file can be read, their device and inode otherwise. A process that vanishes midway
    /// yields what was read before.
    static func synthesize(pid: Int32, format: RecordFormat, time: UInt64) -> [UInt8] {
        var buildIDs = [FileKey: BuildID?]()
        return synthesize(pid: pid, format: format, time: time, buildIDs: &buildIDs)
    }

    /// The same, with a build-id cache shared across the processes of one call (a host's processes map the same
    /// libraries): bounded by the distinct files mapped by the processes listed.
    static func synthesize(pid: Int32, format: RecordFormat, time: UInt64, buildIDs: inout [FileKey: BuildID?])
        -> [UInt8]
    {
        let encoder = RecordEncoder(format: format)
        var out = [UInt8]()
        let process = ProcessID(pid)
        for tid in (try? ProcFS.threads(of: pid)) ?? [] {
            guard let name = ProcFS.threadName(pid: pid, tid: tid) else { continue }
            let thread = ThreadID(tid)
            let id = SampleID(pid: process, tid: thread, time: time, cpu: 0)
            out += encoder.encode(.comm(Comm(pid: process, tid: thread, name: name, sampleID: id)))
        }
        let id = SampleID(pid: process, tid: ThreadID(pid), time: time, cpu: 0)
        for entry in (try? ProcFS.maps(of: pid)) ?? [] where entry.executable {
            var buildID: BuildID?
            if entry.isFile {
                let key = FileKey(major: entry.major, minor: entry.minor, inode: entry.inode)
                if let known = buildIDs[key] {
                    buildID = known
                } else {
                    buildID = readBuildID(pid: pid, entry: entry)
                    buildIDs[key] = buildID
                }
            }
            let mapping = Mmap2(
                pid: process, tid: ThreadID(pid), start: VirtualAddress(entry.start), length: entry.end - entry.start,
                pageOffset: FileOffset(entry.offset), buildID: buildID, major: entry.major, minor: entry.minor,
                inode: entry.inode, protection: entry.protection, flags: entry.flags,
                filename: entry.path.isEmpty ? "//anon" : entry.path, sampleID: id)
            out += encoder.encode(.mmap2(mapping))
        }
        return out
    }

    struct FileKey: Hashable {
        var major: UInt32
        var minor: UInt32
        var inode: UInt64
    }

    /// map_files reaches the very file mapped (even deleted, or in another mount namespace); the path under the
    /// process's root is the fallback where map_files is not readable.
    private static func readBuildID(pid: Int32, entry: MapsEntry) -> BuildID? {
        let range = String(entry.start, radix: 16) + "-" + String(entry.end, radix: 16)
        if let id = ElfBuildID.read(path: "/proc/\(pid)/map_files/\(range)") { return id }
        let deleted = " (deleted)"
        let path = entry.path.hasSuffix(deleted) ? String(entry.path.dropLast(deleted.count)) : entry.path
        return ElfBuildID.read(path: "/proc/\(pid)/root\(path)")
    }
}
