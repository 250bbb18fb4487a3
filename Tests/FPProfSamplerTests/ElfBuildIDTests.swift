import FPProfCore
import Testing

@testable import FPProfSampler

struct ElfBuildIDTests {
    /// A minimal ELF64 file: header, one PT_LOAD and one PT_NOTE program header, then notes.
    func elf64(notes: [UInt8]) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 64 + 2 * 56)
        b[0..<8] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]
        func put(_ v: UInt64, at: Int, size: Int) {
            for i in 0..<size { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
        }
        put(64, at: 0x20, size: 8)  // e_phoff
        put(56, at: 0x36, size: 2)  // e_phentsize
        put(2, at: 0x38, size: 2)  // e_phnum
        put(1, at: 64, size: 4)  // PT_LOAD
        put(4, at: 64 + 56, size: 4)  // PT_NOTE
        put(UInt64(b.count), at: 64 + 56 + 8, size: 8)  // p_offset
        put(UInt64(notes.count), at: 64 + 56 + 32, size: 8)  // p_filesz
        return b + notes
    }

    func note(name: String, type: UInt32, desc: [UInt8]) -> [UInt8] {
        var n = [UInt8]()
        let nameBytes = Array(name.utf8) + [0]
        for v in [UInt32(nameBytes.count), UInt32(desc.count), type] {
            n += [UInt8(v & 0xff), UInt8(v >> 8 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 24)]
        }
        n += nameBytes + [UInt8](repeating: 0, count: (4 - nameBytes.count % 4) % 4)
        n += desc + [UInt8](repeating: 0, count: (4 - desc.count % 4) % 4)
        return n
    }

    func find(_ file: [UInt8]) -> BuildID? {
        BuildID.find { offset, count in
            guard offset < file.count else { return [] }
            return Array(file[offset..<min(file.count, offset + count)])
        }
    }

    @Test func theGNUNoteIsFoundAfterOthers() {
        let id: [UInt8] = Array(0..<20)
        let file = elf64(
            notes: note(name: "stapsdt", type: 3, desc: [1, 2, 3]) + note(name: "GNU", type: 1, desc: [0, 0, 0, 0])
                + note(name: "GNU", type: 3, desc: id))
        #expect(find(file) == BuildID(bytes: id))
    }

    @Test func shortBuildIDsAreKept() {
        #expect(
            find(elf64(notes: note(name: "GNU", type: 3, desc: [0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4])))
                == BuildID(bytes: [0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]))
    }

    @Test func filesWithoutANoteOrNotELFHaveNone() {
        #expect(find(elf64(notes: note(name: "GNU", type: 1, desc: [0, 0, 0, 0]))) == nil)
        #expect(find(Array("#!/bin/sh\necho hi\n".utf8)) == nil)
        #expect(find([]) == nil)
        var truncated = elf64(notes: note(name: "GNU", type: 3, desc: Array(0..<20)))
        truncated.removeLast(10)
        #expect(find(truncated) == nil)
    }

    @Test func aRealExecutableMatchesReadelf() throws {
        let shell = resolvedPath("/bin/sh")
        let expected = try readelfBuildID(shell)
        #expect(ElfBuildID.read(path: shell)?.description == expected)
    }
}

@Suite struct BuildIDNoteTests {
    func word(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    /// A note with 8-byte padding (as in `.note.gnu.property`, aligned to 8 on x86-64): a 12-byte descriptor
    /// is followed by 4 bytes of padding, which 4-byte parsing would take for the next note's header.
    @Test func notesAlignedToEightAreWalkedWithTheirPadding() {
        let property =
            word(4) + word(12) + word(5) + Array("GNU\0".utf8) + [UInt8](repeating: 7, count: 12) + [0, 0, 0, 0]
        let id: [UInt8] = Array(100..<120)
        let buildID = word(4) + word(20) + word(3) + Array("GNU\0".utf8) + id + [0, 0, 0, 0]
        #expect(BuildID.inNotes(property + buildID, alignment: 8) == BuildID(bytes: id))
        #expect(BuildID.inNotes(property + buildID, alignment: 4) != BuildID(bytes: id))
        #expect(BuildID.inNotes(buildID, alignment: 4) == BuildID(bytes: id))
    }

    @Test func idsLongerThanTheKernelsTwentyBytesAreNotTaken() {
        #expect(BuildID.inNotes(word(4) + word(32) + word(3) + Array("GNU\0".utf8) + Array(0..<32)) == nil)
    }
}
