internal import FPProfCore

/// The functions where a stack legitimately ends. Past them a frame-pointer walk finds either a zero frame pointer
/// or stale memory (a Go thread past `runtime.mstart`), so the unwinder stops there and calls the stack complete.
/// `start_thread` is not among them: a thread's stack continues into the `clone3` that called it.
///
/// Go's own `runtime.clone` (it makes threads without libc) is one for the same reason as glibc's `clone`: in the
/// new thread it runs on an empty stack with the parent's BP still in place, so a walk from there would follow the
/// parent's frames, which the parent is already changing. A sample of the parent inside it ends there too (its
/// callers, `newosproc` and up, are lost for those rare samples).
///
/// A signal handler runs on a stack of its own (Go's gsignal stack, an `sigaltstack`), entered from the kernel's
/// signal frame: its trampolines (`runtime.sigtramp`, `runtime.cgoSigtramp`, the `sigreturn` restorers) end the
/// handler's stack. The interrupted code's frames are in the saved context, not on a frame-pointer chain.
enum RootFrames {
    /// Exact names: the C runtime's entry points, glibc's thread creation (its exported `clone` is an alias of
    /// `__clone`), and Go's goroutine, thread and process entry points under both Go ABIs' symbol names.
    static let names: Set<String> = [
        "_start", "__libc_start_main", "__libc_start_call_main",
        "clone", "__clone", "clone3", "__clone3",
        "runtime.goexit", "runtime.mstart", "runtime.rt0_go", "runtime.clone", "runtime.clone.abi0",
        "runtime.goexit.abi0", "runtime.mstart.abi0", "runtime.rt0_go.abi0",
        "runtime.sigtramp", "runtime.sigtramp.abi0", "runtime.cgoSigtramp", "runtime.cgoSigtramp.abi0",
        "runtime.sigreturn", "runtime.sigreturn.abi0", "runtime.sigreturn__sigaction",
        "runtime.sigreturn__sigaction.abi0", "__restore_rt",
    ]

    /// The signal restorers (`sa_restorer`): the kernel makes a handler return into one, pushing its first byte as
    /// the handler's return address, so it is entered by a return, not a call. glibc's `__restore_rt` is
    /// `mov $15,%rax; syscall` (rt_sigreturn); Go installs its own (`sigreturn__sigaction` since Go 1.21). Each is
    /// also a root.
    static let signalReturnNames: Set<String> = [
        "__restore_rt", "runtime.sigreturn", "runtime.sigreturn.abi0", "runtime.sigreturn__sigaction",
        "runtime.sigreturn__sigaction.abi0",
    ]

    /// Name prefixes: Go's per-platform entry stubs (`_rt0_amd64_linux`, `_rt0_amd64`, `_rt0_arm64_linux`, ...).
    static let prefixes: [String] = ["_rt0_amd64", "_rt0_arm64"]

    /// Whether a (version-free) symbol name is a root.
    static func isRoot(_ name: String) -> Bool {
        names.contains(name) || prefixes.contains { name.hasPrefix($0) }
    }
}

/// The functions that run their callee on another stack than their own caller's: Go's switches from a goroutine
/// to the thread's g0 stack (Go 1.17+ asm_amd64.s and asm_arm64.s). None of them pushes a frame record (each is
/// `$0` assembly), so the callee's record holds the goroutine's BP and a return address into the switch: the next
/// record lies on the goroutine's stack, which may be anywhere, and the unwinder allows that one downward step.
///
/// - `systemstack`: runs `fn` on g0 and returns (GC, allocation slow paths, ...).
/// - `mcall`: runs `fn(g)` on g0, never returns (gopark, Gosched, goexit1). Go 1.19 leaves the goroutine's BP in
///   place, so `fn`'s record continues into the goroutine's frames.
/// - `morestack` (and `morestack_noctxt`, which jumps into it): runs `newstack` on g0 from a function's prologue.
/// - `asmcgocall`: runs a C function on g0 (cgo calls, and the runtime's own libc calls where it makes them).
/// - `time.now`, `runtime.walltime`, `runtime.nanotime1` (time_linux_amd64.s, sys_linux_amd64.s): call the vdso on
///   the g0 stack, so a sample inside the vdso has SP on g0 and BP on the goroutine's stack.
///
/// `systemstack_switch` is not one: it is a fake PC the scheduler leaves in `g.sched` for tracebacks, never on a
/// frame-pointer chain.
enum StackSwitchFrames {
    static let names: Set<String> = [
        "runtime.systemstack", "runtime.systemstack.abi0",
        "runtime.mcall", "runtime.mcall.abi0",
        "runtime.morestack", "runtime.morestack.abi0",
        "runtime.morestack_noctxt", "runtime.morestack_noctxt.abi0",
        "runtime.asmcgocall", "runtime.asmcgocall.abi0",
        "time.now", "time.now.abi0", "runtime.walltime", "runtime.walltime.abi0",
        "runtime.nanotime1", "runtime.nanotime1.abi0",
    ]

    /// Whether a (version-free) symbol name is a stack switch.
    static func isSwitch(_ name: String) -> Bool { names.contains(name) }

    /// Never return to their caller (Go's traceback ends g0 at them): `mcall` runs the scheduler, `morestack` copies
    /// the stack or preempts. The goroutine past them may be running again elsewhere.
    static let detaching: Set<String> = [
        "runtime.mcall", "runtime.mcall.abi0",
        "runtime.morestack", "runtime.morestack.abi0",
        "runtime.morestack_noctxt", "runtime.morestack_noctxt.abi0",
    ]

    /// `$0` assembly that leaves its caller's BP for its callee, so the caller's own frame is not on the chain. The
    /// vdso callers make frames of their own. `morestack` hides two: it is called from the prologue of the function
    /// growing its stack, before that function saves BP, so the chain skips both that function and its caller, and
    /// the code can name neither for certain (the caller's call site is on the goroutine's stack); none is added.
    static let hidingCaller: Set<String> = [
        "runtime.systemstack", "runtime.systemstack.abi0",
        "runtime.mcall", "runtime.mcall.abi0",
        "runtime.asmcgocall", "runtime.asmcgocall.abi0",
    ]

    /// Set g (R14 and the TLS slot) to g0 before calling their callee; the others leave R14 alone.
    static let runningCalleeOnG0: Set<String> = [
        "runtime.systemstack", "runtime.systemstack.abi0",
        "runtime.mcall", "runtime.mcall.abi0",
        "runtime.morestack", "runtime.morestack.abi0",
        "runtime.morestack_noctxt", "runtime.morestack_noctxt.abi0",
    ]

    static func traits(_ name: String) -> StackSwitchTraits {
        StackSwitchTraits(
            detaches: detaching.contains(name), hidesCaller: hidingCaller.contains(name),
            runsCalleeOnG0: runningCalleeOnG0.contains(name))
    }
}
