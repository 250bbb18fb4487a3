/// The functions where a stack legitimately ends. Past them a frame-pointer walk finds either a zero frame pointer
/// or stale memory (a Go thread past `runtime.mstart`), so the unwinder stops there and calls the stack complete.
/// `start_thread` is not among them: a thread's stack continues into the `clone3` that called it.
enum RootFrames {
    /// Exact names: the C runtime's entry points, glibc's thread creation (its exported `clone` is an alias of
    /// `__clone`), and Go's goroutine, thread and process entry points under both Go ABIs' symbol names.
    static let names: Set<String> = [
        "_start", "__libc_start_main", "__libc_start_call_main",
        "clone", "__clone", "clone3", "__clone3",
        "runtime.goexit", "runtime.mstart", "runtime.rt0_go",
        "runtime.goexit.abi0", "runtime.mstart.abi0", "runtime.rt0_go.abi0",
    ]

    /// Name prefixes: Go's per-platform entry stubs (`_rt0_amd64_linux`, `_rt0_amd64`, `_rt0_arm64_linux`, ...).
    static let prefixes: [String] = ["_rt0_amd64", "_rt0_arm64"]

    /// Whether a (version-free) symbol name is a root.
    static func isRoot(_ name: String) -> Bool {
        names.contains(name) || prefixes.contains { name.hasPrefix($0) }
    }
}
