internal import CElfutils

/// One file opened through libdwfl the way `eu-addr2line -e FILE` opens it (`dwfl_report_offline`), so that libdwfl
/// finds the DWARF wherever it lives: in the file itself, in a separate debug file under
/// `/usr/lib/debug/.build-id/`, or through `.gnu_debuglink`, and resolves a `.gnu_debugaltlink` (dwz) file. Those
/// debug files are looked up by `DebugFileSearch` (through `findDebugFile`), never by libdwfl's own blocking `open`.
///
/// The session owns the `Dwfl` and the callbacks libdwfl keeps a pointer to; everything read through `dwarf` is
/// valid only while the session lives. Not thread-safe (libdw handles never are): one owner asks all questions.
// Invariant: `dwfl` is a live handle from `init` to `deinit`; `callbacks` is allocated before `dwfl_begin` and freed
// only after `dwfl_end`, so libdwfl never holds a dangling pointer to it. `dwarf` belongs to `dwfl`.
final class DwflSession {
    private let dwfl: OpaquePointer
    private let callbacks: UnsafeMutablePointer<Dwfl_Callbacks>
    /// The module's `Dwarf *`; nil when the file and its debug files have no DWARF (or unreadable DWARF).
    let dwarf: OpaquePointer?
    /// libdwfl's message when it found no DWARF, for diagnostics (a file without DWARF is not an error).
    let failure: String?

    /// Nil when libdwfl cannot even start or cannot read `path` as an ELF file.
    init?(path: String) {
        let callbacks = UnsafeMutablePointer<Dwfl_Callbacks>.allocate(capacity: 1)
        callbacks.initialize(
            to: Dwfl_Callbacks(
                find_elf: dwfl_build_id_find_elf, find_debuginfo: findDebugFile,
                section_address: dwfl_offline_section_address, debuginfo_path: nil))
        guard let dwfl = dwfl_begin(callbacks) else {
            callbacks.deallocate()
            return nil
        }
        // libdwfl would open the path itself, blocking on a FIFO and following any link: it gets a descriptor
        // `TargetFileOpener` checked instead, which it owns from here (and closes with the Dwfl).
        guard let (descriptor, _) = try? TargetFileOpener.openRegular(path) else {
            dwfl_end(dwfl)
            callbacks.deallocate()
            return nil
        }
        dwfl_report_begin(dwfl)
        let module = dwfl_report_offline(dwfl, path, path, descriptor)
        dwfl_report_end(dwfl, nil, nil)
        guard let module else {
            dwfl_end(dwfl)
            callbacks.deallocate()
            return nil
        }
        var bias: Dwarf_Addr = 0
        let dwarf = dwfl_module_getdwarf(module, &bias)
        self.dwfl = dwfl
        self.callbacks = callbacks
        self.dwarf = dwarf
        self.failure = dwarf == nil ? Self.lastError() : nil
    }

    deinit {
        dwfl_end(dwfl)
        callbacks.deallocate()
    }

    /// libdwfl's message for its most recent failure on this thread.
    static func lastError() -> String {
        guard let message = dwfl_errmsg(-1) else { return "unknown error" }
        return String(cString: message)
    }
}
