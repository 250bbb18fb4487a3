// A signal handler's stack: the kernel makes the handler return into the process's signal restorer (glibc's
// `__restore_rt`), pushing the restorer's first byte as the return address. Looked up one byte early, as a return
// address after a call is, that frame falls into the padding before the restorer and reads `libc.so.6+0x3c04f`.
// Needs libc6-dbg (scripts/packages.txt): glibc's restorer is a local symbol, only in the debug file.

import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite(
    "Signal frames", .serialized,
    .enabled(if: FPProf.isRoot, "profiling a launched command needs root or CAP_PERFMON"))
struct SignalFrameTests {
    /// The handler's samples, as perf's chain has them (`sigprof_leaf;on_sigprof;__restore_rt`, leaf-first), end
    /// at the restorer, unmarked: it is a root, the interrupted code's frames are in the saved context, not on a
    /// frame-pointer chain.
    @Test func handlerReturnsIntoTheRestorer() throws {
        let (folded, _) = try FPProf.record(["-F", "999", "--", try FixtureBuilder.path(for: .sigprof), "2"])
        try #require(folded.total > 100, "only \(folded.total) samples")
        let handler = folded.lines.filter { $0.frames.contains("on_sigprof") }
        let handlerSamples = handler.reduce(0) { $0 + $1.count }
        // 3 ms of handler per 10 ms of CPU: about 30 %.
        #expect(Double(handlerSamples) >= 0.15 * Double(folded.total), "\(handlerSamples) of \(folded.total)")
        let exact = ["sigprof", "__restore_rt", "on_sigprof", "sigprof_leaf"]
        let whole = handler.filter { $0.frames == exact }.reduce(0) { $0 + $1.count }
        // The rest: samples in on_sigprof's own prologue or call, the same root above it.
        let underRestorer = handler.filter { Array($0.frames.prefix(3)) == Array(exact.prefix(3)) }
        #expect(underRestorer.reduce(0) { $0 + $1.count } == handlerSamples, "\(handler.map(\.text))")
        #expect(whole * 10 >= handlerSamples * 9, "\(handler.map(\.text))")
        #expect(!folded.lines.contains { $0.frames.contains { $0.hasPrefix("libc.so.6+") } })
        let main = folded.count {
            $0.frames.suffix(2) == ["main", "main_spin"] && Folded.markers.isDisjoint(with: $0.frames)
        }
        #expect((main + handlerSamples) * 100 >= folded.total * 95, "main;main_spin: \(main) of \(folded.total)")
    }

    /// perf's frame-pointer chain of the same fixture names the handler's caller `__restore_rt` too (perf names a
    /// return address as it is); it then goes on from the interrupted code's BP, skipping the interrupted frame.
    @Test(.enabled(if: PerfTool.usable, "needs /usr/bin/perf and root"))
    func perfAgrees() throws {
        let stacks = try PerfTool.record(.sigprof, seconds: 1)
        let handler = stacks.filter { $0.first == "sigprof_leaf" }
        try #require(handler.count > 20, "only \(handler.count) handler samples of \(stacks.count)")
        let agreeing = handler.filter { Array($0.prefix(3)) == ["sigprof_leaf", "on_sigprof", "__restore_rt"] }
        #expect(agreeing.count * 10 >= handler.count * 9, "\(agreeing.count) of \(handler.count)")
    }
}
