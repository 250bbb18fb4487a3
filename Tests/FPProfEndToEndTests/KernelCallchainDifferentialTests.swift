import FPProfCore
import FPProfSampler
import FPProfSymbols
import Foundation
import Testing

/// Our frame-pointer walk against the kernel's own, on the very same samples: the kernel's user callchain
/// (PERF_SAMPLE_CALLCHAIN) and the unwinder over the sample's registers and stack copy must agree frame for frame.
/// Samples whose kernel chain hit perf's limit (127 frames, or a loop that repeats until it) are left out: there
/// the kernel is the one that is wrong.
@Suite(.serialized, .enabled(if: FPProf.isRoot, "perf_event_open needs root here"))
struct KernelCallchainDifferentialTests {
    struct Tally {
        var compared = 0
        var agreed = 0
        var examples: [String] = []
    }

    /// Launches `fixture`, keeps every record, then replays them in time order, unwinding each sample.
    func compare(_ fixture: Fixture, arguments: [String]) async throws -> Tally {
        var configuration = SamplerConfiguration()
        configuration.frequency = 999
        // The kernel's user chain is what this compares against (`fpprof record --user-callchain always`).
        configuration.includeUserCallchain = true
        let session = try SamplingSession(
            configuration: configuration, target: .launch([try FixtureBuilder.path(for: fixture)] + arguments))
        let stream = try session.records()
        try session.start()
        var bytes: [UInt8] = []
        for await batch in stream { bytes += batch.bytes }
        // The jit fixture's map is not needed here: addresses are compared, not names.
        if fixture == .jit { unlink("/tmp/perf-\(session.targetPID.rawValue).map") }

        let decoder = try RecordDecoder(format: session.format)
        var records: [PerfRecord] = []
        for case .success(let r) in RecordStream(decoder: decoder, bytes: bytes[...]) { records.append(r) }
        records = records.enumerated().sorted {
            $0.element.time != $1.element.time
                ? $0.element.time < $1.element.time : $0.offset < $1.offset
        }.map(\.element)

        let symbolizer = ElfSymbolizer()
        var table = ProcessTable(rootRanges: { symbolizer.rootRanges(for: $0) })
        let mask = session.format.userRegisterMask
        var tally = Tally()
        var frames: [UInt64] = []
        var scratch: [UInt64] = []
        for record in records {
            guard case .sample(let s) = record else {
                table.apply(record)
                continue
            }
            guard let pid = s.pid, let chain = s.callchain, let map = table.maps[pid],
                let ip = s.userRegister(X86Registers.ip, mask: mask),
                let sp = s.userRegister(X86Registers.sp, mask: mask),
                let bp = s.userRegister(X86Registers.bp, mask: mask)
            else { continue }
            // The user part of the kernel's chain.
            let kernel = CallchainContext.section(CallchainContext.user, of: chain).map { $0.map { chain[$0] } } ?? []
            guard !kernel.isEmpty, kernel.count < 127 else { continue }
            frames.removeAll(keepingCapacity: true)
            let status = FramePointerUnwinder().unwind(
                ip: ip, sp: sp, bp: bp, memory: StackCopy(base: sp, bytes: s.userStack ?? []), code: map,
                frames: &frames, scratch: &scratch)
            tally.compared += 1
            // Agreement: ours is the kernel's chain, frame for frame. Where we stopped at a root frame
            // (`__libc_start_call_main`, `start_thread`...) the kernel may go on into the C library's frames,
            // which have no frame records and so are garbage; nothing before the root may differ.
            let same =
                kernel.count >= frames.count && Array(kernel.prefix(frames.count)) == frames
                && (kernel.count == frames.count || status == .complete)
            if same {
                tally.agreed += 1
            } else if tally.examples.count < 3 {
                tally.examples.append(
                    "status \(status): ours \(frames.map { String($0, radix: 16) }) kernel \(kernel.map { String($0, radix: 16) })"
                )
            }
        }
        return tally
    }

    /// Recursion 100 deep, so that its chains stay under the kernel's limit of 127 and can be compared.
    @Test(arguments: [
        (Fixture.shares, ["1.5"]), (.recursion, ["1.5", "100"]), (.fploop, ["1.5"]), (.fpcycle, ["1.5"]),
        (.latethread, ["1.5", "0.5"]), (.jit, ["1.5"]),
    ])
    func agreesWithTheKernelsCallchain(_ fixture: Fixture, _ arguments: [String]) async throws {
        let tally = try await compare(fixture, arguments: arguments)
        #expect(tally.compared > 100, "too few comparable samples: \(tally.compared)")
        let agreement = Double(tally.agreed) / Double(max(tally.compared, 1))
        print("kernel-callchain differential \(fixture): \(tally.agreed)/\(tally.compared) agree")
        #expect(agreement >= 0.99, "\(tally.agreed)/\(tally.compared) agree; e.g. \(tally.examples)")
    }
}
