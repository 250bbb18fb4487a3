import FPProfCore
import SwiftProtobuf

/// Serializing the protobuf failed; swift-protobuf only does for malformed messages, so this is a bug report.
public struct PprofEncodingError: Error, CustomStringConvertible {
    public var description: String
}

/// Writes pprof's gzipped `profile.proto`, the format `go tool pprof` reads.
///
/// Mapping of fpprof's model onto pprof:
/// - Sample values `samples/count`, then `cpu/nanoseconds` (the summed periods) when the event counts time
///   (`cycles/count` for a cycles event); folded input has counts only.
/// - One mapping per module, with its path and build-id. fpprof knows each address as (module, file offset),
///   not where each process had the file, so mapping *i* is placed at `i << 48` with file offset 0: a location's
///   address minus its mapping's start is the file offset, which is what pprof needs to re-symbolize or
///   disassemble from the binary (it works out the ELF base from the program headers itself).
/// - One location per distinct (module, offset); its inline chain as several `Line`s, innermost first.
/// - Functions de-duplicated by (name, file). Unwind markers (`[fp-loop]`, ...) are functions and locations of
///   their own at the root end of the stack, so `go tool pprof` shows them like the flamegraph does.
/// - Labels `pid`, `process`, when split per thread `tid` and `thread`, when split per goroutine `goroutine`;
///   `unwind` names the status of flagged samples. Comments give the event and frequency.
public enum PprofWriter {
    public static func encode(_ profile: NamedProfile) throws(PprofEncodingError) -> [UInt8] {
        let message = self.message(profile)
        let bytes: [UInt8]
        do { bytes = try message.serializedBytes() } catch {
            throw PprofEncodingError(description: "cannot encode the pprof profile: \(error)")
        }
        do { return try Gzip.compress(bytes) } catch {
            throw PprofEncodingError(description: "cannot encode the pprof profile: \(error)")
        }
    }

    static func message(_ profile: NamedProfile) -> Perftools_Profiles_Profile {
        var strings = StringTable()
        var p = Perftools_Profiles_Profile()
        let meta = profile.metadata
        let hasPeriods = meta.event != nil

        func valueType(_ type: String, _ unit: String) -> Perftools_Profiles_ValueType {
            var v = Perftools_Profiles_ValueType()
            v.type = strings(type)
            v.unit = strings(unit)
            return v
        }
        p.sampleType = [valueType("samples", "count")]
        if let event = meta.event {
            let periodType = meta.periodIsNanoseconds ? valueType("cpu", "nanoseconds") : valueType(event, "count")
            p.sampleType.append(periodType)
            p.periodType = periodType
            if meta.periodIsNanoseconds, let f = meta.frequency, f > 0 {
                p.period = 1_000_000_000 / Int64(f)
            } else if profile.totalSamples > 0 {
                p.period = Int64(clamping: profile.totalPeriod / UInt64(profile.totalSamples))
            }
        }
        p.timeNanos = meta.startNanos ?? 0
        p.durationNanos = meta.durationNanos ?? 0

        // Mappings, main binary first.
        let order = mappingOrder(profile)
        var mappingID: [Int: UInt64] = [:]
        for (n, module) in order.enumerated() { mappingID[module] = UInt64(n + 1) }
        var limits: [Int: UInt64] = [:]
        for location in profile.locations {
            guard let m = location.module else { continue }
            limits[m] = max(limits[m] ?? 0, location.offset + 1)
        }
        for module in order {
            let id = profile.modules[module]
            let start = UInt64(module) << ModuleTable.offsetBits
            var m = Perftools_Profiles_Mapping()
            m.id = mappingID[module]!
            m.memoryStart = start
            m.memoryLimit = start + ((limits[module] ?? 1) + 0xfff) & ~0xfff
            m.fileOffset = 0
            m.filename = strings(id.path)
            if let build = id.buildID { m.buildID = strings(build.description) }
            let lines = profile.locations.filter { $0.module == module }.flatMap(\.lines)
            m.hasFunctions_p = true
            m.hasFilenames_p = lines.contains { profile.functions[$0.function].file != nil }
            m.hasLineNumbers_p = lines.contains { $0.line != nil }
            m.hasInlineFrames_p = lines.contains(where: \.isInlined)
            p.mapping.append(m)
        }

        for (i, f) in profile.functions.enumerated() {
            var fn = Perftools_Profiles_Function()
            fn.id = UInt64(i + 1)
            fn.name = strings(f.name)
            fn.systemName = fn.name
            if let file = f.file { fn.filename = strings(file) }
            p.function.append(fn)
        }
        for (i, l) in profile.locations.enumerated() {
            var loc = Perftools_Profiles_Location()
            loc.id = UInt64(i + 1)
            if let m = l.module {
                loc.mappingID = mappingID[m]!
                loc.address = UInt64(m) << ModuleTable.offsetBits + l.offset
            } else {
                loc.address = l.offset
            }
            loc.line = l.lines.reversed().map { line in
                var pl = Perftools_Profiles_Line()
                pl.functionID = UInt64(line.function + 1)
                pl.line = Int64(line.line ?? 0)
                return pl
            }
            p.location.append(loc)
        }

        // A synthetic function and location per unwind marker, added on first use.
        var markerLocation: [UnwindStatus: UInt64] = [:]
        func marker(_ status: UnwindStatus) -> UInt64 {
            if let id = markerLocation[status] { return id }
            var fn = Perftools_Profiles_Function()
            fn.id = UInt64(p.function.count + 1)
            fn.name = strings(status.marker!)
            fn.systemName = fn.name
            p.function.append(fn)
            var loc = Perftools_Profiles_Location()
            loc.id = UInt64(p.location.count + 1)
            var line = Perftools_Profiles_Line()
            line.functionID = fn.id
            loc.line = [line]
            p.location.append(loc)
            markerLocation[status] = loc.id
            return loc.id
        }

        func label(_ key: String, str: String) -> Perftools_Profiles_Label {
            var l = Perftools_Profiles_Label()
            l.key = strings(key)
            l.str = strings(str)
            return l
        }
        func label(_ key: String, num: Int64) -> Perftools_Profiles_Label {
            var l = Perftools_Profiles_Label()
            l.key = strings(key)
            l.num = num
            return l
        }
        for stack in profile.stacks {
            var s = Perftools_Profiles_Sample()
            s.locationID = stack.locations.reversed().map { UInt64($0 + 1) }
            if stack.status != .complete { s.locationID.append(marker(stack.status)) }
            s.value = [Int64(stack.samples)]
            if hasPeriods { s.value.append(Int64(clamping: stack.period)) }
            if let pid = stack.pid { s.label.append(label("pid", num: Int64(pid))) }
            s.label.append(label("process", str: stack.process))
            if let tid = stack.tid { s.label.append(label("tid", num: Int64(tid))) }
            if let thread = stack.thread { s.label.append(label("thread", str: thread)) }
            if let goroutine = stack.goroutine { s.label.append(label("goroutine", num: goroutine)) }
            if stack.status != .complete { s.label.append(label("unwind", str: stack.status.description)) }
            // Only the samples that needed CFI are labelled: `-tagfocus=walked=cfi` selects them.
            if stack.walkedByCFI { s.label.append(label("walked", str: "cfi")) }
            p.sample.append(s)
        }

        var comments = ["fpprof"]
        if let event = meta.event {
            comments.append("event: \(event)" + (meta.frequency.map { " at \($0) Hz" } ?? ""))
        }
        if meta.lostRecords > 0 { comments.append("lost records: \(meta.lostRecords)") }
        comments.append(unwindSummary(profile))
        comments += meta.comments
        p.comment = comments.map { strings($0) }
        p.stringTable = strings.strings
        return p
    }

    /// `unwind: complete 990 (99.0%), self-loop 10 (1.0%)`: how far the profile can be trusted, in the header.
    static func unwindSummary(_ profile: NamedProfile) -> String {
        var counts: [UnwindStatus: Int] = [:]
        for s in profile.stacks { counts[s.status, default: 0] += s.samples }
        let total = max(profile.totalSamples, 1)
        let parts = UnwindStatus.allCases.compactMap { status -> String? in
            let n = counts[status, default: 0]
            guard n > 0 || status == .complete else { return nil }
            // In floating point: `n * 1000` passes Int.max for the counts folded input may hold (up to Int.max).
            let tenths = Int((Double(n) * 1000 / Double(total)).rounded())
            return "\(status) \(n) (\(tenths / 10).\(tenths % 10)%)"
        }
        let cfi = profile.stacks.reduce(0) { $0 + ($1.walkedByCFI ? $1.samples : 0) }
        // Written only when CFI was needed: a profile walked by frame records alone reads as it always did.
        let walked = cfi > 0 ? "; walked by frame pointers alone \(profile.totalSamples - cfi), with CFI \(cfi)" : ""
        return "unwind: " + parts.joined(separator: ", ") + walked
    }

    /// The modules locations use, the main binary first (pprof's convention for mapping[0]): the most sampled
    /// module named like a process (comm is the executable's name cut to 15 bytes), else the most sampled.
    static func mappingOrder(_ profile: NamedProfile) -> [Int] {
        var weight: [Int: Int] = [:]
        var processes: Set<String> = []
        for stack in profile.stacks {
            processes.insert(stack.process)
            var seen: Set<Int> = []
            for l in stack.locations {
                if let m = profile.locations[l].module, seen.insert(m).inserted {
                    weight[m, default: 0] += stack.samples
                }
            }
        }
        for l in profile.locations { if let m = l.module, weight[m] == nil { weight[m] = 0 } }
        func isExecutable(_ m: Int) -> Bool {
            let name = profile.modules[m].shortName
            return processes.contains { p in name == p || (p.utf8.count == 15 && name.hasPrefix(p)) }
        }
        return weight.keys.sorted { a, b in
            let (ea, eb) = (isExecutable(a), isExecutable(b))
            if ea != eb { return ea }
            if weight[a]! != weight[b]! { return weight[a]! > weight[b]! }
            return a < b
        }
    }
}
