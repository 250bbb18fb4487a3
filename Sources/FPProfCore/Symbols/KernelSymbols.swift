/// Kernel function names from `/proc/kallsyms` text (`ffffffff81000000 T _stext`), for `--kernel`. Parsing is
/// pure; the caller reads the file (as root: for others the kernel shows every address as 0).
public struct KernelSymbols: Sendable {
    private var starts: [UInt64] = []
    private var names: [String] = []

    public init(kallsyms text: String) {
        var entries: [(UInt64, String)] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
            guard fields.count >= 3, let address = UInt64(fields[0], radix: 16), address != 0 else { continue }
            // Text symbols only: t/T (and weak w/W) name code.
            guard let kind = fields[1].first, "tTwW".contains(kind) else { continue }
            var name = String(fields[2])
            if fields.count == 4, fields[3].hasPrefix("[") { name += " " + fields[3] }
            entries.append((address, name))
        }
        entries.sort { $0.0 < $1.0 }
        starts = entries.map(\.0)
        names = entries.map(\.1)
    }

    public var isEmpty: Bool { starts.isEmpty }

    /// The function whose start is the nearest at or below `address`.
    public func name(at address: UInt64) -> String? {
        let above = starts.upperBound(address)
        return above == 0 ? nil : names[above - 1]
    }
}

/// A symbolizer that answers kernel frames from `KernelSymbols` and everything else from `base`.
public struct KernelAwareSymbolizer<Base: Symbolizer>: Symbolizer {
    public var base: Base
    public let kernel: KernelSymbols

    public init(base: Base, kernel: KernelSymbols) {
        self.base = base
        self.kernel = kernel
    }

    public mutating func frames(for address: NormalizedAddress) -> [SymbolFrame] {
        guard address.module.path == ModuleTable.kernelPath else { return base.frames(for: address) }
        let absolute = ModuleTable.kernelAddress(address.offset.rawValue)
        let name = kernel.name(at: absolute) ?? "[kernel]+0x\(String(absolute, radix: 16))"
        return [SymbolFrame(function: name, isKernel: true)]
    }
}
