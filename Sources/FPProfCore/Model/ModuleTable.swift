/// Interns modules so that a normalized frame fits in one word: the module's index in the top 16 bits and the
/// file offset in the low 48. Aggregation then hashes plain word arrays instead of strings.
public struct ModuleTable: Sendable {
    public private(set) var modules: [ModuleID] = []
    private var indexByModule: [ModuleID: Int] = [:]

    /// Module 0 stands for "no mapping": its frames carry the absolute address instead of an offset.
    public static let unmapped = 0
    public static let offsetBits: UInt64 = 48
    public static let offsetMask: UInt64 = (1 << offsetBits) - 1

    public init() {
        modules.append(ModuleID(path: "[unknown]"))
    }

    /// How many distinct modules a packed frame can name: the index has the 16 bits above the offset.
    public static let capacity = 1 << (64 - Int(offsetBits))
    /// Modules refused because the table was full (counted per `intern` call, so a module asked for twice counts
    /// twice): their frames are packed with `unmapped`, never with another module's index.
    public private(set) var refused = 0

    /// The module's index; `unmapped` once `capacity` modules are interned, counted in `refused`, so that a frame
    /// is never given to the wrong module (the index must not wrap).
    public mutating func intern(_ module: ModuleID) -> Int {
        if let i = indexByModule[module] { return i }
        guard modules.count < Self.capacity else {
            refused += 1
            return Self.unmapped
        }
        let i = modules.count
        modules.append(module)
        indexByModule[module] = i
        return i
    }

    /// The kernel's module: its frames carry the absolute address in the low 48 bits; the high 16 bits of a
    /// kernel address are all ones and are put back by `kernelAddress(_:)`.
    public static let kernelPath = "[kernel.kallsyms]"

    @inlinable public static func kernelAddress(_ offset: UInt64) -> UInt64 { offset | ~offsetMask }

    @inlinable public static func pack(module: Int, offset: UInt64) -> UInt64 {
        UInt64(truncatingIfNeeded: module) << offsetBits | (offset & offsetMask)
    }

    @inlinable public static func unpack(_ frame: UInt64) -> (module: Int, offset: UInt64) {
        (Int(frame >> offsetBits), frame & offsetMask)
    }
}
