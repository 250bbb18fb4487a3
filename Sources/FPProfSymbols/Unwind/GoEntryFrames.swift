internal import FPProfCore

/// Where a Go function's return address is, from `.gopclntab`'s `pcsp` table (how far SP is below the entry SP at
/// each PC) and the function's own prologue and epilogue, for x86-64 (Go 1.17+, frame pointers always on).
///
/// Go saves BP only in functions with a frame: a function that never moves SP (a small leaf) has no frame record
/// anywhere, so its return address is always at `[SP]`. A function with a frame saves BP right after moving SP,
/// `SUBQ $n, SP; MOVQ BP, n-8(SP); LEAQ n-8(SP), BP` (Go 1.21+: `PUSHQ BP; MOVQ SP, BP; SUBQ`), and restores it
/// just before returning, `MOVQ n-8(SP), BP; ADDQ $n, SP; RET`: at those few instructions, and wherever SP is at
/// its entry value (before the prologue, on the `morestack` path, at `RET`), BP is still the caller's, and the
/// return address is at `[SP + delta]`. Everywhere else the frame record is in place.
///
/// Conservative: a function whose BP save is not recognized, or that switches stacks (where `pcsp` does not follow
/// SP), or an address the table does not cover, gives `.framePointer`, as if no rule were known.
struct GoEntryFrames {
    let table: GoPclntab
    /// `.text`'s bytes and link-time address, for reading prologues and epilogues.
    let text: [UInt8]
    let textAddress: UInt64

    /// Frameless by `pcsp`, yet called with a frame record: the compiler saves BP just below SP and points BP at it
    /// right before the call (`MOVQ BP, -16(SP); LEAQ -16(SP), BP; CALL runtime.duffzero+k`), so the record's BP
    /// slot lies 8 bytes under the callee's SP and its return-address slot is `[SP]` (see `FramePointerUnwinder`).
    static let calledWithRecord: Set<String> = [
        "runtime.duffzero", "runtime.duffzero.abi0", "runtime.duffcopy", "runtime.duffcopy.abi0",
    ]

    func entryFrame(at address: UInt64, name: String?) -> EntryFrame? {
        guard let function = table.function(containing: address) else { return nil }
        if let name, StackSwitchFrames.isSwitch(name) || RootFrames.isRoot(name) || Self.calledWithRecord.contains(name)
        {
            return .framePointer
        }
        guard let runs = table.spDeltaRuns(of: function), let run = runs.firstIndex(where: { address < $0.end })
        else { return .framePointer }
        let delta = runs[run].delta
        guard delta >= 0, delta < 1 << 20 else { return .framePointer }
        if runs.allSatisfy({ $0.delta == 0 }) { return .returnAddressAtSP(offset: 0) }
        // Where SP first moves: the BP save comes right there.
        guard let first = runs.firstIndex(where: { $0.delta > 0 }) else { return .framePointer }
        let moved = first == 0 ? function.entry : runs[first - 1].end
        guard let window = prologueWindow(at: moved) else { return .framePointer }
        if delta == 0 || window.contains(address) { return .returnAddressAtSP(offset: Int(delta)) }
        if byte(at: address) == 0xc3 { return .returnAddressAtSP(offset: Int(delta)) }
        if isAddToSP(at: address), [4, 5, 8].contains(where: { isSPLoad(at: address &- UInt64($0), length: $0) }) {
            return .returnAddressAtSP(offset: Int(delta))
        }
        if delta >= 16, isInDuffCall(address) { return .recordAtSP(offset: Int(delta) - 8) }
        return .framePointer
    }

    /// Whether `address` is where BP points at the record built for a `duffzero`/`duffcopy` call: the call itself,
    /// after `LEAQ -16(SP), BP`, or the `MOVQ 0(BP), BP` that restores BP after it returns. The function's own
    /// record is then where every Go frame keeps it, 8 bytes under its return address.
    private func isInDuffCall(_ address: UInt64) -> Bool {
        let lea: [UInt8] = [0x48, 0x8d, 0x6c, 0x24, 0xf0]
        let restore: [UInt8] = [0x48, 0x8b, 0x6d, 0x00]
        func bytes(_ at: UInt64, _ expected: [UInt8]) -> Bool {
            expected.indices.allSatisfy { byte(at: at &+ UInt64($0)) == expected[$0] }
        }
        if byte(at: address) == 0xe8, address >= 5, bytes(address &- 5, lea) { return true }
        return bytes(address, restore) && address >= 10 && byte(at: address &- 5) == 0xe8 && bytes(address &- 10, lea)
    }

    /// The instructions at which BP is saved but not yet pointing at the new record, given where SP first moved;
    /// nil when the code there is not a recognized BP save.
    private func prologueWindow(at moved: UInt64) -> Range<UInt64>? {
        // Go 1.17-1.20: MOVQ BP, k(SP); LEAQ k(SP), BP.
        if let store = spAccess(at: moved, opcode: 0x89), let lea = spAccess(at: moved &+ UInt64(store), opcode: 0x8d) {
            return moved..<(moved &+ UInt64(store + lea))
        }
        // Go 1.21+: PUSHQ BP; MOVQ SP, BP.
        if moved > 0, byte(at: moved &- 1) == 0x55, byte(at: moved) == 0x48, byte(at: moved &+ 1) == 0x89,
            byte(at: moved &+ 2) == 0xe5
        {
            return moved..<(moved &+ 3)
        }
        return nil
    }

    /// The length of `REX.W opcode BP, disp(SP)` (`48 op 2c|6c|ac 24 [disp]`) at `address`, or nil.
    private func spAccess(at address: UInt64, opcode: UInt8) -> Int? {
        guard byte(at: address) == 0x48, byte(at: address &+ 1) == opcode, byte(at: address &+ 3) == 0x24 else {
            return nil
        }
        switch byte(at: address &+ 2) {
        case 0x2c: return 4
        case 0x6c: return 5
        case 0xac: return 8
        default: return nil
        }
    }

    /// `MOVQ disp(SP), BP` of exactly `length` bytes at `address`.
    private func isSPLoad(at address: UInt64, length: Int) -> Bool {
        spAccess(at: address, opcode: 0x8b) == length
    }

    /// `ADDQ $imm, SP` (`48 83 c4 ib` or `48 81 c4 id`) at `address`.
    private func isAddToSP(at address: UInt64) -> Bool {
        byte(at: address) == 0x48 && [0x83, 0x81].contains(byte(at: address &+ 1)) && byte(at: address &+ 2) == 0xc4
    }

    private func byte(at address: UInt64) -> UInt8? {
        guard address >= textAddress, address - textAddress < UInt64(text.count) else { return nil }
        return text[Int(address - textAddress)]
    }
}
