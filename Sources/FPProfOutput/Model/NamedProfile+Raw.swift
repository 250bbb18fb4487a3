public import FPProfCore

extension NamedProfile {
    /// Names every frame of `raw` once (through `namer`, which caches per address) and keeps the structure pprof
    /// needs: one location per distinct packed frame, so two samples at the same address share it. Stacks are
    /// sorted, so the same recording always gives the same bytes.
    public init<S: Symbolizer>(raw: RawProfile, namer: inout FrameNamer<S>, metadata: ProfileMetadata) {
        self.init()
        self.metadata = metadata
        self.metadata.lostRecords = raw.stats.lostRecords
        modules = raw.modules.modules
        var functionIndex: [NamedFunction: Int] = [:]
        var locationIndex: [UInt64: Int] = [:]

        func location(_ packed: UInt64) -> Int {
            if let i = locationIndex[packed] { return i }
            let (module, offset) = ModuleTable.unpack(packed)
            let known = module != ModuleTable.unmapped && module < modules.count
            let symbolFrames = namer.frames(for: packed)
            let kind = Self.kind(of: symbolFrames, module: known ? modules[module] : nil, offset: offset)
            var lines: [LocationLine] = []
            lines.reserveCapacity(symbolFrames.count)
            for f in symbolFrames {
                let function = NamedFunction(name: f.function, file: f.file, kind: kind)
                let fi: Int
                if let i = functionIndex[function] {
                    fi = i
                } else {
                    fi = functions.count
                    functions.append(function)
                    functionIndex[function] = fi
                }
                lines.append(LocationLine(function: fi, line: f.line, isInlined: f.isInlined))
            }
            let i = locations.count
            locations.append(NamedLocation(module: known ? module : nil, offset: offset, lines: lines))
            locationIndex[packed] = i
            return i
        }

        let keys = raw.stacks.keys.sorted(by: Self.isOrdered)
        stacks.reserveCapacity(keys.count)
        for key in keys {
            let weight = raw.stacks[key]!
            let perThread = key.threadName >= 0
            stacks.append(
                NamedStack(
                    process: raw.names[Int(key.processName)], pid: key.pid.rawValue,
                    thread: perThread ? raw.names[Int(key.threadName)] : nil,
                    tid: perThread ? key.tid.rawValue : nil, goroutine: key.goroutine >= 0 ? key.goroutine : nil,
                    status: key.status,
                    locations: key.frames.reversed().map(location), samples: weight.samples, period: weight.period,
                    walkedByCFI: key.walkedByCFI))
        }
    }

    /// A total order on stack keys (the aggregation is a dictionary, whose order changes from run to run).
    static func isOrdered(_ a: StackKey, _ b: StackKey) -> Bool {
        if a.pid != b.pid { return a.pid < b.pid }
        if a.tid != b.tid { return a.tid < b.tid }
        if a.status != b.status { return a.status.rawValue < b.status.rawValue }
        if a.goroutine != b.goroutine { return a.goroutine < b.goroutine }
        if a.walkedByCFI != b.walkedByCFI { return !a.walkedByCFI }
        return a.frames.reversed().lexicographicallyPrecedes(b.frames.reversed())
    }

    /// Kernel code is told apart by its module; an address `FrameNamer` could only write as `module+0xOFFSET`
    /// (no symbol, no file) is unknown code, which the flamegraph greys out.
    static func kind(of frames: [SymbolFrame], module: ModuleID?, offset: UInt64) -> FrameKind {
        if let module, module.path.hasPrefix("[kernel") { return .kernel }
        guard frames.count == 1, frames[0].file == nil else { return .code }
        let hex = "+0x" + String(offset, radix: 16)
        let placeholder = (module?.shortName ?? "[unknown]") + hex
        return frames[0].function == placeholder ? .unknown : .code
    }
}
