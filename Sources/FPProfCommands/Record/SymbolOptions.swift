import ArgumentParser
import FPProfCore
import FPProfSymbols
import Foundation

extension DemangleMode: ExpressibleByArgument {}

/// How frames are named, shared by `record` and `fpcheck`.
struct SymbolOptions: ParsableArguments {
    @Flag(help: "Leave out inlined frames: one frame per real function.")
    var noInline = false

    @Option(help: "full, no-params (drop only the parameter list) or none.")
    var demangle: DemangleMode = .noParams

    @Flag(help: "Include the kernel's part of each stack (names from /proc/kallsyms, suffix _[k] in folded output).")
    var kernel = false

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

/// What `Recording` needs from `SymbolOptions`.
struct SymbolSettings {
    var options = ElfSymbolizer.Options()
    var kernel = false

    /// The kernel's symbols, read when `--kernel` asks for them.
    func kernelSymbols() throws(UserFacingError) -> KernelSymbols? {
        guard kernel else { return nil }
        // /proc files report a size of 0: read to the end rather than trusting the size.
        guard let handle = FileHandle(forReadingAtPath: "/proc/kallsyms"), let data = try? handle.readToEnd() else {
            throw UserFacingError(message: "--kernel: cannot read /proc/kallsyms")
        }
        let text = String(decoding: data, as: UTF8.self)
        let symbols = KernelSymbols(kallsyms: text)
        if symbols.isEmpty {
            throw UserFacingError(
                message: "--kernel: /proc/kallsyms shows no addresses; run as root or lower kernel.kptr_restrict")
        }
        return symbols
    }
}
