import Foundation
import Testing

@testable import FPProfDaemon

@Suite struct WindowFilesTests {
    @Test func namesAreISO8601BasicUTCAndParseBack() {
        let date = Date(timeIntervalSince1970: 1_796_440_320)  // 2026-12-05T03:12:00Z
        #expect(WindowName.timestamp(date) == "20261205T031200Z")
        #expect(WindowName.file(start: date, format: .pprof) == "20261205T031200Z.pb.gz")
        #expect(WindowName.file(start: date, format: .speedscope, pid: 42) == "20261205T031200Z.pid42.speedscope.json")
        #expect(WindowName.start(of: "20261205T031200Z.pb.gz") == date)
        #expect(WindowName.start(of: "20261205T031200Z.pid42.folded") == date)
        #expect(WindowName.start(of: ".20261205T031200Z.pb.gz.tmp-1") == nil)
        #expect(WindowName.start(of: "notes.txt") == nil)
    }

    @Test func retentionRemovesByAgeThenByBytesOldestFirst() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        func file(_ name: String, ageSeconds: Double, bytes: Int) -> RetentionPlan.File {
            RetentionPlan.File(name: name, start: now.addingTimeInterval(-ageSeconds), bytes: bytes)
        }
        let files = [
            file("e", ageSeconds: 10, bytes: 100), file("a", ageSeconds: 500, bytes: 100),
            file("d", ageSeconds: 20, bytes: 100), file("b", ageSeconds: 400, bytes: 100),
            file("c", ageSeconds: 30, bytes: 100),
        ]
        // By age only.
        #expect(
            RetentionPlan.removals(files, retention: Retention(maxAge: .seconds(300), maxBytes: 1 << 30), now: now)
                == ["a", "b"])
        // By bytes only: 500 bytes kept to 250 removes the three oldest.
        #expect(
            RetentionPlan.removals(files, retention: Retention(maxAge: .seconds(10_000), maxBytes: 250), now: now)
                == ["a", "b", "c"])
        // Both: age first, then bytes over what is left.
        #expect(
            RetentionPlan.removals(files, retention: Retention(maxAge: .seconds(450), maxBytes: 200), now: now)
                == ["a", "b", "c"])
        #expect(RetentionPlan.removals([], retention: Retention(), now: now).isEmpty)
    }

    @Test func writesAtomicallyWithModesAndSweeps() throws {
        let root = NSTemporaryDirectory() + "fpprof-windows-\(getpid())-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folder = root + "/state/web"
        let writer = WindowFileWriter()
        let old = umask(0)
        defer { umask(old) }
        try writer.write(Array("one".utf8), folder: folder, name: "20261205T031200Z.folded")
        try writer.write(Array("two!".utf8), folder: folder, name: "20261205T031300Z.folded")
        let attributes = try FileManager.default.attributesOfItem(atPath: folder + "/20261205T031200Z.folded")
        #expect((attributes[.posixPermissions] as? Int) == 0o640)
        let folderAttributes = try FileManager.default.attributesOfItem(atPath: folder)
        #expect((folderAttributes[.posixPermissions] as? Int) == 0o750)
        #expect((try FileManager.default.attributesOfItem(atPath: root + "/state")[.posixPermissions] as? Int) == 0o750)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == [
                "20261205T031200Z.folded", "20261205T031300Z.folded",
            ])
        let outcome = RetentionSweeper().sweep(
            folder: folder, retention: Retention(maxAge: .seconds(10 * 365 * 86400), maxBytes: 5),
            now: Date(timeIntervalSince1970: 1_796_440_400))
        #expect(outcome.removed == ["20261205T031200Z.folded"])
        #expect(outcome.bytesFreed == 3)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["20261205T031300Z.folded"])
    }

    @Test func aWriteIntoAMissingPlaceFailsAndLeavesNoTemporaryFile() throws {
        let root = NSTemporaryDirectory() + "fpprof-windows-\(getpid())-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Data().write(to: URL(fileURLWithPath: root))  // a file where the folder should be
        #expect(throws: WindowFileWriter.WriteError.self) {
            try WindowFileWriter().write([1, 2, 3], folder: root + "/web", name: "x.folded")
        }
    }
}
