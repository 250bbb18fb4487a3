/// The files fpprof writes. Folded text stays the default: it is what `flamegraph.pl` and most tools read.
public enum OutputFormat: String, CaseIterable, Sendable {
    case folded
    case pprof
    case svg
    case speedscope

    /// The format a file name asks for: `.folded`/`.txt`, `.pb.gz`/`.pprof`, `.svg`, `.speedscope.json`; nil
    /// for any other name, so the caller can fall back to the default or to `--format`.
    public init?(inferringFrom path: String) {
        let name = path.lowercased()
        if name.hasSuffix(".speedscope.json") {
            self = .speedscope
        } else if name.hasSuffix(".pb.gz") || name.hasSuffix(".pprof") {
            self = .pprof
        } else if name.hasSuffix(".svg") {
            self = .svg
        } else if name.hasSuffix(".folded") || name.hasSuffix(".txt") {
            self = .folded
        } else {
            return nil
        }
    }

    /// pprof carries the thread of every sample as labels, so its profile must be aggregated per thread even when
    /// the other formats are not split by thread.
    public var needsThreadKeys: Bool { self == .pprof }
}
