// Whole Go stacks across g0 switches (issue 4, item 1): samples taken on the thread's g0 stack, under
// runtime.systemstack, mcall, morestack or asmcgocall, continue into the goroutine's frames (through the kernel's
// callchain where the goroutine's stack lies outside the stack copy) and end at runtime.goexit, runtime.mstart or
// runtime.rt0_go.

import Foundation
import Testing

@Suite(.serialized, .enabled(if: FPProf.isRoot, "needs root (perf events)"))
struct GoStackTests {
    static let roots: Set<String> = ["runtime.goexit", "runtime.mstart", "runtime.rt0_go"]

    /// GC-heavy: at least 99 % of samples rooted, none flagged with a loop or cycle, and the allocator's work on g0
    /// (`runtime.mallocgc;...;runtime.systemstack`) carries the goroutine's main.worker above it.
    @Test func gcHeavyStacksAreWhole() throws {
        let folded = try recordRooted(.goGCHeavy)
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
    }

    /// Channel-heavy (scheduler: mcall, systemstack): at least 99 % rooted, none flagged.
    @Test func chanHeavyStacksAreWhole() throws {
        let folded = try recordRooted(.goChanHeavy)
        let relay = folded.count { $0.frames.contains("main.relay") }
        #expect(relay > 100, "too few samples in main.relay")
    }

    /// Records `fixture` for 3 s and checks the shares of rooted and flagged samples.
    private func recordRooted(_ fixture: Fixture) throws -> Folded {
        let path = try FixtureBuilder.path(for: fixture)
        let (folded, result) = try FPProf.record(["-F", "999", "--", path, "3"])
        let total = folded.total
        #expect(total > 1000, "too few samples: \(total); \(result.stderr)")
        let rooted = folded.count { $0.frames.count >= 2 && Self.roots.contains($0.frames[1]) }
        let unrooted = folded.lines.filter { !($0.frames.count >= 2 && Self.roots.contains($0.frames[1])) }
        #expect(rooted * 100 >= total * 99, "\(rooted) of \(total) rooted; the others:\n\(describe(unrooted))")
        let loops = folded.lines.filter { $0.frames.contains("[fp-loop]") || $0.frames.contains("[fp-cycle]") }
        #expect(loops.isEmpty, "loops or cycles:\n\(describe(loops))")
        // "None flagged": a bad frame or truncated walk is allowed only in the 1 % (signal handler samples).
        let marked = folded.count { $0.frames.contains { Folded.markers.contains($0) } }
        #expect(marked * 100 <= total, "\(marked) of \(total) flagged:\n\(describe(unrooted))")
        return folded
    }

    private func describe(_ lines: [Folded.Line]) -> String {
        lines.sorted { $0.count > $1.count }.prefix(20).map { "\($0.text) \($0.count)" }.joined(separator: "\n")
    }
}
