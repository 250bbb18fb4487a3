internal import CElfutils

/// Finding sections by name and copying their bytes: for `.gopclntab`, which Go keeps even in stripped binaries.
extension ElfHandle {
    /// The first section called `name`, if the section-name table can be read.
    func section(named name: String) -> ElfSection? {
        var namesIndex = 0
        guard elf_getshdrstrndx(elf, &namesIndex) == 0 else { return nil }
        return sections.first { section in
            // Invariant: elf_strptr checks the offset against the string table and returns nil past it.
            guard let cName = elf_strptr(elf, namesIndex, Int(section.header.sh_name)) else { return false }
            return String(cString: cName) == name
        }
    }

    /// The section's bytes as stored (or decompressed by libelf), copied; nil for `SHT_NOBITS` or a section that
    /// does not fit in the file.
    func bytes(of section: ElfSection) -> [UInt8]? {
        guard section.header.sh_type != UInt32(SHT_NOBITS) else { return nil }
        // Invariant: elf_getdata checks the section against the file; d_buf holds d_size bytes while `elf` lives,
        // and they are copied before this returns.
        guard let data = elf_getdata(section.scn, nil), let base = data.pointee.d_buf else { return nil }
        return Array(UnsafeRawBufferPointer(start: base, count: data.pointee.d_size))
    }
}
