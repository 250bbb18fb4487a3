internal import CElfutils
internal import Glibc

/// libelf must be told the ELF version the caller speaks before the first `elf_begin`. A global `let` is
/// initialized once, on first use, under the runtime's lock, so every opener can read it from any thread.
private let libelfReady: Bool = elf_version(UInt32(EV_CURRENT)) != UInt32(EV_NONE)

/// libelf's message for the last failure on this thread (libelf keeps its error number thread-local).
func libelfMessage() -> String {
    guard let message = elf_errmsg(-1) else { return "unknown error" }
    return String(cString: message)
}

/// One open ELF file: the descriptor and libelf's handle over its mmap. This is the only owner of the two; it
/// cannot be copied, and both are released when it goes away, so no path leaks a descriptor or a mapping.
/// Readers of its parts live in extensions beside it (`ElfHandle+Symbols`, `ElfHandle+Notes`).
// Invariant: `elf` is a live libelf handle from `init` to `deinit`; every pointer derived from it (sections, data
// buffers, strings) is used only while the handle lives and is copied into Swift values before it is returned.
struct ElfHandle: ~Copyable {
    private let descriptor: Int32
    /// libelf's `Elf *`.
    let elf: OpaquePointer
    /// The ELF header, translated to the 64-bit layout.
    let header: GElf_Ehdr
    /// The file's size when it was opened.
    let fileSize: UInt64
    /// Each section whose header could be read, in file order: read once, for the symbol and note readers.
    let sections: [ElfSection]

    /// Opens `path` read-only, if it is a regular file, and checks that it is an ELF object libelf can read the
    /// header of.
    init(path: String) throws(ElfReadError.Reason) {
        guard libelfReady else { throw .corrupt("elf_version: \(libelfMessage())") }
        // A FIFO, device or planted link never reaches libelf (nor blocks the open): see `TargetFileOpener`.
        let (descriptor, status) = try TargetFileOpener.openRegular(path)
        guard let elf = elf_begin(descriptor, ELF_C_READ_MMAP, nil) else {
            let message = "elf_begin: " + libelfMessage()
            close(descriptor)
            throw .corrupt(message)
        }
        guard elf_kind(elf) == ELF_K_ELF else {
            elf_end(elf)
            close(descriptor)
            throw .notELF
        }
        var header = GElf_Ehdr()
        guard gelf_getehdr(elf, &header) != nil else {
            let message = "gelf_getehdr: " + libelfMessage()
            elf_end(elf)
            close(descriptor)
            throw .corrupt(message)
        }
        self.descriptor = descriptor
        self.elf = elf
        self.header = header
        self.fileSize = UInt64(status.st_size)
        self.sections = Self.readSections(elf)
    }

    deinit {
        elf_end(elf)
        close(descriptor)
    }

    /// A second close-on-exec descriptor of the file, which the caller owns: for libdwfl, which takes a debug file
    /// as a descriptor it closes itself.
    func duplicateDescriptor() -> Int32? {
        let duplicate = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
        return duplicate >= 0 ? duplicate : nil
    }

    /// The program headers, each as libelf translates it to the 64-bit layout.
    func programHeaders() throws(ElfReadError.Reason) -> [GElf_Phdr] {
        var count = 0
        guard elf_getphdrnum(elf, &count) == 0 else { throw .corrupt("elf_getphdrnum: " + libelfMessage()) }
        // libelf quietly counts only the headers that fit in the file; fewer than the ELF header announces means
        // the file was cut short (PN_XNUM defers the real count to section 0, which libelf has already read).
        if header.e_phnum != UInt16(PN_XNUM), count < Int(header.e_phnum) {
            throw .corrupt("program headers end past the file's \(fileSize) bytes")
        }
        var headers: [GElf_Phdr] = []
        headers.reserveCapacity(count)
        for index in 0..<count {
            var programHeader = GElf_Phdr()
            guard let index = Int32(exactly: index), gelf_getphdr(elf, index, &programHeader) != nil else {
                throw .corrupt("gelf_getphdr: " + libelfMessage())
            }
            headers.append(programHeader)
        }
        return headers
    }

    /// The `PT_LOAD` segments, which relate file offsets to link-time addresses.
    func loadSegments() throws(ElfReadError.Reason) -> LoadSegments {
        let segments = try programHeaders().filter { $0.p_type == UInt32(PT_LOAD) }.map {
            LoadSegment(fileOffset: $0.p_offset, fileSize: $0.p_filesz, virtualAddress: $0.p_vaddr)
        }
        guard !segments.isEmpty else { throw .noLoadableSegments }
        return LoadSegments(segments: segments)
    }

    /// Sections whose header cannot be read are skipped: a damaged section table costs symbols, not the file.
    private static func readSections(_ elf: OpaquePointer) -> [ElfSection] {
        var result: [ElfSection] = []
        var previous: OpaquePointer? = nil
        while let scn = elf_nextscn(elf, previous) {
            previous = scn
            var header = GElf_Shdr()
            guard gelf_getshdr(scn, &header) != nil else { continue }
            result.append(ElfSection(index: elf_ndxscn(scn), scn: scn, header: header))
        }
        return result
    }
}

/// One section of an open `ElfHandle`; valid only while that handle lives.
struct ElfSection {
    /// The section's index, as `sh_link` and `st_shndx` refer to it.
    var index: Int
    /// libelf's `Elf_Scn *`.
    var scn: OpaquePointer
    var header: GElf_Shdr
}
