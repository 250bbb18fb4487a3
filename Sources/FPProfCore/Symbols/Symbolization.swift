/// The seam between the pure pipeline and the symbolizer edge (libelf/libdw). Addresses are normalized first,
/// while the process map is known (absolute address -> module + file offset); symbolization of those happens
/// later, in batches, and may run long after the process is gone.

/// A file mapped into some process, identified by the path the process saw and, where known, its build-id.
public struct ModuleID: Hashable, Sendable, CustomStringConvertible {
    /// The path in the target's mount namespace, as MMAP2 or /proc/PID/maps gave it.
    public var path: String
    public var buildID: BuildID?
    /// A process that maps (or mapped) the file: lets the edge reach it through /proc/PID/root or map_files.
    public var pidHint: ProcessID?

    public init(path: String, buildID: BuildID? = nil, pidHint: ProcessID? = nil) {
        self.path = path
        self.buildID = buildID
        self.pidHint = pidHint
    }

    /// The module's file name, as written in `module+0xOFFSET` frames.
    public var shortName: String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// The path of anonymous executable memory, JIT code: what MMAP2 says (and what fpprof writes for an
    /// empty path in /proc/PID/maps). Such a module is private to its process, so `pidHint` is part of its
    /// identity, and its offsets are the process's own addresses (see `ProcessTable`).
    public static let anonymousPath = "//anon"

    public var isAnonymous: Bool { path == Self.anonymousPath }

    /// Files are the same module in every process that maps them; anonymous memory is one per process.
    public static func == (a: Self, b: Self) -> Bool {
        a.path == b.path && a.buildID == b.buildID && (!a.isAnonymous || a.pidHint == b.pidHint)
    }
    public func hash(into h: inout Hasher) {
        h.combine(path)
        h.combine(buildID)
        if isAnonymous { h.combine(pidHint) }
    }
    public var description: String { path }
}

/// An address once its mapping is known: which file, and where in that file.
public struct NormalizedAddress: Hashable, Sendable {
    public var module: ModuleID
    public var offset: FileOffset
    public init(module: ModuleID, offset: FileOffset) {
        self.module = module
        self.offset = offset
    }
}

/// One frame a symbolizer found for an address. An address inside inlined code yields several: the outermost
/// (the real, non-inlined function) first, then each inlined call, innermost last.
public struct SymbolFrame: Hashable, Sendable {
    public var function: String
    public var isInlined: Bool
    /// A kernel function (from the kernel's part of the callchain), written `name_[k]` in folded output.
    public var isKernel: Bool
    public var file: String?
    public var line: Int?

    public init(
        function: String, isInlined: Bool = false, file: String? = nil, line: Int? = nil, isKernel: Bool = false
    ) {
        self.function = function
        self.isInlined = isInlined
        self.isKernel = isKernel
        self.file = file
        self.line = line
    }
}

/// Turns normalized addresses into frames. Implementations cache; an empty answer means "no symbol covers it",
/// and the caller writes `module+0xOFFSET`. A caller's return address is looked up by the caller as `ret - 1`
/// before normalizing, so implementations see call sites, never the next instruction.
public protocol Symbolizer {
    mutating func frames(for address: NormalizedAddress) -> [SymbolFrame]
}
