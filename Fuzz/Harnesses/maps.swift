// libFuzzer harness: /proc/PID/maps lines, as the attach path reads them.
@testable import FPProfSampler

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMaps(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    for line in text.split(separator: "\n") { _ = MapsEntry(line: line) }
    return 0
}
