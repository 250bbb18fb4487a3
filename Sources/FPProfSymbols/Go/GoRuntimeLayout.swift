internal import CElfutils
internal import FPProfCore

/// Where a Go binary keeps the fields of `runtime.g` that name and bound a goroutine, and those of `runtime.m` that
/// lead from a thread's g0 or signal goroutine to the goroutine it runs for: byte offsets from the `g` (or `m`)
/// pointer. Go's ABIInternal code holds the current `g` in R14 on amd64.
public struct GoRuntimeLayout: Hashable, Sendable {
    /// `g.goid` (an int64 in Go 1.19; a uint64 from Go 1.20 on).
    public var goid: Int
    /// `g.stack.lo` and `g.stack.hi`: the goroutine's stack is `[lo, hi)`.
    public var stackLo: Int
    public var stackHi: Int
    /// `g.m`, and in `runtime.m`: `g0`, `gsignal` and `curg` (the user goroutine the thread runs, or nil).
    public var m: Int
    public var mG0: Int
    public var mGsignal: Int
    public var mCurg: Int
    /// `g.sched.g`: the scheduler's saved context of a goroutine names the goroutine itself (set when it is made,
    /// kept for life), so a pointer that is a `g` points at itself there, running or not.
    public var schedG: Int

    public init(
        goid: Int, stackLo: Int, stackHi: Int, m: Int, mG0: Int, mGsignal: Int, mCurg: Int, schedG: Int = 72
    ) {
        self.goid = goid
        self.stackLo = stackLo
        self.stackHi = stackHi
        self.m = m
        self.mG0 = mG0
        self.mGsignal = mGsignal
        self.mCurg = mCurg
        self.schedG = schedG
    }

    /// Go 1.19 on amd64 (`runtime/runtime2.go`), checked against the DWARF of a Debian Go 1.19.8 build: for Go
    /// binaries without DWARF (`-ldflags=-w`, stripped).
    public static let go119amd64 = GoRuntimeLayout(
        goid: 152, stackLo: 0, stackHi: 8, m: 48, mG0: 0, mGsignal: 80, mCurg: 192, schedG: 72)

    /// The layout from the DWARF types `runtime.g` and `runtime.m` of the file at `path`: nil when the file has no
    /// DWARF or lacks one of the types or fields.
    static func fromDwarf(path: String) -> GoRuntimeLayout? {
        guard let session = DwflSession(path: path), let dwarf = session.dwarf else { return nil }
        defer { withExtendedLifetime(session) {} }
        var g: [String: Int]?
        var m: [String: Int]?
        var cu: OpaquePointer? = nil
        var next: OpaquePointer? = nil
        var version: Dwarf_Half = 0
        var unitType: UInt8 = 0
        var unitDie = Dwarf_Die()
        // Invariant: every DIE read here belongs to `dwarf`, which `session` keeps alive until the function returns.
        search: while dwarf_get_units(dwarf, cu, &next, &version, &unitType, &unitDie, nil) == 0 {
            cu = next
            var child = Dwarf_Die()
            var more = dwarf_child(&unitDie, &child) == 0
            while more {
                if dwarf_tag(&child) == structureType, let cName = dwarf_diename(&child) {
                    let name = String(cString: cName)
                    if name == "runtime.g" && g == nil {
                        g = memberOffsets(of: &child, named: ["goid", "stack", "m", "sched"])
                    } else if name == "runtime.m" && m == nil {
                        m = memberOffsets(of: &child, named: ["g0", "gsignal", "curg"])
                    }
                    if g != nil && m != nil { break search }
                }
                var current = child
                more = dwarf_siblingof(&current, &child) == 0
            }
        }
        guard let g, let goid = g["goid"], let stack = g["stack"], let gm = g["m"], let sched = g["sched"], let m,
            let g0 = m["g0"], let gsignal = m["gsignal"], let curg = m["curg"]
        else { return nil }
        // `runtime.stack` is `struct { lo, hi uintptr }`; `runtime.gobuf` starts `sp, pc, g`.
        return GoRuntimeLayout(
            goid: goid, stackLo: stack, stackHi: stack + 8, m: gm, mG0: g0, mGsignal: gsignal, mCurg: curg,
            schedG: sched + 16)
    }

    private static let structureType: Int32 = 0x13
    private static let member: Int32 = 0x0d
    private static let dataMemberLocation: UInt32 = 0x38

    private static func memberOffsets(of die: inout Dwarf_Die, named names: Set<String>) -> [String: Int] {
        var offsets: [String: Int] = [:]
        var child = Dwarf_Die()
        var more = dwarf_child(&die, &child) == 0
        while more {
            if dwarf_tag(&child) == member, let cName = dwarf_diename(&child) {
                let name = String(cString: cName)
                var attribute = Dwarf_Attribute()
                var value: Dwarf_Word = 0
                if names.contains(name), dwarf_attr(&child, dataMemberLocation, &attribute) != nil,
                    dwarf_formudata(&attribute, &value) == 0
                {
                    offsets[name] = Int(value)
                }
            }
            var current = child
            more = dwarf_siblingof(&current, &child) == 0
        }
        return offsets
    }
}

extension LoadedModule {
    /// Whether the file is a Go binary (it has `.gopclntab`), and if so its `runtime.g` layout: from its DWARF, else
    /// the Go 1.19 amd64 table.
    func readGoRuntimeLayout() -> GoRuntimeLayout? {
        guard let file, let handle = try? ElfHandle(path: file.path), handle.section(named: ".gopclntab") != nil
        else { return nil }
        return GoRuntimeLayout.fromDwarf(path: file.path) ?? .go119amd64
    }
}
