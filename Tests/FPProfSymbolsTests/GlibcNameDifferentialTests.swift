import FPProfCore
import FPProfSymbols
import Foundation
import Testing

private let glibc = "/lib/x86_64-linux-gnu/libc.so.6"

/// glibc's debug file (libc6-dbg) names most functions several times: `read` (global), `__read` (global),
/// `__libc_read` and `__GI___libc_read` (local, hidden), and its DWARF uses an internal one. perf shows the public
/// name, and so must fpprof. Differential: for 1,000 random addresses in glibc's code, `llvm-symbolizer-14`
/// (DWARF, outermost function) says which function holds it; fpprof must name the same function (a symbol at the
/// same entry in the debug file's table), by a global name of the default version, never a `__GI_` alias.
@Suite(
    .enabled(
        if: FileManager.default.fileExists(atPath: glibc) && Tools.available("llvm-symbolizer-14")
            && Tools.available("nm") && Tools.available("readelf") && GlibcDebugFile.path != nil,
        "needs glibc with libc6-dbg, llvm-symbolizer-14, nm and readelf"))
struct GlibcNameDifferentialTests {
    @Test func publicNamesForAThousandRandomAddresses() throws {
        let debug = try #require(GlibcDebugFile.path)
        let (entries, publicNames) = try GlibcDebugFile.functionNames(debug)
        // The entries that have a public name at all (many of glibc's functions are static: none).
        let publicEntries = Set(publicNames.compactMap { entries[$0] })
        let reference = try ReferenceElf(path: glibc, dynamic: true)
        let text = try #require(reference.executableSections.max { $0.size < $1.size })
        var generator = CorruptElfTests.SplitMix(state: 1000)
        let addresses = (0..<1000).map { _ in text.address + generator.next() % text.size }

        let printed = try Tools.run(
            "llvm-symbolizer-14",
            ["--no-inlines", "--functions=linkage", "--obj=\(glibc)"] + addresses.map { "0x" + String($0, radix: 16) })
        let names = printed.components(separatedBy: "\n\n").map { $0.split(separator: "\n").first.map(String.init) }
        #expect(names.count >= addresses.count)

        let symbolizer = ElfSymbolizer()
        let module = ModuleID(path: glibc)
        var compared = 0
        var differences: [String] = []
        for (address, name) in zip(addresses, names) {
            guard let name, name != "??", let expectedEntry = entries[name] else { continue }
            compared += 1
            let ours = symbolizer.frames(atVirtualAddress: VirtualAddress(address), in: module).first?.function ?? "-"
            let mustBePublic = publicEntries.contains(expectedEntry)
            if entries[ours] != expectedEntry || (mustBePublic && !publicNames.contains(ours)) {
                differences.append("0x\(String(address, radix: 16)): llvm-symbolizer \(name), fpprof \(ours)")
            }
        }
        // The others are padding between functions, or code DWARF does not name.
        #expect(compared >= 700, "only \(compared) addresses named by llvm-symbolizer")
        // At most 2 % may differ where the two read DWARF differently (a function llvm-symbolizer places
        // inside another, as critical_factorization in two_way_long_needle).
        #expect(
            differences.count * 50 <= compared, "\(differences.count) differ:\n\(differences.joined(separator: "\n"))")
    }
}

/// The libc6-dbg file of this machine's glibc, found by build-id.
enum GlibcDebugFile {
    static let path: String? = {
        guard let notes = try? Tools.run("readelf", ["-n", glibc]),
            let line = notes.split(separator: "\n").first(where: { $0.contains("Build ID:") }),
            let id = line.split(separator: " ").last, id.count > 2
        else { return nil }
        let candidate = "/usr/lib/debug/.build-id/\(id.prefix(2))/\(id.dropFirst(2)).debug"
        return FileManager.default.fileExists(atPath: candidate) ? candidate : nil
    }()

    /// Every function symbol of `debug`: its entry by name, and the public names among them (global, the
    /// default version: not `cfree@GLIBC_2.2.5`).
    static func functionNames(_ debug: String) throws -> (entries: [String: UInt64], publicNames: Set<String>) {
        var entries: [String: UInt64] = [:]
        var publicNames = Set<String>()
        for line in try Tools.run("nm", ["--defined-only", debug]).split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let address = UInt64(fields[0], radix: 16), "TtWwi".contains(fields[1]) else {
                continue
            }
            let versioned = String(fields[2])
            let name = String(versioned.prefix { $0 != "@" })
            let compatibility = versioned.contains("@") && !versioned.contains("@@")
            if compatibility && entries[name] != nil { continue }
            entries[name] = address
            if fields[1].uppercased() == fields[1], !compatibility { publicNames.insert(name) }
        }
        return (entries, publicNames)
    }
}
