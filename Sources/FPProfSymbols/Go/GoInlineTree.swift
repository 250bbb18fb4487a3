/// Go's inline trees (`_FUNCDATA_InlTree`), which the runtime reads to expand inlined calls in tracebacks: per
/// function, an array of inlined calls, each naming the called function and an instruction of its caller
/// (`parentPc`), and a PC table (`_PCDATA_InlTreeIndex`) saying which inlined call each instruction belongs to.
///
/// The trees live in the module's `go:func.*` data, whose address only the runtime's `moduledata` records. In a
/// binary without symbols it is found the way the runtime itself is linked: `moduledata` starts with a pointer to
/// `.gopclntab`, so the data sections are scanned for that pointer and the `gofunc` field read at its fixed place
/// (word 38 for Go 1.18 and 1.19, word 40 from Go 1.20, which added `covctrs`), then checked to lie in `.rodata`.
struct GoInlineTree: Sendable {
    /// The bytes of the section that holds `go:func.*` (`.rodata`), and where it is loaded.
    private let data: [UInt8]
    private let dataAddress: UInt64
    /// `moduledata.gofunc`.
    private let goFunc: UInt64
    private let go120: Bool

    static let inlineTreeIndexTable = 2
    static let inlineTreeData = 3

    init?(data: [UInt8], dataAddress: UInt64, goFunc: UInt64, go120: Bool) {
        guard goFunc >= dataAddress, goFunc - dataAddress < UInt64(data.count) else { return nil }
        self.data = data
        self.dataAddress = dataAddress
        self.goFunc = goFunc
        self.go120 = go120
    }

    /// Finds `moduledata.gofunc` in the bytes of a data section loaded at `address`, given where `.gopclntab` is.
    static func findGoFunc(
        in section: [UInt8], at address: UInt64, pclntab: UInt64, go120: Bool, within rodata: Range<UInt64>
    ) -> UInt64? {
        let field = go120 ? 40 : 38
        var offset = 0
        while offset + (field + 1) * 8 <= section.count {
            if word(section, offset) == pclntab, let goFunc = word(section, offset + field * 8), rodata.contains(goFunc)
            {
                return goFunc
            }
            offset += 8
        }
        _ = address
        return nil
    }

    /// One inlined call: the called function's name offset and its caller instruction's offset from the entry.
    struct Call {
        var nameOffset: Int32
        var parentPC: Int32
    }

    /// The `index`th call of the tree at funcdata offset `treeOffset`.
    func call(tree treeOffset: UInt32, index: Int32) -> Call? {
        guard index >= 0 else { return nil }
        let size = go120 ? 16 : 20
        let start = Int(goFunc - dataAddress) + Int(treeOffset) + Int(index) * size
        guard start >= 0, start + size <= data.count else { return nil }
        // Go 1.18/1.19: parent i16, funcID u8, pad, file i32, line i32, func_ i32, parentPc i32.
        // Go 1.20+: funcID u8, pad[3], nameOff i32, parentPc i32, startLine i32.
        let name = go120 ? i32(data, start + 4) : i32(data, start + 12)
        let parent = go120 ? i32(data, start + 8) : i32(data, start + 16)
        guard let name, let parent else { return nil }
        return Call(nameOffset: name, parentPC: parent)
    }

    var byteCount: Int { data.count }

    private static func word(_ bytes: [UInt8], _ offset: Int) -> UInt64? {
        guard offset >= 0, offset + 8 <= bytes.count else { return nil }
        var value: UInt64 = 0
        for index in (0..<8).reversed() { value = value << 8 | UInt64(bytes[offset + index]) }
        return value
    }

    private func i32(_ bytes: [UInt8], _ offset: Int) -> Int32? {
        guard offset >= 0, offset + 4 <= bytes.count else { return nil }
        let value =
            UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
            | UInt32(bytes[offset + 3]) << 24
        return Int32(bitPattern: value)
    }
}
