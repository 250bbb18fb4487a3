internal import FPProfCore

/// Names, lines and inline chains from a Go binary's `.gopclntab`, for Go code that DWARF does not describe:
/// binaries built with `-ldflags=-w` or `-s -w`, and assembly functions. Names are Go's own (`runtime.goexit`,
/// where the ELF symbol table says `runtime.goexit.abi0`), as `go tool pprof` and `go tool addr2line` show them.
///
/// Inlined calls are expanded the way the runtime expands them in tracebacks (`GoInlineTree`): the innermost
/// inlined function at the address's own line, then each caller at the line of its inlined call. When the inline
/// tree cannot be found, the real function is given with the innermost line (as `go tool addr2line` prints it).
final class GoFunctionTable {
    private let table: GoPclntab
    private let inlineTree: GoInlineTree?
    private var names: [Int: String] = [:]
    private let path: String
    /// Read on the first question about code: `.text`'s bytes (prologues and epilogues, call instructions).
    private var entryFrames: GoEntryFrames??

    /// Nil when the file has no readable Go 1.18+ `.gopclntab`.
    init?(file: ElfFile) {
        guard let handle = try? ElfHandle(path: file.path), let section = handle.section(named: ".gopclntab"),
            let bytes = handle.bytes(of: section)
        else { return nil }
        let text = handle.section(named: ".text")?.header.sh_addr ?? 0
        guard let table = GoPclntab(bytes: bytes, textStart: text) else { return nil }
        self.table = table
        path = file.path
        inlineTree = Self.readInlineTree(handle, pclntab: section.header.sh_addr, go120: table.isGo120)
    }

    private static func readInlineTree(_ handle: borrowing ElfHandle, pclntab: UInt64, go120: Bool) -> GoInlineTree? {
        guard let rodata = handle.section(named: ".rodata"), let rodataBytes = handle.bytes(of: rodata) else {
            return nil
        }
        let rodataRange = rodata.header.sh_addr..<(rodata.header.sh_addr + UInt64(rodataBytes.count))
        for name in [".noptrdata", ".data"] {
            guard let section = handle.section(named: name), let bytes = handle.bytes(of: section),
                let goFunc = GoInlineTree.findGoFunc(
                    in: bytes, at: section.header.sh_addr, pclntab: pclntab, go120: go120, within: rodataRange)
            else { continue }
            return GoInlineTree(data: rodataBytes, dataAddress: rodata.header.sh_addr, goFunc: goFunc, go120: go120)
        }
        return nil
    }

    /// The frames for `address`, outermost first, or nil when no Go function holds it.
    func frames(at address: UInt64, inlineFrames: Bool) -> [SymbolFrame]? {
        guard let function = table.function(containing: address), let outerName = name(of: function) else {
            return nil
        }
        var innermostFirst: [SymbolFrame] = []
        var pc = address
        if let inlineTree, let tree = table.funcdata(GoInlineTree.inlineTreeData, of: function) {
            while innermostFirst.count < 256,
                let index = table.pcdata(GoInlineTree.inlineTreeIndexTable, of: function, at: pc), index >= 0,
                let call = inlineTree.call(tree: tree, index: index),
                let name = table.name(atOffset: call.nameOffset)
            {
                let location = table.location(of: pc, in: function)
                innermostFirst.append(
                    SymbolFrame(function: name, isInlined: true, file: location?.file, line: location?.line))
                let parent = function.entry &+ UInt64(UInt32(bitPattern: call.parentPC))
                guard parent >= function.entry, parent < function.end else { break }
                pc = parent
            }
        }
        let location = table.location(of: pc, in: function)
        innermostFirst.append(SymbolFrame(function: outerName, file: location?.file, line: location?.line))
        let frames = Array(innermostFirst.reversed())
        return inlineFrames ? frames : [frames[0]]
    }

    /// Where the return address of the Go function running at `address` is (see `GoEntryFrames`); nil when no Go
    /// function holds `address`.
    func entryFrame(at address: UInt64) -> EntryFrame? {
        let rules = loadedRules
        guard let function = table.function(containing: address) else { return nil }
        guard let rules else { return .framePointer }
        return rules.entryFrame(at: address, name: name(of: function))
    }

    /// Whether a Go function holds either end of the link-time `range`.
    func holdsCode(in range: Range<UInt64>) -> Bool {
        !range.isEmpty
            && (table.function(containing: range.lowerBound) != nil
                || table.function(containing: range.upperBound - 1) != nil)
    }

    /// The `count` code bytes at link-time `address`, from `.text` as read for the entry rules; nil outside it.
    func code(at address: UInt64, count: Int) -> ArraySlice<UInt8>? {
        guard let rules = loadedRules, address >= rules.textAddress, count >= 0 else { return nil }
        let start = address - rules.textAddress
        guard start <= UInt64(rules.text.count), UInt64(rules.text.count) - start >= UInt64(count) else { return nil }
        return rules.text[Int(start)..<(Int(start) + count)]
    }

    /// The entry rules with `.text`'s bytes, read on first use; nil when `.text` cannot be read.
    private var loadedRules: GoEntryFrames? {
        if let loaded = entryFrames { return loaded }
        var loaded: GoEntryFrames? = nil
        if let handle = try? ElfHandle(path: path), let section = handle.section(named: ".text"),
            let bytes = handle.bytes(of: section)
        {
            loaded = GoEntryFrames(table: table, text: bytes, textAddress: section.header.sh_addr)
        }
        entryFrames = .some(loaded)
        return loaded
    }

    private func name(of function: GoPclntab.Function) -> String? {
        if let known = names[function.record] { return known }
        guard let read = table.name(of: function) else { return nil }
        names[function.record] = read
        return read
    }

    var byteCount: Int {
        var text = 0
        if case .some(.some(let rules)) = entryFrames { text = rules.text.count }
        return table.byteCount + (inlineTree?.byteCount ?? 0) + names.count * 48 + text
    }
}
