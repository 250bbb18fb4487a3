/// Colours that say where code comes from. A language is guessed from the symbol's shape (Go's
/// `pkg.Func`, C++'s and Rust's `::`, Rust's hash suffix and std crates); within a language each module gets its
/// own band of hues, so the main binary and libc look different; each name then varies the shade slightly and
/// always the same way, so a function keeps its colour between files. Flagged stacks (under `[fp-loop]` and the
/// other markers) are violet, a hue no language uses.
enum FlamegraphPalette {
    enum Family: String, CaseIterable, Sendable {
        case c = "C"
        case cpp = "C++"
        case rust = "Rust"
        case go = "Go"
        case kernel
        case unknown = "unknown code"
        case context = "process / thread"
        case flagged = "flagged (unwind marker and the stack under it)"
    }

    /// Hue range (degrees), saturation and lightness range of each family.
    struct Band {
        var hue: ClosedRange<Double>
        var saturation: Double
        var lightness: ClosedRange<Double>
    }

    static func band(_ family: Family) -> Band {
        switch family {
        case .c: Band(hue: 4...40, saturation: 0.80, lightness: 0.58...0.66)
        case .cpp: Band(hue: 46...62, saturation: 0.78, lightness: 0.52...0.60)
        case .rust: Band(hue: 18...32, saturation: 0.45, lightness: 0.44...0.52)
        case .go: Band(hue: 180...200, saturation: 0.55, lightness: 0.55...0.65)
        case .kernel: Band(hue: 92...128, saturation: 0.45, lightness: 0.55...0.63)
        case .unknown: Band(hue: 0...0, saturation: 0, lightness: 0.72...0.80)
        case .context: Band(hue: 210...220, saturation: 0.25, lightness: 0.78...0.84)
        case .flagged: Band(hue: 266...282, saturation: 0.60, lightness: 0.66...0.74)
        }
    }

    /// The marker box itself: the darkest violet, with white text.
    static let markerFill = "rgb(125,48,196)"
    /// Search matches, in every family's place.
    static let matchFill = "rgb(230,0,230)"

    static func family(of node: FlameTree.Node) -> Family {
        if node.flagged { return .flagged }
        switch node.role {
        case .process, .thread, .marker: return .context
        case .code(.kernel, _): return .kernel
        case .code(.unknown, _): return .unknown
        case .code(.code, _): return language(of: node.name)
        }
    }

    /// A guess from the symbol alone, for folded input as much as for our own names.
    static func language(of name: String) -> Family {
        if name.contains("::") || name.hasPrefix("_Z") || name.hasPrefix("operator") {
            return isRust(name) ? .rust : .cpp
        }
        if name.hasPrefix("_R") { return .rust }
        if isGo(name) { return .go }
        return .c
    }

    /// Rust's demangled names: its core crates, closures and `impl` blocks, or the legacy `::h<16 hex>` suffix.
    /// A parameter list, which Rust names never have, means C++; `std::` is C++ unless a Rust-only module follows.
    static func isRust(_ name: String) -> Bool {
        if name.hasSuffix(")") || name.hasSuffix(") const") { return name.hasSuffix("{{closure}}") }
        if name.contains("{{closure}}") || name.contains("<impl ") { return true }
        for prefix in ["core::", "alloc::", "<core::", "<alloc::"] where name.hasPrefix(prefix) { return true }
        let rustStd = ["rt", "sys", "sys_common", "panicking", "io", "fs", "sync", "backtrace_rs", "net", "os"]
        for module in rustStd where name.hasPrefix("std::\(module)::") || name.hasPrefix("<std::\(module)::") {
            return true
        }
        guard let last = name.split(separator: ":").last, last.count == 17, last.first == "h" else { return false }
        return last.dropFirst().allSatisfy(\.isHexDigit)
    }

    /// Go's `path/pkg.Func`, `pkg.(*T).Method`, `pkg.Func.func1`; but not GCC's clones (`foo.cold`,
    /// `foo.part.0`, `foo.isra.0`, `foo.constprop.0`), which are C.
    static func isGo(_ name: String) -> Bool {
        guard let dot = name.firstIndex(of: "."), dot != name.startIndex else { return false }
        let cloneSuffixes: Set<Substring> = ["cold", "part", "isra", "constprop", "lto_priv", "clone", "localalias"]
        let parts = name[name.index(after: dot)...].split(separator: ".")
        if !parts.isEmpty, parts.allSatisfy({ cloneSuffixes.contains($0) || $0.allSatisfy(\.isNumber) }) {
            return false
        }
        let head = name[..<dot]
        return head.allSatisfy { $0.isLetter || $0.isNumber || "_/-.~".contains($0) }
    }

    static func fill(for node: FlameTree.Node, moduleName: String?) -> String {
        if node.role == .marker { return markerFill }
        let family = family(of: node)
        let b = band(family)
        let span = b.hue.upperBound - b.hue.lowerBound
        // Half the hue band picks the module's place, the other half (and the lightness) the function's.
        let moduleShift = moduleName.map { Double(hash($0) % 1000) / 1000 * span / 2 } ?? 0
        let nameHash = hash(node.name)
        let hue = b.hue.lowerBound + moduleShift + Double(nameHash % 997) / 997 * span / 2
        var lightness =
            b.lightness.lowerBound + Double((nameHash >> 10) % 991) / 991
            * (b.lightness.upperBound - b.lightness.lowerBound)
        if case .code(_, inlined: true) = node.role { lightness = min(0.9, lightness + 0.07) }
        return rgb(hue: hue, saturation: b.saturation, lightness: lightness)
    }

    /// The colour a family's legend entry shows: the middle of its band.
    static func legendFill(_ family: Family) -> String {
        if family == .flagged { return markerFill }
        let b = band(family)
        return rgb(
            hue: (b.hue.lowerBound + b.hue.upperBound) / 2, saturation: b.saturation,
            lightness: (b.lightness.lowerBound + b.lightness.upperBound) / 2)
    }

    static func rgb(hue: Double, saturation s: Double, lightness l: Double) -> String {
        let c = (1 - abs(2 * l - 1)) * s
        let h = hue.truncatingRemainder(dividingBy: 360) / 60
        let x = c * (1 - abs(h.truncatingRemainder(dividingBy: 2) - 1))
        let (r, g, b): (Double, Double, Double) =
            switch h {
            case ..<1: (c, x, 0)
            case ..<2: (x, c, 0)
            case ..<3: (0, c, x)
            case ..<4: (0, x, c)
            case ..<5: (x, 0, c)
            default: (c, 0, x)
            }
        let m = l - c / 2
        func byte(_ v: Double) -> Int { Int(((v + m) * 255).rounded()).clamped(0, 255) }
        return "rgb(\(byte(r)),\(byte(g)),\(byte(b)))"
    }

    /// The hue (degrees) of an `rgb(r,g,b)` fill: lets tests tell the flagged band from the others.
    static func hue(ofFill fill: String) -> Double? {
        guard fill.hasPrefix("rgb("), fill.hasSuffix(")") else { return nil }
        let parts = fill.dropFirst(4).dropLast().split(separator: ",").compactMap { Double($0) }
        guard parts.count == 3 else { return nil }
        let (r, g, b) = (parts[0] / 255, parts[1] / 255, parts[2] / 255)
        let maxV = max(r, g, b)
        let minV = min(r, g, b)
        let d = maxV - minV
        guard d > 0 else { return 0 }
        var h: Double
        if maxV == r {
            h = ((g - b) / d).truncatingRemainder(dividingBy: 6)
        } else if maxV == g {
            h = (b - r) / d + 2
        } else {
            h = (r - g) / d + 4
        }
        h *= 60
        return h < 0 ? h + 360 : h
    }

    /// FNV-1a: stable across runs and machines, unlike `Hasher`.
    static func hash(_ s: String) -> UInt32 {
        var h: UInt32 = 0x811c_9dc5
        for b in s.utf8 {
            h ^= UInt32(b)
            h = h &* 0x0100_0193
        }
        return h
    }
}

extension Int {
    fileprivate func clamped(_ lo: Int, _ hi: Int) -> Int { Swift.min(Swift.max(self, lo), hi) }
}
