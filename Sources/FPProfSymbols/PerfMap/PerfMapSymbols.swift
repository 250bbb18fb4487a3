public import FPProfCore
internal import Glibc

/// Symbols a JIT wrote for its generated code in `/tmp/perf-PID.map`, the file `perf report` reads: one line per
/// function, `START SIZE NAME`, START and SIZE in hexadecimal (a `0x` prefix is accepted), NAME the rest of the
/// line (it may contain spaces). Addresses are absolute addresses of the process, so lookups take the sampled
/// address itself, not a module offset: the caller uses this for addresses in anonymous executable memory, which
/// no file backs.
///
/// A JIT reuses memory: where entries overlap, the later line wins, since it describes the newer code. Malformed
/// lines are skipped and counted.
public struct PerfMapSymbols: Sendable {
    public struct Entry: Hashable, Sendable {
        public var start: VirtualAddress
        public var size: UInt64
        public var name: String

        public init(start: VirtualAddress, size: UInt64, name: String) {
            self.start = start
            self.size = size
            self.name = name
        }
    }

    /// Entries in file order.
    public let entries: [Entry]
    /// Lines that were not `START SIZE NAME`, or had a zero size.
    public let malformedLines: Int
    /// Entry indexes sorted by start, with the running maximum of ends, for the lookup's backward scan.
    private let order: [Int32]
    private let starts: [UInt64]
    private let maxEnds: [UInt64]

    /// Parses the text of a map file.
    public init(text: String) {
        var entries: [Entry] = []
        var malformed = 0
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            if let entry = Self.parse(line) {
                entries.append(entry)
            } else if !line.allSatisfy(\.isWhitespace) {
                malformed += 1
            }
        }
        self.entries = entries
        malformedLines = malformed
        let sorted = entries.indices.sorted { entries[$0].start.rawValue < entries[$1].start.rawValue }
        order = sorted.map { Int32($0) }
        starts = sorted.map { entries[$0].start.rawValue }
        var running: UInt64 = 0
        maxEnds = sorted.map {
            running = max(running, Self.end(of: entries[$0]))
            return running
        }
    }

    /// Reads `path`; nil when it cannot be read.
    public init?(path: String) {
        self.init(path: path, owners: nil)
    }

    /// Reads `path` if it is a regular file owned by one of `owners` (any owner when nil).
    init?(path: String, owners: Set<uid_t>?) {
        guard let text = Self.readFile(path, owners: owners) else { return nil }
        self.init(text: text)
    }

    /// The map the process `pid` wrote, `/tmp/perf-PID.map`; nil when there is none. For a process in another
    /// mount namespace, pass `root` (`/proc/PID/root`).
    public static func forProcess(_ pid: ProcessID, root: String = "") -> PerfMapSymbols? {
        PerfMapSymbols(path: "\(root)/tmp/perf-\(pid.rawValue).map", owners: owners(of: pid))
    }

    /// Who may have written `pid`'s map: root, fpprof's user, and the process's user while it lives (perf's rule,
    /// with the target's user added, since fpprof runs as root for other users' processes). Once the process is
    /// gone its user is unknown and any owner is taken: the map is still only read if it is a regular file.
    static func owners(of pid: ProcessID) -> Set<uid_t>? {
        var info = stat()
        guard stat("/proc/\(pid.rawValue)", &info) == 0 else { return nil }
        return [0, geteuid(), info.st_uid]
    }

    /// The map of a live process in its own pid namespace (a container's): a JIT names its map by the pid it sees,
    /// the last `NSpid:` field of /proc/PID/status, in its own /tmp. Nil when that pid is the host's (the plain
    /// path then applies), when the process is gone, or when it wrote no map.
    public static func forProcessInItsNamespace(_ pid: ProcessID) -> PerfMapSymbols? {
        guard let status = readFile("/proc/\(pid.rawValue)/status"), let inside = namespacePID(status: status),
            inside != pid.rawValue
        else { return nil }
        return PerfMapSymbols(path: "/proc/\(pid.rawValue)/root/tmp/perf-\(inside).map", owners: owners(of: pid))
    }

    /// The innermost pid of a /proc/PID/status text (`NSpid:\t4242\t7` gives 7); nil without the line.
    public static func namespacePID(status: String) -> Int32? {
        for line in status.split(separator: "\n") where line.hasPrefix("NSpid:") {
            return line.dropFirst("NSpid:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).last
                .flatMap { Int32($0) }
        }
        return nil
    }

    /// The entry covering `address` (the latest line among overlapping ones).
    public func entry(at address: VirtualAddress) -> Entry? {
        let target = address.rawValue
        var candidate = starts.upperBound(target) - 1
        var best: Int32 = -1
        while candidate >= 0, maxEnds[candidate] > target {
            let index = order[candidate]
            if Self.end(of: entries[Int(index)]) > target, index > best { best = index }
            candidate -= 1
        }
        return best >= 0 ? entries[Int(best)] : nil
    }

    /// The frame for `address` as a symbolizer gives it: one frame named by the map, or none.
    public func frames(at address: VirtualAddress) -> [SymbolFrame] {
        entry(at: address).map { [SymbolFrame(function: $0.name)] } ?? []
    }

    // MARK: - Parsing

    static func parse(_ line: Substring) -> Entry? {
        let fields = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard fields.count == 3, let start = hex(fields[0]), let size = hex(fields[1]), size > 0 else { return nil }
        let name = fields[2].trimmingSuffixWhitespace
        guard !name.isEmpty else { return nil }
        return Entry(start: VirtualAddress(start), size: size, name: name)
    }

    private static func hex(_ field: Substring) -> UInt64? {
        var digits = field
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
        guard !digits.isEmpty, digits.count <= 16 else { return nil }
        return UInt64(digits, radix: 16)
    }

    private static func end(of entry: Entry) -> UInt64 {
        let (end, overflow) = entry.start.rawValue.addingReportingOverflow(entry.size)
        return overflow ? .max : end
    }

    /// Reads a /proc file or a perf map. A map lives in a folder every user can write (/tmp), so it must be a
    /// regular file (a FIFO planted under the name would block a blocking read forever) and, when `owners` is
    /// given, belong to one of them, as perf asks of the maps it reads (owned by the user or root).
    private static func readFile(_ path: String, owners: Set<uid_t>? = nil) -> String? {
        guard let (descriptor, status) = try? TargetFileOpener.openRegular(path) else { return nil }
        defer { close(descriptor) }
        if let owners, !owners.contains(status.st_uid) { return nil }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return count == 0 ? String(decoding: bytes, as: UTF8.self) : nil }
            bytes += chunk[0..<count]
        }
    }
}

extension Substring {
    fileprivate var trimmingSuffixWhitespace: String {
        var end = endIndex
        while end > startIndex, self[index(before: end)].isWhitespace { end = index(before: end) }
        return String(self[startIndex..<end])
    }
}
