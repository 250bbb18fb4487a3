import Foundation
import Testing

/// What DWARF and the kernel add to a live profile: inlined frames marked `_[i]`, kernel frames `_[k]`.
@Suite(.serialized, .enabled(if: FPProf.isRoot, "perf_event_open needs root here"))
struct SymbolizedRecordTests {
    /// Builds Tests/Fixtures/c/inlined.c at -O2, where gcc inlines helper_b into helper_a into outer_work.
    static func inlinedFixture() throws -> String {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/c/inlined.c").path
        let output = NSTemporaryDirectory() + "fpprof-inlined-\(getpid())"
        _ = try FixtureCommand.check(
            "/usr/bin/gcc", ["-O2", "-g", "-fno-omit-frame-pointer", "-o", output, source])
        return output
    }

    @Test func inlinedFramesAreMarkedAndInOrder() throws {
        let path = try Self.inlinedFixture()
        defer { unlink(path) }
        let (folded, _) = try FPProf.record(["-F", "999", "--", path, "2"])
        let inlined = folded.count { $0.text.contains(";outer_work;helper_a_[i];helper_b_[i]") }
        #expect(Double(inlined) > 0.8 * Double(folded.total), "\(inlined) of \(folded.total)")
        let (plain, _) = try FPProf.record(["-F", "999", "--no-inline", "--", path, "1"])
        #expect(plain.count { $0.text.contains("_[i]") } == 0)
        #expect(Double(plain.count { $0.frames.last == "outer_work" }) > 0.8 * Double(plain.total))
    }

    @Test func kernelFramesWithKernelFlag() throws {
        let (folded, _) = try FPProf.record([
            "-F", "999", "--kernel", "--", "/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=64k", "count=50000",
        ])
        let kernel = folded.count { $0.frames.contains("ksys_write_[k]") || $0.frames.contains("ksys_read_[k]") }
        #expect(Double(kernel) > 0.5 * Double(folded.total), "\(kernel) of \(folded.total)")
        // Kernel frames sit below (after) every user frame.
        for line in folded.lines {
            guard let first = line.frames.firstIndex(where: { $0.hasSuffix("_[k]") }) else { continue }
            #expect(line.frames[first...].allSatisfy { $0.hasSuffix("_[k]") }, "\(line.text)")
        }
    }
}

/// Binaries a profiler cannot open by the path the process saw.
@Suite(.serialized, .enabled(if: FPProf.isRoot, "perf_event_open and mount namespaces need root here"))
struct HiddenBinaryTests {
    static let expected = [["main", "path_a", "a1", "leaf_a"], ["main", "path_b", "leaf_b"]]

    /// The executable is deleted after it started: its frames still have names (through /proc/PID/map_files).
    @Test func deletedExecutableSymbolizes() throws {
        let copy = NSTemporaryDirectory() + "fpprof-deleted-\(getpid())"
        try FileManager.default.copyItem(atPath: try FixtureBuilder.path(for: .shares), toPath: copy)
        let (folded, _) = try FPProf.record([
            "-F", "999", "--", "/bin/sh", "-c", "(sleep 0.3; rm -f \(copy)) & exec \(copy) 2",
        ])
        #expect(!FileManager.default.fileExists(atPath: copy))
        for stack in Self.expected {
            #expect(folded.count(endingWith: stack) > 0, "\(stack)")
        }
    }

    /// A process in its own mount namespace runs a binary only visible inside it: reached through /proc/PID/root.
    @Test(.enabled(if: FixtureCommand.which("unshare") != nil, "needs util-linux unshare"))
    func binaryInAnotherMountNamespaceSymbolizes() throws {
        let fixture = try FixtureBuilder.path(for: .shares)
        let target = Process()
        target.executableURL = URL(fileURLWithPath: FixtureCommand.which("unshare")!)
        target.arguments = [
            "-m", "--propagation", "private", "/bin/sh", "-c",
            "mkdir -p /mnt/fpprof-ns && mount -t tmpfs none /mnt/fpprof-ns && cp \(fixture) /mnt/fpprof-ns/hidden && exec /mnt/fpprof-ns/hidden 0",
        ]
        try target.run()
        defer {
            kill(target.processIdentifier, SIGKILL)
            target.waitUntilExit()
        }
        Thread.sleep(forTimeInterval: 0.5)
        #expect(
            !FileManager.default.fileExists(atPath: "/mnt/fpprof-ns/hidden"), "the binary must be invisible outside")
        let (folded, _) = try FPProf.record(["-F", "999", "--pid", "\(target.processIdentifier)", "--duration", "1.5"])
        for stack in Self.expected {
            #expect(folded.count(endingWith: stack) > 0, "\(stack)")
        }
    }
}

/// Go without symbol tables or DWARF (`-ldflags=-s -w`): names come from `.gopclntab` alone.
@Suite(.serialized, .enabled(if: FPProf.isRoot && FixtureCommand.which("go") != nil, "needs root and Go"))
struct StrippedGoTests {
    @Test func strippedGoBinaryStillShowsMainNames() throws {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/go/shares").path
        let output = NSTemporaryDirectory() + "fpprof-go-stripped-\(getpid())"
        defer { unlink(output) }
        _ = try FixtureCommand.check(
            FixtureCommand.which("go")!, ["build", "-ldflags=-s -w", "-o", output, "."],
            environment: ["GOFLAGS": "", "GOPROXY": "off"], currentDirectory: source, timeout: 300)
        let symbols = try FixtureCommand.run("/usr/bin/readelf", ["-S", output])
        #expect(!symbols.stdout.contains(".symtab") && !symbols.stdout.contains(".debug_info"))
        let (folded, _) = try FPProf.record(["-F", "999", "--", output, "2"])
        for (name, share) in [("main.workA", 0.5), ("main.workB", 0.3), ("main.workC", 0.2)] {
            let measured = Double(folded.count { $0.frames.contains(name) }) / Double(max(folded.total, 1))
            #expect(abs(measured - share) <= 0.05, "\(name): \(measured)")
        }
        #expect(folded.count { $0.frames.contains("runtime.goexit") } > folded.total / 2)
    }
}

/// The vdso has no file: its frames are named from fpprof's own copy of the image, and its CFI recovers callers.
@Suite(.serialized, .enabled(if: FPProf.isRoot, "perf_event_open needs root here"))
struct VdsoTests {
    @Test func vdsoFramesAreNamedAndComplete() throws {
        // Demo/demo.c reads CLOCK_THREAD_CPUTIME_ID in a loop: 10-50 % of its samples are in the vdso, depending on
        // the host's clock source; enough of them to check that each is named and complete.
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Demo/demo.c").path
        let output = NSTemporaryDirectory() + "fpprof-vdso-demo-\(getpid())"
        defer { unlink(output) }
        _ = try FixtureCommand.check("/usr/bin/gcc", ["-O1", "-g", "-fno-omit-frame-pointer", "-o", output, source])
        let (folded, _) = try FPProf.record(["-F", "999", "--", output, "1.5"])
        let vdso = folded.count { $0.frames.last?.hasPrefix("__vdso_") == true }
        #expect(Double(vdso) > 0.05 * Double(folded.total), "\(vdso) of \(folded.total)")
        #expect(folded.count { $0.text.contains("[vdso]+0x") } == 0)
        #expect(folded.count { !Folded.markers.isDisjoint(with: $0.frames) } == 0)
    }
}
