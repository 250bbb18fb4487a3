/// Finding the GNU build-id in an ELF file's notes: one parser for the sampler (which reads a few hundred bytes of
/// each mapped file through /proc) and the symbolizer (which hands over the note sections libelf found).
extension BuildID {
    /// The build-id of an ELF file read through `read(offset, count)` (which may return fewer bytes at end of
    /// file): ELF header, program headers, then each `PT_NOTE` segment. Nil when the file is not a little-endian
    /// ELF file or has no build-id note. Reads only those parts, so a huge or hostile file costs a few reads.
    public static func find(inELF read: (_ offset: Int, _ count: Int) -> [UInt8]?) -> BuildID? {
        guard let ident = read(0, 64), ident.count >= 52, ident[0] == 0x7f, ident[1] == 0x45, ident[2] == 0x4c,
            ident[3] == 0x46, ident[5] == 1
        else { return nil }
        let is64: Bool
        switch ident[4] {
        case 1: is64 = false
        case 2: is64 = true
        default: return nil
        }
        guard !is64 || ident.count >= 64 else { return nil }
        let phoff = is64 ? Int(clamping: ident.littleEndian64(0x20)) : Int(ident.littleEndian32(0x1c))
        let phentsize = Int(ident.littleEndian16(is64 ? 0x36 : 0x2a))
        let phnum = Int(ident.littleEndian16(is64 ? 0x38 : 0x2c))
        guard phnum > 0, phnum <= 1024, phentsize >= (is64 ? 56 : 32), phoff > 0,
            let table = read(phoff, phnum * phentsize), table.count == phnum * phentsize
        else { return nil }
        for index in 0..<phnum {
            let at = index * phentsize
            guard table.littleEndian32(at) == 4 else { continue }  // PT_NOTE
            let offset = is64 ? Int(clamping: table.littleEndian64(at + 8)) : Int(table.littleEndian32(at + 4))
            let size = is64 ? Int(clamping: table.littleEndian64(at + 32)) : Int(table.littleEndian32(at + 16))
            let alignment = is64 ? table.littleEndian64(at + 48) : UInt64(table.littleEndian32(at + 28))
            guard size > 0, size <= 1 << 16, let notes = read(offset, size) else { continue }
            if let id = inNotes(notes, alignment: alignment == 8 ? 8 : 4) { return id }
        }
        return nil
    }

    /// The `NT_GNU_BUILD_ID` note (type 3, owner "GNU") among the notes of one note section or segment, whose
    /// name and descriptor are padded to `alignment` (4, or 8 for a segment or section aligned to 8). Nil when
    /// there is none, a note overruns the bytes, or the id is longer than 20 bytes (the kernel's
    /// `BUILD_ID_SIZE_MAX`: it puts no longer id into MMAP2 records, so neither side of a comparison has one).
    public static func inNotes(_ notes: [UInt8], alignment: Int = 4) -> BuildID? {
        let pad = alignment == 8 ? 8 : 4
        func padded(_ n: Int) -> Int { (n + pad - 1) / pad * pad }
        var at = 0
        while at + 12 <= notes.count {
            let nameSize = Int(notes.littleEndian32(at))
            let descSize = Int(notes.littleEndian32(at + 4))
            let type = notes.littleEndian32(at + 8)
            let name = at + 12
            // The header is 12 bytes, so with 8-byte padding the descriptor starts at the next multiple of 8.
            let desc = padded(name + nameSize)
            guard nameSize <= notes.count, descSize <= notes.count, desc + descSize <= notes.count else { return nil }
            if type == 3, nameSize == 4, Array(notes[name..<name + 4]) == [0x47, 0x4e, 0x55, 0], descSize > 0,
                descSize <= 20
            {
                return BuildID(bytes: Array(notes[desc..<desc + descSize]))
            }
            at = padded(desc + descSize)
        }
        return nil
    }
}

extension [UInt8] {
    /// Little-endian integers at a byte offset the caller has bounds-checked.
    fileprivate func littleEndian16(_ at: Int) -> UInt16 { UInt16(self[at]) | UInt16(self[at + 1]) << 8 }
    fileprivate func littleEndian32(_ at: Int) -> UInt32 {
        UInt32(littleEndian16(at)) | UInt32(littleEndian16(at + 2)) << 16
    }
    fileprivate func littleEndian64(_ at: Int) -> UInt64 {
        UInt64(littleEndian32(at)) | UInt64(littleEndian32(at + 4)) << 32
    }
}
