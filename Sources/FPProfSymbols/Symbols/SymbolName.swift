/// Name rules shared by every symbol source: what a name looks like once it is fit to print, which entries are
/// markers rather than names, and which of several names for one address a reader would expect.
enum SymbolName {
    /// The name without its symbol version: GNU tools write versioned `.symtab` entries as `memcpy@@GLIBC_2.14` or
    /// `memcpy@GLIBC_2.2.5`, while a reader of a profile thinks of `memcpy`. A leading `@` is kept, since then
    /// there is no name before it.
    static func withoutVersion(_ name: String) -> String {
        let utf8 = name.utf8
        guard let at = utf8.firstIndex(of: UInt8(ascii: "@")), at != utf8.startIndex else { return name }
        return String(name[..<at])
    }

    /// Whether the name is an ARM/AArch64 mapping symbol (`$x`, `$d`, `$a`, `$t`, optionally `.suffix`). Those
    /// mark where code or data starts inside a function and would otherwise steal its samples.
    static func isMappingSymbol(_ name: String) -> Bool {
        let utf8 = name.utf8
        guard utf8.count >= 2, utf8.first == UInt8(ascii: "$") else { return false }
        let kind = utf8[utf8.index(after: utf8.startIndex)]
        guard [UInt8(ascii: "x"), UInt8(ascii: "d"), UInt8(ascii: "a"), UInt8(ascii: "t")].contains(kind) else {
            return false
        }
        return utf8.count == 2 || utf8.dropFirst(2).first == UInt8(ascii: ".")
    }

    /// How many `_` the name starts with: of aliases such as `malloc` and `__libc_malloc`, the one with fewer is
    /// the public name.
    static func leadingUnderscores(_ name: String) -> Int {
        name.utf8.prefix { $0 == UInt8(ascii: "_") }.count
    }
}
