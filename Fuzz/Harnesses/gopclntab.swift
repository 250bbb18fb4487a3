// libFuzzer harness: Go's `.gopclntab` function table, as the symbolizer reads it from a (possibly stripped) Go
// binary: header, function table, names, file and line programs, pcdata and the stack-pointer delta runs. The
// first 8 bytes choose the text start a position-independent binary would supply. Seeds are the tables of small
// Go programs. Built and run by scripts/fuzz.sh gopclntab SECONDS.
@testable import FPProfSymbols

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGopclntab(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard bytes.count > 8 else { return 0 }
    let textStart = bytes.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    guard let table = GoPclntab(bytes: Array(bytes.dropFirst(8)), textStart: textStart) else { return 0 }
    // A bounded sample of functions: the first ones, and lookups by address through the middle of the table.
    for index in 0..<min(table.functionCount, 64) {
        guard let function = table.function(atIndex: index) else { continue }
        _ = table.name(of: function)
        for address in [function.entry, function.entry &+ 1, function.end &- 1] {
            _ = table.location(of: address, in: function)
            _ = table.pcdata(0, of: function, at: address)
            _ = table.spDelta(of: function, at: address)
        }
        _ = table.funcdata(0, of: function)
        _ = table.spDeltaRuns(of: function)
        _ = table.function(containing: function.entry &+ 2)
    }
    _ = table.name(atOffset: Int32(truncatingIfNeeded: textStart))
    return 0
}
