import FPProfCore
import Foundation
import Testing

@testable import FPProfSymbols

/// The packed name store under symbol tables: every name comes back as it went in, in both of its forms (plain
/// blocks for a small table, deflated ones for a large one), and a large real table takes a fraction of its names'
/// bytes.
struct PackedNamesTests {
    @Test("a small table keeps plain blocks and gives back every name, odd bytes and long ones included")
    func plainRoundTrip() {
        // 150 names: three blocks, the last one partial; lengths past 127 take a two-byte length.
        var names = (0..<146).map { "f\($0)" }
        names += ["", "a\u{0}b", "名前::関数", String(repeating: "x", count: 300)]
        let packed = PackedNames(names)
        #expect(!packed.isCompressed)
        #expect(packed.count == names.count)
        for (index, name) in names.enumerated() { #expect(packed[index] == name, "index \(index)") }
        #expect(packed.firstIndex(of: "f7") == 7)
        #expect(packed.firstIndex(of: "a\u{0}b") == 147)
        #expect(packed.firstIndex(of: String(repeating: "x", count: 300)) == 149)
        #expect(packed.firstIndex(of: "f") == nil)
        #expect(packed.firstIndex(of: "missing") == nil)
    }

    @Test("the first of equal names is the one found by name")
    func firstOfEqualNames() {
        let packed = PackedNames(["a", "b", "a", "b"])
        #expect(packed.firstIndex(of: "b") == 1)
    }

    /// The Swift runtime's code symbols (tens of thousands of long mangled names, the kind a compiler or a large
    /// C++ program has), packed as `SymbolTable` packs them.
    @Test("a large real table is deflated to under 40 % of its names' bytes and gives back every name")
    func swiftRuntimeNames() throws {
        let names = try Self.runtimeCodeNames()
        let raw = names.reduce(0) { $0 + $1.utf8.count }
        try #require(raw >= PackedNames.compressionThreshold, "\(raw) bytes of names")
        let packed = PackedNames(names)
        #expect(packed.isCompressed)
        #expect(packed.byteCount * 10 < raw * 4, "\(packed.byteCount) bytes packed for \(raw) bytes of names")
        for (index, name) in names.enumerated() where packed[index] != name {
            Issue.record("index \(index): \(packed[index]) ≠ \(name)")
            break
        }
        for index in stride(from: 0, to: names.count, by: names.count / 50) {
            #expect(packed.firstIndex(of: names[index]) == names.firstIndex(of: names[index]))
        }
    }

    /// A differential against `nm`: over the Swift runtime, every sized function symbol's first byte is named by
    /// fpprof's table with one of the names `nm` lists at that address. The table's names are packed and
    /// renumbered, so a name given to the wrong entry would show here.
    @Test(
        "every function of the Swift runtime is named as nm names it",
        .enabled(if: Tools.available("nm") && Tools.available("readelf"), "needs nm and readelf (binutils)"))
    func runtimeTableAgreesWithNm() throws {
        let path = try Self.runtimePath()
        let file = try ElfFile(path: path)
        let reference = try ReferenceElf(path: path)
        var namesAt: [UInt64: Set<String>] = [:]
        for symbol in reference.symbols { namesAt[symbol.address, default: []].insert(symbol.name) }
        var checked = 0
        var wrong: [String] = []
        for symbol in reference.symbols where (symbol.size ?? 0) > 0 {
            let name = file.symbolName(at: VirtualAddress(symbol.address))
            checked += 1
            if name.map({ namesAt[symbol.address]?.contains($0) ?? false }) != true {
                wrong.append("0x\(String(symbol.address, radix: 16)): \(name ?? "nil"), nm: \(symbol.name)")
            }
        }
        try #require(checked > 10_000, "\(checked) sized symbols")
        #expect(wrong.isEmpty, "\(wrong.count) of \(checked): \(wrong.prefix(5))")
    }

    static func runtimePath() throws -> String {
        // Read through a handle: /proc files report size 0, which String(contentsOfFile:) takes at its word.
        let maps = String(
            decoding: try #require(try FileHandle(forReadingAtPath: "/proc/self/maps")?.readToEnd()), as: UTF8.self)
        return try #require(
            maps.split(separator: "\n").lazy.compactMap { $0.split(separator: " ").last.map(String.init) }
                .first { $0.hasSuffix("/libswiftCore.so") })
    }

    static func runtimeCodeNames() throws -> [String] {
        let handle = try ElfHandle(path: try runtimePath())
        var seen = Set<String>()
        return handle.codeSymbols().map { SymbolName.withoutVersion($0.name) }.filter { seen.insert($0).inserted }
    }
}
