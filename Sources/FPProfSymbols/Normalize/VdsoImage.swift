internal import CElfutils
import Foundation

/// The vdso has no file, but every process on one kernel maps the same image, so fpprof's own copy names the
/// target's vdso frames (`__vdso_clock_gettime`) and gives their unwind rules. The copy is kept in memory, in a
/// memfd the ELF reader opens as `/proc/self/fd/N` like any other file, for the life of the process (one
/// descriptor). It was a file at a predictable name in the shared temporary folder, trusted when it existed: any
/// user could plant a FIFO there (every later root `record` hung) or an ELF file (renamed vdso frames, parsed as
/// root). Nothing on disk now, so nothing to plant, check or clean up.
enum VdsoImage {
    /// The path of the in-memory image, or nil when this process has no vdso or it cannot be read.
    static let path: String? = save()

    private static func save() -> String? {
        guard let range = ownVdsoRange(), let bytes = read(range) else { return nil }
        let descriptor = celfutils_memfd("fpprof-vdso")
        guard descriptor >= 0 else { return nil }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                close(descriptor)
                return nil
            }
            written += n
        }
        return "/proc/self/fd/\(descriptor)"
    }

    /// The vdso's bytes, read from this process's memory.
    private static func read(_ range: Range<UInt64>) -> [UInt8]? {
        guard let mem = FileHandle(forReadingAtPath: "/proc/self/mem") else { return nil }
        defer { try? mem.close() }
        do {
            try mem.seek(toOffset: range.lowerBound)
            guard let data = try mem.read(upToCount: Int(range.upperBound - range.lowerBound)) else { return nil }
            return [UInt8](data)
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
