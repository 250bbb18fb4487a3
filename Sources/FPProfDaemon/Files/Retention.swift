import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Which window files of a target go, by age and then by bytes, oldest first. The plan is a pure function of the
/// listing, so the rules are tested without a disk; `RetentionSweeper` applies it.
public enum RetentionPlan {
    public struct File: Sendable, Equatable {
        public var name: String
        public var start: Date
        public var bytes: Int

        public init(name: String, start: Date, bytes: Int) {
            self.name = name
            self.start = start
            self.bytes = bytes
        }
    }

    /// The names to remove: every file that started more than `maxAge` before `now`, then the oldest of the rest
    /// until their total is at most `maxBytes`. Files of one window (several formats) share a start and go
    /// together by age; by bytes they go one by one, oldest first, name order breaking ties.
    public static func removals(_ files: [File], retention: Retention, now: Date) -> [String] {
        let ordered = files.sorted { ($0.start, $0.name) < ($1.start, $1.name) }
        let maxAge =
            Double(retention.maxAge.components.seconds)
            + Double(retention.maxAge.components.attoseconds) / 1e18
        let cutoff = now.addingTimeInterval(-maxAge)
        var removed: [String] = []
        var kept: [File] = []
        for file in ordered {
            if file.start < cutoff { removed.append(file.name) } else { kept.append(file) }
        }
        var total = kept.reduce(0) { $0 + $1.bytes }
        for file in kept where total > retention.maxBytes {
            removed.append(file.name)
            total -= file.bytes
        }
        return removed
    }
}

/// Lists a target's folder and removes what `RetentionPlan` says, reporting what it did.
public struct RetentionSweeper: Sendable {
    public struct Outcome: Sendable {
        public var removed: [String] = []
        public var bytesFreed = 0
        public var errors: [String] = []
    }

    public init() {}

    public func sweep(folder: String, retention: Retention, now: Date = Date()) -> Outcome {
        var outcome = Outcome()
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return outcome }
        var files: [RetentionPlan.File] = []
        var sizes: [String: Int] = [:]
        for name in names {
            guard let start = WindowName.start(of: name) else { continue }
            var info = stat()
            guard stat(folder + "/" + name, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            files.append(RetentionPlan.File(name: name, start: start, bytes: Int(info.st_size)))
            sizes[name] = Int(info.st_size)
        }
        for name in RetentionPlan.removals(files, retention: retention, now: now) {
            if unlink(folder + "/" + name) == 0 {
                outcome.removed.append(name)
                outcome.bytesFreed += sizes[name] ?? 0
            } else {
                outcome.errors.append("unlink \(folder)/\(name): \(String(cString: strerror(errno)))")
            }
        }
        return outcome
    }
}
