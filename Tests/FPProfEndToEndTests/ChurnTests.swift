import FPProfCore
import FPProfEngine
import FPProfOutput
import Foundation
import Logging
import Testing

/// A live engine over a process that starts and ends 2,000 children, each with JIT code of its own at the same
/// address as every other child's (so each is its own module, and only the right process's perf map names it
/// right), while windows are cut every 200 ms. The engine must forget the children once their samples are in a
/// window, recycle their module ids without ever giving a frame to another child's module, and name the JIT frames
/// of the window each child ended in.
@Suite(.serialized, .enabled(if: FPProf.isRoot, "perf_event_open on other processes needs root here"))
struct ChurnTests {
    static let children = 2000

    @Test func twoThousandJITChildrenAreNamedRightAndForgotten() async throws {
        let path = try FixtureBuilder.path(for: .jitchurn)
        let listing = NSTemporaryDirectory() + "fpprof-churn-\(getpid())-\(UUID().uuidString)"
        defer {
            let written = (try? String(contentsOfFile: listing, encoding: .utf8)) ?? ""
            Fixture.removeJITMaps(listedIn: written)
            unlink(listing)
        }
        var settings = EngineSettings()
        settings.sampler.frequency = 999
        // A `name/tid` frame in folded lines: a child's single thread carries its pid.
        settings.perThread = true
        let engine = try ProfilingEngine(
            target: .launch([path, "0", "\(Self.children)", "4", listing]), settings: settings,
            logger: Logger(label: "test"))
        let cutter = Task {
            var windows: [EngineWindow] = []
            var cutsAfterDone = 0
            let deadline = ContinuousClock.now + .seconds(90)
            while cutsAfterDone < 4, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
                windows.append(try engine.cutWindow(formats: [RenderOptions(format: .folded)]))
                let done = (try? String(contentsOfFile: listing, encoding: .utf8))?.hasSuffix("done\n") ?? false
                if done { cutsAfterDone += 1 }
            }
            let afterChildren = engine.tracked
            engine.stop()
            return (windows, afterChildren)
        }
        try await engine.run()
        let (windows, afterChildren) = try await cutter.value
        let listed = try String(contentsOfFile: listing, encoding: .utf8)
        try #require(listed.hasSuffix("done\n"), "the fixture reaped all its children within 90 s")

        var named = 0
        var misnamed: [String] = []
        var unnamed = 0
        var childrenSeen: Set<Int> = []
        for window in windows {
            let folded = String(decoding: window.outputs[.folded] ?? [], as: UTF8.self)
            for line in folded.split(separator: "\n") {
                let frames = line.split(separator: " ").dropLast().joined(separator: " ").split(separator: ";")
                guard let at = frames.firstIndex(of: "run_child_jit"), at + 1 < frames.count else { continue }
                let thread = frames.count > 1 ? frames[1].split(separator: "/").last.map(String.init) : nil
                let jit = frames[at + 1]
                guard jit.hasPrefix("jit_child_") else {
                    unnamed += 1
                    continue
                }
                // jit_child_INDEX_PID, in the map of the process PID wrote: the sampled thread must be PID.
                let parts = jit.split(separator: "_")
                if parts.count == 4, let index = Int(parts[2]), String(parts[3]) == thread {
                    named += 1
                    childrenSeen.insert(index)
                } else {
                    misnamed.append(String(line))
                }
            }
        }
        #expect(misnamed.isEmpty, "JIT frames named from another child's map: \(misnamed.prefix(5))")
        #expect(named > Self.children, "about four samples per child at 999 Hz")
        #expect(unnamed * 100 <= named, "JIT frames without a name: \(unnamed) of \(named + unnamed)")
        let last = Set((Self.children - 20)..<Self.children)
        #expect(
            childrenSeen.intersection(last).count >= 15,
            "the last children's frames are named: \(childrenSeen.intersection(last).sorted())")
        #expect(childrenSeen.count >= Self.children * 3 / 4, "children named: \(childrenSeen.count)")

        // Only the parent is left: one process and thread, its own few modules (the executable, the C library,
        // the loader, the vDSO...), no child's JIT module and no child's perf map.
        let lost = windows.reduce(UInt64(0)) { $0 + $1.lostRecords }
        #expect(afterChildren.processes == 1, "lost records: \(lost)")
        #expect(afterChildren.threads == 1)
        #expect(afterChildren.modules <= 8, "modules after the churn: \(afterChildren.modules)")
        #expect(afterChildren.perfMaps == 0)
        let peak = windows.map(\.tracked.processes).max() ?? 0
        #expect(peak <= 20, "processes tracked at once, at most: \(peak)")
        let peakModules = windows.map(\.tracked.modules).max() ?? 0
        #expect(peakModules <= 30, "modules tracked at once, at most: \(peakModules)")
        #expect(windows.allSatisfy { $0.profile.modules.refused == 0 })
    }
}
