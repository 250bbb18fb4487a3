/// Where each x86-64 DWARF register (0 RAX, 1 RDX, 2 RCX, 3 RBX, 4 RSI, 5 RDI, 6 RBP, 7 RSP, 8-15 R8-R15) sits among
/// a sample's user registers, which come in `sample_regs_user` bit order: for a CFA rule on a register other than SP
/// or BP (`CallFrameRule.register`), which only the sampled frame can follow.
public struct DwarfRegisterLayout: Sendable {
    /// The kernel's number (`perf_regs.h`) of each DWARF register.
    private static let kernelNumbers: [Int] = [
        X86Registers.ax, X86Registers.dx, X86Registers.cx, X86Registers.bx, X86Registers.si, X86Registers.di,
        X86Registers.bp, X86Registers.sp, X86Registers.r8, X86Registers.r9, X86Registers.r10, X86Registers.r11,
        X86Registers.r12, X86Registers.r13, X86Registers.r14, X86Registers.r15,
    ]
    /// By DWARF number: the index in a sample's register words, -1 where the mask leaves the register out.
    private let indices: [Int]

    public init(mask: UInt64) {
        indices = Self.kernelNumbers.map { kernel in
            mask & (1 << UInt64(kernel)) == 0 ? -1 : (mask & ((1 << UInt64(kernel)) - 1)).nonzeroBitCount
        }
    }

    /// DWARF register `number`'s value among `words`, nil where it was not sampled.
    public func value<Words: RandomAccessCollection<UInt64>>(_ number: UInt8, in words: Words) -> UInt64?
    where Words.Index == Int {
        guard Int(number) < indices.count else { return nil }
        let index = indices[Int(number)]
        return index >= 0 && index < words.count ? words[words.startIndex + index] : nil
    }
}
