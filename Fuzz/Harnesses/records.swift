// libFuzzer harness: perf records as the ring gives them, decoded with the format `fpprof record` opens its
// events with, then aggregated (the unwinder walks each sample's registers and stack copy).
import FPProfCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecords(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let decoder = try? RecordDecoder(format: .amd64Profiling),
        var builder = try? ProfileBuilder(format: .amd64Profiling)
    else { return 0 }
    for _ in RecordStream(decoder: decoder, bytes: bytes[...]) {}
    builder.consume(bytes[...])
    _ = builder.finish()
    return 0
}
