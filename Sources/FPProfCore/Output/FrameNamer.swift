/// Turns packed frames into the names outputs print, asking the symbolizer once per distinct frame.
public struct FrameNamer<S: Symbolizer> {
    public var symbolizer: S
    public let modules: ModuleTable
    private var cache: [UInt64: [SymbolFrame]] = [:]

    public init(symbolizer: S, modules: ModuleTable) {
        self.symbolizer = symbolizer
        self.modules = modules
    }

    /// The frames of one packed address, outermost first. Never empty: an address no symbol covers becomes a
    /// single frame named `module+0xOFFSET`, so a user can still find it.
    public mutating func frames(for packed: UInt64) -> [SymbolFrame] {
        if let hit = cache[packed] { return hit }
        let (index, offset) = ModuleTable.unpack(packed)
        var result: [SymbolFrame] = []
        if index != ModuleTable.unmapped, index < modules.modules.count {
            let module = modules.modules[index]
            result = symbolizer.frames(for: NormalizedAddress(module: module, offset: FileOffset(offset)))
            if result.isEmpty {
                result = [SymbolFrame(function: "\(module.shortName)+0x\(String(offset, radix: 16))")]
            }
        } else {
            result = [SymbolFrame(function: "[unknown]+0x\(String(offset, radix: 16))")]
        }
        cache[packed] = result
        return result
    }
}

/// A symbolizer that knows nothing: every frame becomes `module+0xOFFSET`. For tests and `--no-symbols`.
public struct NoSymbols: Symbolizer {
    public init() {}
    public mutating func frames(for address: NormalizedAddress) -> [SymbolFrame] { [] }
}
