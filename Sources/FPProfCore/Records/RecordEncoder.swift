/// Writes records in the kernel's layout. The sampler uses it to synthesize MMAP2/COMM records for what existed
/// before recording started (as `perf record` does), so that one decoder path builds every process map; the tests
/// use it for round trips.
public struct RecordEncoder: Sendable {
    public let format: RecordFormat

    public init(format: RecordFormat) { self.format = format }

    public func encode(_ record: PerfRecord) -> [UInt8] {
        var body = [UInt8]()
        let type: UInt32
        var misc: UInt16 = 0
        switch record {
        case .sample(let s):
            type = RecordType.sample
            misc = s.cpumode.rawValue
            encodeSample(s, into: &body)
        case .mmap2(let m):
            type = RecordType.mmap2
            misc = RecordMisc.user | (m.buildID != nil ? RecordMisc.mmapBuildID : 0)
            body.appendLittleEndian(UInt32(bitPattern: m.pid.rawValue))
            body.appendLittleEndian(UInt32(bitPattern: m.tid.rawValue))
            body.appendLittleEndian(m.start.rawValue)
            body.appendLittleEndian(m.length)
            body.appendLittleEndian(m.pageOffset.rawValue)
            if let id = m.buildID {
                let bytes = Array(id.bytes.prefix(20))
                body.append(UInt8(bytes.count))
                body.append(0)
                body.appendLittleEndian(UInt16(0))
                body += bytes + [UInt8](repeating: 0, count: 20 - bytes.count)
            } else {
                body.appendLittleEndian(m.major)
                body.appendLittleEndian(m.minor)
                body.appendLittleEndian(m.inode)
                body.appendLittleEndian(m.inodeGeneration)
            }
            body.appendLittleEndian(m.protection)
            body.appendLittleEndian(m.flags)
            appendCString(m.filename, to: &body)
            encodeSampleID(m.sampleID, into: &body)
        case .comm(let c):
            type = RecordType.comm
            misc = c.isExec ? RecordMisc.commExec : 0
            body.appendLittleEndian(UInt32(bitPattern: c.pid.rawValue))
            body.appendLittleEndian(UInt32(bitPattern: c.tid.rawValue))
            appendCString(c.name, to: &body)
            encodeSampleID(c.sampleID, into: &body)
        case .fork(let t), .exit(let t):
            if case .fork = record { type = RecordType.fork } else { type = RecordType.exit }
            body.appendLittleEndian(UInt32(bitPattern: t.pid.rawValue))
            body.appendLittleEndian(UInt32(bitPattern: t.parentPID.rawValue))
            body.appendLittleEndian(UInt32(bitPattern: t.tid.rawValue))
            body.appendLittleEndian(UInt32(bitPattern: t.parentTID.rawValue))
            body.appendLittleEndian(t.time)
            encodeSampleID(t.sampleID, into: &body)
        case .lost(let l):
            type = RecordType.lost
            body.appendLittleEndian(l.id)
            body.appendLittleEndian(l.count)
            encodeSampleID(l.sampleID, into: &body)
        case .other(let t):
            type = t
        }
        var out = [UInt8]()
        out.reserveCapacity(8 + body.count)
        out.appendLittleEndian(type)
        out.appendLittleEndian(misc)
        out.appendLittleEndian(UInt16(8 + body.count))
        out += body
        return out
    }

    private func appendCString(_ s: String, to body: inout [UInt8]) {
        body += Array(s.utf8)
        body.append(0)
        while body.count % 8 != 0 { body.append(0) }
    }

    private func encodeSampleID(_ id: SampleID, into body: inout [UInt8]) {
        guard format.sampleIDAll else { return }
        let f = format.sampleFields
        if f.contains(.tid) {
            body.appendLittleEndian(UInt32(bitPattern: id.pid?.rawValue ?? 0))
            body.appendLittleEndian(UInt32(bitPattern: id.tid?.rawValue ?? 0))
        }
        if f.contains(.time) { body.appendLittleEndian(id.time ?? 0) }
        if f.contains(.id) { body.appendLittleEndian(UInt64(0)) }
        if f.contains(.streamID) { body.appendLittleEndian(UInt64(0)) }
        if f.contains(.cpu) {
            body.appendLittleEndian(id.cpu ?? 0)
            body.appendLittleEndian(UInt32(0))
        }
        if f.contains(.identifier) { body.appendLittleEndian(UInt64(0)) }
    }

    private func encodeSample(_ s: Sample, into body: inout [UInt8]) {
        let f = format.sampleFields
        if f.contains(.identifier) { body.appendLittleEndian(s.id ?? 0) }
        if f.contains(.ip) { body.appendLittleEndian(s.ip?.rawValue ?? 0) }
        if f.contains(.tid) {
            body.appendLittleEndian(UInt32(bitPattern: s.pid?.rawValue ?? 0))
            body.appendLittleEndian(UInt32(bitPattern: s.tid?.rawValue ?? 0))
        }
        if f.contains(.time) { body.appendLittleEndian(s.time ?? 0) }
        if f.contains(.addr) { body.appendLittleEndian(s.addr ?? 0) }
        if f.contains(.id) { body.appendLittleEndian(s.id ?? 0) }
        if f.contains(.streamID) { body.appendLittleEndian(s.streamID ?? 0) }
        if f.contains(.cpu) {
            body.appendLittleEndian(s.cpu ?? 0)
            body.appendLittleEndian(UInt32(0))
        }
        if f.contains(.period) { body.appendLittleEndian(s.period ?? 0) }
        if f.contains(.callchain) {
            let chain = s.callchain ?? WordWindow([])
            body.appendLittleEndian(UInt64(chain.count))
            body += chain.bytes
        }
        if f.contains(.regsUser) {
            body.appendLittleEndian(s.userRegisterABI)
            if s.userRegisterABI != 0 {
                let regs = s.userRegisters ?? WordWindow([])
                body += regs.bytes.prefix(format.userRegisterCount * 8)
                for _ in regs.count..<max(regs.count, format.userRegisterCount) { body.appendLittleEndian(UInt64(0)) }
            }
        }
        if f.contains(.stackUser) {
            let stack = s.userStack ?? []
            let size = (stack.count + 7) / 8 * 8
            body.appendLittleEndian(UInt64(size))
            if size != 0 {
                body += stack
                body += [UInt8](repeating: 0, count: size - stack.count)
                body.appendLittleEndian(UInt64(stack.count))
            }
        }
    }
}
