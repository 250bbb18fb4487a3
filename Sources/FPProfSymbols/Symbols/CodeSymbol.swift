/// A symbol-table entry that may name code, as the ELF reader hands it to `SymbolTable`. It is plain data, so the
/// table's rules (which symbol wins, how far an unsized one reaches) are tested without any ELF file, and a later
/// reader (DWARF subprograms, Go's `.gopclntab`) can feed the same table.
struct CodeSymbol: Hashable, Sendable {
    /// `STT_FUNC` and `STT_GNU_IFUNC` are functions; `STT_NOTYPE` is what hand-written assembly often gets.
    enum Kind: Hashable, Sendable {
        case function
        case untyped
    }

    /// The ELF binding, ordered from most to least preferred when several names share one address.
    enum Binding: Int, Hashable, Comparable, Sendable {
        case global = 0
        case weak = 1
        case local = 2

        static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    }

    /// The name as stored, version suffix and all (`memcpy@@GLIBC_2.14`).
    var name: String
    /// The link-time address (`st_value`).
    var address: UInt64
    /// `st_size`; 0 when the producer did not say.
    var size: UInt64
    var kind: Kind
    var binding: Binding
    /// The link-time addresses of the executable section that defines the symbol.
    var section: Range<UInt64>
}
