// libFuzzer harness: a whole ELF file through the symbolizer as `report` and `symbolize` meet it, mutated from
// small real binaries: libelf's headers, sections and notes (build-id), the symbol tables, libdw's DWARF (units,
// inline scopes, line tables) through libdwfl and fpprof's debug-file search, the CFI rule compiler, the entry
// frames and `.gopclntab` of Go binaries. libelf and libdw are not instrumented; what is measured is fpprof's code
// around them, which must take any answer they give. Built and run by scripts/fuzz.sh elf SECONDS.
import FPProfCore
import FPProfSymbols
import Glibc

/// One file per fuzzing process, rewritten for each input (the symbolizer reads paths).
private let path = "/tmp/fpprof-fuzz-elf-\(getpid())"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzElf(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { return 0 }
    var written = 0
    while written < size {
        let count = write(descriptor, data + written, size - written)
        guard count > 0 else { break }
        written += count
    }
    close(descriptor)
    let symbolizer = ElfSymbolizer()
    let module = ModuleID(path: path)
    for offset: UInt64 in [0, 0x40, 0x1000, 0x1040, 0x1139, 0x2000, 0x10_0000] {
        let address = NormalizedAddress(module: module, offset: FileOffset(offset))
        _ = symbolizer.frames(for: address)
        _ = symbolizer.isRoot(address)
        _ = symbolizer.entryFrame(for: address)
        _ = symbolizer.frames(atVirtualAddress: VirtualAddress(offset + 0x40_0000), in: module)
    }
    _ = symbolizer.rootRanges(for: module)
    _ = symbolizer.codeRanges(for: module)
    _ = symbolizer.callFrameRules(for: module)
    _ = symbolizer.goRuntimeLayout(for: module)
    return 0
}
