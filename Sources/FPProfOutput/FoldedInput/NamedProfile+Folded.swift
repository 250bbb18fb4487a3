/// Folded text from a `NamedProfile`, for `fpprof report` of folded input: the same conventions as
/// `FPProfCore.FoldedWriter` (sorted lines, `_[i]` for inlined frames, `;` and newlines never inside a frame),
/// plus `_[k]` for kernel frames, so that reading and writing folded text round-trips.
extension NamedProfile {
    public func foldedText() -> String {
        var counts: [String: Int] = [:]
        for stack in stacks {
            let line = displayFrames(of: stack).map { frame -> String in
                var name = Self.foldedSafe(frame.name)
                if case .code(let kind, let inlined) = frame.role {
                    if kind == .kernel { name += "_[k]" }
                    if inlined { name += "_[i]" }
                }
                return name
            }.joined(separator: ";")
            counts[line, default: 0] += stack.samples
        }
        var out = ""
        for (line, count) in counts.sorted(by: { $0.key < $1.key }) {
            out += line
            out += " "
            out += String(count)
            out += "\n"
        }
        return out
    }

    static func foldedSafe(_ name: String) -> String {
        guard name.contains(where: { $0 == ";" || $0 == "\n" || $0 == "\r" }) else { return name }
        return String(name.map { $0 == ";" ? ":" : ($0 == "\n" || $0 == "\r") ? " " : $0 })
    }
}
