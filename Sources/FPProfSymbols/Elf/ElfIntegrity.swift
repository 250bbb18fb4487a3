internal import CElfutils

extension ElfFile {
    /// What makes the file at `path` unfit to read as a whole, or nil when nothing does: not openable, not ELF, or
    /// cut short (headers, segments or sections that end past its last byte). The symbolizer reads what it can of
    /// a damaged file and answers `??` for the rest; `fpprof symbolize` asks this to tell the user why (exit 2).
    public static func damage(path: String) -> String? {
        do throws(ElfReadError.Reason) {
            let handle = try ElfHandle(path: path)
            return handle.truncation().map { "cannot read ELF \(path) whole: \($0)" }
        } catch {
            return ElfReadError(path: path, reason: error).description
        }
    }
}

extension ElfHandle {
    /// The first part of the file that ends past its size, described; nil when every part fits. Sums are made in
    /// full width, so hostile offsets near 2^64 cannot wrap to pass the check.
    func truncation() -> String? {
        func end(_ offset: UInt64, _ size: UInt64) -> UInt64 {
            let (sum, overflow) = offset.addingReportingOverflow(size)
            return overflow ? .max : sum
        }
        let sectionTable = UInt64(header.e_shnum).multipliedReportingOverflow(by: UInt64(header.e_shentsize))
        if header.e_shoff > 0,
            sectionTable.overflow || end(header.e_shoff, sectionTable.partialValue) > fileSize
        {
            return "its section headers end past its \(fileSize) bytes (the file is truncated)"
        }
        let headers: [GElf_Phdr]
        do { headers = try programHeaders() } catch { return "\(ElfReadError(path: "", reason: error).reasonText)" }
        for segment in headers where segment.p_type == UInt32(PT_LOAD) {
            if end(segment.p_offset, segment.p_filesz) > fileSize {
                return "a loadable segment at offset 0x\(String(segment.p_offset, radix: 16)) ends past its "
                    + "\(fileSize) bytes (the file is truncated)"
            }
        }
        for section in sections where section.header.sh_type != UInt32(SHT_NOBITS) {
            if end(section.header.sh_offset, section.header.sh_size) > fileSize {
                return "section \(section.index) ends past its \(fileSize) bytes (the file is truncated)"
            }
        }
        return nil
    }
}
