import Foundation
import Testing

@testable import FPProfOutput

/// The gzip encoder must produce files every gzip reader accepts, whatever the input looks like.
@Suite struct GzipTests {
    /// The header has no name and a modification time of 0, so one profile always gives the same file, and the
    /// trailer holds the input's CRC-32 and size (RFC 1952), which `gunzip` checks in the round trip below.
    @Test func headerIsReproducible() throws {
        let input = Array(String(repeating: "main;a;b 1\n", count: 100).utf8)
        let first = try Gzip.compress(input)
        #expect(first == (try Gzip.compress(input)))
        #expect(Array(first.prefix(4)) == [0x1f, 0x8b, 8, 0])
        #expect(Array(first[4..<8]) == [0, 0, 0, 0])
        let size = first.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect(size == input.count)
    }

    @Test(arguments: ["empty", "byte", "text", "repetitive", "random", "long runs"])
    func roundTripsThroughGzip(_ kind: String) throws {
        var generator = SplitMix(seed: 7)
        let input: [UInt8] =
            switch kind {
            case "empty": []
            case "byte": [42]
            case "text": Array(String(repeating: "main;path_a;a1;leaf_a 123\nmain;path_b;leaf_b 77\n", count: 40).utf8)
            case "repetitive": (0..<200_000).map { UInt8(truncatingIfNeeded: ($0 % 37) * ($0 % 11)) }
            case "random": (0..<100_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            default: [UInt8](repeating: 0, count: 70_000) + [UInt8](repeating: 1, count: 300) + [2, 3]
            }
        let compressed = try Gzip.compress(input)
        #expect(try Tool.gunzip(compressed) == input)
        if kind == "repetitive" || kind == "text" { #expect(compressed.count * 4 < input.count) }
    }
}

/// A deterministic generator, so a failure can be reproduced.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
