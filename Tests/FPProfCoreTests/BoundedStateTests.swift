import Testing

@testable import FPProfCore

/// Bounded state over synthetic fork/mmap/exit streams: exited processes and threads are forgotten at the cut
/// after their EXIT (never before: their samples are in that window), their modules released and reused, and the
/// survivors keep their module ids and names.
@Suite struct BoundedStateTests {
    let format = RecordFormat.amd64Profiling
    let parent = ProcessID(100)
    let exe: UInt64 = 0x5555_0000_0000
    /// Every child's JIT page is at this address, as children forked from one parent get it.
    let jit: UInt64 = 0x7f00_0000_0000
    let sp: UInt64 = 0x7ffd_0000_1000

    /// A sample at `ip` whose walk finds one caller in the executable, `exe + 0x1250`.
    func sample(pid: ProcessID, tid: Int32? = nil, ip: UInt64, time: UInt64) -> PerfRecord {
        var regs = [UInt64](repeating: 0, count: format.userRegisterCount)
        regs[X86Registers.bp] = sp + 16
        regs[X86Registers.sp] = sp
        regs[X86Registers.ip] = ip
        return .sample(
            Sample(
                cpumode: .user, ip: VirtualAddress(ip), pid: pid, tid: ThreadID(tid ?? pid.rawValue), time: time,
                cpu: 0, period: 1, callchain: WordWindow([]), userRegisterABI: 2, userRegisters: WordWindow(regs),
                userStack: WordWindow([0, 0, 0, exe + 0x1250]).bytes))
    }

    func mmap(pid: ProcessID, start: UInt64, file: String) -> PerfRecord {
        .mmap2(
            Mmap2(
                pid: pid, tid: ThreadID(pid.rawValue), start: VirtualAddress(start), length: 0x1000,
                pageOffset: FileOffset(file == ModuleID.anonymousPath ? start : 0x1000), protection: 5,
                filename: file))
    }

    func fork(_ pid: ProcessID, from parentPID: ProcessID, time: UInt64) -> PerfRecord {
        .fork(
            TaskEvent(
                pid: pid, parentPID: parentPID, tid: ThreadID(pid.rawValue), parentTID: ThreadID(parentPID.rawValue),
                time: time))
    }

    func exit(_ pid: ProcessID, tid: Int32? = nil, time: UInt64) -> PerfRecord {
        .exit(
            TaskEvent(
                pid: pid, parentPID: pid, tid: ThreadID(tid ?? pid.rawValue), parentTID: ThreadID(pid.rawValue),
                time: time))
    }

    func builder() throws -> ProfileBuilder {
        var b = try ProfileBuilder(format: format, options: .init(perThread: true))
        b.consume(.comm(Comm(pid: parent, tid: ThreadID(parent.rawValue), name: "parent", isExec: true)))
        b.consume(mmap(pid: parent, start: exe + 0x1000, file: "/opt/parent"))
        return b
    }

    /// Starts `pid` from the parent with its own JIT page, and samples it once in that page.
    func runChild(_ pid: ProcessID, _ b: inout ProfileBuilder, time: UInt64) {
        b.consume(fork(pid, from: parent, time: time))
        b.consume(mmap(pid: pid, start: jit, file: ModuleID.anonymousPath))
        b.consume(sample(pid: pid, ip: jit + 0x10, time: time + 1))
    }

    /// The module of each stack's leaf, by the process sampled.
    func leafModules(_ window: RawProfile) -> [ProcessID: [ModuleID]] {
        var out: [ProcessID: [ModuleID]] = [:]
        for key in window.stacks.keys {
            let index = ModuleTable.unpack(key.frames[0]).module
            out[key.pid, default: []].append(window.modules.modules[index])
        }
        return out
    }

    @Test func exitedChildrenAreForgottenAtTheCutAfterTheirSamples() throws {
        var b = try builder()
        for i in 0..<10 { runChild(ProcessID(200 + Int32(i)), &b, time: UInt64(10 * i)) }
        for i in 0..<10 { b.consume(exit(ProcessID(200 + Int32(i)), time: 200)) }
        // Exited, not forgotten yet: a sample of theirs still applied before the cut finds their mappings.
        #expect(b.trackedCounts.processes == 11)
        b.consume(sample(pid: ProcessID(203), ip: jit + 0x20, time: 150))
        let window = b.cutWindow()
        #expect(window.stats.samples == 11)
        for (pid, modules) in leafModules(window) {
            #expect(modules.allSatisfy { $0.isAnonymous && $0.pidHint == pid }, "\(pid): \(modules)")
        }
        #expect(b.forgotten.processes == (200..<210).map { ProcessID($0) })
        #expect(b.forgotten.releasedJITModules.compactMap(\.pidHint).count == 10)
        #expect(b.trackedCounts == TrackedCounts(processes: 1, threads: 1, modules: 1))
        #expect(b.table.processName(parent) == "parent")
    }

    @Test func releasedModuleIdsNameOnlyTheirNewModuleAndSurvivorsKeepTheirs() throws {
        var b = try builder()
        b.consume(sample(pid: parent, ip: exe + 0x1100, time: 1))
        let first = b.cutWindow()
        let parentModule = try #require(first.stacks.keys.first.map { ModuleTable.unpack($0.frames[0]).module })
        var seen: [ProcessID: Int] = [:]
        for round in 0..<5 {
            let pids = (0..<4).map { ProcessID(300 + Int32(round * 4 + $0)) }
            for (i, pid) in pids.enumerated() { runChild(pid, &b, time: UInt64(1000 * round + 10 * i)) }
            b.consume(sample(pid: parent, ip: exe + 0x1100, time: UInt64(1000 * round + 50)))
            for pid in pids { b.consume(exit(pid, time: UInt64(1000 * round + 60))) }
            let window = b.cutWindow()
            for (pid, modules) in leafModules(window) {
                if pid == parent {
                    #expect(modules == [ModuleID(path: "/opt/parent")])
                } else {
                    #expect(modules.count == 1 && modules[0].isAnonymous && modules[0].pidHint == pid)
                    seen[pid] = ModuleTable.unpack(window.stacks.keys.first { $0.pid == pid }!.frames[0]).module
                }
            }
            let parentKey = try #require(window.stacks.keys.first { $0.pid == parent })
            #expect(ModuleTable.unpack(parentKey.frames[0]).module == parentModule)
            #expect(b.trackedCounts.modules == 1)
        }
        #expect(seen.count == 20)
        // Four children at a time: their ids come back round after round instead of growing.
        #expect(Set(seen.values).count == 4)
        // The last round's ids were released and the free tail trimmed: "[unknown]" and the parent's executable.
        #expect(b.table.modules.modules.count == 2)
    }

    @Test func aPidReusedBeforeTheCutStartsFromItsParentsMappings() throws {
        var b = try builder()
        let pid = ProcessID(400)
        runChild(pid, &b, time: 1)
        b.consume(exit(pid, time: 2))
        b.consume(fork(pid, from: parent, time: 3))
        b.consume(sample(pid: pid, ip: jit + 0x10, time: 4))
        b.consume(sample(pid: pid, ip: exe + 0x1100, time: 5))
        let window = b.cutWindow()
        let modules = leafModules(window)[pid] ?? []
        // The old process's JIT page is not the new one's: its address is unmapped there.
        #expect(modules.contains(ModuleID(path: "[unknown]")))
        #expect(modules.contains(ModuleID(path: "/opt/parent")))
        #expect(b.trackedCounts.processes == 2)
        #expect(b.forgotten.processes.isEmpty)
    }

    @Test func exitedThreadsOfALiveProcessGoAndItsNameStays() throws {
        var b = try builder()
        for tid in Int32(101)...110 {
            b.consume(
                .fork(
                    TaskEvent(
                        pid: parent, parentPID: parent, tid: ThreadID(tid), parentTID: ThreadID(100), time: 1)))
            b.consume(.comm(Comm(pid: parent, tid: ThreadID(tid), name: "worker-\(tid)")))
            b.consume(sample(pid: parent, tid: tid, ip: exe + 0x1100, time: 2))
            b.consume(exit(parent, tid: tid, time: 3))
        }
        #expect(b.trackedCounts.threads == 11)
        let window = b.cutWindow()
        #expect(window.stacks.count == 10)
        #expect(b.trackedCounts == TrackedCounts(processes: 1, threads: 1, modules: 1))
        #expect(b.forgotten.threads == 10)
        #expect(b.table.threadName(ThreadID(105)) == nil)
        #expect(b.table.processName(parent) == "parent")
    }

    @Test func aProcessWhoseMainThreadExitedStaysWhileAThreadRuns() throws {
        var b = try builder()
        b.consume(
            .fork(TaskEvent(pid: parent, parentPID: parent, tid: ThreadID(101), parentTID: ThreadID(100), time: 1)))
        b.consume(exit(parent, time: 2))
        _ = b.cutWindow()
        #expect(b.trackedCounts.processes == 1)
        b.consume(sample(pid: parent, tid: 101, ip: exe + 0x1100, time: 3))
        b.consume(exit(parent, tid: 101, time: 4))
        let window = b.cutWindow()
        #expect(leafModules(window)[parent] == [ModuleID(path: "/opt/parent")])
        #expect(b.trackedCounts == TrackedCounts(processes: 0, threads: 0, modules: 0))
    }

    /// More JIT processes than a packed frame can name modules, 200 alive at a time: none refused, the table as
    /// long as the most modules alive at once.
    @Test func seventyThousandShortLivedJITProcessesNeverFillTheModuleTable() throws {
        var b = try builder()
        var time: UInt64 = 10
        var longest = 0
        for batch in 0..<350 {
            let pids = (0..<200).map { ProcessID(1000 + Int32(batch * 200 + $0)) }
            for pid in pids {
                b.consume(fork(pid, from: parent, time: time))
                b.consume(mmap(pid: pid, start: jit, file: ModuleID.anonymousPath))
                b.consume(exit(pid, time: time + 1))
                time += 2
            }
            b.consume(sample(pid: parent, ip: exe + 0x1100, time: time))
            let window = b.cutWindow()
            #expect(window.modules.refused == 0)
            longest = max(longest, window.modules.modules.count)
        }
        #expect(longest <= 202)
        #expect(b.trackedCounts == TrackedCounts(processes: 1, threads: 1, modules: 1))
    }
}
