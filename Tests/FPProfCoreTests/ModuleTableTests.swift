import Testing

@testable import FPProfCore

/// The module index has 16 bits in a packed frame: past 65,536 modules (JIT code is one module per process) a new
/// module must be refused, counted, and its frames left unmapped, never packed with a wrapped index that names
/// another module.
@Suite struct ModuleTableTests {
    @Test func modulesPastTheCapacityAreRefusedNotWrapped() {
        var table = ModuleTable()
        var indices: [Int] = []
        for i in 0..<(ModuleTable.capacity + 10) {
            indices.append(table.intern(ModuleID(path: "//anon", pidHint: ProcessID(Int32(i)))))
        }
        #expect(ModuleTable.capacity == 65_536)
        #expect(table.modules.count == ModuleTable.capacity)
        // Module 0 is "[unknown]": the first 65,535 interned modules get 1...65,535, each its own.
        #expect(Array(indices.prefix(ModuleTable.capacity - 1)) == Array(1..<ModuleTable.capacity))
        #expect(indices.suffix(11).allSatisfy { $0 == ModuleTable.unmapped })
        #expect(table.refused == 11)
        let last = ModuleTable.pack(module: ModuleTable.capacity - 1, offset: 0x1234)
        #expect(ModuleTable.unpack(last).module == ModuleTable.capacity - 1)
        #expect(table.modules[ModuleTable.capacity - 1].pidHint == ProcessID(Int32(ModuleTable.capacity - 2)))
        // Already interned modules keep their index.
        #expect(table.intern(ModuleID(path: "//anon", pidHint: ProcessID(7))) == 8)
    }

    /// Released indexes are reused, smallest first, and a free tail is trimmed: the table is as long as the
    /// highest index in use, and a full table has room again once modules are released.
    @Test func releasedIndexesAreReusedAndAFreeTailTrimmed() {
        var table = ModuleTable()
        let ids = (0..<6).map { ModuleID(path: "//anon", pidHint: ProcessID(Int32($0))) }
        for id in ids { _ = table.intern(id) }
        #expect(table.liveCount == 6)
        #expect(table.release(keeping: [1, 3, 4]).sorted() == [2, 5, 6])
        #expect(table.modules.count == 5)
        #expect(table.modules[2].path == ModuleTable.releasedPath)
        #expect(table.liveCount == 3)
        #expect(table.intern(ModuleID(path: "/usr/lib/libc.so.6")) == 2)
        #expect(table.intern(ModuleID(path: "/usr/lib/libm.so.6")) == 5)
        #expect(table.intern(ids[1]) == 6, "a released module is new again")
        #expect(table.intern(ids[2]) == 3, "a kept module keeps its index")

        var full = ModuleTable()
        for i in 0..<(ModuleTable.capacity - 1) {
            _ = full.intern(ModuleID(path: "//anon", pidHint: ProcessID(Int32(i))))
        }
        #expect(full.intern(ModuleID(path: "/late")) == ModuleTable.unmapped)
        full.release(keeping: Set(1..<100))
        #expect(full.modules.count == 100)
        #expect(full.intern(ModuleID(path: "/late")) == 100)
        #expect(full.refused == 1)
    }
}
