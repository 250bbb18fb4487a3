import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A private folder (mkdtemp, 0700) for one test's planted files, devices and links; removed by `remove()`.
struct Scratch {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "fpprof-harden-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw FixtureError(command: ["mkdtemp"], status: nil, message: String(cString: strerror(errno)))
        }
        path = String(cString: made)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func write(_ name: String, _ text: String) throws -> String {
        try write(name, Array(text.utf8))
    }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let target = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Runs `script` with /bin/sh -c, for redirections a test needs (`>/dev/full`, `>&-`, pipes).
    static func shell(_ script: String, timeout: Double = 60) throws -> CommandResult {
        try FixtureCommand.run("/bin/sh", ["-c", script], timeout: timeout)
    }

    /// The permission bits of `path` (not following a last link).
    static func mode(_ path: String) -> mode_t? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o7777
    }

    /// The file type bits of `path` (not following a last link).
    static func kind(_ path: String) -> mode_t? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return info.st_mode & S_IFMT
    }
}

/// glibc's `makedev` (a macro, which Swift does not import): the device number of MAJOR:MINOR.
func deviceNumber(_ major: UInt64, _ minor: UInt64) -> dev_t {
    dev_t(((major & 0xffff_f000) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffff_ff00) << 12) | (minor & 0xff))
}

/// Quotes a word for /bin/sh.
func shellQuoted(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" }
