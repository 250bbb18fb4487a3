import Foundation

/// The windows waiting for one receiver, as files in a folder of the state directory, so that a receiver down for
/// a while (or a daemon restarted meanwhile) loses nothing the bound leaves room for. Each file is one window's
/// pprof; its name orders it and carries what the upload's query needs:
/// `<sequence>_<from>_<until>_<pid or ->_<target>.pb.gz`.
///
/// Bound: `maxBytes` in all; past it the oldest files go first, each counted in `dropped`.
struct UploadSpool {
    struct Entry: Equatable {
        var file: String
        var sequence: Int
        var from: Int
        var until: Int
        var pid: Int32?
        var target: String
    }

    let folder: String
    let maxBytes: Int
    private(set) var nextSequence = 0

    init(folder: String, maxBytes: Int) throws {
        self.folder = folder
        self.maxBytes = maxBytes
        try FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        nextSequence = (entries().last?.sequence ?? -1) + 1
    }

    /// Oldest first.
    func entries() -> [Entry] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).compactMap(Self.parse)
            .sorted { $0.sequence < $1.sequence }
    }

    static func parse(_ file: String) -> Entry? {
        guard file.hasSuffix(".pb.gz") else { return nil }
        let fields = file.dropLast(6).split(separator: "_", maxSplits: 4, omittingEmptySubsequences: false)
        guard fields.count == 5, let sequence = Int(fields[0]), let from = Int(fields[1]), let until = Int(fields[2])
        else { return nil }
        return Entry(
            file: file, sequence: sequence, from: from, until: until, pid: Int32(fields[3]),
            target: String(fields[4]))
    }

    /// Adds a window; returns how many old windows (and bytes) the bound made it drop.
    mutating func add(_ bytes: [UInt8], from: Int, until: Int, pid: Int32?, target: String) -> (files: Int, bytes: Int)
    {
        let name =
            String(format: "%012d", nextSequence) + "_\(from)_\(until)_\(pid.map(String.init) ?? "-")_\(target).pb.gz"
        nextSequence += 1
        let path = folder + "/" + name
        if !FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o640])
        {
            return (0, 0)
        }
        return trim()
    }

    /// Removes the oldest files until the spool is within its bound.
    mutating func trim() -> (files: Int, bytes: Int) {
        var sizes = entries().map { ($0.file, fileSize($0.file)) }
        var total = sizes.reduce(0) { $0 + $1.1 }
        var dropped = (files: 0, bytes: 0)
        while total > maxBytes, !sizes.isEmpty {
            let (file, size) = sizes.removeFirst()
            try? FileManager.default.removeItem(atPath: folder + "/" + file)
            total -= size
            dropped.files += 1
            dropped.bytes += size
        }
        return dropped
    }

    var bytes: Int { entries().reduce(0) { $0 + fileSize($1.file) } }

    func read(_ entry: Entry) -> [UInt8]? {
        FileManager.default.contents(atPath: folder + "/" + entry.file).map(Array.init)
    }

    func remove(_ entry: Entry) {
        try? FileManager.default.removeItem(atPath: folder + "/" + entry.file)
    }

    private func fileSize(_ file: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: folder + "/" + file))?[.size] as? NSNumber)?.intValue ?? 0
    }
}
