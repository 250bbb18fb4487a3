internal import CMalloc

/// Gives the heap's free pages back to the kernel after a peak. A window's cut (symbolizing, building and rendering
/// the profile) and an on-demand profile each need tens of MiB for a moment; glibc keeps what they freed in its
/// arenas, so without this the daemon's RSS would stay at its highest cut rather than at what it holds between
/// cuts. `malloc_trim(0)` returns every whole free page of every arena (not only the top of the main heap), and
/// costs a few milliseconds, once per window or request.
enum HeapTrim {
    static func afterPeak() {
        _ = malloc_trim(0)
    }
}
