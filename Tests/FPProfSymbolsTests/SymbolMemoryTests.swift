import FPProfCore
import FPProfSymbols
import Foundation
import Testing

/// The symbol memory cap: a symbolizer over its limit releases DWARF and answers and still answers the same.
@Suite(.enabled(if: Fixtures.toolsAvailable, "needs gcc and readelf"))
struct SymbolMemoryTests {
    @Test("a tiny cap changes no answer across modules")
    func tinyCap() throws {
        let paths = [try DwarfFixtures.inlined.get(), try Fixtures.get().pie, try DwarfFixtures.cxx.get()]
        let unlimited = ElfSymbolizer(options: .init(symbolMemoryLimit: 0))
        let capped = ElfSymbolizer(options: .init(symbolMemoryLimit: 1))
        for round in 0..<2 {
            for path in paths {
                let addresses = randomCodeAddresses(try ReferenceElf(path: path), count: 300, seed: UInt64(round))
                for address in addresses {
                    let module = ModuleID(path: path)
                    #expect(
                        capped.frames(atVirtualAddress: VirtualAddress(address), in: module)
                            == unlimited.frames(atVirtualAddress: VirtualAddress(address), in: module))
                }
            }
        }
        #expect(capped.warnings.isEmpty)
    }
    /// Whole modules are forgotten under the cap: first those read only for their code ranges (as an `all` target
    /// reads every library it sees mapped), never one used in this window or the one before; a forgotten module
    /// met again is read again and answers as before.
    @Test("modules read for code ranges or unused this window are forgotten, and read again when met")
    func wholeModulesAreForgotten() throws {
        let paths = [try DwarfFixtures.inlined.get(), try Fixtures.get().pie, try DwarfFixtures.cxx.get()]
        let modules = paths.map { ModuleID(path: $0) }
        let unlimited = ElfSymbolizer(options: .init(symbolMemoryLimit: 0))
        let capped = ElfSymbolizer(options: .init(symbolMemoryLimit: 1))
        // Code ranges alone: each new module pushes out the one before (the newest stays).
        let ranges = modules.map { capped.codeRanges(for: $0) }
        #expect(capped.modulesForgotten == 2)
        #expect(ranges == modules.map { unlimited.codeRanges(for: $0) })
        // Used for names in this window: kept while other modules are read.
        let address = try #require(randomCodeAddresses(try ReferenceElf(path: paths[0]), count: 1, seed: 7).first)
        let first = capped.frames(atVirtualAddress: VirtualAddress(address), in: modules[0])
        #expect(!first.isEmpty)
        #expect(first == unlimited.frames(atVirtualAddress: VirtualAddress(address), in: modules[0]))
        let before = capped.modulesForgotten
        _ = capped.codeRanges(for: modules[1])
        _ = capped.codeRanges(for: modules[2])
        // modules[0] was used this window and stays: only modules[1] goes, when modules[2] comes.
        #expect(capped.modulesForgotten == before + 1)
        // A new window forgets what is out of use (modules[2]) without waiting for a read; modules[0] still stays
        // (used in the window before), also while modules[1] is read again.
        capped.startWindow()
        #expect(capped.modulesForgotten == before + 2)
        _ = capped.codeRanges(for: modules[1])
        #expect(capped.modulesForgotten == before + 2)
        // In the window after, modules[0] is fair game with modules[1]; it answers the same when read again.
        capped.startWindow()
        #expect(capped.modulesForgotten == before + 4)
        #expect(capped.frames(atVirtualAddress: VirtualAddress(address), in: modules[0]) == first)
        #expect(capped.warnings.isEmpty)
    }
}
