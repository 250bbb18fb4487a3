public import FPProfCore
internal import Glibc

/// Why a file could not serve as a symbol source. A profile never fails because of one unreadable module: its
/// frames are written `module+0xOFFSET` and this error becomes one warning, so the message names the file and
/// says what was wrong with it.
public struct ElfReadError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Reason: Error, Hashable, Sendable {
        /// `open(2)` or `fstat(2)` failed with this errno.
        case cannotOpen(errno: Int32)
        /// A directory, device or pipe: nothing to map.
        case notRegularFile
        /// Readable, but not an ELF object (a script, an archive, garbage).
        case notELF
        /// An ELF header, but a part needed could not be read; says which call or check failed, and why.
        case corrupt(String)
        /// No `PT_LOAD` program header: a relocatable object or a debug-only file, never what a process maps.
        case noLoadableSegments
        /// The file on disk is not the one the process mapped (it was replaced since).
        case buildIDMismatch(expected: BuildID, found: BuildID)
    }

    /// The path that was tried.
    public var path: String
    public var reason: Reason

    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }

    /// `cannot read ELF /usr/lib/libfoo.so: not an ELF file`
    public var description: String { "cannot read ELF \(path): \(reasonText)" }

    var reasonText: String {
        switch reason {
        case .cannotOpen(let code): return String(cString: strerror(code)).lowercased()
        case .notRegularFile: return "not a regular file"
        case .notELF: return "not an ELF file"
        case .corrupt(let detail): return "truncated or corrupt ELF (\(detail))"
        case .noLoadableSegments: return "no loadable segments"
        case .buildIDMismatch(let expected, let found):
            return "build-id \(found) differs from the mapped file's \(expected) (replaced since it was mapped)"
        }
    }

    /// Whether the file is simply absent, as opposed to present but unusable: of several places tried, the
    /// error about a file that exists says more.
    var isMissingFile: Bool { reason == .cannotOpen(errno: ENOENT) || reason == .cannotOpen(errno: ENOTDIR) }
}
