/// The call instruction that ends right before a return address, when it is a direct one: its target is then known
/// from the code alone. Used to name the caller a frameless stack switch hides (see `StackSwitchRepair`).
///
/// x86-64 only: a near direct call is `E8` and a 32-bit displacement from the next instruction, five bytes that end
/// at the return address. Indirect calls (`FF /2`: closures, interface methods) carry no target and give nil; arm64
/// (`BL imm26`) is not decoded yet.
enum DirectCall {
    static let length = 5
    static let opcode: UInt8 = 0xE8

    /// The displacement of the call whose five bytes are `bytes`, or nil when they are not `E8 rel32`.
    static func displacement(_ bytes: ArraySlice<UInt8>) -> Int64? {
        guard bytes.count == length else { return nil }
        let b = bytes.startIndex
        guard bytes[b] == opcode else { return nil }
        let raw =
            UInt32(bytes[b + 1]) | UInt32(bytes[b + 2]) << 8 | UInt32(bytes[b + 3]) << 16 | UInt32(bytes[b + 4]) << 24
        return Int64(Int32(bitPattern: raw))
    }

    /// The targets of every `E8 rel32` in `code` (loaded at `address`). A byte scan, not a disassembly: an `E8`
    /// inside another instruction adds a target too, which only matters if it happens to equal the one asked for.
    static func targets(in code: ArraySlice<UInt8>, at address: UInt64) -> Set<UInt64> {
        var targets = Set<UInt64>()
        var i = code.startIndex
        while i + length <= code.endIndex {
            if let d = displacement(code[i..<(i + length)]) {
                targets.insert(address &+ UInt64(i - code.startIndex + length) &+ UInt64(bitPattern: d))
            }
            i += 1
        }
        return targets
    }
}
