import FPProfCore

/// Reads the GNU build-id note of a mapped ELF file, so that mappings synthesized from /proc carry the same
/// identity the kernel puts into MMAP2 records (`attr.build_id`). The parsing is `BuildID.find(inELF:)`: only the
/// ELF header, the program headers and the PT_NOTE segments are read, a few hundred bytes per file.
enum ElfBuildID {
    /// The build-id of the file at `path`, or nil when it is not a little-endian ELF file or has no build-id note.
    static func read(path: String) -> BuildID? {
        guard let fd = try? Sys.openForReading(path) else { return nil }
        defer { Sys.close(fd) }
        return BuildID.find { offset, count in try? Sys.pread(fd, count: count, offset: offset) }
    }
}

extension [UInt8] {
    /// A little-endian 32-bit integer at a byte offset the caller has bounds-checked.
    func le32(_ at: Int) -> UInt32 {
        UInt32(self[at]) | UInt32(self[at + 1]) << 8 | UInt32(self[at + 2]) << 16 | UInt32(self[at + 3]) << 24
    }
}
