/// Writes the `stackcollapse-perf.pl` format: `root;...;leaf COUNT`, one line per distinct stack, sorted.
/// The first frame is the process name; a marker (`[fp-loop]`, ...) follows it when the walk did not reach the
/// root; inlined frames end in `_[i]`.
public struct FoldedWriter {
    public struct Options: Sendable {
        /// Add the pid to the process frame (`name-PID`), as `stackcollapse-perf.pl --pid` does.
        public var includePID: Bool
        public init(includePID: Bool = false) {
            self.includePID = includePID
        }
    }

    public let options: Options
    public init(options: Options = Options()) {
        self.options = options
    }

    /// Folded lines and their counts, merged where different raw stacks symbolize to the same names.
    public func lines<S: Symbolizer>(_ profile: RawProfile, namer: inout FrameNamer<S>) -> [(String, Int)] {
        var counts: [String: Int] = [:]
        var parts: [String] = []
        // Each packed address's part of a line (its inlined frames and their suffixes, cleaned), made once: stacks
        // share most of their frames, and making every frame's text again for every stack was most of the writer's
        // time.
        var fragments: [UInt64: String] = [:]
        for (key, weight) in profile.stacks {
            parts.removeAll(keepingCapacity: true)
            var head = Self.clean(profile.names[Int(key.processName)])
            if options.includePID { head += "-\(key.pid.rawValue)" }
            parts.append(head)
            if key.threadName >= 0 {
                parts.append(Self.clean(profile.names[Int(key.threadName)]) + "/\(key.tid.rawValue)")
            }
            if key.goroutine >= 0 { parts.append("goroutine \(key.goroutine)") }
            if let marker = key.status.marker { parts.append(marker) }
            for packed in key.frames.reversed() {
                if let known = fragments[packed] {
                    parts.append(known)
                    continue
                }
                let fragment = namer.frames(for: packed).map {
                    Self.frame($0.function, kernel: $0.isKernel, inlined: $0.isInlined)
                }.joined(separator: ";")
                fragments[packed] = fragment
                parts.append(fragment)
            }
            counts[parts.joined(separator: ";"), default: 0] += weight.samples
        }
        return Self.sorted(counts)
    }

    public func render<S: Symbolizer>(_ profile: RawProfile, namer: inout FrameNamer<S>) -> String {
        Self.text(lines(profile, namer: &namer))
    }

    /// Folded lines in the format's order: sorted by stack.
    public static func sorted(_ counts: [String: Int]) -> [(String, Int)] {
        counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The file's text: `stack COUNT`, one line each.
    public static func text(_ lines: [(String, Int)]) -> String {
        var out = ""
        for (stack, count) in lines {
            out += stack
            out += " "
            out += String(count)
            out += "\n"
        }
        return out
    }

    /// A frame as the format writes it, by FlameGraph's convention: a kernel frame ends in `_[k]`, an inlined one
    /// in `_[i]`; one suffix at most (kernel names come from kallsyms and are never inlined, and a reader strips
    /// one suffix). Both writers of folded text use it, so reading and writing folded text round-trips.
    public static func frame(_ name: String, kernel: Bool, inlined: Bool) -> String {
        clean(name) + (kernel ? "_[k]" : inlined ? "_[i]" : "")
    }

    /// Frame names may not contain the separators of the format. Checked byte by byte: every frame of every line
    /// passes here, and iterating `Character`s (grapheme breaking) had been an eighth of `report`'s time on a
    /// capture of xz. (A `Character` test also missed "\r\n", which is one grapheme.)
    public static func clean(_ name: String) -> String {
        guard name.utf8.contains(where: { $0 == 0x3B || $0 == 0x0A || $0 == 0x0D }) else { return name }
        var scalars = String.UnicodeScalarView()
        for scalar in name.unicodeScalars {
            switch scalar {
            case ";": scalars.append(":")
            case "\n", "\r": scalars.append(" ")
            default: scalars.append(scalar)
            }
        }
        return String(scalars)
    }
}
