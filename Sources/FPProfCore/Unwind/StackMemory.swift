/// Memory the unwinder may read. A sample's own stack copy is one; a live process (for goroutine stacks outside
/// the copy) or a core dump can be others.
public protocol StackMemory {
    /// The 8-byte little-endian word at `address`, or nil when that memory is not available.
    func word(at address: UInt64) -> UInt64?
}

/// The user stack the kernel copied with a sample: `bytes` start at the sampled SP.
public struct StackCopy: StackMemory {
    public let base: UInt64
    public let bytes: ArraySlice<UInt8>

    @inlinable public init(base: UInt64, bytes: ArraySlice<UInt8>) {
        self.base = base
        self.bytes = bytes
    }

    @inlinable public func word(at address: UInt64) -> UInt64? {
        guard address >= base else { return nil }
        let offset = address &- base
        guard offset <= UInt64(bytes.count), UInt64(bytes.count) - offset >= 8 else { return nil }
        return bytes.span.bytes.unsafeLoadUnaligned(fromByteOffset: Int(offset), as: UInt64.self).littleEndian
    }
}

/// What the unwinder needs to know about an address in the sampled process.
public enum CodeKind: Sendable {
    /// Not inside any executable mapping.
    case none
    case code
    /// Code that ends a stack: the walk stops after this frame, complete.
    case root
    /// Code that runs on another stack than its caller (`runtime.systemstack`): the next record may lie below.
    case stackSwitch
}

public protocol CodeMap {
    func classify(_ address: UInt64) -> CodeKind
    /// The same, with `hint` carried from one call to the next: a walk asks about neighbouring addresses, and a
    /// map that can say "same place as last time" skips its search.
    func classify(_ address: UInt64, hint: inout Int) -> CodeKind
}

extension CodeMap {
    @inlinable public func classify(_ address: UInt64, hint: inout Int) -> CodeKind { classify(address) }
}

extension ProcessMap: CodeMap {
    @inlinable public func classify(_ address: UInt64) -> CodeKind {
        var hint = -1
        return classify(address, hint: &hint)
    }

    /// `hint` is the index of the mapping of the previous answer: checked first, searched only on a miss. Reads only
    /// the flat `bounds` and `special` arrays (no reference counting); most addresses lie outside every special
    /// range of their mapping, and then the answer is `.code` after four compares.
    @inlinable public func classify(_ address: UInt64, hint: inout Int) -> CodeKind {
        let b: MappingBounds
        if hint >= 0, hint < bounds.count, bounds[hint].contains(address) {
            b = bounds[hint]
        } else {
            guard let found = index(of: address) else { return .none }
            hint = found
            b = bounds[found]
        }
        if address < b.specialLow || address >= b.specialHigh { return .code }
        // A root wins over a stack switch that overlaps it.
        var kind = CodeKind.code
        for j in b.special where special[j].contains(address) {
            if special[j].kind == .root { return .root }
            kind = .stackSwitch
        }
        return kind
    }
}
