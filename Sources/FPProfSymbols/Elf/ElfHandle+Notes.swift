internal import CElfutils
internal import FPProfCore

/// Reading the GNU build-id note, the identity that tells whether the file on disk is the one a process mapped.
extension ElfHandle {
    /// The `NT_GNU_BUILD_ID` note's bytes, from the note sections, or from the `PT_NOTE` segments of a file whose
    /// section headers were removed. Nil when the file has none.
    func buildID() -> BuildID? {
        for section in sections where section.header.sh_type == UInt32(SHT_NOTE) {
            if let id = buildID(in: elf_getdata(section.scn, nil)) { return id }
        }
        guard let headers = try? programHeaders() else { return nil }
        for header in headers where header.p_type == UInt32(PT_NOTE) {
            guard let offset = Int64(exactly: header.p_offset), let size = Int(exactly: header.p_filesz) else {
                continue
            }
            let type = header.p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR
            if let id = buildID(in: elf_getdata_rawchunk(elf, offset, size, type)) { return id }
        }
        return nil
    }

    private func buildID(in data: UnsafeMutablePointer<Elf_Data>?) -> BuildID? {
        guard let data, let base = data.pointee.d_buf else { return nil }
        // Invariant: `data` belongs to `elf` and its buffer holds `d_size` bytes; gelf_getnote returns 0 for a note
        // that does not fit, and the ranges it gives are checked against the buffer again before they are read.
        let bytes = UnsafeRawBufferPointer(start: base, count: data.pointee.d_size)
        var offset = 0
        while true {
            var header = GElf_Nhdr()
            var nameOffset = 0
            var descriptorOffset = 0
            let next = gelf_getnote(data, offset, &header, &nameOffset, &descriptorOffset)
            guard next != 0 else { return nil }
            offset = next
            let nameEnd = nameOffset + Int(header.n_namesz)
            let descriptorEnd = descriptorOffset + Int(header.n_descsz)
            guard nameEnd <= bytes.count, descriptorEnd <= bytes.count else { return nil }
            let name = bytes[nameOffset..<nameEnd]
            guard header.n_type == UInt32(NT_GNU_BUILD_ID), name.elementsEqual("GNU\0".utf8), header.n_descsz > 0
            else { continue }
            return BuildID(bytes: Array(bytes[descriptorOffset..<descriptorEnd]))
        }
    }
}
