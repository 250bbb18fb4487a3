internal import CElfutils
internal import FPProfCore
internal import Glibc

/// Compiles a module's whole CFI, once, into `CallFrameRules` for the hybrid walk: every row libdw's CFI reader
/// gives (`dwarf_cfi_addrframe` over each FDE, row by row through the ranges `dwarf_frame_info` reports), turned
/// into the few forms x86-64 compilers emit. libdw stays the reader of the CFI; here only its answers are sorted.
///
/// FDE starts come from `.eh_frame_hdr`'s binary-search table (the linker writes it for every `.eh_frame`); a file
/// without one gives no rules, and the walk keeps frame pointers in it.
extension CallFrameTable {
    /// DWARF operations libdw hands back for the forms compiled here.
    private enum Op {
        static let deref: UInt8 = 0x06
        static let consts: UInt8 = 0x11
        static let and: UInt8 = 0x1a
        static let plus: UInt8 = 0x22
        static let plusUconst: UInt8 = 0x23
        static let shl: UInt8 = 0x24
        static let ge: UInt8 = 0x2a
        static let lit0: UInt8 = 0x30
        static let breg6: UInt8 = 0x76
        static let breg7: UInt8 = 0x77
        static let breg16: UInt8 = 0x80
        static let bregx: UInt8 = 0x92
        static let callFrameCFA: UInt8 = 0x9c
        static let stackValue: UInt8 = 0x9f
    }
    /// DWARF register numbers: BP, SP, and the return-address column of x86-64.
    private static let bpRegister: Int32 = 6
    private static let spRegister: UInt64 = 7
    private static let returnColumn: Int32 = 16
    /// A range longer than this is not one function's: a corrupt FDE.
    private static let longestRow: UInt64 = 1 << 24

    /// The rules of every instruction the CFI covers, by file offset through `segments`, of the link-time ranges
    /// `keep` accepts; nil when the file has no `.eh_frame_hdr` table to find the FDEs by.
    func compileRules(segments: LoadSegments, keep: (Range<UInt64>) -> Bool = { _ in true }) -> CallFrameRules? {
        guard let starts = fdeStarts() else { return nil }
        var rows: [(range: Range<UInt64>, rule: CallFrameRule)] = []
        rows.reserveCapacity(starts.count * 4)
        for (i, start) in starts.enumerated() {
            let limit = i + 1 < starts.count ? starts[i + 1] : UInt64.max
            var address = start
            while address < limit {
                var frame: OpaquePointer? = nil
                guard dwarf_cfi_addrframe(cfi, address, &frame) == 0, let frame else { break }
                defer { free(UnsafeMutableRawPointer(frame)) }
                var low: Dwarf_Addr = 0
                var high: Dwarf_Addr = 0
                var signal = false
                guard dwarf_frame_info(frame, &low, &high, &signal) >= 0, high > address,
                    high - address <= Self.longestRow
                else { break }
                let end = min(high, limit)
                let pieces: [(range: Range<UInt64>, rule: CallFrameRule)]
                if !signal, let plt = Self.procedureLinkageRule(of: frame) {
                    pieces = plt.rows(address..<end)
                } else {
                    pieces = [(address..<end, signal ? CallFrameRule.unsupported : Self.rule(of: frame))]
                }
                for piece in pieces where keep(piece.range) {
                    if let range = segments.fileOffsets(forVirtualRange: piece.range) {
                        rows.append((range, piece.rule))
                    }
                }
                address = end
            }
        }
        rows.sort { $0.range.lowerBound < $1.range.lowerBound }
        return CallFrameRules(rows: rows)
    }

    /// The rule of one CFI row.
    private static func rule(of frame: OpaquePointer) -> CallFrameRule {
        var ops: UnsafeMutablePointer<Dwarf_Op>? = nil
        var count = 0
        guard dwarf_frame_cfa(frame, &ops, &count) == 0, let ops, count > 0 else { return .unsupported }
        // The return address must be saved at CFA - 8, as the ABI has it.
        guard savedOffset(frame, register: returnColumn) == .at(-8) else { return .unsupported }
        let bp = savedOffset(frame, register: bpRegister)
        if count == 1, ops[0].atom == Op.bregx {
            let offset = Int64(bitPattern: ops[0].number2)
            guard let cfa = Int32(exactly: offset) else { return .unsupported }
            switch (ops[0].number, bp) {
            case (spRegister, .unchanged): return .stack(cfa: cfa, savedBP: nil)
            case (spRegister, .at(let k)): return .stack(cfa: cfa, savedBP: k)
            case (UInt64(bpRegister), .at(-16)) where cfa == 16: return .framePointer
            case (UInt64(bpRegister), .unchanged): return .base(cfa: cfa, savedBP: nil)
            case (UInt64(bpRegister), .at(let k)): return .base(cfa: cfa, savedBP: k)
            case (let other, .unchanged) where other < 16:
                return .register(number: UInt8(other), cfa: cfa, savedBP: nil)
            case (let other, .at(let k)) where other < 16: return .register(number: UInt8(other), cfa: cfa, savedBP: k)
            default: return .unsupported
            }
        }
        // CFA = [BP + n] + m or [SP + n] + m: gcc's stack realignment gives [BP + n] with BP saved at [BP] (the
        // DRAP register's slot, and a frame record holding a copy of the return address), OpenSSL's assembly
        // [SP + n] + 8.
        guard count == 2 || count == 3, ops[1].atom == Op.deref, let (register, offset) = baseRegister(ops[0]) else {
            return .unsupported
        }
        var add: Int32 = 0
        if count == 3 {
            guard ops[2].atom == Op.plusUconst, let m = Int32(exactly: ops[2].number) else { return .unsupported }
            add = m
        }
        let saved: Int32?
        switch bp {
        case .atBP where register == UInt64(bpRegister) && add == 0: return .realigned(offset: offset)
        case .unchanged: saved = nil
        case .at(let k): saved = k
        default: return .unsupported
        }
        return register == spRegister
            ? .stackIndirect(offset: offset, add: add, savedBP: saved)
            : .baseIndirect(offset: offset, add: add, savedBP: saved)
    }

    /// The register (BP or SP) and offset of a `DW_OP_bregN`, as libdw hands it back (`breg6`/`breg7`, or `bregx`).
    private static func baseRegister(_ op: Dwarf_Op) -> (UInt64, Int32)? {
        let register: UInt64
        let raw: UInt64
        switch op.atom {
        case Op.breg6: (register, raw) = (UInt64(bpRegister), op.number)
        case Op.breg7: (register, raw) = (spRegister, op.number)
        case Op.bregx: (register, raw) = (op.number, op.number2)
        default: return nil
        }
        guard register == spRegister || register == UInt64(bpRegister),
            let offset = Int32(exactly: Int64(bitPattern: raw))
        else { return nil }
        return (register, offset)
    }

    /// The CFA rule the linker writes for the PLT's 16-byte entries: `CFA = SP + base + ((IP & 15) >= split) << 3`.
    /// An entry is `jmp *GOT(%rip)` (6 bytes), `push $index`, `jmp PLT0`; before the push (bytes 0 to split - 1)
    /// the return address is at SP, after it at SP + 8. binutils writes split 11 for the classic entry (10 in
    /// some variants). A program that calls its own exported functions through the PLT (SQLite's shared library:
    /// 6 % of a query's samples land in its stubs) is sampled there often.
    private struct ProcedureLinkageRule {
        var base: Int32
        var split: UInt64

        /// `range` split at each entry's `split` byte into plain SP rows (entries start at multiples of 16: the
        /// expression reads the IP's low bits, and a load bias is a whole number of pages).
        func rows(_ range: Range<UInt64>) -> [(range: Range<UInt64>, rule: CallFrameRule)] {
            var rows: [(range: Range<UInt64>, rule: CallFrameRule)] = []
            var address = range.lowerBound
            while address < range.upperBound {
                let entry = address & ~15
                let (cut, next) = (entry + split, entry + 16)
                let before = address < cut
                let end = min(before ? cut : next, range.upperBound)
                rows.append((address..<end, .stack(cfa: before ? base : base + 8, savedBP: nil)))
                address = end
            }
            return rows
        }
    }

    /// The PLT rule of a row whose CFA is exactly that expression, BP untouched and the return address at CFA - 8.
    private static func procedureLinkageRule(of frame: OpaquePointer) -> ProcedureLinkageRule? {
        var ops: UnsafeMutablePointer<Dwarf_Op>? = nil
        var count = 0
        guard dwarf_frame_cfa(frame, &ops, &count) == 0, let ops, count == 9 else { return nil }
        let atoms = (0..<count).map { ops[$0].atom }
        let split = Int(atoms[4]) - Int(Op.lit0)
        guard
            atoms == [Op.breg7, Op.breg16, Op.lit0 + 15, Op.and, atoms[4], Op.ge, Op.lit0 + 3, Op.shl, Op.plus],
            (1...15).contains(split), ops[1].number == 0, let base = Int32(exactly: Int64(bitPattern: ops[0].number)),
            savedOffset(frame, register: returnColumn) == .at(-8),
            savedOffset(frame, register: bpRegister) == .unchanged
        else { return nil }
        return ProcedureLinkageRule(base: base, split: UInt64(split))
    }

    private enum Saved: Equatable {
        case unchanged
        /// At CFA + k.
        case at(Int32)
        /// At the address BP holds.
        case atBP
        case other
    }

    /// Where the caller's value of `register` is, per libdw's description of it.
    private static func savedOffset(_ frame: OpaquePointer, register: Int32) -> Saved {
        var memory = (Dwarf_Op(), Dwarf_Op(), Dwarf_Op())
        var ops: UnsafeMutablePointer<Dwarf_Op>? = nil
        var count = 0
        return withUnsafeMutablePointer(to: &memory) { tuple in
            tuple.withMemoryRebound(to: Dwarf_Op.self, capacity: 3) { mem -> Saved in
                guard dwarf_frame_register(frame, register, mem, &ops, &count) == 0 else { return .other }
                // No operations: "same value" (ops nil) or "undefined"; either way the register was not saved.
                guard count > 0, let ops else { return .unchanged }
                guard ops[0].atom == Op.callFrameCFA else { return .other }
                // An expression rule comes back as the CFA pushed, then the expression (`DW_CFA_expression: r6
                // (DW_OP_breg6 (rbp): 0)` of gcc's realigning prologue).
                if count == 2, ops[1].atom == Op.breg6, ops[1].number == 0 { return .atBP }
                var offset: Int64
                switch count {
                case 1: offset = 0
                case 2 where ops[1].atom == Op.plusUconst: offset = Int64(bitPattern: ops[1].number)
                case 3 where ops[1].atom == Op.consts && ops[2].atom == Op.plus:
                    offset = Int64(bitPattern: ops[1].number)
                default: return .other
                }
                guard let k = Int32(exactly: offset) else { return .other }
                return .at(k)
            }
        }
    }

    /// The link-time ranges of the FDEs whose CIE marks them as signal frames (augmentation `S`): the sigreturn
    /// trampolines a handler returns into, such as glibc's `__restore_rt`, found without any symbol. glibc starts
    /// that FDE one byte before the trampoline, so that unwinders looking up `return address - 1` still land in it.
    /// One row per FDE, at its start: what libdw reports there holds for the whole FDE.
    ///
    /// Files without an `S` CIE are answered from `.eh_frame`'s CIEs alone; the others are walked through a CFI
    /// handle of their own, ended when the walk is, so that the lookups do not stay cached in `cfi`.
    func signalFrameRanges() -> [Range<UInt64>] {
        guard let section = handle.section(named: ".eh_frame"), let bytes = handle.bytes(of: section),
            EhFrameCIEs.hasSignalFrame(bytes), let starts = fdeStarts(), let scan = dwarf_getcfi_elf(handle.elf)
        else { return [] }
        defer { dwarf_cfi_end(scan) }
        var found: [Range<UInt64>] = []
        for start in starts {
            var frame: OpaquePointer? = nil
            guard dwarf_cfi_addrframe(scan, start, &frame) == 0, let frame else { continue }
            defer { free(UnsafeMutableRawPointer(frame)) }
            var low: Dwarf_Addr = 0
            var high: Dwarf_Addr = 0
            var signal = false
            guard dwarf_frame_info(frame, &low, &high, &signal) >= 0, signal, high > start,
                high - start <= Self.longestRow
            else { continue }
            found.append(start..<high)
        }
        return found
    }

    /// The link-time starts of every FDE, ascending, from `.eh_frame_hdr`'s table; nil when the section is missing
    /// or encoded otherwise than linkers write it (`datarel|sdata4` pairs).
    func fdeStarts() -> [UInt64]? {
        guard let section = handle.section(named: ".eh_frame_hdr"), let bytes = handle.bytes(of: section),
            bytes.count >= 4, bytes[0] == 1, bytes[3] == 0x3b
        else { return nil }
        func size(_ encoding: UInt8) -> Int? {
            switch encoding & 0x0f {
            case 0x03, 0x0b: 4
            case 0x04, 0x0c: 8
            default: nil
            }
        }
        guard let pointerSize = size(bytes[1]), let countSize = size(bytes[2]) else { return nil }
        let countAt = 4 + pointerSize
        guard let count = bytes.littleEndian(at: countAt, size: countSize), count < 1 << 24 else { return nil }
        let tableAt = countAt + countSize
        let base = section.header.sh_addr
        var starts: [UInt64] = []
        starts.reserveCapacity(Int(count))
        for i in 0..<Int(count) {
            guard let raw = bytes.littleEndian(at: tableAt + i * 8, size: 4) else { return nil }
            let relative = Int64(Int32(truncatingIfNeeded: raw))
            starts.append(base &+ UInt64(bitPattern: relative))
        }
        starts.sort()
        return starts
    }
}
