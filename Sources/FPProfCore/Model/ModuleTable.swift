/// Interns modules so that a normalized frame fits in one word: the module's index in the top 16 bits and the
/// file offset in the low 48. Aggregation then hashes plain word arrays instead of strings.
///
/// Bounded by the modules live at once, not by the modules ever seen: JIT code is one module per process, so a
/// long recording meets far more than 16 bits can name. The owner releases the modules no live mapping and no
/// window still being built refers to (`release(keeping:)`, at a window's cut, after the window took its own copy
/// of the table) and their indexes are given to the next new modules. An index therefore names one module within
/// one window's copy, never two.
public struct ModuleTable: Sendable {
    public private(set) var modules: [ModuleID] = []
    private var indexByModule: [ModuleID: Int] = [:]
    /// Released indexes, reused before the table grows; smallest last, so that the table stays dense at its start
    /// and `release` can trim a free tail.
    private var free: [Int] = []

    /// Module 0 stands for "no mapping": its frames carry the absolute address instead of an offset.
    public static let unmapped = 0
    public static let offsetBits: UInt64 = 48
    public static let offsetMask: UInt64 = (1 << offsetBits) - 1
    /// What a released slot holds until it is reused: no frame of a window cut after the release refers to it.
    public static let releasedPath = "[released]"

    public init() {
        modules.append(ModuleID(path: "[unknown]"))
    }

    /// How many distinct modules a packed frame can name: the index has the 16 bits above the offset.
    public static let capacity = 1 << (64 - Int(offsetBits))
    /// Modules refused because the table was full (counted per `intern` call, so a module asked for twice counts
    /// twice): their frames are packed with `unmapped`, never with another module's index.
    public private(set) var refused = 0

    /// Modules interned and not released (`unmapped` not counted): what the daemon exports as tracked modules.
    public var liveCount: Int { modules.count - 1 - free.count }

    /// The module's index; `unmapped` once `capacity` modules are live at once, counted in `refused`, so that a
    /// frame is never given to the wrong module (the index must not wrap).
    public mutating func intern(_ module: ModuleID) -> Int {
        if let i = indexByModule[module] { return i }
        let i: Int
        if let reused = free.popLast() {
            i = reused
            modules[i] = module
        } else {
            guard modules.count < Self.capacity else {
                refused += 1
                return Self.unmapped
            }
            i = modules.count
            modules.append(module)
        }
        indexByModule[module] = i
        return i
    }

    /// Releases every module whose index is not in `live` (`unmapped` always stays) and returns the released
    /// indexes. The caller must have dropped everything that refers to them: mappings, caches keyed by packed
    /// frames, stacks of the window being built.
    @discardableResult
    public mutating func release(keeping live: Set<Int>) -> [Int] {
        var released: [Int] = []
        for (module, i) in indexByModule where !live.contains(i) {
            indexByModule[module] = nil
            modules[i] = ModuleID(path: Self.releasedPath)
            released.append(i)
        }
        guard !released.isEmpty else { return [] }
        free += released
        // A free tail is dropped: the table is as long as the highest live index.
        let freeSet = Set(free)
        while modules.count > 1, freeSet.contains(modules.count - 1) { modules.removeLast() }
        free = free.filter { $0 < modules.count }.sorted(by: >)
        return released
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
