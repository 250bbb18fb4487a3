/// Whether an executable is a Go program, read from its section headers alone (no symbols, no DWARF): Go's linker
/// always writes its function table (`.gopclntab`, `.data.rel.ro.gopclntab` in position-independent builds, kept
/// by `-ldflags=-s`) and, since Go 1.13, its build information (`.go.buildinfo`). Used before a recording starts,
/// to decide whether the kernel's user callchain is worth its cost: only Go's stack switches need it.
public enum GoExecutable {
    static let sectionNames: Set<String> = [".gopclntab", ".data.rel.ro.gopclntab", ".go.buildinfo"]

    /// False when the file cannot be read as ELF.
    public static func isGo(path: String) -> Bool {
        guard let handle = try? ElfHandle(path: path) else { return false }
        return sectionNames.contains { handle.section(named: $0) != nil }
    }
}
