import Foundation

/// The vdso has no file, but every process on one kernel maps the same image, so fpprof's own copy names the
/// target's vdso frames (`__vdso_clock_gettime`) and gives their unwind rules. It is written once per kernel
/// release to a file the ELF reader can open like any other.
enum VdsoImage {
    /// The path of the saved image, or nil when this process has no vdso or it cannot be read.
    static let path: String? = save()

    private static func save() -> String? {
        guard let range = ownVdsoRange() else { return nil }
        var release = utsname()
        uname(&release)
        let kernel = withUnsafeBytes(of: &release.release) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        let target = NSTemporaryDirectory() + "fpprof-vdso-\(getuid())-\(kernel).so"
        if FileManager.default.fileExists(atPath: target) { return target }
        guard let mem = FileHandle(forReadingAtPath: "/proc/self/mem") else { return nil }
        defer { try? mem.close() }
        do {
            try mem.seek(toOffset: range.lowerBound)
            guard let bytes = try mem.read(upToCount: Int(range.upperBound - range.lowerBound)) else { return nil }
            let temporary = target + ".\(getpid())"
            guard FileManager.default.createFile(atPath: temporary, contents: bytes) else { return nil }
            guard rename(temporary, target) == 0 else {
                unlink(temporary)
                return nil
            }
            return target
        } catch {
            return nil
        }
    }

    /// `[vdso]`'s address range in /proc/self/maps.
    private static func ownVdsoRange() -> Range<UInt64>? {
        // /proc files report a size of 0, and a size-based read stops early: read to the end.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/maps"), let data = try? handle.readToEnd() else {
            return nil
        }
        let maps = String(decoding: data, as: UTF8.self)
        for line in maps.split(separator: "\n") where line.hasSuffix("[vdso]") {
            let bounds = line.prefix { $0 != " " }.split(separator: "-")
            guard bounds.count == 2, let lo = UInt64(bounds[0], radix: 16), let hi = UInt64(bounds[1], radix: 16),
                lo < hi
            else { return nil }
            return lo..<hi
        }
        return nil
    }
}
