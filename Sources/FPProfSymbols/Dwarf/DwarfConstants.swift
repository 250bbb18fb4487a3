/// The DWARF tags and attributes the symbolizer reads (values from the DWARF 5 standard, as in elfutils' `dwarf.h`,
/// which the CElfutils module does not import).
enum DwarfTag {
    static let entryPoint: Int32 = 0x03
    static let lexicalBlock: Int32 = 0x0b
    static let compileUnit: Int32 = 0x11
    static let inlinedSubroutine: Int32 = 0x1d
    static let module: Int32 = 0x1e
    static let catchBlock: Int32 = 0x25
    static let subprogram: Int32 = 0x2e
    static let tryBlock: Int32 = 0x32
    static let namespace: Int32 = 0x39
}

enum DwarfAttribute {
    static let name: UInt32 = 0x03
    static let compilationDirectory: UInt32 = 0x1b
    static let callFile: UInt32 = 0x58
    static let callLine: UInt32 = 0x59
    static let linkageName: UInt32 = 0x6e
    static let mipsLinkageName: UInt32 = 0x2007
}
