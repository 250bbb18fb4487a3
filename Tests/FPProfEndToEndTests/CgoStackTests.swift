// cgo into C built without frame pointers (issue 15): a walk from the C leaf crosses the C frames by their call
// frame information and Go's switch to the g0 stack (`runtime.asmcgocall`) back into the goroutine's frames.

import Foundation
import Testing

@Suite(.serialized, .enabled(if: FPProf.isRoot, "needs root (perf events)"))
struct CgoStackTests {
    static let roots: Set<String> = ["runtime.goexit", "runtime.mstart", "runtime.rt0_go"]
    /// The C part, root-first, as burn.c calls it (cgo's generated `_cgo_<hash>_Cfunc_c_outer` runs before it).
    static let cFrames = ["c_outer", "c_middle", "c_leaf"]

    /// Nearly every sample is in `c_leaf`, and with `--unwind hybrid` at least 95 % of those read whole from the
    /// goroutine's root: `runtime.goexit;runtime.main;main.main;main.worker;main.callC;...;runtime.asmcgocall;
    /// ...;c_outer;c_middle;c_leaf`, no marker.
    @Test func hybridWalksFromTheCIntoTheGoroutine() throws {
        let path = try FixtureBuilder.path(for: .goCgo)
        let (folded, result) = try FPProf.record(["-F", "999", "--unwind", "hybrid", "--", path, "3"])
        let leafSamples = folded.count { $0.frames.last == "c_leaf" }
        try #require(leafSamples > 300, "only \(leafSamples) samples in c_leaf of \(folded.total); \(result.stderr)")
        #expect(Double(leafSamples) >= 0.9 * Double(folded.total), "\(leafSamples) of \(folded.total) in c_leaf")
        #expect(result.stderr.contains("with CFI"), "\(result.stderr)")

        let wholeSamples = folded.count(where: Self.isWhole)
        let others = folded.lines.filter { $0.frames.last == "c_leaf" && !Self.isWhole($0) }
        #expect(
            Double(wholeSamples) >= 0.95 * Double(leafSamples),
            "\(wholeSamples) of \(leafSamples) whole; the others:\n\(describe(others))")
    }

    /// By frame records alone the same samples stop in the C: the leaf's caller comes from the stack (the entry
    /// rule of a frameless leaf), and past it BP points at a record on the goroutine's stack, below the g0 stack
    /// the C runs on, which the walk refuses as a bad frame. None reaches the Go frames.
    @Test func framePointersAloneStopInTheC() throws {
        let path = try FixtureBuilder.path(for: .goCgo)
        let (folded, result) = try FPProf.record(["-F", "999", "--unwind", "fp", "--", path, "2"])
        let leafSamples = folded.count { $0.frames.last == "c_leaf" }
        try #require(leafSamples > 200, "only \(leafSamples) samples in c_leaf of \(folded.total); \(result.stderr)")
        let reached = folded.lines.filter { $0.frames.last == "c_leaf" && $0.frames.contains("main.callC") }
        #expect(reached.isEmpty, "by frame records alone:\n\(describe(reached))")
        let stopped = folded.count { $0.frames.last == "c_leaf" && $0.frames.contains("[bad-frame]") }
        #expect(Double(stopped) >= 0.95 * Double(leafSamples), "\(stopped) of \(leafSamples) end [bad-frame]")
    }

    /// A stack from a goroutine root through `main.main` and `main.callC`, the g0 switch, then the C frames as the
    /// leaf, and no marker.
    static func isWhole(_ line: Folded.Line) -> Bool {
        let f = line.frames
        guard Folded.markers.isDisjoint(with: f), f.count >= 2, roots.contains(f[1]),
            Array(f.suffix(cFrames.count)) == cFrames,
            let main = f.firstIndex(of: "main.main"), let call = f.firstIndex(of: "main.callC"),
            let switchIndex = f.firstIndex(of: "runtime.asmcgocall")
        else { return false }
        return main < call && call < switchIndex && switchIndex < f.count - cFrames.count
    }
}
