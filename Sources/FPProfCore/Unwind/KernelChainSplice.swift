/// Continues a walk that ran out of copied stack with the kernel's own frame-pointer callchain of the same sample.
///
/// The kernel reads frame records from the live process at sample time, wherever they are, so its chain goes on
/// where the stack copy ends: past a Go `systemstack` switch onto the goroutine's stack, or above a deep C stack.
/// It is trusted only where it provably is the same walk: its first frames must be exactly ours. It stops at 127
/// frames and cannot see loops (it has no frame pointers to compare), so what it adds is checked against the code
/// map, a root ends it complete, and a chain that simply ends (a cut, or a loop repeated up to the limit) stays
/// truncated.
public enum KernelChainSplice {
    /// `kernel.perf_event_max_stack` by default. A chain this long was cut, or is a loop the kernel repeated until
    /// its limit (`[BP] == BP` gives the same caller 126 times): either way its tail cannot be trusted.
    public static let kernelLimit = 127

    /// `recovered`: the index of a frame our walk found that the kernel's cannot have (a frameless function's
    /// caller, taken from the stack); it is skipped in the comparison. `kernelOnly`: the index in the kernel's user
    /// chain of a frame ours rightly lacks (the stale return address of a record BP pointed at for a moment, see
    /// `EntryFrame.recordAtSP`); skipped too.
    public static func extend<Code: CodeMap>(
        _ frames: inout [UInt64], status: UnwindStatus, with chain: WordWindow, code: Code, recovered: Int? = nil,
        kernelOnly: Int? = nil
    ) -> UnwindStatus {
        guard let user = CallchainContext.section(CallchainContext.user, of: chain) else { return status }
        let (start, end) = (user.lowerBound, user.upperBound)
        let shared = frames.count - (recovered == nil ? 0 : 1) + (kernelOnly == nil ? 0 : 1)
        guard end - start > shared, end - start < kernelLimit else { return status }
        let skipped = kernelOnly.map { start + $0 }
        var k = start
        for i in 0..<frames.count where i != recovered {
            if k == skipped { k += 1 }
            if chain[k] != frames[i] { return status }
            k += 1
        }
        if k == skipped { k += 1 }
        for i in k..<end {
            let ret = chain[i]
            switch code.classify(ret) {
            case .none:
                return .badFrame
            case .root:
                frames.append(ret)
                return .complete
            case .code, .stackSwitch:
                frames.append(ret)
            }
        }
        return .truncated
    }
}
