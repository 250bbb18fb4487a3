import FPProfCore
import Foundation
import Testing

@testable import FPProfOutput

/// The SVG flamegraph: valid XML, self-contained, boxes exactly proportional to counts, flagged stacks violet.
@Suite struct FlamegraphTests {
    func svg(_ profile: NamedProfile = Synthetic.named(), icicle: Bool = false) -> String {
        FlamegraphWriter(options: .init(icicle: icicle)).render(profile)
    }

    @Test func parsesAndLoadsNothingFromTheNetwork() throws {
        let text = svg()
        let doc = try SVGDocument(text)
        #expect(doc.scriptCount == 1)
        #expect(!doc.frames.isEmpty)
        // The only URL is the SVG namespace; no href, no @import, no external script or font.
        var rest = text[...]
        while let r = rest.range(of: "http") {
            #expect(
                rest[r.lowerBound...].hasPrefix("http://www.w3.org/2000/svg\""), "\(rest[r.lowerBound...].prefix(60))")
            rest = rest[r.upperBound...]
        }
        for forbidden in ["href", "@import", "url(", "src=", "fetch(", "XMLHttpRequest", "<image", "<foreignObject"] {
            #expect(!text.contains(forbidden), "\(forbidden)")
        }
        #expect(!FlamegraphScript.javascript.contains("]]>"))
    }

    @Test(arguments: [false, true])
    func everyWidthIsProportionalToItsCount(icicle: Bool) throws {
        let doc = try SVGDocument(svg(icicle: icicle))
        let total = Double(doc.root["data-total"]!)!
        #expect(total == Double(Synthetic.total))
        let inner = Double(doc.root["data-inner-width"]!)!
        let pad = Double(doc.root["data-pad"]!)!
        for frame in doc.frames {
            #expect(abs(frame.width - Double(frame.count) * inner / total) < 0.001, "\(frame.name)")
            #expect(abs(frame.x - (pad + Double(frame.start) * inner / total)) < 0.001, "\(frame.name)")
            #expect(frame.title.contains("\(frame.count) sample"))
        }
        // Children fit in their parent, side by side, and fill what their parent does not run itself.
        let root = doc.frames.first { $0.depth == 0 }!
        #expect(root.name == "all" && root.count == Synthetic.total)
        // The stacks' counts are there: leaf is on 60 + 10 samples, helper (inlined) on 60 + 30 + 10.
        #expect(doc.frames.filter { $0.name == "leaf" }.map(\.count).sorted() == [10, 60])
        #expect(doc.frames.filter { $0.name == "helper" }.reduce(0) { $0 + $1.count } == 100)
        // Flame: deeper frames higher up; icicle: lower down.
        let main = doc.frames.first { $0.name == "main" }!
        #expect(icicle ? main.y > root.y : main.y < root.y)
    }

    @Test func flaggedStackCarriesTheFlaggedColour() throws {
        let doc = try SVGDocument(svg())
        let marker = doc.frames.first { $0.name == "[fp-loop]" }!
        #expect(marker.fill == FlamegraphPalette.markerFill)
        #expect(marker.classes.contains("flagged") && marker.classes.contains("marker"))
        let flagged = doc.frames.filter { $0.classes.contains("flagged") }
        #expect(Set(flagged.map(\.name)) == ["[fp-loop]", "work", "helper", "leaf"])
        let violet = FlamegraphPalette.band(.flagged).hue
        for frame in flagged {
            let hue = try #require(FlamegraphPalette.hue(ofFill: frame.fill))
            #expect(violet.contains(hue.rounded()) || frame.fill == FlamegraphPalette.markerFill, "\(frame.fill)")
            #expect(frame.start >= marker.start && frame.start + frame.count <= marker.start + marker.count)
        }
        for frame in doc.frames where !frame.classes.contains("flagged") {
            let hue = FlamegraphPalette.hue(ofFill: frame.fill) ?? 0
            #expect(!(250...300).contains(hue), "\(frame.name) \(frame.fill)")
        }
        #expect(doc.legend.contains { $0.hasPrefix("flagged") && $0.contains("[fp-loop]") })
        #expect(doc.textByID["subtitle"]!.contains("10 samples (9.52%) flagged"))
    }

    @Test func coloursFollowLanguageAndModule() {
        #expect(FlamegraphPalette.language(of: "main.workA") == .go)
        #expect(FlamegraphPalette.language(of: "github.com/x/y.(*T).Run") == .go)
        #expect(FlamegraphPalette.language(of: "runtime.goexit.abi0") == .go)
        #expect(FlamegraphPalette.language(of: "leaf_a") == .c)
        #expect(FlamegraphPalette.language(of: "foo.cold") == .c)
        #expect(FlamegraphPalette.language(of: "bar.isra.0") == .c)
        #expect(FlamegraphPalette.language(of: "std::vector<int>::push_back(int const&)") == .cpp)
        #expect(FlamegraphPalette.language(of: "std::rt::lang_start::{{closure}}") == .rust)
        #expect(FlamegraphPalette.language(of: "core::fmt::write") == .rust)
        #expect(FlamegraphPalette.language(of: "std::rt::lang_start_internal") == .rust)
        #expect(FlamegraphPalette.language(of: "std::sort<int*>(int*, int*)") == .cpp)
        #expect(FlamegraphPalette.language(of: "Foo::bar() const") == .cpp)
        #expect(FlamegraphPalette.language(of: "app::run::h0123456789abcdef") == .rust)
        // The same name keeps its colour; another module shifts it.
        let node = FlameTree.Node(name: "memcpy", role: .code(.code, inlined: false), depth: 3, flagged: false)
        #expect(
            FlamegraphPalette.fill(for: node, moduleName: "libc.so.6")
                == FlamegraphPalette.fill(for: node, moduleName: "libc.so.6"))
        #expect(
            FlamegraphPalette.fill(for: node, moduleName: "libc.so.6")
                != FlamegraphPalette.fill(for: node, moduleName: "app"))
    }

    @Test func oddNamesAreEscapedAndLabelsFitTheirBoxes() throws {
        let named = try FoldedParser.parse("p&q;<T>::\"run\";a'b\u{1};x 3\np&q;y 1\n")
        let doc = try SVGDocument(FlamegraphWriter().render(named))
        #expect(doc.frames.contains { $0.name == "<T>::\"run\"" })
        #expect(doc.frames.contains { $0.name == "a'b\u{FFFD}" })
        for frame in doc.frames {
            #expect(Double(frame.label.count) * FlamegraphWriter.charWidth <= frame.width, "\(frame.label)")
            if !frame.label.isEmpty && frame.label != frame.name { #expect(frame.label.hasSuffix("..")) }
        }
    }

    /// Past `maxFrames`, the smallest frames go, whole subtrees at a time, and the subtitle says so.
    @Test func largeTreesKeepTheirHeaviestFrames() throws {
        var text = ""
        for i in 0..<400 { text += "p;main;f\(i % 20);g\(i);h\(i) \(1 + i % 7)\n" }
        let named = try FoldedParser.parse(text)
        let full = try SVGDocument(FlamegraphWriter().render(named))
        #expect(full.frames.count == 3 + 20 + 800)
        let pruned = try SVGDocument(FlamegraphWriter(options: .init(maxFrames: 100)).render(named))
        #expect(pruned.frames.count <= 100 && pruned.frames.count > 20)
        let minimum = pruned.frames.map(\.count).min()!
        // Everything at or above the cut is there, with its exact width; nothing is left without its parent.
        #expect(full.frames.filter { $0.count >= minimum }.count == pruned.frames.count)
        let ids = Set(pruned.frames.map { "\($0.depth):\($0.start)" })
        for frame in pruned.frames where frame.depth > 0 {
            #expect(
                pruned.frames.contains {
                    $0.depth == frame.depth - 1 && $0.start <= frame.start
                        && $0.start + $0.count >= frame.start + frame.count
                })
        }
        #expect(ids.count == pruned.frames.count)
        let inner = Double(pruned.root["data-inner-width"]!)!
        for frame in pruned.frames {
            #expect(abs(frame.width - Double(frame.count) * inner / Double(named.totalSamples)) < 0.001)
        }
        #expect(pruned.textByID["subtitle"]!.contains("\(full.frames.count - pruned.frames.count) frames under"))
    }

    @Test func numbersAreWrittenWithThreeDecimals() {
        #expect(XMLText.number(0) == "0")
        #expect(XMLText.number(12.5) == "12.5")
        #expect(XMLText.number(1.0004) == "1")
        #expect(XMLText.number(1.0005) == "1.001")
        #expect(XMLText.number(0.05) == "0.05")
        #expect(XMLText.number(-2.25) == "-2.25")
    }
}
