import Testing

@testable import FPProfCore

/// A symbolizer over fixed offset ranges, with one inlined chain.
struct TableSymbols: Symbolizer {
    var table: [(Range<UInt64>, [SymbolFrame])]
    mutating func frames(for address: NormalizedAddress) -> [SymbolFrame] {
        table.first { $0.0.contains(address.offset.rawValue) }?.1 ?? []
    }
}

@Suite struct PipelineTests {
    let format = RecordFormat.amd64Profiling
    let pid = ProcessID(500)
    let base: UInt64 = 0x5555_0000_0000
    let sp: UInt64 = 0x7ffd_0000_1000

    func sample(ip: UInt64, bp: UInt64, stack: [UInt64], tid: Int32 = 500) -> PerfRecord {
        var regs = [UInt64](repeating: 0, count: format.userRegisterCount)
        regs[X86Registers.bp] = bp
        regs[X86Registers.sp] = sp
        regs[X86Registers.ip] = ip
        return .sample(
            Sample(
                cpumode: .user, ip: VirtualAddress(ip), pid: pid, tid: ThreadID(tid), time: 10, cpu: 0,
                period: 1_000_000, callchain: WordWindow([]), userRegisterABI: 2,
                userRegisters: WordWindow(regs), userStack: WordWindow(stack).bytes))
    }

    func records() -> [UInt8] {
        let enc = RecordEncoder(format: format)
        var bytes: [UInt8] = []
        bytes += enc.encode(.comm(Comm(pid: pid, tid: ThreadID(500), name: "demo", isExec: true)))
        bytes += enc.encode(.comm(Comm(pid: pid, tid: ThreadID(501), name: "worker")))
        bytes += enc.encode(
            .mmap2(
                Mmap2(
                    pid: pid, tid: ThreadID(500), start: VirtualAddress(base + 0x1000),
                    length: 0x1000, pageOffset: FileOffset(0x1000), protection: 5,
                    filename: "/opt/demo")))
        // main (0x1100..0x1200) calls work (0x1200..0x1300) which spins in leaf (0x1300..0x1400).
        let healthy = sample(
            ip: base + 0x1350, bp: sp + 16,
            stack: [0, 0, sp + 48, base + 0x1250, 0, 0, 0, base + 0x1150])
        for _ in 0..<3 { bytes += enc.encode(healthy) }
        // A self-loop: leaf's record points at itself; its return address is in work.
        let looped = sample(ip: base + 0x1350, bp: sp + 8, stack: [0, sp + 8, base + 0x1250], tid: 501)
        bytes += enc.encode(looped)
        // An address outside every mapping.
        bytes += enc.encode(sample(ip: 0x9999_0000, bp: 0, stack: []))
        bytes += enc.encode(.lost(Lost(id: 1, count: 5)))
        return bytes
    }

    var symbols: TableSymbols {
        TableSymbols(table: [
            (0x1100..<0x1200, [SymbolFrame(function: "main")]),
            (0x1200..<0x1300, [SymbolFrame(function: "work"), SymbolFrame(function: "helper", isInlined: true)]),
            (0x1300..<0x1380, [SymbolFrame(function: "leaf")]),
        ])
    }

    @Test func foldedOutputHasExactStacksMarkersAndCounts() throws {
        var builder = try ProfileBuilder(format: format)
        builder.consume(records())
        let profile = builder.finish()
        var namer = FrameNamer(symbolizer: symbols, modules: profile.modules)
        let folded = FoldedWriter().render(profile, namer: &namer)
        #expect(
            folded == """
                demo;[bad-frame];[unknown]+0x99990000 1
                demo;[fp-loop];work;helper_[i];leaf 1
                demo;main;work;helper_[i];leaf 3

                """)
        #expect(profile.stats.samples == 5)
        #expect(profile.stats.lostRecords == 5)
        #expect(profile.stats.samplesByStatus[.selfLoop] == 1)
        #expect(profile.stats.samplesByStatus[.complete] == 3)
        #expect(profile.stats.samplesByStatus[.badFrame] == 1)
    }

    @Test func perThreadAddsTheThreadFrame() throws {
        var builder = try ProfileBuilder(format: format, options: .init(perThread: true))
        builder.consume(records())
        let profile = builder.finish()
        var namer = FrameNamer(symbolizer: symbols, modules: profile.modules)
        let lines = FoldedWriter().lines(profile, namer: &namer).map(\.0)
        #expect(lines.contains("demo;worker/501;[fp-loop];work;helper_[i];leaf"))
        #expect(lines.contains("demo;demo/500;main;work;helper_[i];leaf"))
    }

    @Test func unsymbolizedFramesNameTheirModuleAndOffset() throws {
        var builder = try ProfileBuilder(format: format)
        builder.consume(records())
        let profile = builder.finish()
        var namer = FrameNamer(symbolizer: NoSymbols(), modules: profile.modules)
        let lines = FoldedWriter().lines(profile, namer: &namer).map(\.0)
        // Callers are looked up at ret - 1.
        #expect(lines.contains("demo;demo+0x114f;demo+0x124f;demo+0x1350"))
    }

    @Test func frameNamesNeverCarrySeparators() {
        #expect(FoldedWriter.clean("a;b\nc") == "a:b c")
        // A carriage return before a line feed is one `Character`, and both go; other text stays as it was.
        #expect(FoldedWriter.clean("x\r\ny;\u{E9}\u{301}z") == "x  y:\u{E9}\u{301}z")
        #expect(FoldedWriter.clean("operator<(A, B) \u{2192} C") == "operator<(A, B) \u{2192} C")
    }
}

@Suite struct FrameRecordReportTests {
    @Test func selfLoopNamesTheOwnerAndItsCaller() throws {
        let t = PipelineTests()
        var builder = try ProfileBuilder(format: t.format)
        builder.consume(t.records())
        let profile = builder.finish()
        let flagged = FrameRecordReport.flagged(in: profile)
        // The self-loop, and the sample outside every mapping (BP 0 there is no frame pointer: a bad frame).
        #expect(flagged.map(\.record.status).sorted { $0.rawValue < $1.rawValue } == [.selfLoop, .badFrame])
        var namer = FrameNamer(symbolizer: t.symbols, modules: profile.modules)
        let loop = try #require(flagged.first { $0.record.status == .selfLoop })
        #expect(loop.samples == 1)
        #expect(namer.frames(for: loop.record.owner).first?.function == "leaf")
        #expect(loop.record.caller.flatMap { namer.frames(for: $0).first?.function } == "work")
        #expect(FrameRecordReport.hasLoops(profile))
        #expect(FrameRecordReport.flaggedOnly(profile).stacks.count == 2)
    }
}
