import FPProfCore

/// Folded text from a `NamedProfile`, for `fpprof report` of folded input: the same conventions as
/// `FPProfCore.FoldedWriter` (sorted lines, `_[i]` for inlined frames, `;` and newlines never inside a frame),
/// plus `_[k]` for kernel frames, so that reading and writing folded text round-trips.
extension NamedProfile {
    public func foldedText() -> String {
        var counts: [String: Int] = [:]
        for stack in stacks {
            let line = displayFrames(of: stack).map { frame -> String in
                var name = FoldedWriter.clean(frame.name)
                if case .code(let kind, let inlined) = frame.role {
                    if kind == .kernel { name += "_[k]" }
                    if inlined { name += "_[i]" }
                }
                return name
            }.joined(separator: ";")
            counts[line, default: 0] += stack.samples
        }
        return FoldedWriter.text(FoldedWriter.sorted(counts))
    }
}
