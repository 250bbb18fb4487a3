internal import CElfutils
internal import FPProfCore

/// Reading the GNU build-id note, the identity that tells whether the file on disk is the one a process mapped.
extension ElfHandle {
    /// The `NT_GNU_BUILD_ID` note's bytes, from the note sections, or from the `PT_NOTE` segments of a file whose
    /// section headers were removed. Nil when the file has none. The notes are parsed by `BuildID.inNotes`, the
    /// sampler's parser too.
    func buildID() -> BuildID? {
        for section in sections where section.header.sh_type == UInt32(SHT_NOTE) {
            let alignment = section.header.sh_addralign == 8 ? 8 : 4
            if let id = buildID(in: elf_getdata(section.scn, nil), alignment: alignment) { return id }
        }
        guard let headers = try? programHeaders() else { return nil }
        for header in headers where header.p_type == UInt32(PT_NOTE) {
            guard let offset = Int64(exactly: header.p_offset), let size = Int(exactly: header.p_filesz) else {
                continue
            }
            let alignment = header.p_align == 8 ? 8 : 4
            let type = alignment == 8 ? ELF_T_NHDR8 : ELF_T_NHDR
            if let id = buildID(in: elf_getdata_rawchunk(elf, offset, size, type), alignment: alignment) { return id }
        }
        return nil
    }

    private func buildID(in data: UnsafeMutablePointer<Elf_Data>?, alignment: Int) -> BuildID? {
        guard let data, let base = data.pointee.d_buf else { return nil }
        // Invariant: `data` belongs to `elf` and its buffer holds `d_size` bytes.
        let bytes = UnsafeRawBufferPointer(start: base, count: data.pointee.d_size)
        return BuildID.inNotes(Array(bytes), alignment: alignment)
    }
}
