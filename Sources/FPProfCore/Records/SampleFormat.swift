/// The `PERF_SAMPLE_*` bits fpprof understands, in the kernel's bit order. The order of fields inside a
/// `PERF_RECORD_SAMPLE` follows these bits, so the decoder needs the exact set the event was opened with.
public struct SampleFields: OptionSet, Hashable, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let ip = SampleFields(rawValue: 1 << 0)
    public static let tid = SampleFields(rawValue: 1 << 1)
    public static let time = SampleFields(rawValue: 1 << 2)
    public static let addr = SampleFields(rawValue: 1 << 3)
    public static let read = SampleFields(rawValue: 1 << 4)
    public static let callchain = SampleFields(rawValue: 1 << 5)
    public static let id = SampleFields(rawValue: 1 << 6)
    public static let cpu = SampleFields(rawValue: 1 << 7)
    public static let period = SampleFields(rawValue: 1 << 8)
    public static let streamID = SampleFields(rawValue: 1 << 9)
    public static let raw = SampleFields(rawValue: 1 << 10)
    public static let branchStack = SampleFields(rawValue: 1 << 11)
    public static let regsUser = SampleFields(rawValue: 1 << 12)
    public static let stackUser = SampleFields(rawValue: 1 << 13)
    public static let identifier = SampleFields(rawValue: 1 << 16)

    /// What `fpprof record` asks for: enough to unwind in user space and to compare with the kernel's chain.
    public static let profiling: SampleFields = [
        .ip, .tid, .time, .cpu, .period, .callchain, .regsUser, .stackUser,
    ]

    /// The fields this decoder can walk over. Others (READ, RAW, BRANCH_STACK, ...) change the layout in ways
    /// that depend on further attributes, so a format that holds them is refused up front.
    public static let supported: SampleFields = [
        .ip, .tid, .time, .addr, .callchain, .id, .cpu, .period, .streamID, .regsUser, .stackUser, .identifier,
    ]
}

/// Everything besides the record bytes that decides how a record is laid out: what `perf_event_attr` said.
public struct RecordFormat: Hashable, Sendable {
    public var sampleFields: SampleFields
    /// `sample_regs_user`: one bit per register in `asm/perf_regs.h` order; the record holds one word per bit set.
    public var userRegisterMask: UInt64
    /// `sample_id_all`: side-band records end with the TID/TIME/ID/STREAM_ID/CPU/IDENTIFIER subset of the fields.
    public var sampleIDAll: Bool

    public init(sampleFields: SampleFields, userRegisterMask: UInt64, sampleIDAll: Bool) {
        self.sampleFields = sampleFields
        self.userRegisterMask = userRegisterMask
        self.sampleIDAll = sampleIDAll
    }

    /// The format `fpprof record` opens its events with on x86-64.
    public static let amd64Profiling = RecordFormat(
        sampleFields: .profiling, userRegisterMask: X86Registers.sampledMask, sampleIDAll: true)

    /// Number of register words a sample carries.
    @inlinable public var userRegisterCount: Int { userRegisterMask.nonzeroBitCount }
}

/// x86-64 user registers in the kernel's `perf_regs.h` numbering.
public enum X86Registers {
    public static let ax = 0, bx = 1, cx = 2, dx = 3, si = 4, di = 5, bp = 6, sp = 7, ip = 8, flags = 9
    public static let cs = 10, ss = 11, ds = 12, es = 13, fs = 14, gs = 15
    public static let r8 = 16, r9 = 17, r10 = 18, r11 = 19, r12 = 20, r13 = 21, r14 = 22, r15 = 23

    /// Every general register but DS, ES, FS and GS, which the kernel refuses on x86-64 (EINVAL).
    public static let sampledMask: UInt64 = 0xff0fff

    /// This numbering of each DWARF register of x86-64 (0 RAX, 1 RDX, 2 RCX, 3 RBX, 4 RSI, 5 RDI, 6 RBP, 7 RSP,
    /// 8-15 R8-R15), for a CFA rule on one of them (`CallFrameRule.register`).
    private static let byDwarfNumber = [ax, dx, cx, bx, si, di, bp, sp, r8, r9, r10, r11, r12, r13, r14, r15]

    /// The number of DWARF register `dwarf`, nil past R15.
    public static func number(dwarf: UInt8) -> Int? {
        Int(dwarf) < byDwarfNumber.count ? byDwarfNumber[Int(dwarf)] : nil
    }
}
