internal import CElfutils
internal import FPProfCore
internal import Glibc

/// The call frame information (`.eh_frame`, else `.debug_frame`) of one x86-64 file, through libdw's CFI reader,
/// asked one question: where is the return address of the function running at an address? C, C++, Rust and Swift
/// compilers describe every instruction of every function there, prologues and frameless leaves included, which a
/// frame-pointer walk cannot see: a function that has not pushed its frame record (yet) leaves BP pointing at its
/// caller's record, so the caller itself is found only through the return address on the stack.
///
/// The rule read is the canonical frame address (CFA, the caller's SP: the return address lies at CFA - 8):
/// `rsp + k` means the return address is at `[SP + k - 8]`; `rbp + k` means the frame record is in place. Anything
/// else (an expression, another register) gives no answer, and the caller keeps the frame-pointer walk.
// Invariant: `cfi` comes from `dwarf_getcfi_elf` over `handle.elf` and is ended (in `deinit`) before the handle
// closes the file; the `Dwarf_Frame` of each lookup is freed before the lookup returns.
final class CallFrameTable {
    let handle: ElfHandle
    let cfi: OpaquePointer

    /// DWARF register numbers of x86-64's SP and BP.
    private static let stackPointer: Dwarf_Word = 7
    private static let framePointer: Dwarf_Word = 6
    /// `DW_OP_bregx`: libdw reports a `register + offset` CFA rule as this one operation.
    private static let bregx: UInt8 = 0x92

    /// Nil when the file cannot be read, is not x86-64, or has no CFI.
    init?(path: String) {
        let handle: ElfHandle
        do {
            handle = try ElfHandle(path: path)
        } catch {
            return nil
        }
        guard handle.header.e_machine == UInt16(EM_X86_64), let cfi = dwarf_getcfi_elf(handle.elf) else { return nil }
        self.handle = handle
        self.cfi = cfi
    }

    deinit {
        dwarf_cfi_end(cfi)
    }

    /// The rule at link-time address `address`; nil when the CFI does not cover it or says something else.
    func entryFrame(at address: UInt64) -> EntryFrame? {
        var frame: OpaquePointer? = nil
        guard dwarf_cfi_addrframe(cfi, address, &frame) == 0, let frame else { return nil }
        defer { free(UnsafeMutableRawPointer(frame)) }
        var ops: UnsafeMutablePointer<Dwarf_Op>? = nil
        var count = 0
        guard dwarf_frame_cfa(frame, &ops, &count) == 0, let ops, count == 1, ops[0].atom == Self.bregx else {
            return nil
        }
        let offset = Int64(bitPattern: ops[0].number2)
        switch ops[0].number {
        case Self.stackPointer:
            guard offset >= 8, offset < 1 << 20 else { return nil }
            return .returnAddressAtSP(offset: Int(offset) - 8)
        case Self.framePointer:
            return .framePointer
        default:
            return nil
        }
    }
}
