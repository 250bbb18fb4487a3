import FPProfCore
import Foundation
import Testing

@testable import FPProfOutput

/// speedscope's file format: `$schema`, a shared frame table, sampled profiles whose weights add up.
@Suite struct SpeedscopeTests {
    func decode(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func structureFramesAndTotals() throws {
        let json = try decode(try SpeedscopeWriter().render(Synthetic.named()))
        #expect(json["$schema"] as? String == "https://www.speedscope.app/file-format-schema.json")
        let frames = try #require((json["shared"] as? [String: Any])?["frames"] as? [[String: Any]])
        let names = frames.map { $0["name"] as! String }
        #expect(names.count == Set(zip(names, frames.map { $0["file"] as? String ?? "" }).map { "\($0)|\($1)" }).count)
        #expect(Set(names).isSuperset(of: ["main", "work", "helper", "leaf", "[fp-loop]", "app+0x5000"]))
        #expect(frames.first { $0["name"] as? String == "helper" }?["file"] as? String == "/src/helper.h")
        let profiles = try #require(json["profiles"] as? [[String: Any]])
        #expect(profiles.count == 1)
        let p = profiles[0]
        #expect(p["type"] as? String == "sampled")
        #expect(p["unit"] as? String == "nanoseconds")
        let samples = try #require(p["samples"] as? [[Int]])
        let weights = try #require(p["weights"] as? [Int])
        #expect(samples.count == weights.count)
        #expect(weights.reduce(0, +) == Synthetic.total * 10_101_010)
        #expect(p["endValue"] as? Int == weights.reduce(0, +))
        #expect(p["startValue"] as? Int == 0)
        for stack in samples { #expect(stack.allSatisfy { frames.indices.contains($0) }) }
        // Root first: every complete stack starts at the libc root, the flagged one at its marker.
        let roots = Set(samples.map { names[$0[0]] })
        #expect(roots == ["__libc_start_call_main", "[fp-loop]"])
        let deepest = samples.max { $0.count < $1.count }!
        #expect(deepest.map { names[$0] } == ["__libc_start_call_main", "main", "work", "helper", "leaf"])
    }

    @Test func perThreadProfilesAndCountsForFoldedInput() throws {
        let perThread = try decode(try SpeedscopeWriter().render(Synthetic.named(perThread: true)))
        let profiles = try #require(perThread["profiles"] as? [[String: Any]])
        #expect(
            profiles.map { $0["name"] as! String }.sorted() == [
                "app/100 in app (pid 100)", "worker/101 in app (pid 100)",
            ])
        #expect(perThread["activeProfileIndex"] as? Int == 0)

        let folded = try FoldedParser.parse("a;main;f 4\na;main;g 6\nb;x 5\n")
        let json = try decode(try SpeedscopeWriter().render(folded))
        let ps = try #require(json["profiles"] as? [[String: Any]])
        #expect(ps.map { $0["unit"] as! String } == ["none", "none"])
        #expect(ps.map { ($0["weights"] as! [Int]).reduce(0, +) } == [10, 5])
        #expect(json["activeProfileIndex"] as? Int == 0)
    }
}
