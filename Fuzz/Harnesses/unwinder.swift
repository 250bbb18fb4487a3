// libFuzzer harness: the frame-pointer unwinder over arbitrary registers and stack bytes. The first 24 bytes are
// IP, SP and BP; the rest is the stack copy at SP. Code is "below 2^40 with bit 4 clear", roots and stack switches just above, so that
// return addresses found in the bytes are sometimes code and sometimes not.
import FPProfCore

struct FuzzCode: CodeMap {
    func classify(_ address: UInt64) -> CodeKind {
        switch address >> 40 {
        case 0: address & 0x10 == 0 ? .code : .none
        case 1: .root
        case 2: .stackSwitch
        default: .none
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUnwinder(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 24 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    func word(_ i: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[i + $1]) << (8 * UInt64($1)) } }
    let (ip, sp, bp) = (word(0), word(8), word(16))
    var frames: [UInt64] = []
    var scratch: [UInt64] = []
    let memory = StackCopy(base: sp, bytes: bytes[24...])
    let slot = Int(ip & 0x38)
    for entry in [EntryFrame.framePointer, .returnAddressAtSP(offset: slot), .recordAtSP(offset: slot)] {
        frames.removeAll(keepingCapacity: true)
        _ = FramePointerUnwinder(maxDepth: 256).unwind(
            ip: ip, sp: sp, bp: bp, memory: memory, code: FuzzCode(), frames: &frames, scratch: &scratch,
            entry: entry)
    }
    return 0
}
