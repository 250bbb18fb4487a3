import Foundation
import Testing

/// Issue 14, item 1: one output path for every writer. Devices and links are never replaced, block devices and
/// directories are refused, captures are 0600 and profiles keep the mode of the file they replace, and an output
/// naming the input is refused before any work. Each reproduced before the change (`--raw /dev/null` became a
/// regular file, a planted link led the profile onto a block device, captures were 0644).
@Suite(.serialized, .enabled(if: FPProf.isRoot, "mknod and perf_event_open need root here"))
struct OutputFileTests {
    static func record(_ arguments: [String]) throws -> CommandResult {
        try FPProf.run(["record", "-F", "999"] + arguments + ["--", try FixtureBuilder.path(for: .shares), "0.3"])
    }

    /// A character device named by `--raw` or `-o` (here /dev/null's numbers, made in the scratch folder) is
    /// written in place and stays a device.
    @Test func characterDevicesAreWrittenInPlace() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let null = scratch.file("null")
        #expect(mknod(null, S_IFCHR | 0o666, deviceNumber(1, 3)) == 0)
        let result = try Self.record(["--raw", null, "-o", null])
        #expect(result.status == 0 || result.status == 2, "\(result)")
        #expect(Scratch.kind(null) == S_IFCHR)
        let entries = try FileManager.default.contentsOfDirectory(atPath: scratch.path)
        #expect(entries == ["null"], "no temporary file left: \(entries)")
    }

    /// A link planted where root writes its profile, pointing at a block device, is refused before recording
    /// (the profile was written onto the disk); so is a directory.
    @Test func blockDevicesAndDirectoriesAreRefused() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let block = scratch.file("disk")
        #expect(mknod(block, S_IFBLK | 0o600, deviceNumber(7, 0)) == 0)
        let planted = scratch.file("p.folded")
        #expect(symlink(block, planted) == 0)
        for (path, reason) in [(planted, "block device"), (block, "block device"), (scratch.path, "directory")] {
            for option in ["-o", "--raw"] {
                let result = try Self.record([option, path])
                #expect(result.status == 1, "\(option) \(path): \(result)")
                #expect(result.stderr.contains(reason), "\(result.stderr)")
                #expect(!result.stderr.contains("samples in"), "refused before recording")
            }
        }
        #expect(Scratch.kind(planted) == S_IFLNK && Scratch.kind(block) == S_IFBLK)
    }

    /// New captures are 0600 (they hold stack memory), new profiles 0644, and a replaced file keeps its mode.
    @Test func modesAreAsStated() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let kept = try scratch.write("kept.folded", "old 1\n")
        #expect(chmod(kept, 0o640) == 0)
        let capture = scratch.file("new.fpc")
        let result = try Self.record(["--raw", capture, "-o", kept])
        #expect(result.status == 0 || result.status == 2, "\(result)")
        #expect(Scratch.mode(capture) == 0o600)
        #expect(Scratch.mode(kept) == 0o640)
        let profile = scratch.file("new.folded")
        let report = try FPProf.run(["report", capture, "-o", profile])
        #expect(report.status == 0 || report.status == 2, "\(report)")
        #expect(Scratch.mode(profile) == 0o644 & ~Self.umaskValue)
    }

    static var umaskValue: mode_t {
        let mask = umask(0)
        umask(mask)
        return mask
    }

    /// `--raw X -o X` and `report X -o X` destroyed the capture with exit 0; both are usage errors now, before any
    /// work, and the capture is intact.
    @Test func inputAndOutputNamingTheSameFileIsAnError() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let capture = scratch.file("run.fpc")
        let same = try Self.record(["--raw", capture, "-o", capture])
        #expect(same.status == 64 && same.stderr.contains("same file"), "\(same)")
        let first = try Self.record(["--raw", capture])
        #expect(first.status == 0 || first.status == 2, "\(first)")
        let before = try Data(contentsOf: URL(fileURLWithPath: capture))
        let report = try FPProf.run(["report", capture, "-o", capture])
        #expect(report.status == 64 && report.stderr.contains("same file"), "\(report)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: capture)) == before)
    }

    /// `-o /dev/stdout` with stdout redirected to a file writes the file and leaves the /dev/stdout link alone.
    @Test func devStdoutIsWrittenNotReplaced() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let target = scratch.file("out.folded")
        let shares = try FixtureBuilder.path(for: .shares)
        let result = try Scratch.shell(
            "\(shellQuoted(FPProf.executable)) record -F 999 -o /dev/stdout -- \(shellQuoted(shares)) 0.3 "
                + "> \(shellQuoted(target))")
        #expect(result.status == 0 || result.status == 2, "\(result)")
        #expect(try String(contentsOfFile: target, encoding: .utf8).contains("shares;"))
        #expect(Scratch.kind("/dev/stdout") == S_IFLNK)
    }
}
