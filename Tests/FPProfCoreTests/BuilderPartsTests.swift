import Synchronization
import Testing

@testable import FPProfCore

/// The parts `ProfileBuilder` wires, each alone: the ordering buffer, the interned names, the cached answers about
/// code and the stack aggregator.
@Suite struct OrderingBufferTests {
    let format = PipelineTests().format

    func batch(_ records: [PerfRecord]) -> [UInt8] {
        let enc = RecordEncoder(format: format)
        return records.flatMap { enc.encode($0) }
    }

    /// A side-band record with its time in the `sample_id_all` trailer, named so that its order shows.
    func record(_ id: Int, time: UInt64) -> PerfRecord {
        .comm(
            Comm(
                pid: ProcessID(1), tid: ThreadID(1), name: "r\(id)",
                sampleID: SampleID(pid: ProcessID(1), tid: ThreadID(1), time: time, cpu: 0)))
    }

    func names(_ buffer: inout OrderingBuffer, _ count: Int) -> [String] {
        (0..<count).map { i in
            if case .comm(let c) = buffer.take(i) { return c.name }
            return "?"
        }
    }

    @Test func aBatchIsReleasedOnlyUpToThePreviousBatchsLatestTime() throws {
        let decoder = try RecordDecoder(format: format)
        var buffer = OrderingBuffer()
        #expect(
            buffer.decode(batch([record(1, time: 30), record(2, time: 10)])[...], with: decoder, prefetch: nil) == 0)
        // Nothing came before the first batch: nothing is safe yet.
        #expect(buffer.ready(upTo: buffer.endBatch()) == 0)
        #expect(
            buffer.decode(batch([record(3, time: 20), record(4, time: 40)])[...], with: decoder, prefetch: nil) == 0)
        // Up to 30, the first batch's latest: 10, 20, 30 in time order; 40 waits.
        let ready = buffer.ready(upTo: buffer.endBatch())
        #expect(ready == 3)
        #expect(names(&buffer, ready) == ["r2", "r3", "r1"])
        buffer.removeTaken(ready)
        #expect(buffer.count == 1)
        #expect(buffer.ready(upTo: .max) == 1)
        #expect(names(&buffer, 1) == ["r4"])
    }

    @Test func recordsOfOneTimeKeepTheirOrder() throws {
        let decoder = try RecordDecoder(format: format)
        var buffer = OrderingBuffer()
        let records = [
            record(1, time: 5), record(2, time: 3), record(3, time: 5), record(4, time: 3), record(5, time: 5),
        ]
        _ = buffer.decode(batch(records)[...], with: decoder, prefetch: nil)
        #expect(buffer.ready(upTo: .max) == 5)
        #expect(names(&buffer, 5) == ["r2", "r4", "r1", "r3", "r5"])
    }

    @Test func aTruncatedBufferCountsOneErrorAndKeepsWhatWasWhole() throws {
        let decoder = try RecordDecoder(format: format)
        var buffer = OrderingBuffer()
        let bytes = batch([record(1, time: 1), record(2, time: 2)])
        #expect(buffer.decode(bytes.dropLast(3), with: decoder, prefetch: nil) == 1)
        #expect(buffer.count == 1)
    }

    @Test func thePrefetchIsAskedForTheRecordFourAhead() throws {
        let decoder = try RecordDecoder(format: format)
        var buffer = OrderingBuffer()
        let one = batch([record(0, time: 0)]).count
        let bytes = batch((0..<6).map { record($0, time: UInt64($0)) })
        let asked = Mutex<[Range<Int>]>([])
        _ = buffer.decode(bytes[...], with: decoder) { _, range in asked.withLock { $0.append(range) } }
        // Records 0 and 1 have a record four ahead (4 and 5); from 2 on it lies past the end.
        let ranges = asked.withLock { $0 }
        #expect(ranges.count == 2)
        #expect(ranges.first == (4 * one)..<min(4 * one + 320, bytes.count))
    }
}

@Suite struct InternedNamesTests {
    func table() -> ProcessTable {
        var table = ProcessTable()
        table.apply(.comm(Comm(pid: ProcessID(10), tid: ThreadID(10), name: "app", isExec: true)))
        table.apply(.comm(Comm(pid: ProcessID(10), tid: ThreadID(11), name: "worker")))
        return table
    }

    @Test func namesAreInternedOnceAndAThreadWithoutANameTakesItsProcesss() {
        var table = table()
        var names = InternedNames()
        let app = names.process(ProcessID(10), in: table)
        #expect(names.thread(ThreadID(11), of: ProcessID(10), in: table) == 1)
        #expect(names.thread(ThreadID(12), of: ProcessID(10), in: table) == app)
        #expect(names.names == ["app", "worker"])
        // A rename is seen only once the entry is dropped, as a COMM record does.
        table.apply(.comm(Comm(pid: ProcessID(10), tid: ThreadID(11), name: "renamed")))
        #expect(names.thread(ThreadID(11), of: ProcessID(10), in: table) == 1)
        names.renamed(pid: ProcessID(10), tid: ThreadID(11))
        #expect(names.thread(ThreadID(11), of: ProcessID(10), in: table) == 2)
        #expect(names.names == ["app", "worker", "renamed"])
    }

    @Test func forgottenProcessesAndThreadsLoseTheirEntries() {
        let table = table()
        var names = InternedNames()
        _ = names.process(ProcessID(10), in: table)
        _ = names.thread(ThreadID(11), of: ProcessID(10), in: table)
        _ = names.thread(ThreadID(99), of: ProcessID(10), in: table)
        // Thread 99 is not in the table: it goes; process 10 is forgotten.
        names.forget(processes: [ProcessID(10)], keepingThreadsOf: table)
        #expect(names.trackedEntries.processes == 0)
        #expect(names.trackedEntries.threads == 1)
        // The names themselves stay until the table is full.
        #expect(names.names.count == 2)
    }

    @Test func pastTheLimitTheTableStartsOverAtACut() {
        var table = ProcessTable()
        var names = InternedNames()
        for i in 0...InternedNames.limit {
            let pid = ProcessID(Int32(i + 1))
            table.apply(.comm(Comm(pid: pid, tid: ThreadID(pid.rawValue), name: "p\(i)", isExec: true)))
            _ = names.process(pid, in: table)
        }
        names.startOverIfFull()
        #expect(names.names.isEmpty)
        #expect(names.trackedEntries.processes == 0)
        _ = names.process(ProcessID(5), in: table)
        #expect(names.names == ["p4"])
        // At the limit exactly, nothing starts over.
        names.startOverIfFull()
        #expect(names.names == ["p4"])
    }
}

@Suite struct CodeAnswersTests {
    /// Counts the questions and answers each from the offset asked.
    final class Asked: CodeKnowledge, @unchecked Sendable {
        // Invariant: used by one test at a time, from one thread.
        var entries = 0
        var traits = 0
        var callers = 0
        func codeRanges(for module: ModuleID) -> SpecialCode { SpecialCode() }
        func entryFrame(for address: NormalizedAddress) -> EntryFrame {
            entries += 1
            return .returnAddressAtSP(offset: Int(address.offset.rawValue & 0xff))
        }
        func stackSwitchTraits(at address: NormalizedAddress) -> StackSwitchTraits {
            traits += 1
            return StackSwitchTraits(detaches: address.module.path == "/switch")
        }
        func hiddenCaller(switchAt: NormalizedAddress, above: NormalizedAddress, callee: NormalizedAddress?)
            -> HiddenCaller<FileOffset>?
        {
            callers += 1
            return .function(FileOffset(above.offset.rawValue &- 0x10))
        }
    }

    func map(moduleIndex: Int = 1) -> ProcessMap {
        var map = ProcessMap()
        map.insert(
            Mapping(
                start: VirtualAddress(0x40_0000), end: VirtualAddress(0x40_2000), pageOffset: FileOffset(0x1000),
                module: ModuleID(path: "/switch"), moduleIndex: moduleIndex))
        return map
    }

    @Test func eachAddressIsAskedOnceAndItsAnswerIsByFileOffset() {
        let code = Asked()
        var answers = CodeAnswers(code: code)
        let map = map()
        #expect(answers.entryFrame(0x40_0042, map) == .returnAddressAtSP(offset: 0x42))
        #expect(answers.entryFrame(0x40_0042, map) == .returnAddressAtSP(offset: 0x42))
        #expect(answers.entryFrame(0x50_0000, map) == .framePointer)
        #expect(code.entries == 1)
        #expect(answers.switchTraits(0x40_0100, map).detaches)
        #expect(answers.switchTraits(0x40_0100, map).detaches)
        #expect(code.traits == 1)
        // The hidden caller comes back as an address of the mapping above: file offset 0x1100 - 0x10 = 0x10f0.
        #expect(answers.hiddenCaller(switchAt: 0x40_0100, above: 0x40_0200, callee: nil, map) == .function(0x40_01f0))
        #expect(answers.hiddenCaller(switchAt: 0x40_0100, above: 0x40_0200, callee: nil, map) == .function(0x40_01f0))
        #expect(code.callers == 1)
    }

    @Test func aReleasedModulesAnswersGoAndAreAskedAgain() {
        let code = Asked()
        var answers = CodeAnswers(code: code)
        _ = answers.entryFrame(0x40_0042, map(moduleIndex: 1))
        _ = answers.entryFrame(0x40_0042, map(moduleIndex: 2))
        #expect(answers.counts.entry == 2)
        answers.release(modules: [1])
        #expect(answers.counts.entry == 1)
        _ = answers.entryFrame(0x40_0042, map(moduleIndex: 1))
        #expect(code.entries == 3)
    }

    @Test func aFullCacheStartsOver() {
        let code = Asked()
        var answers = CodeAnswers(code: code)
        var map = ProcessMap()
        map.insert(
            Mapping(
                start: VirtualAddress(0x100_0000), end: VirtualAddress(0x100_0000 + UInt64(CodeAnswers.limit) + 1),
                pageOffset: FileOffset(0), module: ModuleID(path: "/big"), moduleIndex: 3))
        for i in 0...CodeAnswers.limit { _ = answers.entryFrame(0x100_0000 + UInt64(i), map) }
        #expect(answers.counts.entry == 1)
        #expect(code.entries == CodeAnswers.limit + 1)
    }
}

@Suite struct StackAggregatorTests {
    func count(
        _ stacks: inout StackAggregator, _ frames: [UInt64], tid: Int32 = 1, period: UInt64 = 10
    ) -> [StackKey: StackWeight].Index? {
        var frames = frames
        let i = stacks.count(
            &frames, pid: ProcessID(1), tid: ThreadID(tid), processName: 0, threadName: -1, status: .complete,
            goroutine: -1, walkedByCFI: false, period: period)
        return i
    }

    @Test func aStackIsCountedUnderItsKeyAndTheFramesComeBack() {
        var stacks = StackAggregator()
        var frames: [UInt64] = [1, 2, 3]
        _ = stacks.count(
            &frames, pid: ProcessID(1), tid: ThreadID(1), processName: 0, threadName: -1, status: .complete,
            goroutine: -1, walkedByCFI: false, period: 10)
        #expect(frames == [1, 2, 3])
        _ = count(&stacks, [1, 2, 3], period: 5)
        _ = count(&stacks, [1, 2, 3], tid: 2)
        #expect(stacks.stacks.count == 2)
        let weights = stacks.stacks.filter { $0.key.tid == ThreadID(1) }.map(\.value)
        #expect(weights == [StackWeight(samples: 2, period: 15)])
    }

    @Test func anIndexIsGoodUntilTheNextInsertionOrCut() throws {
        var stacks = StackAggregator()
        let first = stacks.generation
        #expect(count(&stacks, [7]) == nil)
        #expect(stacks.generation != first)
        let i = try #require(count(&stacks, [7]))
        let taken = stacks.generation
        stacks.countAgain(at: i, period: 1)
        #expect(stacks.generation == taken)
        #expect(stacks.stacks[i].value == StackWeight(samples: 3, period: 21))
        #expect(count(&stacks, [8]) == nil)
        #expect(stacks.generation != taken)
        let afterInsert = stacks.generation
        let window = stacks.cut()
        #expect(window.count == 2)
        #expect(stacks.stacks.isEmpty)
        #expect(stacks.generation != afterInsert)
    }
}
