import FPProfCore

/// Reads the GNU build-id note of an ELF file, so that mappings synthesized from /proc carry the same identity the
/// kernel puts into MMAP2 records (`attr.build_id`). Only the ELF header, the program headers and the PT_NOTE
/// segments are read: a few hundred bytes per file.
enum ElfBuildID {
    /// The build-id of the file at `path`, or nil when it is not a little-endian ELF file or has no build-id note.
    static func read(path: String) -> BuildID? {
        guard let fd = try? Sys.openForReading(path) else { return nil }
        defer { Sys.close(fd) }
        return find { offset, count in try? Sys.pread(fd, count: count, offset: offset) }
    }

    /// The parser, over any way of reading `count` bytes at `offset` (which may return fewer at end of file).
    static func find(read: (_ offset: Int, _ count: Int) -> [UInt8]?) -> BuildID? {
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
        let phoff = is64 ? Int(clamping: ident.le64(0x20)) : Int(ident.le32(0x1c))
        let phentsize = Int(ident.le16(is64 ? 0x36 : 0x2a))
        let phnum = Int(ident.le16(is64 ? 0x38 : 0x2c))
        guard phnum > 0, phnum <= 1024, phentsize >= (is64 ? 56 : 32), phoff > 0,
            let table = read(phoff, phnum * phentsize), table.count == phnum * phentsize
        else { return nil }
        for index in 0..<phnum {
            let at = index * phentsize
            guard table.le32(at) == 4 else { continue }  // PT_NOTE
            let offset = is64 ? Int(clamping: table.le64(at + 8)) : Int(table.le32(at + 4))
            let size = is64 ? Int(clamping: table.le64(at + 32)) : Int(table.le32(at + 16))
            guard size > 0, size <= 1 << 16, let notes = read(offset, size) else { continue }
            if let id = buildID(inNotes: notes) { return id }
        }
        return nil
    }

    /// Walks a PT_NOTE segment's notes for `NT_GNU_BUILD_ID` (type 3, owner "GNU").
    static func buildID(inNotes notes: [UInt8]) -> BuildID? {
        var at = 0
        while at + 12 <= notes.count {
            let nameSize = Int(notes.le32(at))
            let descSize = Int(notes.le32(at + 4))
            let type = notes.le32(at + 8)
            let name = at + 12
            let desc = name + (nameSize + 3) / 4 * 4
            let next = desc + (descSize + 3) / 4 * 4
            guard nameSize <= notes.count, descSize <= notes.count, desc + descSize <= notes.count else { return nil }
            if type == 3, nameSize == 4, Array(notes[name..<name + 4]) == [0x47, 0x4e, 0x55, 0], descSize > 0,
                descSize <= 20
            {
                return BuildID(bytes: Array(notes[desc..<desc + descSize]))
            }
            at = next
        }
        return nil
    }
}

extension [UInt8] {
    /// Little-endian integers at a byte offset the caller has bounds-checked.
    func le16(_ at: Int) -> UInt16 { UInt16(self[at]) | UInt16(self[at + 1]) << 8 }
    func le32(_ at: Int) -> UInt32 { UInt32(le16(at)) | UInt32(le16(at + 2)) << 16 }
    func le64(_ at: Int) -> UInt64 { UInt64(le32(at)) | UInt64(le32(at + 4)) << 32 }
}
