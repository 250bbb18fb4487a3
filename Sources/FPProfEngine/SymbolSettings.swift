public import FPProfCore
public import FPProfSymbols
import Foundation

/// How frames are named: the symbolizer's options, and whether the kernel's part of each stack is kept.
public struct SymbolSettings: Sendable {
    public var options: ElfSymbolizer.Options
    /// Keep the kernel's part of each stack, named from `/proc/kallsyms` (the sampler must ask for the chain).
    public var kernel: Bool

    public init(options: ElfSymbolizer.Options = ElfSymbolizer.Options(), kernel: Bool = false) {
        self.options = options
        self.kernel = kernel
    }

    /// The kernel's symbols, read when `kernel` asks for them.
    public func kernelSymbols() throws(EngineError) -> KernelSymbols? {
        guard kernel else { return nil }
        // /proc files report a size of 0: read to the end rather than trusting the size.
        guard let handle = FileHandle(forReadingAtPath: "/proc/kallsyms"), let data = try? handle.readToEnd() else {
            throw EngineError(.kernelSymbols, "--kernel: cannot read /proc/kallsyms")
        }
        let symbols = KernelSymbols(kallsyms: String(decoding: data, as: UTF8.self))
        if symbols.isEmpty {
            throw EngineError(
                .kernelSymbols, "--kernel: /proc/kallsyms shows no addresses; run as root or lower kernel.kptr_restrict"
            )
        }
        return symbols
    }
}
