import FPProfCore

/// Why folded text could not be read, with the 1-based line number, so the user can look at that line.
public struct FoldedInputError: Error, Hashable, Sendable, CustomStringConvertible {
    public var line: Int
    public var reason: String

    public var description: String { line > 0 ? "line \(line): \(reason)" : reason }
}

/// Reads folded stacks, ours or `stackcollapse-perf.pl`'s: `process;frame;...;leaf COUNT`, one per line, root
/// first. The conventions both share are mapped back: the first frame is the process; `_[k]` marks kernel frames
/// and `_[i]` inlined ones (folded into the location of the frame before them, as pprof wants); fpprof's own
/// output may add a `name/tid` thread frame and an unwind marker (`[fp-loop]`, ...) right after the process.
public enum FoldedParser {
    static let markers: [String: UnwindStatus] = Dictionary(
        uniqueKeysWithValues: UnwindStatus.allCases.compactMap { s in s.marker.map { ($0, s) } })

    /// Parses UTF-8 bytes. Blank lines and `#` comments are skipped; any other line that is not `frames COUNT`
    /// stops the parse with its line number: a garbage file must not pass for an empty profile. A NUL byte marks a
    /// binary file. Bytes that are not UTF-8 (a Latin-1 symbol name, a cut multibyte character) do not cost the
    /// file, as they do not in perf's and FlameGraph's scripts: each is shown as U+FFFD and one warning says how
    /// many lines had them.
    public static func parse(_ bytes: [UInt8]) throws(FoldedInputError) -> NamedProfile {
        var warnings: [String] = []
        return try parse(bytes, warnings: &warnings)
    }

    /// As `parse(_:)`, adding what the user should know about the input (repaired text, saturated counts).
    public static func parse(_ bytes: [UInt8], warnings: inout [String]) throws(FoldedInputError) -> NamedProfile {
        guard !bytes.contains(0) else {
            throw FoldedInputError(line: 0, reason: "not folded stack text (it holds NUL bytes: a binary file?)")
        }
        if let text = String(validating: bytes, as: UTF8.self) { return try parse(text, warnings: &warnings) }
        var repairedLines = 0
        var text = ""
        text.reserveCapacity(bytes.count)
        for (index, line) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            if index > 0 { text += "\n" }
            if let valid = String(validating: line, as: UTF8.self) {
                text += valid
            } else {
                repairedLines += 1
                text += String(decoding: line, as: UTF8.self)
            }
        }
        warnings.append("\(repairedLines) lines are not valid UTF-8; their bad bytes are shown as U+FFFD")
        return try parse(text, warnings: &warnings)
    }

    public static func parse(_ text: String) throws(FoldedInputError) -> NamedProfile {
        var warnings: [String] = []
        return try parse(text, warnings: &warnings)
    }

    /// Counts are kept so that their sum fits an `Int`: every writer adds them up (the flamegraph's root holds the
    /// total), and `a 9223372036854775807` followed by `b 1` would trap there. A count that would pass the bound
    /// is cut to what is left of it, and a warning says so.
    public static func parse(_ text: String, warnings: inout [String]) throws(FoldedInputError) -> NamedProfile {
        var builder = Builder()
        var number = 0
        var total = 0
        var saturated = false
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let line = raw.last == "\r" ? raw.dropLast() : raw
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) || line.first == "#" { continue }
            guard let space = line.lastIndex(where: { $0 == " " || $0 == "\t" }),
                var count = Int(line[line.index(after: space)...]), count >= 0
            else {
                throw FoldedInputError(
                    line: number, reason: "not folded stack text: expected `frame;frame;...;leaf COUNT`")
            }
            let frames = line[..<space].split(separator: ";")
            guard !frames.isEmpty else { throw FoldedInputError(line: number, reason: "a stack without frames") }
            if count > Int.max - total {
                count = Int.max - total
                saturated = true
            }
            total += count
            if count > 0 { builder.add(frames, count: count) }
        }
        if saturated {
            warnings.append("the sample counts add up past \(Int.max); the total is held at that and later counts cut")
        }
        return builder.profile
    }

    private struct Builder {
        var profile = NamedProfile()
        var functionIndex: [NamedFunction: Int] = [:]
        var locationIndex: [[LocationLine]: Int] = [:]

        init() {
            profile.modules = ModuleTable().modules
        }

        mutating func add(_ frames: [Substring], count: Int) {
            var rest = frames[...]
            let process = String(rest.removeFirst())
            var thread: String?
            var tid: Int32?
            if let first = rest.first, let (name, id) = FoldedParser.threadFrame(first) {
                thread = name
                tid = id
                rest.removeFirst()
            }
            var status = UnwindStatus.complete
            if let first = rest.first, let s = FoldedParser.markers[String(first)] {
                status = s
                rest.removeFirst()
            }
            var locations: [Int] = []
            var lines: [LocationLine] = []
            for frame in rest {
                let (name, kind, inlined) = FoldedParser.classify(frame)
                let function = intern(NamedFunction(name: name, kind: kind))
                if !inlined, !lines.isEmpty {
                    locations.append(location(lines))
                    lines.removeAll(keepingCapacity: true)
                }
                lines.append(LocationLine(function: function, isInlined: inlined))
            }
            if !lines.isEmpty { locations.append(location(lines)) }
            profile.stacks.append(
                NamedStack(
                    process: process, thread: thread, tid: tid, status: status, locations: locations,
                    samples: count))
        }

        mutating func intern(_ f: NamedFunction) -> Int {
            if let i = functionIndex[f] { return i }
            let i = profile.functions.count
            profile.functions.append(f)
            functionIndex[f] = i
            return i
        }

        mutating func location(_ lines: [LocationLine]) -> Int {
            if let i = locationIndex[lines] { return i }
            let i = profile.locations.count
            profile.locations.append(NamedLocation(module: nil, offset: 0, lines: lines))
            locationIndex[lines] = i
            return i
        }
    }

    /// fpprof's per-thread frame, `name/TID`.
    static func threadFrame(_ frame: Substring) -> (String, Int32)? {
        guard let slash = frame.lastIndex(of: "/"), slash != frame.startIndex,
            let tid = Int32(frame[frame.index(after: slash)...]), tid > 0
        else { return nil }
        return (String(frame[..<slash]), tid)
    }

    /// Strips the annotation suffixes of FlameGraph's tools and says what they meant.
    static func classify(_ frame: Substring) -> (String, FrameKind, inlined: Bool) {
        var name = frame
        var kind = FrameKind.code
        var inlined = false
        if name.count > 4 {
            switch name.suffix(4) {
            case "_[k]": kind = .kernel
            case "_[i]": inlined = true
            case "_[j]", "_[w]": break
            default: return (String(name), isUnknown(name) ? .unknown : .code, false)
            }
            name = name.dropLast(4)
        }
        if kind == .code, isUnknown(name) { kind = .unknown }
        return (String(name), kind, inlined)
    }

    /// `[unknown]`, and the `module+0xOFFSET` names fpprof writes for addresses no symbol covers.
    static func isUnknown(_ name: Substring) -> Bool {
        if name == "[unknown]" { return true }
        guard let plus = name.lastIndex(of: "+") else { return false }
        let hex = name[name.index(after: plus)...]
        return hex.hasPrefix("0x") && hex.count > 2 && hex.dropFirst(2).allSatisfy(\.isHexDigit)
            && !name[..<plus].contains(" ")
    }
}
