import FPProfCore
import Foundation
import Testing

@testable import FPProfSymbols

/// Separate debug files found through `.gnu_debuglink`, as `objcopy --only-keep-debug` and `--add-gnu-debuglink`
/// make them: DWARF is read from the right file, and a FIFO, a link to a FIFO or a device planted where the debug
/// file should be never blocks the lookup (libdwfl's own search opened it with a blocking `open`).
@Suite(
    .enabled(
        if: Fixtures.toolsAvailable && Tools.available("objcopy") && Tools.available("mkfifo"),
        "needs gcc, nm, objcopy and mkfifo"))
final class DebugLinkTests {
    let directory: String

    init() throws { directory = try Fixtures.scratchDirectory("debuglink") }
    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// `inlined.c` built `-O2 -g` under `name` in the scratch folder, its DWARF moved to `name.debug` (named by the
    /// binary's `.gnu_debuglink`), and the address of `main`.
    func splitBinary(_ name: String, buildID: Bool) throws -> (binary: String, debug: String, main: UInt64) {
        let binary = directory + "/" + name
        let debug = binary + ".debug"
        try Tools.run(
            "gcc",
            [
                "-O2", "-g", "-fno-omit-frame-pointer", buildID ? "-Wl,--build-id=sha1" : "-Wl,--build-id=none",
                "-o", binary, DwarfFixtures.source + "/inlined.c",
            ])
        try Tools.run("objcopy", ["--only-keep-debug", binary, debug])
        // objcopy stores the link's base name and the CRC-32 of the debug file it finds at that moment.
        let current = FileManager.default.currentDirectoryPath
        _ = FileManager.default.changeCurrentDirectoryPath(directory)
        defer { _ = FileManager.default.changeCurrentDirectoryPath(current) }
        try Tools.run("objcopy", ["--strip-debug", "--add-gnu-debuglink=" + name + ".debug", name])
        let symbols = try Tools.run("nm", [binary])
        let line = try #require(symbols.split(separator: "\n").first { $0.hasSuffix(" T main") })
        let main = try #require(UInt64(line.prefix { $0 != " " }, radix: 16))
        return (binary, debug, main)
    }

    /// The frames of `address` in `binary`, asked on another thread: nil if no answer came within 20 s (the
    /// lookup hangs), in which case the planted FIFO is opened for writing, which ends the blocked `open`.
    func framesWithin20Seconds(_ binary: String, _ address: UInt64, unblocking fifo: String) -> [SymbolFrame]? {
        let answer = AnswerBox()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let symbolizer = ElfSymbolizer()
            answer.set(symbolizer.frames(atVirtualAddress: VirtualAddress(address), in: ModuleID(path: binary)))
            done.signal()
        }
        guard done.wait(timeout: .now() + 20) == .success else {
            let descriptor = open(fifo, O_WRONLY | O_NONBLOCK)
            if descriptor >= 0 { close(descriptor) }
            _ = done.wait(timeout: .now() + 20)
            return nil
        }
        return answer.get()
    }

    @Test("a debug file named by .gnu_debuglink is read, checked by build-id or, without one, by CRC-32")
    func debugFileIsFound() throws {
        for buildID in [true, false] {
            let (binary, _, main) = try splitBinary(buildID ? "with-id" : "without-id", buildID: buildID)
            let frames = ElfSymbolizer().frames(atVirtualAddress: VirtualAddress(main), in: ModuleID(path: binary))
            #expect(frames.last?.function == "main")
            // The stripped binary has no line table: a file name can only come from the debug file.
            #expect(frames.last?.file?.hasSuffix("inlined.c") == true, "\(frames)")
        }
    }

    @Test("a debug file whose CRC-32 differs from the link's is not used")
    func wrongCRCIsRejected() throws {
        let (binary, debug, main) = try splitBinary("crc", buildID: false)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: debug))
        bytes.append(0)
        try bytes.write(to: URL(fileURLWithPath: debug))
        let frames = ElfSymbolizer().frames(atVirtualAddress: VirtualAddress(main), in: ModuleID(path: binary))
        #expect(frames.last?.function == "main")
        #expect(frames.last?.file == nil, "\(frames)")
    }

    @Test(
        "a FIFO, or a link to one, where the debuglink points: no hang, names from the symbol table",
        arguments: ["fifo", "link", "subfolder"])
    func plantedFIFO(how: String) throws {
        let (binary, debug, main) = try splitBinary("planted-" + how, buildID: true)
        try FileManager.default.removeItem(atPath: debug)
        let fifo = directory + "/fifo-" + how
        try Tools.run("mkfifo", [fifo])
        switch how {
        case "fifo": try FileManager.default.moveItem(atPath: fifo, toPath: debug)
        case "link": try FileManager.default.createSymbolicLink(atPath: debug, withDestinationPath: fifo)
        default:
            // libdwfl's second place: the `.debug` folder beside the binary.
            try FileManager.default.createDirectory(atPath: directory + "/.debug", withIntermediateDirectories: true)
            let name = (debug as NSString).lastPathComponent
            try FileManager.default.moveItem(atPath: fifo, toPath: directory + "/.debug/" + name)
        }
        let planted =
            how == "fifo"
            ? debug : how == "link" ? fifo : directory + "/.debug/" + (debug as NSString).lastPathComponent
        let frames = try #require(framesWithin20Seconds(binary, main, unblocking: planted), "the lookup blocked")
        #expect(frames.last?.function == "main")
        #expect(frames.last?.file == nil)
    }

    @Test("the places searched: build-id tree, the binary's folder, its .debug folder, /usr/lib/debug + folder")
    func candidatePaths() {
        let id = BuildID(bytes: [0xab, 0xcd, 0xef])
        #expect(
            DebugFileSearch.candidates(file: "/usr/bin/prog", debuglink: "prog.debug", buildID: id) == [
                "/usr/lib/debug/.build-id/ab/cdef.debug", "/usr/bin/prog.debug", "/usr/bin/.debug/prog.debug",
                "/usr/lib/debug/usr/bin/prog.debug",
            ])
        #expect(
            DebugFileSearch.candidates(file: "/proc/42/root/usr/bin/prog", debuglink: "p.dbg", buildID: id) == [
                "/proc/42/root/usr/lib/debug/.build-id/ab/cdef.debug", "/usr/lib/debug/.build-id/ab/cdef.debug",
                "/proc/42/root/usr/bin/p.dbg", "/proc/42/root/usr/bin/.debug/p.dbg",
                "/proc/42/root/usr/lib/debug/usr/bin/p.dbg",
            ])
        #expect(
            DebugFileSearch.candidates(file: "/opt/x.so", debuglink: nil, buildID: nil) == [
                "/opt/x.so.debug", "/opt/.debug/x.so.debug", "/usr/lib/debug/opt/x.so.debug",
            ])
        #expect(
            DebugFileSearch.candidates(file: "/proc/7/root/lib/x.so", debuglink: "/usr/lib/debug/.dwz/x", buildID: nil)
                == ["/proc/7/root/usr/lib/debug/.dwz/x"])
    }
}

/// One answer handed from the symbolizing thread to the test.
private final class AnswerBox: @unchecked Sendable {
    // Invariant: `value` is only touched under `lock`.
    private let lock = NSLock()
    private var value: [SymbolFrame]?
    func set(_ frames: [SymbolFrame]) { lock.withLock { value = frames } }
    func get() -> [SymbolFrame]? { lock.withLock { value } }
}
