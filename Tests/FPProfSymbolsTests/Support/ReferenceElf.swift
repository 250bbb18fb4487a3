import Foundation

/// What binutils says about an ELF file, parsed from `nm` and `readelf`: the independent answers the symbolizer is
/// checked against. Nothing here uses fpprof's own reader.
struct ReferenceElf {
    struct Symbol: Hashable {
        var address: UInt64
        var size: UInt64?
        var name: String
    }

    struct Segment: Hashable {
        var offset: UInt64
        var address: UInt64
        var fileSize: UInt64
    }

    struct Section: Hashable {
        var name: String
        var address: UInt64
        var size: UInt64
    }

    var path: String
    /// Defined code symbols (`nm` types t, T, W, i), sorted by address, names without versions.
    var symbols: [Symbol]
    var segments: [Segment]
    /// Sections with the `X` flag.
    var executableSections: [Section]

    init(path: String, dynamic: Bool = false) throws {
        self.path = path
        let nmArguments = (dynamic ? ["-D"] : []) + ["-nS", "--defined-only", path]
        symbols = try Tools.run("nm", nmArguments).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count == 3 || fields.count == 4 else { return nil }
            let type = fields[fields.count - 2]
            guard ["t", "T", "W", "i"].contains(type), let address = UInt64(fields[0], radix: 16) else { return nil }
            let name = String(fields[fields.count - 1].split(separator: "@", maxSplits: 1)[0])
            return Symbol(address: address, size: fields.count == 4 ? UInt64(fields[1], radix: 16) : nil, name: name)
        }
        let programHeaders = try Tools.run("readelf", ["-lW", path])
        segments = programHeaders.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.first == "LOAD", fields.count >= 5 else { return nil }
            func hex(_ field: Substring) -> UInt64? { UInt64(field.dropFirst(2), radix: 16) }
            guard let offset = hex(fields[1]), let address = hex(fields[2]), let size = hex(fields[4]) else {
                return nil
            }
            return Segment(offset: offset, address: address, fileSize: size)
        }
        let sectionHeaders = try Tools.run("readelf", ["-SW", path])
        executableSections = sectionHeaders.split(separator: "\n").compactMap { line in
            // "  [15] .text  PROGBITS  0000000000001050 001050 0001f6 00  AX  0   0 16"
            guard let close = line.firstIndex(of: "]") else { return nil }
            let fields = line[line.index(after: close)...].split(separator: " ")
            guard fields.count >= 7, fields[6].contains("X"), let address = UInt64(fields[2], radix: 16),
                let size = UInt64(fields[4], radix: 16)
            else { return nil }
            return Section(name: String(fields[0]), address: address, size: size)
        }
    }

    /// The file offset of link-time address `address`, from the program headers.
    func fileOffset(of address: UInt64) -> UInt64? {
        segments.first { address >= $0.address && address - $0.address < $0.fileSize }.map {
            $0.offset + (address - $0.address)
        }
    }

    func symbol(named name: String) -> Symbol? { symbols.first { $0.name == name } }
}

/// Function names the reference symbolizers give for link-time addresses, `nil` where they say `??`.
enum ReferenceNames {
    /// `addr2line -f` (binutils) or `eu-addr2line -f` (elfutils), one run for all addresses.
    static func lookup(tool: String, path: String, addresses: [UInt64]) throws -> [String?] {
        guard !addresses.isEmpty else { return [] }
        let arguments = ["-f", "-e", path] + addresses.map { "0x" + String($0, radix: 16) }
        let lines = try Tools.run(tool, arguments).split(separator: "\n", omittingEmptySubsequences: false)
        // Two lines per address: the function, then file:line.
        return addresses.indices.map { index in
            let name = String(lines[2 * index])
            return name == "??" ? nil : name
        }
    }
}
