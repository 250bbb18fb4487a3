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
        return append(chain[k..<end], to: &frames, code: code)
    }

    /// Continues a walk that used CFI and ran out of copied stack. Such a walk found callers the kernel's chain
    /// cannot have (those of frameless functions) and lacks the wrong ones it has (what a stale BP pointed at), so
    /// their first frames need not agree; but once both walks pass through the same frame record they agree from
    /// there on. The kernel's chain is trusted after the walk's last two return addresses where it has them side by
    /// side: two in a row are the same frame record, not a coincidence of one address. A pair that occurs n times in
    /// the walk (recursion) is taken at its n-th occurrence in the chain, the one the walk stopped at.
    ///
    /// A walk of two frames whose pair the chain lacks is the frameless leaf's case: CFI found frame 0's caller
    /// from the stack (Go's vdso call on the g0 stack), and the kernel, following the BP the leaf left alone, went
    /// from frame 0 straight to that caller's caller. That is `extend` with frame 1 as the recovered frame.
    ///
    /// `endsAtSampledRecord` (`HybridUnwinder.Outcome`) is the same case with any number of frameless frames: the
    /// walk stopped at the record the sampled BP points at, where the kernel's chain went from frame 0 (cgo's C,
    /// run on the g0 stack, left the goroutine's BP alone). The chain's frames after its first are then the walk's
    /// next ones.
    public static func rejoin<Code: CodeMap>(
        _ frames: inout [UInt64], with chain: WordWindow, code: Code, endsAtSampledRecord: Bool = false
    ) -> UnwindStatus {
        let status = rejoinAtLastPair(&frames, with: chain, code: code)
        guard status == .truncated, !frames.isEmpty else { return status }
        if endsAtSampledRecord {
            guard let user = CallchainContext.section(CallchainContext.user, of: chain), user.count >= 2,
                user.count < kernelLimit, chain[user.lowerBound] == frames[0]
            else { return status }
            return append(chain[(user.lowerBound + 1)..<user.upperBound], to: &frames, code: code)
        }
        guard frames.count == 2 else { return status }
        return extend(&frames, status: status, with: chain, code: code, recovered: 1)
    }

    private static func rejoinAtLastPair<Code: CodeMap>(
        _ frames: inout [UInt64], with chain: WordWindow, code: Code
    ) -> UnwindStatus {
        guard frames.count >= 2, let user = CallchainContext.section(CallchainContext.user, of: chain),
            user.count < kernelLimit
        else { return .truncated }
        let (caller, last) = (frames[frames.count - 2], frames[frames.count - 1])
        var wanted = 0
        for i in 1..<frames.count where frames[i - 1] == caller && frames[i] == last { wanted += 1 }
        var k = user.lowerBound + 1
        while k < user.upperBound {
            if chain[k - 1] == caller && chain[k] == last {
                wanted -= 1
                if wanted == 0 { return append(chain[(k + 1)..<user.upperBound], to: &frames, code: code) }
            }
            k += 1
        }
        return .truncated
    }

    /// Appends the kernel's return addresses, each checked against the code map: a root ends the walk complete, an
    /// address in no code ends it as a bad frame, and a chain that simply ends leaves it truncated.
    private static func append<Code: CodeMap>(
        _ returns: Slice<WordWindow>, to frames: inout [UInt64], code: Code
    ) -> UnwindStatus {
        for ret in returns {
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
