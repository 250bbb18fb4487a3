import FPProfCore
import Foundation
import SwiftProtobuf
import Testing

@testable import FPProfOutput

/// A stack split per goroutine (`StackKey.goroutine` >= 0) carries the id through the output model: pprof's
/// `goroutine` label and a `goroutine N` frame after the process (and thread) frame; -1 adds neither.
@Suite struct GoroutineLabelTests {
    func raw() -> RawProfile {
        var p = Synthetic.raw(perThread: true)
        var stacks: [StackKey: StackWeight] = [:]
        for (key, weight) in p.stacks {
            var key = key
            if key.status == .complete { key.goroutine = 7 }
            stacks[key] = weight
        }
        p.stacks = stacks
        return p
    }

    @Test func pprofLabel() throws {
        let p = raw()
        var namer = FrameNamer(symbolizer: Synthetic.symbols, modules: p.modules)
        let named = NamedProfile(raw: p, namer: &namer, metadata: Synthetic.metadata)
        let decoded = try Perftools_Profiles_Profile(
            serializedBytes: try Tool.gunzip(try PprofWriter.encode(named)))
        for s in decoded.sample {
            let goroutine = s.label.first { decoded.stringTable[Int($0.key)] == "goroutine" }
            let flagged = s.label.contains { decoded.stringTable[Int($0.key)] == "unwind" }
            #expect(flagged ? goroutine == nil : goroutine?.num == 7)
        }
    }

    @Test func foldedFrameAfterTheThread() {
        let p = raw()
        var namer = FrameNamer(symbolizer: Synthetic.symbols, modules: p.modules)
        let lines = FoldedWriter().lines(p, namer: &namer).map(\.0)
        var namer2 = FrameNamer(symbolizer: Synthetic.symbols, modules: p.modules)
        let named = NamedProfile(raw: p, namer: &namer2, metadata: Synthetic.metadata)
        #expect(named.foldedText() == FoldedWriter().render(p, namer: &namer))
        let withID = lines.filter { $0.contains("goroutine 7") }
        #expect(!withID.isEmpty)
        for line in withID { #expect(line.split(separator: ";")[2] == "goroutine 7", "\(line)") }
        #expect(lines.filter { $0.contains("[fp-loop]") }.allSatisfy { !$0.contains("goroutine") })
    }
}
