import Testing

@testable import FPProfSymbols

/// `EhFrameCIEs.hasSignalFrame`, the pass that spares most files libdw's walk over every FDE: on this machine's
/// glibc (whose `__restore_rt` FDE hangs off an `S` CIE), on a C++ fixture (no signal frame), and on damaged input.
struct EhFrameCIETests {
    static func ehFrame(_ path: String) throws -> [UInt8] {
        let handle = try ElfHandle(path: path)
        guard let section = handle.section(named: ".eh_frame"), let bytes = handle.bytes(of: section) else {
            throw Tools.Failure(description: "\(path) has no readable .eh_frame")
        }
        return bytes
    }

    @Test func glibcHasASignalFrameAndACxxProgramHasNone() throws {
        let libc = try Self.ehFrame(SystemLibcTests.path)
        #expect(EhFrameCIEs.hasSignalFrame(libc))
        let cxx = try Self.ehFrame(try DwarfFixtures.cxx.get())
        #expect(!EhFrameCIEs.hasSignalFrame(cxx))
    }

    @Test func synthesizedEntries() {
        // A CIE (length 12, id 0, version 1, augmentation "zRS", then padding), a terminator.
        let signal: [UInt8] = [12, 0, 0, 0, 0, 0, 0, 0, 1, 0x7a, 0x52, 0x53, 0, 0, 0, 0, 0, 0, 0, 0]
        #expect(EhFrameCIEs.hasSignalFrame(signal))
        var plain = signal
        plain[11] = 0x50  // "zRP": no S
        #expect(!EhFrameCIEs.hasSignalFrame(plain))
        // The same CIE in the 64-bit form (0xffffffff, then an 8-byte length).
        let long: [UInt8] = [0xff, 0xff, 0xff, 0xff, 12, 0, 0, 0, 0, 0, 0, 0] + signal[4..<16] + [0, 0, 0, 0]
        #expect(EhFrameCIEs.hasSignalFrame(long))
        // Damaged: a length past the end, an augmentation without its NUL. Unreadable means "look the slow way".
        #expect(EhFrameCIEs.hasSignalFrame([200, 0, 0, 0, 0, 0, 0, 0]))
        #expect(EhFrameCIEs.hasSignalFrame([8, 0, 0, 0, 0, 0, 0, 0, 1, 0x7a, 0x52, 0x50]))
        #expect(!EhFrameCIEs.hasSignalFrame([]))
    }
}
