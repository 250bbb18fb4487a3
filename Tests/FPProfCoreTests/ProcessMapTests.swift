import Testing

@testable import FPProfCore

@Suite struct ProcessMapTests {
    func mapping(_ start: UInt64, _ end: UInt64, _ path: String, pgoff: UInt64 = 0) -> Mapping {
        Mapping(
            start: VirtualAddress(start), end: VirtualAddress(end), pageOffset: FileOffset(pgoff),
            module: ModuleID(path: path), moduleIndex: 1)
    }

    @Test func lookupFindsTheMappingAndItsFileOffset() {
        var map = ProcessMap()
        map.insert(mapping(0x1000, 0x3000, "/a", pgoff: 0x1000))
        map.insert(mapping(0x5000, 0x6000, "/b"))
        #expect(map.index(of: 0x0fff) == nil)
        #expect(map.index(of: 0x3000) == nil)
        let i = try! #require(map.index(of: 0x2abc))
        #expect(map.mappings[i].module.path == "/a")
        #expect(map.mappings[i].fileOffset(of: 0x2abc) == FileOffset(0x2abc))
        #expect(map.index(of: 0x5fff).map { map.mappings[$0].module.path } == "/b")
    }

    /// Callers are named one byte before their return address, except a signal restorer as the walk's last frame:
    /// the kernel pushed its first byte, no call did. glibc's `__restore_rt` at 0x3c050 after a nop at 0x3c04f.
    @Test func aSignalRestorerIsNamedAtItsReturnAddress() {
        var map = ProcessMap()
        var libc = mapping(0x7000_0000, 0x7010_0000, "/libc.so.6")
        libc.rootRanges = [0x7003_c050..<0x7003_c059]
        libc.signalReturnRanges = [0x7003_c050..<0x7003_c059]
        map.insert(libc)
        #expect(map.lookupAddress(0x7003_c050, index: 3, count: 4) == 0x7003_c050)
        #expect(map.lookupAddress(0x7003_c050, index: 0, count: 4) == 0x7003_c050)
        // Not the last frame (a restorer is a root, so a walk cannot pass one), or another address: ret - 1.
        #expect(map.lookupAddress(0x7003_c050, index: 2, count: 4) == 0x7003_c04f)
        #expect(map.lookupAddress(0x7003_c040, index: 3, count: 4) == 0x7003_c03f)
        // Split by a new mapping: the part that keeps the restorer keeps its range.
        map.insert(mapping(0x7008_0000, 0x7009_0000, "/other"))
        #expect(map.lookupAddress(0x7003_c050, index: 3, count: 4) == 0x7003_c050)
        #expect(map.classify(0x7003_c050) == .root)
    }

    @Test func aNewMappingReplacesWhatItOverlaps() {
        var map = ProcessMap()
        map.insert(mapping(0x1000, 0x9000, "/old", pgoff: 0))
        map.insert(mapping(0x3000, 0x4000, "/new"))
        #expect(map.mappings.map(\.module.path) == ["/old", "/new", "/old"])
        #expect(map.mappings[2].start == VirtualAddress(0x4000))
        #expect(map.mappings[2].pageOffset == FileOffset(0x3000))
        #expect(map.mappings[2].fileOffset(of: 0x4100) == FileOffset(0x3100))
    }

    @Test func execClearsTheMapAndForkCopiesIt() {
        var table = ProcessTable()
        let pid = ProcessID(100)
        table.apply(
            .mmap2(
                Mmap2(
                    pid: pid, tid: ThreadID(100), start: VirtualAddress(0x1000), length: 0x1000,
                    pageOffset: FileOffset(0), protection: 5, filename: "/bin/a")))
        table.apply(
            .fork(
                TaskEvent(
                    pid: ProcessID(200), parentPID: pid, tid: ThreadID(200),
                    parentTID: ThreadID(100), time: 1)))
        #expect(table.maps[ProcessID(200)]?.mappings.count == 1)
        table.apply(.comm(Comm(pid: pid, tid: ThreadID(100), name: "b", isExec: true)))
        #expect(table.maps[pid]?.mappings.isEmpty == true)
        #expect(table.processName(pid) == "b")
    }

    @Test func nonExecutableMappingsAreIgnored() {
        var table = ProcessTable()
        table.apply(
            .mmap2(
                Mmap2(
                    pid: ProcessID(1), tid: ThreadID(1), start: VirtualAddress(0x1000), length: 0x1000,
                    pageOffset: FileOffset(0), protection: 3, filename: "/data")))
        #expect(table.maps[ProcessID(1)] == nil)
    }

    /// Anonymous code (a JIT's) is normalized to its own address, whether the kernel's MMAP2 gave its start as page
    /// offset or /proc/PID/maps gave 0 (and a PR_SET_VMA_ANON_NAME name), and each process has its own module.
    @Test func anonymousCodeIsPerProcessAndNormalizedToItsAddress() {
        var table = ProcessTable()
        let fromKernel = Mmap2(
            pid: ProcessID(1), tid: ThreadID(1), start: VirtualAddress(0x7f00_0000_0000), length: 0x1000,
            pageOffset: FileOffset(0x7f00_0000_0000), protection: 5, filename: "//anon")
        let fromProc = Mmap2(
            pid: ProcessID(2), tid: ThreadID(2), start: VirtualAddress(0x7f00_0000_0000), length: 0x1000,
            pageOffset: FileOffset(0), protection: 5, filename: "[anon:v8 code]")
        table.apply(.mmap2(fromKernel))
        table.apply(.mmap2(fromProc))
        let one = table.maps[ProcessID(1)]!.mappings[0]
        let two = table.maps[ProcessID(2)]!.mappings[0]
        #expect(one.fileOffset(of: 0x7f00_0000_0123) == FileOffset(0x7f00_0000_0123))
        #expect(two.fileOffset(of: 0x7f00_0000_0123) == FileOffset(0x7f00_0000_0123))
        #expect(one.module.isAnonymous && two.module.isAnonymous)
        #expect(one.module != two.module)
        #expect(one.moduleIndex != two.moduleIndex)
        // Files stay one module whichever process maps them.
        #expect(
            ModuleID(path: "/usr/lib/libc.so.6", pidHint: ProcessID(1))
                == ModuleID(path: "/usr/lib/libc.so.6", pidHint: ProcessID(2)))
    }
}
