import FPProfCore
import FPProfSymbols
import Foundation
import Testing

/// Issue 14, items 2 and 3: files a capture, a target or another user names are opened so that a FIFO never
/// blocks, a device is never opened for reading, nothing planted in a shared folder is trusted, and a link inside
/// a process's root never leads out of it. Each test ran into a hang (the timeout) or a host file before.
@Suite(.enabled(if: FPProf.isRoot, "mknod, chroot and reading other processes' roots need root"))
struct SpecialFileReadTests {
    /// `symbolize --exe FIFO` hung in open(2); a FIFO or a device is now "not a regular file", exit 2, at once.
    @Test func symbolizeOfAFIFOOrDeviceNeitherBlocksNorOpensIt() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let fifo = scratch.file("fifo")
        #expect(mkfifo(fifo, 0o666) == 0)
        let block = scratch.file("loop")
        // A block device (loop0's numbers, 7:0) and a character device (/dev/zero's, 1:5), made here.
        #expect(mknod(block, S_IFBLK | 0o600, deviceNumber(7, 0)) == 0)
        let character = scratch.file("zero")
        #expect(mknod(character, S_IFCHR | 0o600, deviceNumber(1, 5)) == 0)
        for path in [fifo, block, character] {
            let result = try FPProf.run(["symbolize", "--exe", path, "0x1000"], timeout: 20)
            #expect(result.status == 2, "\(path): \(result)")
            #expect(result.stderr.contains("not a regular file"), "\(result.stderr)")
        }
    }

    /// A capture whose MMAP2 names a FIFO hung `report`; the module is now unreadable with a warning.
    @Test func captureNamingAFIFODoesNotBlockReport() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let fifo = scratch.file("lib.so")
        #expect(mkfifo(fifo, 0o666) == 0)
        let format = RecordFormat.amd64Profiling
        let encoder = RecordEncoder(format: format)
        var records = encoder.encode(.comm(Comm(pid: ProcessID(77), tid: ThreadID(77), name: "demo", isExec: true)))
        records += encoder.encode(
            .mmap2(
                Mmap2(
                    pid: ProcessID(77), tid: ThreadID(77), start: VirtualAddress(0x40_0000), length: 0x1000,
                    pageOffset: FileOffset(0), protection: 5, filename: fifo)))
        for i in 0..<5 {
            records += encoder.encode(
                .sample(
                    Sample(
                        ip: VirtualAddress(0x40_0100), pid: ProcessID(77), tid: ThreadID(77), time: UInt64(10 + i),
                        cpu: 0, period: 1_000_000)))
        }
        let capture = try scratch.write(
            "fifo.fpc",
            Capture.encodeHeader(CaptureHeader(format: format, frequency: 99, stackSize: 8192, event: "cpu-clock"))
                + Capture.encodeRecords(records))
        let result = try FPProf.run(["report", capture], timeout: 20)
        #expect(result.status == 0 || result.status == 2, "\(result)")
        #expect(result.stderr.contains("not a regular file"), "\(result.stderr)")
    }

    /// The vdso copy was cached at `$TMPDIR/fpprof-vdso-UID-RELEASE.so` and trusted: a FIFO planted there made
    /// every later `record` hang, SIGTERM ignored. It lives in memory now; a planted FIFO is never touched.
    @Test func plantedVdsoCacheIsNeverOpened() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        var names = utsname()
        uname(&names)
        let release = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let planted = scratch.file("fpprof-vdso-\(getuid())-\(release).so")
        #expect(mkfifo(planted, 0o666) == 0)
        // Demo/demo.c reads CLOCK_THREAD_CPUTIME_ID in a loop: about half its samples are in the vdso.
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Demo/demo.c").path
        let demo = scratch.file("demo")
        _ = try FixtureCommand.check("/usr/bin/gcc", ["-O1", "-g", "-fno-omit-frame-pointer", "-o", demo, source])
        let output = scratch.file("out.folded")
        let result = try FixtureCommand.run(
            FPProf.executable, ["record", "-F", "999", "-o", output, "--", demo, "0.5"],
            environment: ["TMPDIR": scratch.path + "/"], timeout: 30)
        #expect(result.status == 0 || result.status == 2, "\(result)")
        let folded = try String(contentsOfFile: output, encoding: .utf8)
        #expect(folded.contains("__vdso_"), "vdso frames are named from the in-memory copy: \(folded.prefix(400))")
        #expect(Scratch.kind(planted) == S_IFIFO)
    }

    /// A containerized process's files are read through /proc/PID/root with links resolved inside that root: a
    /// link planted in it to a host path (absolute, or climbing with ..) finds nothing, where it opened the host's
    /// file before; a link that stays inside still works.
    @Test func linksInAProcessRootStayInIt() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let binary = try FixtureBuilder.path(for: .goShares)
        let inside = scratch.file("go-shares")
        try FileManager.default.copyItem(atPath: binary, toPath: inside)
        #expect(symlink("/bin/true", scratch.file("absolute.so")) == 0)
        #expect(symlink("../../../../../../bin/true", scratch.file("climbing.so")) == 0)
        #expect(symlink("/go-shares", scratch.file("inner.so")) == 0)
        let chroot = Process()
        chroot.executableURL = URL(fileURLWithPath: "/usr/sbin/chroot")
        chroot.arguments = [scratch.path, "/go-shares", "0"]
        try chroot.run()
        defer {
            chroot.terminate()
            chroot.waitUntilExit()
        }
        // chroot execs the fixture in place: same pid, once its root has changed.
        let root = "/proc/\(chroot.processIdentifier)/root"
        for _ in 0..<100 where (try? FileManager.default.destinationOfSymbolicLink(atPath: root)) == "/" {
            usleep(20_000)
        }
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root) == scratch.path)
        for name in ["absolute.so", "climbing.so"] {
            #expect(throws: ElfReadError.self, "\(name) must not reach the host's /bin/true") {
                _ = try ElfFile(path: "\(root)/\(name)")
            }
        }
        #expect(throws: Never.self) { _ = try ElfFile(path: "\(root)/inner.so") }
    }
}
