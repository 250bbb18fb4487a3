import FPProfCore

/// Writes an interactive flamegraph as one SVG file that needs nothing else: the boxes are drawn by this writer
/// (so the file shows the profile even where scripts are off), and an inline script adds click-to-zoom, reset,
/// search with the matched share, and a details line on hover. Nothing is loaded from anywhere.
///
/// Every box's x and width are its node's sample interval times one scale factor, written with three decimals:
/// widths are proportional to counts, and no box is widened to stay visible. Boxes are dropped only past
/// `maxFrames`, and then by count (every frame under some number of samples), which keeps the drawn tree whole
/// because no callee has more samples than its caller; the subtitle says how many were left out.
public struct FlamegraphWriter {
    public struct Options: Sendable {
        /// Root at the top and callees below (an icicle graph), instead of the flame's root at the bottom.
        public var icicle: Bool
        public var width: Int
        public var title: String?
        /// At most this many boxes (about 200 bytes each): a browser stays responsive with tens of thousands of
        /// SVG elements, not with millions.
        public var maxFrames: Int

        public init(icicle: Bool = false, width: Int = 1200, title: String? = nil, maxFrames: Int = 50_000) {
            self.icicle = icicle
            self.width = width
            self.title = title
            self.maxFrames = maxFrames
        }
    }

    static let frameHeight = 16.0
    static let fontSize = 12.0
    /// Advance of one character of the monospace font at `fontSize`, used to cut labels to their box.
    static let charWidth = 7.3
    static let pad = 10.0
    static let headerHeight = 78.0
    static let footerHeight = 30.0

    public let options: Options
    public init(options: Options = Options()) {
        self.options = options
    }

    public func render(_ profile: NamedProfile) -> String {
        let tree = FlameTree(profile)
        let width = Double(max(options.width, 200))
        let inner = width - 2 * Self.pad
        let total = max(tree.total, 1)
        let scale = inner / Double(total)
        let rows = Double(tree.maxDepth + 1)
        let height = Self.headerHeight + rows * Self.frameHeight + Self.footerHeight
        let heading = options.title ?? (options.icicle ? "Icicle Graph" : "Flame Graph")
        let minimum = Self.minimumCount(tree, maxFrames: options.maxFrames)
        let omitted = minimum > 0 ? tree.nodes.filter { $0.count < minimum }.count : 0

        var out = ""
        out.reserveCapacity(256 * tree.nodes.count + 16_384)
        out += "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
        out += "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\""
        out += " width=\"\(XMLText.number(width))\" height=\"\(XMLText.number(height))\""
        out += " viewBox=\"0 0 \(XMLText.number(width)) \(XMLText.number(height))\""
        out += " data-total=\"\(tree.total)\" data-pad=\"\(XMLText.number(Self.pad))\""
        out += " data-inner-width=\"\(XMLText.number(inner))\" data-char-width=\"\(XMLText.number(Self.charWidth))\""
        out += " data-match-fill=\"\(FlamegraphPalette.matchFill)\">\n"
        out += "<style>\(FlamegraphScript.css)</style>\n"
        out += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"100%\" height=\"100%\"/>\n"
        out += "<text id=\"title\" x=\"\(XMLText.number(width / 2))\" y=\"22\">\(XMLText.escape(heading))</text>\n"
        out += "<text id=\"subtitle\" x=\"\(XMLText.number(width / 2))\" y=\"40\">"
        var sub = subtitle(profile, tree: tree)
        if omitted > 0 { sub += " · \(omitted) frames under \(minimum) samples not drawn" }
        out += XMLText.escape(sub) + "</text>\n"
        out += "<text id=\"reset\" class=\"button\" x=\"\(XMLText.number(Self.pad))\" y=\"22\">Reset Zoom</text>\n"
        out += "<text id=\"search\" class=\"button\" x=\"\(XMLText.number(width - Self.pad))\" y=\"22\">Search</text>\n"
        out += "<text id=\"matched\" x=\"\(XMLText.number(width - Self.pad))\" y=\"\(XMLText.number(height - 10))\">"
        out += "</text>\n"
        out += "<text id=\"details\" x=\"\(XMLText.number(Self.pad))\" y=\"\(XMLText.number(height - 10))\"> </text>\n"
        out += legend(tree: tree, width: width)

        out += "<g id=\"frames\">\n"
        for i in tree.drawingOrder where tree.nodes[i].count >= minimum {
            let node = tree.nodes[i]
            let x = Self.pad + Double(node.start) * scale
            let w = Double(node.count) * scale
            let row = options.icicle ? Double(node.depth) : rows - 1 - Double(node.depth)
            let y = Self.headerHeight + row * Self.frameHeight
            let moduleName = node.module.flatMap { $0 < profile.modules.count ? profile.modules[$0].shortName : nil }
            var classes = "f"
            if node.flagged { classes += " flagged" }
            if node.role == .marker { classes += " marker" }
            out += "<g class=\"\(classes)\" id=\"f\(i)\" data-x=\"\(node.start)\" data-n=\"\(node.count)\""
            out += " data-d=\"\(node.depth)\"><title>"
            out += XMLText.escape(tooltip(node, total: tree.total, moduleName: moduleName))
            out += "</title><rect x=\"\(XMLText.number(x))\" y=\"\(XMLText.number(y))\" width=\"\(XMLText.number(w))\""
            out += " height=\"\(XMLText.number(Self.frameHeight - 1))\""
            out += " fill=\"\(FlamegraphPalette.fill(for: node, moduleName: moduleName))\"/>"
            out += "<text x=\"\(XMLText.number(x + 3))\" y=\"\(XMLText.number(y + Self.fontSize - 0.5))\">"
            out += XMLText.escape(Self.label(node.name, width: w)) + "</text></g>\n"
        }
        out += "</g>\n"
        out += "<script><![CDATA[\n\(FlamegraphScript.javascript)\n]]></script>\n"
        out += "</svg>\n"
        return out
    }

    /// The smallest count drawn so that at most `maxFrames` boxes are: 0 (draw all) when the tree is small enough.
    static func minimumCount(_ tree: FlameTree, maxFrames: Int) -> Int {
        guard tree.nodes.count > max(maxFrames, 1) else { return 0 }
        let counts = tree.nodes.map(\.count).sorted(by: >)
        return counts[max(maxFrames, 1)] + 1
    }

    /// The name cut to what fits in `width` pixels, ending in `..` when cut; empty below three characters.
    static func label(_ name: String, width: Double) -> String {
        let room = Int(((width - 6) / charWidth).rounded(.down))
        if room < 3 { return "" }
        if name.count <= room { return name }
        return String(name.prefix(room - 2)) + ".."
    }

    private func tooltip(_ node: FlameTree.Node, total: Int, moduleName: String?) -> String {
        var text = node.name + "\n" + Self.samplesAndShare(node.count, of: total)
        switch node.role {
        case .process where node.depth == 0: break
        case .process: text += "\nprocess"
        case .thread: text += "\nthread"
        case .marker: text += "\nunwind marker: the frame-pointer walk stopped here; the callers above are unknown"
        case .code(let kind, let inlined):
            var parts: [String] = []
            switch kind {
            case .kernel: parts.append("kernel")
            case .unknown: parts.append("no symbol")
            case .code: parts.append(FlamegraphPalette.language(of: node.name).rawValue)
            }
            if let moduleName { parts.append("in " + moduleName) }
            if inlined { parts.append("inlined") }
            if node.flagged { parts.append("in a flagged stack") }
            text += "\n" + parts.joined(separator: ", ")
        }
        return text
    }

    static func samplesAndShare(_ count: Int, of total: Int) -> String {
        let share = total > 0 ? 100 * Double(count) / Double(total) : 0
        return "\(count) sample\(count == 1 ? "" : "s") (\(percent(share))%)"
    }

    static func percent(_ share: Double) -> String {
        let hundredths = Int((share * 100).rounded())
        let f = hundredths % 100
        return "\(hundredths / 100)." + (f < 10 ? "0" : "") + String(f)
    }

    private func subtitle(_ profile: NamedProfile, tree: FlameTree) -> String {
        var parts: [String] = []
        let processes = Set(profile.stacks.map(\.process)).sorted()
        if !processes.isEmpty {
            parts.append(processes.prefix(3).joined(separator: ", ") + (processes.count > 3 ? ", ..." : ""))
        }
        parts.append("\(tree.total) samples")
        let meta = profile.metadata
        if let event = meta.event { parts.append(event + (meta.frequency.map { " at \($0) Hz" } ?? "")) }
        if let d = meta.durationNanos, d > 0 {
            parts.append(XMLText.number((Double(d) / 1e9 * 10).rounded() / 10) + " s")
        }
        let flagged = tree.nodes.filter { $0.role == .marker }.reduce(0) { $0 + $1.count }
        if flagged > 0 { parts.append("\(Self.samplesAndShare(flagged, of: tree.total)) flagged") }
        if meta.lostRecords > 0 { parts.append("\(meta.lostRecords) records lost") }
        return parts.joined(separator: " · ")
    }

    /// One swatch per family present, and always the flagged one, so a reader knows what violet means even in a
    /// healthy profile.
    private func legend(tree: FlameTree, width: Double) -> String {
        var present: Set<FlamegraphPalette.Family> = [.flagged]
        for node in tree.nodes.dropFirst() { present.insert(FlamegraphPalette.family(of: node)) }
        let families = FlamegraphPalette.Family.allCases.filter(present.contains)
        var out = "<g id=\"legend\">"
        var x = Self.pad
        let y = 52.0
        for family in families {
            out += "<rect x=\"\(XMLText.number(x))\" y=\"\(XMLText.number(y))\" width=\"12\" height=\"12\""
            out += " fill=\"\(FlamegraphPalette.legendFill(family))\"/>"
            let label = family == .flagged ? "flagged: [fp-loop] [fp-cycle] [truncated] [bad-frame]" : family.rawValue
            out +=
                "<text x=\"\(XMLText.number(x + 16))\" y=\"\(XMLText.number(y + 10))\">\(XMLText.escape(label))</text>"
            x += 16 + Double(label.count) * Self.charWidth + 18
        }
        out += "</g>\n"
        return out
    }
}
