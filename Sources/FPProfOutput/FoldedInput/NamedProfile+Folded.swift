import FPProfCore

/// Folded text from a `NamedProfile`, for `fpprof report` of folded input: the same conventions as
/// `FPProfCore.FoldedWriter` (sorted lines, one suffix per frame from `FoldedWriter.frame`, `;` and newlines never
/// inside a frame), so that reading and writing folded text round-trips.
extension NamedProfile {
    public func foldedText() -> String {
        var counts: [String: Int] = [:]
        for stack in stacks {
            let line = displayFrames(of: stack).map { frame -> String in
                guard case .code(let kind, let inlined) = frame.role else { return FoldedWriter.clean(frame.name) }
                return FoldedWriter.frame(frame.name, kernel: kind == .kernel, inlined: inlined)
            }.joined(separator: ";")
            counts[line, default: 0] += stack.samples
        }
        return FoldedWriter.text(FoldedWriter.sorted(counts))
    }
}
