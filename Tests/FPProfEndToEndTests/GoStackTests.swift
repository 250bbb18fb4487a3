// Whole Go stacks across g0 switches (issue 4, item 1): samples taken on the thread's g0 stack, under
// runtime.systemstack, mcall, morestack or asmcgocall, continue into the goroutine's frames (through the kernel's
// callchain where the goroutine's stack lies outside the stack copy) and end at runtime.goexit, runtime.mstart or
// runtime.rt0_go, or at mcall or morestack once the goroutine past it has moved on.

import Foundation
import Testing

@Suite(.serialized, .enabled(if: FPProf.isRoot, "needs root (perf events)"))
struct GoStackTests {
    static let roots: Set<String> = ["runtime.goexit", "runtime.mstart", "runtime.rt0_go"]
    /// Go's traceback ends a g0 stack at a detaching switch, and so does fpprof when the goroutine past it has moved
    /// on (`StackSwitchRepair`): typically an idle thread's scheduler loop (`findRunnable`, `stopm`) long after the
    /// goroutine that parked into it was resumed elsewhere. Such a walk is whole; 0.6-1.1 % of go-chanheavy's samples
    /// in ten local runs, 1.1 % in a CI run, so it is bounded on its own at 3 %.
    static let g0Tops: Set<String> = ["runtime.mcall", "runtime.morestack"]

    /// GC-heavy: at least 99 % of samples rooted, none flagged, and the allocator's work on g0
    /// (`runtime.mallocgc;...;runtime.systemstack`) carries the goroutine's main.worker above it. Right above
    /// `runtime.systemstack` is the function that called it (per `go tool objdump`). The same with `--unwind
    /// hybrid`: Go code keeps frame pointers, so nothing changes.
    @Test(arguments: ["fp", "hybrid"]) func gcHeavyStacksAreWhole(unwind: String) throws {
        let path = try FixtureBuilder.path(for: .goGCHeavy)
        let folded = try recordRooted(.goGCHeavy, unwind: unwind)
        let switched = folded.lines.filter { $0.frames.contains("runtime.systemstack") }
        let fromMain = switched.filter { line in
            guard let malloc = line.frames.firstIndex(of: "runtime.mallocgc"),
                let switchIndex = line.frames.firstIndex(of: "runtime.systemstack")
            else { return false }
            return malloc < switchIndex
        }
        let fromMainSamples = fromMain.reduce(0) { $0 + $1.count }
        #expect(fromMainSamples > 20, "too few allocator samples on g0:\n\(describe(switched))")
        let withGoroutine = fromMain.filter { $0.frames.contains("main.worker") && $0.frames.contains("main.build") }
        #expect(
            withGoroutine.reduce(0) { $0 + $1.count } == fromMainSamples,
            "g0 samples under mallocgc without the goroutine's frames:\n\(describe(fromMain))")
        try expectCallersAbove("runtime.systemstack", calling: "runtime.systemstack.abi0", in: folded, binary: path)
    }

    /// Channel-heavy (scheduler: mcall, systemstack): at least 99 % rooted, none flagged, and right above
    /// `runtime.mcall` and `runtime.systemstack` the functions that called them; with either unwinder.
    @Test(arguments: ["fp", "hybrid"]) func chanHeavyStacksAreWhole(unwind: String) throws {
        let path = try FixtureBuilder.path(for: .goChanHeavy)
        let folded = try recordRooted(.goChanHeavy, unwind: unwind)
        let relay = folded.count { $0.frames.contains("main.relay") }
        #expect(relay > 100, "too few samples in main.relay")
        try expectCallersAbove("runtime.mcall", calling: "runtime.mcall", in: folded, binary: path)
        try expectCallersAbove("runtime.systemstack", calling: "runtime.systemstack.abi0", in: folded, binary: path)
    }

    /// Records `fixture` for 3 s and checks the shares of rooted and flagged samples.
    private func recordRooted(_ fixture: Fixture, unwind: String) throws -> Folded {
        let path = try FixtureBuilder.path(for: fixture)
        let (folded, result) = try FPProf.record(["-F", "999", "--unwind", unwind, "--", path, "3"])
        let total = folded.total
        #expect(total > 1000, "too few samples: \(total); \(result.stderr)")
        let tops = Self.roots.union(Self.g0Tops)
        let rooted = folded.count { Self.starts($0, at: tops) }
        let unrooted = folded.lines.filter { !Self.starts($0, at: tops) }
        #expect(rooted * 100 >= total * 99, "\(rooted) of \(total) rooted; the others:\n\(describe(unrooted))")
        let cut = folded.lines.filter { Self.starts($0, at: Self.g0Tops) }
        #expect(cut.reduce(0) { $0 + $1.count } * 100 <= total * 3, "cut at a switch:\n\(describe(cut))")
        let flagged = folded.lines.filter { $0.frames.contains { Folded.markers.contains($0) } }
        // One exception, seen once in about 3,000 samples (CI rehearsal of 2026-12-06): a sample inside `gogo`,
        // which loads the next goroutine's SP and BP one after the other, may find the two from different
        // goroutines and end [bad-frame] there. At most one in a thousand, and only with `gogo` as the leaf.
        let midSwitch = flagged.filter { ["gogo", "runtime.gogo", "runtime.gogo.abi0"].contains($0.frames.last ?? "") }
        let others = flagged.filter { line in !midSwitch.contains { $0.frames == line.frames } }
        #expect(others.isEmpty, "flagged:\n\(describe(others))")
        #expect(midSwitch.reduce(0) { $0 + $1.count } * 1000 <= total, "flagged in gogo:\n\(describe(midSwitch))")
        return folded
    }

    /// Whether the outermost frame under the program's name is one of `tops`.
    private static func starts(_ line: Folded.Line, at tops: Set<String>) -> Bool {
        line.frames.count >= 2 && tops.contains(line.frames[1])
    }

    /// Every frame right above `frame` (a frameless switch, whose caller the chain skips and fpprof puts back) is a
    /// function whose code calls `symbol` directly, by `go tool objdump`, except where a goroutine's entry function
    /// called the switch and no closure names it: at most 1 % of those samples end at a root right above.
    private func expectCallersAbove(_ frame: String, calling symbol: String, in folded: Folded, binary: String) throws {
        let callers = try GoCallSites.callers(of: symbol, in: binary)
        #expect(callers.count > 5, "objdump found few callers of \(symbol): \(callers)")
        var total = 0
        var atRoot = 0
        var wrong: [Folded.Line] = []
        for line in folded.lines {
            for (i, name) in line.frames.enumerated() where name == frame && i >= 2 {
                total += line.count
                let above = line.frames[i - 1]
                if Self.roots.contains(above) {
                    atRoot += line.count
                } else if !callers.contains(above) {
                    wrong.append(line)
                }
            }
        }
        #expect(total > 20, "too few samples under \(frame): \(total)")
        #expect(wrong.isEmpty, "above \(frame), a function that does not call it:\n\(describe(wrong))")
        #expect(atRoot * 100 <= total, "\(atRoot) of \(total) samples have a root right above \(frame)")
    }
}
