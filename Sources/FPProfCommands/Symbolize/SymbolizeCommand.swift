import ArgumentParser
import FPProfCore
import FPProfSymbols
import Foundation

/// `fpprof symbolize`: the symbolizer on its own, the way `addr2line -a -f -i` works, so its answers can be checked
/// against elfutils, binutils and LLVM and used in scripts.
struct SymbolizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "symbolize",
        abstract: "Print the functions, inline chains, files and lines of addresses in an ELF file.",
        discussion: """
            Addresses are hexadecimal link-time (ELF virtual) addresses, with or without 0x, as eu-addr2line and \
            addr2line take them; with none on the command line they are read from standard input, separated by \
            white space.

            Output, one block per address, stable for scripts (the format of `addr2line -a -f -i`):
              0x0000000000001188          the address, 16 hex digits
              helper_b                    innermost function (the inlined callee)
              /src/inl.c:2                its file and line
              helper_a                    the function it was inlined into
              /src/inl.c:3                the line of that inlined call
              outer                       ... up to the real (outermost) function
              /src/inl.c:4
            A name or location that is unknown is written ?? and ??:0; an address with a line but no name is \
            written FILE+0xOFFSET (its file offset), as profiles show it. With --no-inline a block has one frame: \
            the real function, at the line of the outermost inlined call in it. Exit status 2: some addresses were \
            malformed, or the file (or its DWARF) could not be read, as standard error says.

            Examples:
              fpprof symbolize --exe ./prog 0x401136 0x4011a0
              nm -n ./prog | awk '{print $1}' | fpprof symbolize --exe ./prog --demangle full
            """
    )

    @Option(name: [.short, .long], help: "The executable or shared library the addresses belong to.")
    var exe: String

    @Flag(help: "Only the real function of each address, without the calls inlined into it.")
    var noInline = false

    @Option(help: "How C++, Rust and Swift names are shown: simplified (default), no-params, full or none.")
    var demangle: String = DemangleMode.simplified.rawValue

    @Option(help: "Soft cap on symbol memory (DWARF indexes and caches) in MiB; 0 for none.")
    var symbolMemory: Int = 512

    @Flag(help: "Print to standard error how long symbolizing took, first (cold) and asked again (warm).")
    var stats = false

    @Argument(help: "Hexadecimal addresses; read from standard input when none are given.")
    var addresses: [String] = []

    func validate() throws {
        guard DemangleMode(rawValue: demangle) != nil else {
            throw ValidationError("--demangle must be one of simplified, no-params, full, none (got '\(demangle)')")
        }
        for token in addresses where Self.parse(token) == nil {
            throw ValidationError("'\(token)' is not a hexadecimal address")
        }
    }

    func run() throws {
        let path = URL(fileURLWithPath: exe).standardizedFileURL.path
        let mode = DemangleMode(rawValue: demangle) ?? .simplified
        var options = ElfSymbolizer.Options(inlineFrames: !noInline, demangle: mode)
        options.symbolMemoryLimit = max(symbolMemory, 0) << 20
        let symbolizer = ElfSymbolizer(options: options)
        let module = ModuleID(path: path)
        guard FileManager.default.isReadableFile(atPath: path) else {
            StandardError.write("fpprof: cannot read \(exe)\n")
            throw FPProfExit.failure
        }
        // The symbolizer turns an unreadable file into ?? answers; the help promises exit 2 and a reason for it.
        let damage = ElfFile.damage(path: path)
        var malformed = 0
        var parsed: [UInt64?] = []
        let collect = { (token: Substring) in
            let address = Self.parse(token)
            if address == nil {
                malformed += 1
                StandardError.write("fpprof: '\(token)' is not a hexadecimal address\n")
            }
            parsed.append(address)
        }
        if addresses.isEmpty {
            while let line = readLine(strippingNewline: true) {
                for token in line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }) { collect(token) }
            }
        } else {
            for token in addresses { collect(Substring(token)) }
        }

        let clock = ContinuousClock()
        var results: [[SymbolFrame]?] = []
        results.reserveCapacity(parsed.count)
        let cold = clock.measure {
            for address in parsed {
                results.append(address.map { symbolizer.frames(atVirtualAddress: VirtualAddress($0), in: module) })
            }
        }
        var output = SymbolizeOutput()
        do {
            for (address, frames) in zip(parsed, results) {
                guard let address, let frames else { continue }
                try output.append(address: address, frames: frames)
            }
            try output.flush()
        } catch {
            StandardError.write("fpprof: \(error.message)\n")
            throw FPProfExit.failure
        }
        if stats { Self.reportStats(symbolizer: symbolizer, module: module, addresses: parsed, cold: cold) }
        for warning in symbolizer.warnings { StandardError.write("fpprof: \(warning)\n") }
        // The symbolizer already named a file it could not open at all; a truncated one it reads in silence.
        if let damage, symbolizer.warnings.isEmpty { StandardError.write("fpprof: \(damage)\n") }
        // Malformed addresses, or a file that could not be read (or whose DWARF is damaged): some answers are
        // missing or poorer than they should be.
        if malformed > 0 || damage != nil || !symbolizer.warnings.isEmpty { throw FPProfExit.partial }
    }

    /// Times a second (warm) pass through the normalized API, the one a profile uses, and prints both rates.
    static func reportStats(symbolizer: ElfSymbolizer, module: ModuleID, addresses: [UInt64?], cold: Duration) {
        let file = try? ElfFile(path: module.path)
        let normalized = addresses.compactMap { address in
            address.flatMap { file?.fileOffset(forVirtualAddress: VirtualAddress($0)) }.map {
                NormalizedAddress(module: module, offset: $0)
            }
        }
        var frameCount = 0
        let rounds = 10
        let warm = ContinuousClock().measure {
            for _ in 0..<rounds {
                for address in normalized { frameCount &+= symbolizer.frames(for: address).count }
            }
        }
        func rate(_ count: Int, _ duration: Duration) -> String {
            let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
            return seconds > 0 ? String(Int(Double(count) / seconds)) : "-"
        }
        StandardError.write(
            "fpprof: \(addresses.count) addresses: cold \(cold) (\(rate(addresses.count, cold))/s), "
                + "warm \(rounds)x\(normalized.count) in \(warm) (\(rate(rounds * normalized.count, warm))/s), "
                + "\(frameCount / max(rounds, 1)) frames\n")
    }

    /// `0x1a2b`, `0X1A2B` or `1a2b`.
    static func parse(_ token: some StringProtocol) -> UInt64? {
        var digits = Substring(token)
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
        guard !digits.isEmpty, digits.count <= 16 else { return nil }
        return UInt64(digits, radix: 16)
    }
}

/// Writes blocks in the `addr2line -a -f -i` layout, buffered: one write per 64 KiB, not one per line.
struct SymbolizeOutput {
    private var buffer = ""

    mutating func append(address: UInt64, frames: [SymbolFrame]) throws(UserFacingError) {
        let hex = String(address, radix: 16)
        buffer += "0x" + String(repeating: "0", count: max(0, 16 - hex.count)) + hex + "\n"
        if frames.isEmpty {
            buffer += "??\n??:0\n"
        }
        for frame in frames.reversed() {
            buffer += frame.function.isEmpty ? "??" : frame.function
            buffer += "\n"
            if let file = frame.file {
                buffer += file + ":" + String(frame.line ?? 0) + "\n"
            } else {
                buffer += "??:0\n"
            }
        }
        if buffer.utf8.count >= 1 << 16 { try flush() }
    }

    mutating func flush() throws(UserFacingError) {
        try StandardOutput.write(Array(buffer.utf8))
        buffer = ""
    }
}
