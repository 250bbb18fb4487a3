// libFuzzer harness: a raw capture through the whole pure pipeline, as `fpprof report` reads it: the capture
// reader, the record decoder, the process map (COMM, MMAP2, FORK, EXIT), the unwinder over the samples' registers
// and stack bytes, and the aggregation. Built and run by scripts/fuzz.sh capture SECONDS.
import FPProfCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCapture(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let (header, chunks, _) = try? Capture.decodeSalvaging(bytes),
        var builder = try? ProfileBuilder(format: header.format)
    else { return 0 }
    for chunk in chunks { builder.consume(chunk) }
    _ = builder.finish()
    return 0
}
