import FPProfCore
import FPProfSymbols
import Foundation
import Testing

/// fpprof's DWARF answers (function, inline chain, file and line of every frame) against `eu-addr2line -f -i`, for
/// random code addresses of a small inlining fixture and of glibc with its separate debug file.
@Suite(.enabled(if: Fixtures.toolsAvailable, "needs gcc, readelf and eu-addr2line"))
struct DwarfDifferentialTests {
    /// Our frames for each address, printed like eu-addr2line: innermost first, `??` for a name fpprof can only
    /// write `module+0xOFFSET`, `??:0` for an unknown location.
    static func ours(_ symbolizer: ElfSymbolizer, path: String, addresses: [UInt64]) -> [[PrintedFrame]] {
        let module = ModuleID(path: path)
        return addresses.map { address in
            let frames = symbolizer.frames(atVirtualAddress: VirtualAddress(address), in: module)
            guard !frames.isEmpty else { return [PrintedFrame(function: "??", location: "??:0")] }
            return frames.reversed().map { frame in
                let unnamed = frame.function.hasPrefix(module.shortName + "+0x")
                return PrintedFrame(
                    function: unnamed ? "??" : frame.function,
                    location: frame.file.map { "\($0):\(frame.line ?? 0)" } ?? "??:0")
            }
        }
    }

    /// Runs both and returns the addresses that differ, described.
    /// `entries` (function name -> entry address) makes two names of one function agree as the real function:
    /// fpprof shows the public name where DWARF holds an internal alias (`read` for `__GI___libc_read`).
    static func differences(path: String, addresses: [UInt64], entries: [String: UInt64] = [:]) throws -> [String] {
        let symbolizer = ElfSymbolizer(options: .init(demangle: .full))
        let ours = ours(symbolizer, path: path, addresses: addresses)
        let elfutils = try EuAddr2line.frames(path: path, addresses: addresses)
        try #require(elfutils.count == addresses.count)
        #expect(symbolizer.warnings.isEmpty)
        // Where nothing names an address (padding after a function, which the line table's last row of the
        // function still covers), eu-addr2line prints `??` and the line, then with -i looks up inline scopes at the
        // start of that row instead of the address (its `dwfl_lineinfo` call overwrites the address), printing a
        // chain of the function before the padding. fpprof answers for the address itself: only the first frame
        // is compared there.
        func agree(_ index: Int) -> Bool {
            guard elfutils[index].first?.function == "??" else {
                // The real function is the last of eu-addr2line's chain (innermost inlined call first).
                guard let a = ours[index].last, let b = elfutils[index].last, a.function != b.function,
                    let entry = entries[b.function], entries[a.function] == entry
                else { return ours[index] == elfutils[index] }
                var renamed = elfutils[index]
                renamed[renamed.count - 1].function = a.function
                return ours[index] == renamed
            }
            return ours[index].prefix(1) == elfutils[index].prefix(1)
        }
        return addresses.indices.filter { !agree($0) }.map {
            "0x\(String(addresses[$0], radix: 16)):\n  eu-addr2line \(elfutils[$0])\n  fpprof       \(ours[$0])"
        }
    }

    @Test("1000 random addresses of an -O2 -g fixture with two levels of inlining: every answer as eu-addr2line's")
    func inlinedFixture() throws {
        let path = try DwarfFixtures.inlined.get()
        let addresses = randomCodeAddresses(try ReferenceElf(path: path), count: 1000, seed: 3)
        let differences = try Self.differences(path: path, addresses: addresses)
        #expect(differences.isEmpty, "\(differences.count) differ:\n\(differences.prefix(10).joined(separator: "\n"))")
    }

    @Test("the fixture really has inline chains: helper_b inlined into helper_a inlined into outer_one")
    func inlineChainShape() throws {
        let path = try DwarfFixtures.inlined.get()
        let reference = try ReferenceElf(path: path)
        let outer = try #require(reference.symbol(named: "outer_one"))
        let symbolizer = ElfSymbolizer()
        let module = ModuleID(path: path)
        let chains = (outer.address..<outer.address + (outer.size ?? 0)).map {
            symbolizer.frames(atVirtualAddress: VirtualAddress($0), in: module)
        }
        let deepest = try #require(chains.max { $0.count < $1.count })
        #expect(deepest.map(\.function) == ["outer_one", "helper_a", "helper_b"])
        #expect(deepest.map(\.isInlined) == [false, true, true])
        #expect(deepest.allSatisfy { $0.file?.hasSuffix("/inlined.c") == true && ($0.line ?? 0) > 0 })
        // The caller frames carry the lines of the inlined calls, the innermost its own line.
        #expect(deepest[0].line == 22)
        #expect([16, 17].contains(deepest[1].line))
        #expect([10, 11, 12].contains(deepest[2].line))

        let flat = ElfSymbolizer(options: .init(inlineFrames: false))
        let address = try #require(chains.firstIndex { $0.count == 3 }).advanced(by: Int(outer.address))
        let single = flat.frames(atVirtualAddress: VirtualAddress(UInt64(address)), in: module)
        #expect(single.map(\.function) == ["outer_one"])
        #expect(single.first?.isInlined == false)
        #expect(single.first?.line == 22)
    }

    /// glibc's own `-O2 -g` build: several MB of DWARF in the separate debug file `libc6-dbg` installs.
    static let libc: String? = {
        let path = "/lib/x86_64-linux-gnu/libc.so.6"
        guard let buildID = ElfFile.buildID(path: path) else { return nil }
        let hex = buildID.description
        let debug = "/usr/lib/debug/.build-id/\(hex.prefix(2))/\(hex.dropFirst(2)).debug"
        return FileManager.default.fileExists(atPath: debug) ? path : nil
    }()

    @Test(
        "1000 random addresses of glibc (DWARF in libc6-dbg's debug file): the answers of eu-addr2line",
        .enabled(if: libc != nil, "needs libc6-dbg's separate debug file for /lib/x86_64-linux-gnu/libc.so.6"))
    func largeLibrary() throws {
        let path = try #require(Self.libc)
        let addresses = randomCodeAddresses(try ReferenceElf(path: path), count: 1000, seed: 2)
        let entries = try GlibcDebugFile.path.map { try GlibcDebugFile.functionNames($0).entries } ?? [:]
        let differences = try Self.differences(path: path, addresses: addresses, entries: entries)
        // Known, explained differences, at most a few per thousand: of several symbol-table aliases of one assembly function (`__gttf2`/`__getf2`), elfutils' choice
        //   follows table order; fpprof's is by binding and name (see SymbolTable).
        #expect(
            differences.count <= 5, "\(differences.count) differ:\n\(differences.prefix(10).joined(separator: "\n"))")
    }
}
