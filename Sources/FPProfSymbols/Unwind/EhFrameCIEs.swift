/// A pass over `.eh_frame`'s entries that reads only the CIEs' augmentation strings, without libdw: libdw's CFI
/// reader keeps every FDE it has looked up in a tree for the life of the handle, 60–70 bytes each, so asking it
/// about every FDE of a large binary (160 000 in fpprof's own) costs 10 MiB that stay. Most files have no signal
/// frame at all; this pass lets them skip that walk.
///
/// Layout (LSB's `.eh_frame`): each entry is a 4-byte length (0xffffffff: an 8-byte length follows), a 4-byte
/// CIE id (0 for a CIE, else the FDE's pointer back to its CIE), and for a CIE a version byte and the
/// NUL-terminated augmentation string; a zero length ends the section.
enum EhFrameCIEs {
    /// Whether some CIE of `bytes` (a whole `.eh_frame`) has `S` in its augmentation: FDEs of signal trampolines.
    /// True also when the section cannot be read to its end, so that the caller looks the slow way.
    static func hasSignalFrame(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            guard let short = bytes.littleEndian(at: offset, size: 4) else { return true }
            if short == 0 { return false }
            var header = 4
            var length = short
            if short == 0xffff_ffff {
                guard let long = bytes.littleEndian(at: offset + 4, size: 8) else { return true }
                header = 12
                length = long
            }
            let body = offset + header
            guard length >= 4, length <= UInt64(bytes.count - body) else { return true }
            let end = body + Int(length)
            if bytes.littleEndian(at: body, size: 4) == 0 {
                guard let augmentation = augmentation(bytes, from: body + 5, to: end) else { return true }
                if augmentation.contains(UInt8(ascii: "S")) { return true }
            }
            offset = end
        }
        return false
    }

    /// The augmentation string's bytes, which start after the CIE's id and version; nil if it runs past `end`.
    private static func augmentation(_ bytes: [UInt8], from start: Int, to end: Int) -> ArraySlice<UInt8>? {
        guard start <= end, let nul = bytes[start..<end].firstIndex(of: 0) else { return nil }
        return bytes[start..<nul]
    }
}
