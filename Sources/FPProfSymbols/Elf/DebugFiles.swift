internal import FPProfCore

/// Separate debug files, as Debian's `-dbg` packages install them: `/usr/lib/debug/.build-id/ab/cdef....debug`.
/// Distribution libraries ship stripped of `.symtab`, so without them a static function such as glibc's
/// `__libc_start_call_main` (where every C program's main thread ends) has no name at all.
enum DebugFiles {
    static let root = "/usr/lib/debug/.build-id"

    /// The debug file's path for `buildID`, whether or not it exists.
    static func path(for buildID: BuildID) -> String? {
        let hex = buildID.description
        guard hex.count > 2 else { return nil }
        return "\(root)/\(hex.prefix(2))/\(hex.dropFirst(2)).debug"
    }

    /// The opened debug file for `buildID`, if one is installed and really carries that build-id.
    static func handle(for buildID: BuildID) -> ElfHandle? {
        guard let path = path(for: buildID), let handle = try? ElfHandle(path: path),
            let found = handle.buildID(), found.sameFile(as: buildID)
        else { return nil }
        return handle
    }
}
