import Testing

@testable import FPProfCore

/// `ProfileBuilder.cutWindow` over a fixed synthetic stream whose batches are out of time order with each other
/// (as rings of several CPUs are): wherever the windows are cut, together they are the one-shot profile exactly,
/// because a sample waiting for time ordering at a cut goes to the next window, never to two or none.
@Suite struct WindowTests {
    let t = PipelineTests()

    func sample(ip: UInt64, time: UInt64, tid: Int32) -> PerfRecord {
        var regs = [UInt64](repeating: 0, count: t.format.userRegisterCount)
        regs[X86Registers.bp] = t.sp + 16
        regs[X86Registers.sp] = t.sp
        regs[X86Registers.ip] = ip
        return .sample(
            Sample(
                cpumode: .user, ip: VirtualAddress(ip), pid: t.pid, tid: ThreadID(tid), time: time, cpu: 0,
                period: 1000 + time, callchain: WordWindow([]), userRegisterABI: 2, userRegisters: WordWindow(regs),
                userStack: WordWindow([0, 0, t.sp + 48, t.base + 0x1250, 0, 0, 0, t.base + 0x1150]).bytes))
    }

    /// One batch per record: setup first, then samples whose times jump back and forth, a loss in the middle.
    var batches: [[UInt8]] {
        let enc = RecordEncoder(format: t.format)
        var out: [[UInt8]] = []
        out.append(enc.encode(.comm(Comm(pid: t.pid, tid: ThreadID(500), name: "demo", isExec: true))))
        out.append(enc.encode(.comm(Comm(pid: t.pid, tid: ThreadID(501), name: "worker"))))
        out.append(
            enc.encode(
                .mmap2(
                    Mmap2(
                        pid: t.pid, tid: ThreadID(500), start: VirtualAddress(t.base + 0x1000), length: 0x1000,
                        pageOffset: FileOffset(0x1000), protection: 5, filename: "/opt/demo"))))
        let times: [UInt64] = [30, 10, 20, 50, 40, 45, 70, 60, 65, 90, 80, 85, 100, 95, 120, 110]
        for (i, time) in times.enumerated() {
            let ip = t.base + (i % 3 == 0 ? 0x1350 : 0x1260 + UInt64(i))
            out.append(enc.encode(sample(ip: ip, time: time, tid: i % 2 == 0 ? 500 : 501)))
            if i == 7 { out.append(enc.encode(.lost(Lost(id: 1, count: 3)))) }
        }
        return out
    }

    func builder() throws -> ProfileBuilder {
        try ProfileBuilder(format: t.format, options: .init(perThread: true))
    }

    /// The windows added up: stacks by key, samples, losses and statuses.
    func sum(_ windows: [RawProfile]) -> (stacks: [StackKey: StackWeight], stats: ProfileStats) {
        var stacks: [StackKey: StackWeight] = [:]
        var stats = ProfileStats()
        for w in windows {
            for (key, weight) in w.stacks {
                stacks[key, default: StackWeight()].samples += weight.samples
                stacks[key, default: StackWeight()].period &+= weight.period
            }
            stats.samples += w.stats.samples
            stats.lostRecords += w.stats.lostRecords
            stats.threads.formUnion(w.stats.threads)
            stats.processes.formUnion(w.stats.processes)
            for (status, n) in w.stats.samplesByStatus { stats.samplesByStatus[status, default: 0] += n }
        }
        return (stacks, stats)
    }

    func oneShot() throws -> RawProfile {
        var b = try builder()
        for batch in batches { b.consume(batch) }
        return b.finish()
    }

    @Test func oneCutAtEveryPositionSumsToTheOneShotProfile() throws {
        let reference = try oneShot()
        #expect(reference.stats.samples == 16)
        #expect(reference.stacks.count > 3)
        let batches = self.batches
        for position in 0...batches.count {
            var b = try builder()
            for batch in batches[..<position] { b.consume(batch) }
            let first = b.cutWindow()
            for batch in batches[position...] { b.consume(batch) }
            let second = b.finish()
            let (stacks, stats) = sum([first, second])
            #expect(stacks == reference.stacks, "cut after batch \(position)")
            #expect(stats.samples == reference.stats.samples)
            #expect(stats.lostRecords == reference.stats.lostRecords)
            #expect(stats.samplesByStatus == reference.stats.samplesByStatus)
            #expect(stats.threads == reference.stats.threads)
            // Names and modules are kept across the cut: the windows' keys mean what the one-shot's mean.
            #expect(second.names == reference.names)
            #expect(second.modules.modules == reference.modules.modules)
        }
    }

    @Test func aCutAfterEveryBatchSumsToTheOneShotProfile() throws {
        let reference = try oneShot()
        var b = try builder()
        var windows: [RawProfile] = []
        for batch in batches {
            b.consume(batch)
            windows.append(b.cutWindow())
        }
        windows.append(b.finish())
        let (stacks, stats) = sum(windows)
        #expect(stacks == reference.stacks)
        #expect(stats.samples == reference.stats.samples)
        #expect(stats.samplesByStatus == reference.stats.samplesByStatus)
        #expect(stats.lostRecords == 3)
        // Samples wait for a later batch's time before they are applied: some windows are empty, none double.
        #expect(windows.contains { $0.stats.samples == 0 })
        #expect(windows.allSatisfy { w in w.stacks.values.reduce(0) { $0 + $1.samples } == w.stats.samples })
    }

    @Test func aWindowCountsOnlyItsOwnThreadsAndTimes() throws {
        var b = try builder()
        let batches = self.batches
        // Up to the batch of time 120: applied up to the previous batch's latest time (100); 120 waits.
        for batch in batches.dropLast() { b.consume(batch) }
        let first = b.cutWindow()
        b.consume(batches[batches.count - 1])
        let second = b.finish()
        #expect(first.stats.threads == [ThreadID(500), ThreadID(501)])
        // The samples held back at the cut (after the last batch's watermark) land in the second window.
        #expect(first.stats.lastTime == 100)
        #expect(second.stats.samples == 2)
        #expect((second.stats.firstTime ?? 0) > (first.stats.lastTime ?? .max))
    }
    /// An excluded process (the daemon's own) leaves nothing in the profile, its table or its statistics but the
    /// count of its samples; the other process of the same stream is profiled as without the exclusion.
    @Test func anExcludedProcessIsCountedAndLeftOut() throws {
        let enc = RecordEncoder(format: t.format)
        let other = ProcessID(t.pid.rawValue + 1)
        var otherBatches = [
            enc.encode(.comm(Comm(pid: other, tid: ThreadID(900), name: "other", isExec: true))),
            enc.encode(
                .mmap2(
                    Mmap2(
                        pid: other, tid: ThreadID(900), start: VirtualAddress(t.base + 0x1000), length: 0x1000,
                        pageOffset: FileOffset(0x1000), protection: 5, filename: "/opt/other"))),
        ]
        if case .sample(var s) = sample(ip: t.base + 0x1350, time: 200, tid: 900) {
            s.pid = other
            otherBatches.append(enc.encode(.sample(s)))
        }
        var excluding = try ProfileBuilder(format: t.format, options: .init(perThread: true, excludedProcess: t.pid))
        var plain = try builder()
        for batch in batches + otherBatches {
            excluding.consume(batch)
            plain.consume(batch)
        }
        let excluded = excluding.finish()
        let reference = plain.finish()
        #expect(excluded.stats.excludedSamples == 16)
        #expect(excluded.stats.samples == 1 && reference.stats.samples == 17)
        #expect(excluded.stats.processes == [other])
        #expect(excluded.stats.lostRecords == 3)
        #expect(!excluded.modules.modules.contains { $0.path == "/opt/demo" })
        #expect(excluded.stacks.values.reduce(0) { $0 + $1.samples } == 1)
    }
}
