// Frameless leaves (issue 4, item 3): a sampled function that has not pushed a frame record leaves BP pointing at
// its caller's record, so a naive frame-pointer walk skips the caller. fpprof recovers it from the return address
// at [SP + k], with k from the file's CFI (C, built -O2) or from Go's pcsp table.

import Foundation
import Testing

@Suite(.serialized, .enabled(if: FPProf.isRoot, "needs root (perf events)"))
struct FramelessLeafTests {
    /// The C fixture's hot leaf pushes no frame (checked on its code); at least 99 % of its samples name
    /// frameless_caller right before it.
    @Test func cLeafKeepsItsCaller() throws {
        let path = try FixtureBuilder.path(for: .frameless)
        let leaf = try #require(try Disassembly(of: path)["frameless_leaf"])
        #expect(!leaf.contains("push %rbp"), "frameless_leaf has a frame record: \(leaf.prefix(4))")
        try expectCallerKept(path: path, leaf: "frameless_leaf", caller: "frameless_caller")
    }

    /// Go gives main.leaf no frame record (no calls, no locals); at least 99 % of its samples name main.caller
    /// right before it.
    @Test func goLeafKeepsItsCaller() throws {
        let path = try FixtureBuilder.path(for: .goLeaf)
        try expectCallerKept(path: path, leaf: "main.leaf", caller: "main.caller")
    }

    private func expectCallerKept(path: String, leaf: String, caller: String) throws {
        let (folded, result) = try FPProf.record(["-F", "999", "--", path, "2"])
        let inLeaf = folded.lines.filter { $0.frames.last == leaf }
        let total = inLeaf.reduce(0) { $0 + $1.count }
        #expect(total > 500, "too few samples in \(leaf): \(total); \(result.stderr)")
        let kept = inLeaf.filter { $0.frames.count >= 2 && $0.frames[$0.frames.count - 2] == caller }
        let keptSamples = kept.reduce(0) { $0 + $1.count }
        let lines = inLeaf.map { "\($0.text) \($0.count)" }.joined(separator: "\n")
        #expect(keptSamples * 100 >= total * 99, "\(caller) before \(leaf) in \(keptSamples) of \(total):\n\(lines)")
        let marked = inLeaf.filter { $0.frames.contains { Folded.markers.contains($0) } }
        #expect(marked.isEmpty, "flagged:\n\(lines)")
    }
}
