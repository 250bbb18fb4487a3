import ArgumentParser
import FPProfCore
import FPProfEngine
import FPProfSymbols
import Foundation

extension DemangleMode: ExpressibleByArgument {}
extension UnwindMode: ExpressibleByArgument {}

/// How stacks are walked and frames named, shared by `record`, `report` and `fpcheck`.
struct SymbolOptions: ParsableArguments {
    @Flag(help: "Leave out inlined frames: one frame per real function.")
    var noInline = false

    @Option(
        help: """
            simplified (default: no parameter lists; Swift names as `swift demangle --simplified` reads them), \
            no-params (drop only the parameter list), full or none.
            """)
    var demangle: DemangleMode = .simplified

    @Flag(help: "Include the kernel's part of each stack (names from /proc/kallsyms, suffix _[k] in folded output).")
    var kernel = false

    @Option(
        help: """
            hybrid (default): walk frame records while they are sound and the call frame information (.eh_frame) \
            where the code keeps none, such as libraries built without frame pointers. fp: walk frame records only \
            (a frame record a function does not keep ends the walk or skips its caller).
            """)
    var unwind: UnwindMode = .hybrid

    @Option(help: "Soft cap on symbol memory (DWARF indexes and caches) in MiB; 0 for none.")
    var symbolMemory: Int = 512

    func validate() throws {
        guard symbolMemory >= 0 else { throw ValidationError("--symbol-memory must be 0 or more MiB") }
    }

    var symbolizerOptions: ElfSymbolizer.Options {
        var o = ElfSymbolizer.Options()
        o.inlineFrames = !noInline
        o.demangle = demangle
        o.symbolMemoryLimit = symbolMemory << 20
        return o
    }

    var settings: SymbolSettings {
        SymbolSettings(options: symbolizerOptions, kernel: kernel)
    }
}
