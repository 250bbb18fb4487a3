import Testing

@testable import FPProfCore

/// A walk is reused only when everything it read is the same, and then gives exactly what walking would.
@Suite struct RepeatedWalksTests {
    let unwinder = FramePointerUnwinder()
    let map: ProcessMap = {
        var m = ProcessMap()
        m.insert(
            Mapping(
                start: VirtualAddress(0x40_0000), end: VirtualAddress(0x50_0000), pageOffset: FileOffset(0),
                module: ModuleID(path: "/a"), moduleIndex: 1))
        return m
    }()

    /// `depth` records of 4 words each (record, then two words of locals), the leaf's locals below the first.
    func deepStack(depth: Int) -> StackBuilder {
        var s = StackBuilder(words: 8 + depth * 4 + 8)
        for k in 0..<depth {
            let at = 8 + k * 4
            let next = k == depth - 1 ? 0 : s.address(ofWord: at + 4)
            s.record(at: at, next: next, ret: 0x41_0000 + UInt64(k) * 16)
            s.words[at + 2] = 0xdead_0000 + UInt64(k)  // a caller's local, never read by the walk
        }
        return s
    }

    func walk(
        _ walks: inout RepeatedWalks, _ s: StackBuilder, ip: UInt64 = 0x43_0000
    ) -> (frames: [UInt64], status: UnwindStatus, reused: Bool) {
        var frames: [UInt64] = []
        var scratch: [UInt64] = []
        var reused = false
        let status = walks.unwind(
            unwinder, pid: ProcessID(1), tid: ThreadID(1), ip: ip, sp: s.sp, bp: s.address(ofWord: 8),
            memory: s.copy, code: map, frames: &frames, scratch: &scratch, entry: .framePointer, reused: &reused)
        return (frames, status, reused)
    }

    func plainWalk(_ s: StackBuilder, ip: UInt64 = 0x43_0000) -> ([UInt64], UnwindStatus) {
        var frames: [UInt64] = []
        var scratch: [UInt64] = []
        let status = unwinder.unwind(
            ip: ip, sp: s.sp, bp: s.address(ofWord: 8), memory: s.copy, code: map, frames: &frames,
            scratch: &scratch)
        return (frames, status)
    }

    @Test func theSameStackIsReusedEvenWithOtherLocalsAndAnotherIP() {
        var walks = RepeatedWalks()
        var s = deepStack(depth: 40)
        let first = walk(&walks, s)
        #expect(!first.reused)
        #expect(first.frames.count == 41 && first.status == .complete)
        s.words[0] = 0x1234  // the leaf's locals
        s.words[10] = 0x5678  // a caller's local between records
        let second = walk(&walks, s, ip: 0x43_0010)
        #expect(second.reused)
        let expected = plainWalk(s, ip: 0x43_0010)
        #expect(second.frames == expected.0 && second.status == expected.1)
    }

    @Test func aChangedRecordIsWalkedAgain() {
        var walks = RepeatedWalks()
        var s = deepStack(depth: 40)
        _ = walk(&walks, s)
        s.words[8 + 20 * 4 + 1] = 0x42_0000  // one return address
        let again = walk(&walks, s)
        #expect(!again.reused)
        #expect(again.frames == plainWalk(s).0)
        s.words[8 + 30 * 4] = s.address(ofWord: 8 + 30 * 4)  // a saved BP that points at itself
        let looped = walk(&walks, s)
        #expect(!looped.reused)
        #expect(looped.status == .selfLoop && looped.frames == plainWalk(s).0)
    }

    @Test func shallowWalksAreNotRemembered() {
        var walks = RepeatedWalks()
        let s = deepStack(depth: 4)
        _ = walk(&walks, s)
        #expect(!walk(&walks, s).reused)
    }

    @Test func aNormalizedOnlyReuseLeavesTheRawFramesOut() {
        var walks = RepeatedWalks()
        let s = deepStack(depth: 40)
        var frames: [UInt64] = []
        var scratch: [UInt64] = []
        var reused = false
        func unwind() -> UnwindStatus {
            frames.removeAll()
            return walks.unwind(
                unwinder, pid: ProcessID(1), tid: ThreadID(1), ip: 0x43_0000, sp: s.sp, bp: s.address(ofWord: 8),
                memory: s.copy, code: map, frames: &frames, scratch: &scratch, entry: .framePointer,
                reused: &reused, normalizedOnly: true)
        }
        #expect(unwind() == .complete && !reused && walks.normalizedHit == -1)
        let walked = frames
        // Reused, but nothing normalized noted yet: the raw frames are given as before.
        #expect(unwind() == .complete && reused && walks.normalizedHit == -1 && frames == walked)
        walks.noteNormalized(tid: ThreadID(1), walked.map { $0 | 1 << 60 })
        #expect(unwind() == .complete && reused && frames.isEmpty)
        #expect(walks.normalizedHit >= 0 && walks.normalized(slot: walks.normalizedHit) == walked.map { $0 | 1 << 60 })
    }

    @Test func removeAllForgets() {
        var walks = RepeatedWalks()
        let s = deepStack(depth: 40)
        _ = walk(&walks, s)
        walks.removeAll()
        #expect(!walk(&walks, s).reused)
        #expect(walk(&walks, s).reused)
    }
}

/// In the builder: a reused walk that ran out of stack copy is spliced with each sample's own kernel chain, never
/// with the chain of the sample it repeats.
@Suite struct RepeatedWalkSpliceTests {
    let pipeline = PipelineTests()

    /// A 30-record chain inside the copy whose last record points past it, and a kernel chain that agrees with
    /// the walk and then goes on with `tail`.
    func truncatedSample(tail: [UInt64]) -> PerfRecord {
        let p = pipeline
        let depth = 30
        var stack = [UInt64](repeating: 0, count: 2 + depth * 2)
        var rets: [UInt64] = []
        for k in 0..<depth {
            let at = 2 + k * 2
            stack[at] = k == depth - 1 ? p.sp + 0x10_0000 : p.sp + UInt64((at + 2) * 8)
            stack[at + 1] = p.base + 0x1250
            rets.append(p.base + 0x1250)
        }
        guard case .sample(var s) = p.sample(ip: p.base + 0x1350, bp: p.sp + 16, stack: stack) else {
            preconditionFailure()
        }
        s.callchain = WordWindow([CallchainContext.user, p.base + 0x1350] + rets + tail)
        return .sample(s)
    }

    @Test func eachSampleKeepsItsOwnSplice() throws {
        let p = pipeline
        let enc = RecordEncoder(format: p.format)
        var bytes = enc.encode(.comm(Comm(pid: p.pid, tid: ThreadID(500), name: "demo", isExec: true)))
        bytes += enc.encode(
            .mmap2(
                Mmap2(
                    pid: p.pid, tid: ThreadID(500), start: VirtualAddress(p.base + 0x1000), length: 0x1000,
                    pageOffset: FileOffset(0x1000), protection: 5, filename: "/opt/demo")))
        bytes += enc.encode(truncatedSample(tail: [p.base + 0x1150]))
        bytes += enc.encode(truncatedSample(tail: [p.base + 0x1260, p.base + 0x1170]))
        bytes += enc.encode(truncatedSample(tail: [p.base + 0x1180]))
        // `main` (0x1100..<0x1200) ends stacks, so each splice ends complete.
        var builder = try ProfileBuilder(
            format: p.format, code: RootRanges { _ in [FileOffset(0x1100)..<FileOffset(0x1200)] })
        builder.consume(bytes)
        let profile = builder.finish()
        #expect(profile.stats.samplesByStatus[.complete] == 3)
        let depths = profile.stacks.keys.map(\.frames.count).sorted()
        // ip + 30 walked + the kernel's tail: 32, 33 and 32 frames, in three stacks of one sample each.
        #expect(depths == [32, 32, 33])
        #expect(profile.stacks.values.allSatisfy { $0.samples == 1 })
        let outermost = Set(profile.stacks.keys.compactMap { $0.frames.last.map { $0 & 0xffff } })
        #expect(outermost == [0x114f, 0x116f, 0x117f])
    }
}

/// The builder's fast path for a reused walk (no raw frames, and no stack key when the stack repeats) gives exactly
/// the profile of the general path: the same builder fed the same records with it on and off.
@Suite struct RepeatedWalkFastPathTests {
    let pipeline = PipelineTests()

    /// A complete 40-record chain; the return address of record `changed` (if any) moved, the leaf's locals `noise`.
    func deepSample(ip: UInt64, tid: Int32 = 500, changed: Int? = nil, noise: UInt64 = 0, kernel: [UInt64] = [])
        -> PerfRecord
    {
        let p = pipeline
        let depth = 40
        var stack = [UInt64](repeating: noise, count: 2 + depth * 2)
        for k in 0..<depth {
            let at = 2 + k * 2
            stack[at] = k == depth - 1 ? 0 : p.sp + UInt64((at + 2) * 8)
            stack[at + 1] = p.base + 0x1250 + UInt64(k % 3) * 16 + (k == changed ? 0x100 : 0)
        }
        guard case .sample(var s) = p.sample(ip: ip, bp: p.sp + 16, stack: stack, tid: tid) else {
            preconditionFailure()
        }
        if !kernel.isEmpty {
            s.callchain = WordWindow([CallchainContext.kernel] + kernel + [CallchainContext.user, ip])
        }
        return .sample(s)
    }

    /// The setup, then one batch per round.
    func batches() -> [[UInt8]] {
        let p = pipeline
        let enc = RecordEncoder(format: p.format)
        let mmap = PerfRecord.mmap2(
            Mmap2(
                pid: p.pid, tid: ThreadID(500), start: VirtualAddress(p.base + 0x1000), length: 0x1000,
                pageOffset: FileOffset(0x1000), protection: 5, filename: "/opt/demo"))
        var bytes = enc.encode(.comm(Comm(pid: p.pid, tid: ThreadID(500), name: "demo", isExec: true)))
        bytes += enc.encode(.comm(Comm(pid: p.pid, tid: ThreadID(501), name: "worker")))
        bytes += enc.encode(mmap)
        var batches = [bytes]
        let ips = [p.base + 0x1350, p.base + 0x1360, 0x9999_0000, p.base + 0x1350]
        for round in 0..<3 {
            bytes = []
            for (n, ip) in ips.enumerated() {
                // Repeats on one thread, interleaved with another thread's new and repeated stacks, other
                // locals, a changed record, and kernel frames that differ from sample to sample.
                bytes += enc.encode(deepSample(ip: ip, noise: UInt64(n)))
                bytes += enc.encode(deepSample(ip: ip, noise: UInt64(n + 7)))
                bytes += enc.encode(deepSample(ip: ip, tid: 501, changed: round))
                bytes += enc.encode(
                    deepSample(ip: ip, tid: 501, changed: round, kernel: [0xffff_ffff_8100_0000 + UInt64(n)]))
                bytes += enc.encode(deepSample(ip: ip, kernel: [0xffff_ffff_8100_0010]))
                bytes += enc.encode(deepSample(ip: ip, changed: n == 2 ? 5 : nil))
            }
            bytes += enc.encode(mmap)  // changes the table: every walk is forgotten
            batches.append(bytes)
        }
        return batches
    }

    func profile(
        fast: Bool, options: ProfileBuilder.Options,
        prefetch: ((ArraySlice<UInt8>, Range<Int>) -> Void)? = nil
    ) throws -> RawProfile {
        var builder = try ProfileBuilder(format: pipeline.format, options: options)
        builder.fastRepeats = fast
        builder.prefetch = prefetch
        for batch in batches() { builder.consume(batch) }
        return builder.finish()
    }

    @Test(arguments: [
        ProfileBuilder.Options(), ProfileBuilder.Options(perThread: true),
        ProfileBuilder.Options(perThread: true, kernel: true), ProfileBuilder.Options(kernel: true),
    ])
    func fastAndGeneralPathsGiveTheSameProfile(options: ProfileBuilder.Options) throws {
        let fast = try profile(fast: true, options: options)
        let general = try profile(fast: false, options: options)
        #expect(fast.stacks == general.stacks)
        #expect(fast.stats == general.stats)
        #expect(fast.names == general.names)
        #expect(fast.stats.samples == 3 * 4 * 6)
        // Repeats were really counted on one entry: far fewer stacks than samples.
        #expect(fast.stacks.count < fast.stats.samples / 2 || options.kernel)
    }

    /// The read ahead only asks: the profile is the same with it, and every range asked for lies inside the bytes
    /// given. Stacks are asked for by the stretch their thread's last walk compared (the 40 records from BP).
    @Test func prefetchAsksWithinTheBytesAndChangesNothing() throws {
        final class Asked: @unchecked Sendable {
            var outside = 0
            var ranges: [Range<Int>] = []
        }
        let asked = Asked()
        let with = try profile(fast: true, options: .init()) { bytes, range in
            if range.lowerBound < 0 || range.upperBound > bytes.count || range.isEmpty { asked.outside += 1 }
            asked.ranges.append(range)
        }
        let without = try profile(fast: true, options: .init())
        #expect(with.stacks == without.stacks)
        #expect(with.stats == without.stats)
        #expect(asked.outside == 0)
        // BP is SP + 16, so the records lie from byte 16 to the end of the 40th, 16 + 40 * 16.
        #expect(asked.ranges.contains(16..<656))
    }
}
