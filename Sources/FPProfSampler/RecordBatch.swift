/// Whole perf records, back to back, exactly as the kernel laid them out (header, body, `sample_id_all` trailer),
/// ready for `RecordDecoder`/`RecordStream`. A batch holds what one ring had when it was drained, so records inside
/// it are in time order but batches from different CPUs interleave.
public struct RecordBatch: Hashable, Sendable {
    public var bytes: [UInt8]
    public init(bytes: [UInt8]) { self.bytes = bytes }
}
