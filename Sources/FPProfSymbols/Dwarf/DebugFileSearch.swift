internal import CElfutils
internal import CZlib
internal import FPProfCore
internal import Glibc

/// Finds a module's separate debug file for libdwfl, in place of `dwfl_standard_find_debuginfo`, which opens every
/// candidate with a blocking `open()` that follows links: a `.gnu_debuglink` name (chosen by whoever built the
/// binary) or a file planted beside a target's binary could be a FIFO, and root's `record` or `report` would hang
/// forever on it, or a device, which root would open. Every candidate here goes through `TargetFileOpener`
/// (non-blocking, `fstat`-checked to be a regular file, kept inside `/proc/PID/root`) and is validated as libdwfl
/// validates it: by build-id when the module has one, else by the debuglink's CRC-32.
///
/// The places searched are libdwfl's defaults (`:.debug:/usr/lib/debug`, elfutils 0.188): the build-id tree
/// `/usr/lib/debug/.build-id/ab/cdef....debug` first, then the debuglink name in the binary's folder, in its
/// `.debug` subfolder, and under `/usr/lib/debug` followed by the binary's folder. For a file inside a process's
/// root (`/proc/PID/root/...`) the global folder is that root's `/usr/lib/debug` as well as the host's build-id
/// tree (a build-id names the same contents wherever it is installed). No debuginfod: a profiler on a production
/// host does not download files on the path of a symbol lookup.
enum DebugFileSearch {
    /// What one candidate must be to count as the module's debug file.
    enum Expectation: Equatable {
        /// Its `NT_GNU_BUILD_ID` is this (the module's own, or for a dwz file the `.gnu_debugaltlink` one).
        case buildID(BuildID)
        /// Its CRC-32 is the debuglink's.
        case crc(UInt32)
        /// Nothing to check (a module without build-id whose debuglink was made up from its name).
        case anything
    }

    /// The paths to try, in order, for the debug file of `file` named `debuglink` (nil: `FILE-BASENAME.debug`,
    /// as libdwfl guesses for a module without `.gnu_debuglink`), and for a module with `buildID`.
    static func candidates(file: String, debuglink: String?, buildID: BuildID?) -> [String] {
        let root = TargetFileOpener.splitProcessRoot(file).map(\.root)
        var paths: [String] = []
        if let buildID, let hostPath = DebugFiles.path(for: buildID) {
            if let root { paths.append(root + hostPath) }
            paths.append(hostPath)
        }
        let folderEnd = file.lastIndex(of: "/")
        let baseName = folderEnd.map { String(file[file.index(after: $0)...]) } ?? file
        guard let name = debuglink ?? (baseName.isEmpty ? nil : baseName + ".debug"), !name.isEmpty else {
            return paths
        }
        if name.hasPrefix("/") {
            // A dwz `.gnu_debugaltlink` is often absolute; inside a process's root it means that root's file.
            paths.append((root ?? "") + name)
            return paths
        }
        guard let folderEnd else { return paths + [name, ".debug/" + name] }
        let folder = String(file[..<folderEnd])
        paths.append(folder + "/" + name)
        paths.append(folder + "/.debug/" + name)
        if folder.hasPrefix("/") {
            if let root, let split = TargetFileOpener.splitProcessRoot(file) {
                let inside = split.inside.lastIndex(of: "/").map { "/" + split.inside[..<$0] } ?? ""
                paths.append(root + "/usr/lib/debug" + inside + "/" + name)
            } else {
                paths.append("/usr/lib/debug" + folder + "/" + name)
            }
        }
        return paths
    }

    /// The first candidate that is a regular ELF file meeting `expectation` (and is not `file` itself, which a
    /// debuglink may name), opened; its path and a descriptor the caller owns.
    static func find(file: String, debuglink: String?, buildID: BuildID?, expectation: Expectation)
        -> (path: String, descriptor: Int32)?
    {
        var ownIdentity: [UInt64]? = nil
        if let own = try? ElfHandle(path: file) { ownIdentity = identity(of: own) }
        for path in candidates(file: file, debuglink: debuglink, buildID: buildID) {
            guard let handle = try? ElfHandle(path: path) else { continue }
            if let ownIdentity, identity(of: handle) == ownIdentity { continue }
            switch expectation {
            case .buildID(let expected):
                guard let found = handle.buildID(), found.sameFile(as: expected) else { continue }
            case .crc(let expected):
                guard crc32(of: handle) == expected else { continue }
            case .anything:
                break
            }
            guard let descriptor = handle.duplicateDescriptor() else { continue }
            return (path, descriptor)
        }
        return nil
    }

    /// The `.gnu_debugaltlink` of `file` (a dwz-compressed debug file's pointer to the shared one): the name and the
    /// shared file's build-id.
    static func alternateLink(of file: String) -> (name: String, buildID: BuildID)? {
        guard let handle = try? ElfHandle(path: file), let section = handle.section(named: ".gnu_debugaltlink"),
            let bytes = handle.bytes(of: section), let nameEnd = bytes.firstIndex(of: 0), nameEnd + 1 < bytes.count
        else { return nil }
        return (String(decoding: bytes[..<nameEnd], as: UTF8.self), BuildID(bytes: Array(bytes[(nameEnd + 1)...])))
    }

    /// Device and inode of the open file, to recognize a debuglink that names the module itself.
    private static func identity(of handle: borrowing ElfHandle) -> [UInt64] {
        guard let descriptor = handle.duplicateDescriptor() else { return [] }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return [] }
        return [UInt64(status.st_dev), UInt64(status.st_ino)]
    }

    /// The CRC-32 (zlib's, the one `objcopy --add-gnu-debuglink` stores) of the whole file; nil if it cannot be read.
    private static func crc32(of handle: borrowing ElfHandle) -> UInt32? {
        guard let descriptor = handle.duplicateDescriptor() else { return nil }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var crc: UInt = 0
        var offset: off_t = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, offset) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { return UInt32(truncatingIfNeeded: crc) }
            crc = buffer.withUnsafeBytes { CZlib.crc32(crc, $0.bindMemory(to: Bytef.self).baseAddress, uInt(count)) }
            offset += off_t(count)
        }
    }
}

/// The `find_debuginfo` callback libdwfl calls: for a module's debug file (`userdata` points at the module's
/// user-data slot) and, elfutils 0.188's `find_debug_altlink`, for a dwz file (`userdata` nil, `file` the file whose
/// DWARF has the `.gnu_debugaltlink`). Returns an open descriptor libdwfl owns, or -1 with errno 0 for "none",
/// which libdwfl takes as "no DWARF". It must never leave a name without a descriptor in `foundName`: libdwfl would
/// then open that name itself.
// Invariant: libdwfl passes NUL-terminated strings valid for the call, and frees `*foundName` with free(), so the
// name is made by strdup.
let findDebugFile:
    @convention(c) (
        OpaquePointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafePointer<CChar>?, Dwarf_Addr,
        UnsafePointer<CChar>?, UnsafePointer<CChar>?, GElf_Word, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
    ) -> Int32 = { module, userdata, _, _, fileName, debuglink, crc, foundName in
        errno = 0
        guard let module, let fileName else { return -1 }
        let file = String(cString: fileName)
        let link = debuglink.map { String(cString: $0) }
        let found: (path: String, descriptor: Int32)?
        if userdata == nil {
            guard let alternate = DebugFileSearch.alternateLink(of: file) else { return -1 }
            found = DebugFileSearch.find(
                file: file, debuglink: link ?? alternate.name, buildID: alternate.buildID,
                expectation: .buildID(alternate.buildID))
        } else {
            var bits: UnsafePointer<UInt8>? = nil
            var address: GElf_Addr = 0
            let length = dwfl_module_build_id(module, &bits, &address)
            let buildID =
                length > 0
                ? bits.map { BuildID(bytes: Array(UnsafeBufferPointer(start: $0, count: Int(length)))) } : nil
            let expectation: DebugFileSearch.Expectation =
                buildID.map { .buildID($0) } ?? (link != nil && crc != 0 ? .crc(crc) : .anything)
            found = DebugFileSearch.find(file: file, debuglink: link, buildID: buildID, expectation: expectation)
        }
        errno = 0
        guard let found else { return -1 }
        foundName?.pointee = strdup(found.path)
        return found.descriptor
    }
