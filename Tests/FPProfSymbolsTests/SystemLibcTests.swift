import FPProfCore
import FPProfSymbols
import Foundation
import Testing

private let systemLibc = "/lib/x86_64-linux-gnu/libc.so.6"

/// The system's libc: a real, stripped distribution library (Debian keeps only `.dynsym`), with versioned names
/// and aliases at one address.
@Suite(
    .enabled(
        if: FileManager.default.fileExists(atPath: systemLibc) && Tools.available("nm") && Tools.available("readelf"),
        "needs \(systemLibc), nm and readelf"))
struct SystemLibcTests {
    static let path = systemLibc

    let reference: ReferenceElf
    init() throws { reference = try ReferenceElf(path: Self.path, dynamic: true) }

    func address(_ name: String, plus delta: UInt64) throws -> NormalizedAddress {
        let symbol = try #require(reference.symbol(named: name), "\(name) is not in \(Self.path)'s .dynsym")
        let offset = try #require(reference.fileOffset(of: symbol.address + delta))
        return NormalizedAddress(module: ModuleID(path: Self.path), offset: FileOffset(offset))
    }

    /// The names nm gives for the address of `name`: all aliases there.
    func aliases(of name: String) throws -> Set<String> {
        let symbol = try #require(reference.symbol(named: name))
        return Set(reference.symbols.filter { $0.address == symbol.address }.map(\.name))
    }

    @Test("malloc and free are named, by their public name among the aliases")
    func publicNames() throws {
        // The symbol-table rules; with libc6-dbg installed, DWARF would name the C functions (`__libc_malloc`).
        let symbolizer = ElfSymbolizer(options: .init(debugInfo: false))
        for name in ["malloc", "free", "memcpy", "printf"] where reference.symbol(named: name) != nil {
            let frames = symbolizer.frames(for: try address(name, plus: 1))
            #expect(frames.count == 1)
            #expect(try aliases(of: name).contains(frames.first?.function ?? ""), "\(name): \(frames)")
            #expect(!(frames.first?.function.contains("@") ?? true))
        }
        // `malloc` and `__libc_malloc` share an address: the name without underscores is the one users know.
        #expect(symbolizer.frames(for: try address("malloc", plus: 8)) == [SymbolFrame(function: "malloc")])
        #expect(symbolizer.warnings.isEmpty)
    }

    @Test("__libc_start_main and clone end stacks; malloc does not")
    func roots() throws {
        let symbolizer = ElfSymbolizer(options: .init(debugInfo: false))
        #expect(symbolizer.isRoot(try address("__libc_start_main", plus: 4)))
        #expect(symbolizer.isRoot(try address("clone", plus: 4)))
        #expect(!symbolizer.isRoot(try address("malloc", plus: 4)))
        #expect(
            symbolizer.frames(for: try address("__libc_start_main", plus: 4)) == [
                SymbolFrame(function: "__libc_start_main")
            ])
    }

    @Test(
        "lookup speed, cold (first time per address) and warm (answered from the cache)",
        .enabled(if: ProcessInfo.processInfo.environment["FPPROF_BENCH"] != nil, "set FPPROF_BENCH=1 to measure"))
    func lookupSpeed() throws {
        let clock = ContinuousClock()
        let module = ModuleID(path: Self.path)
        let symbolizer = ElfSymbolizer()
        let load = clock.measure {
            _ = symbolizer.frames(for: NormalizedAddress(module: module, offset: FileOffset(0)))
        }

        // Every 7th byte of every sized function: many distinct addresses, spread over the whole library.
        let addresses = try reference.symbols.filter { ($0.size ?? 0) > 0 }.flatMap { symbol in
            try stride(from: symbol.address, to: symbol.address + (symbol.size ?? 0), by: 7).map {
                NormalizedAddress(module: module, offset: FileOffset(try #require(reference.fileOffset(of: $0))))
            }
        }
        var named = 0
        let cold = clock.measure {
            for address in addresses where !symbolizer.frames(for: address).isEmpty { named += 1 }
        }
        let rounds = 10
        let warm = clock.measure {
            for _ in 0..<rounds {
                for address in addresses where !symbolizer.frames(for: address).isEmpty { named += 1 }
            }
        }
        let roots = clock.measure { for address in addresses where symbolizer.isRoot(address) { named += 1 } }
        func perSecond(_ count: Int, _ duration: Duration) -> String {
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            return String(format: "%.2f M/s", Double(count) / seconds / 1e6)
        }
        print(
            """
            libc load: \(load); \(addresses.count) addresses; cold \(perSecond(addresses.count, cold)), \
            warm \(perSecond(addresses.count * rounds, warm)), isRoot \(perSecond(addresses.count, roots))
            """)
        #expect(named > 0)
    }
}
