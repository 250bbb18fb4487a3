internal import CPerfEvent

/// The prefetch `ProfileBuilder.prefetch` asks for: the core is pure Swift, which has no way to say "load this
/// without waiting", so the edge module that already speaks C for the ring supplies it.
public enum MemoryPrefetch {
    /// Prefetches `bytes[range]` (offsets from `bytes.startIndex`); a range outside the bytes asks for nothing.
    public static func bytes(_ bytes: ArraySlice<UInt8>, _ range: Range<Int>) {
        guard range.lowerBound >= 0, range.upperBound <= bytes.count, !range.isEmpty else { return }
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            cperf_prefetch(base + range.lowerBound, range.count)
        }
    }
}
