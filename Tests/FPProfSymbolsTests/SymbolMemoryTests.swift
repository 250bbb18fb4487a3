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
}
