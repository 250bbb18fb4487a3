/// How much of a mangled C++, Rust or Swift name a frame shows.
public enum DemangleMode: String, Sendable, CaseIterable {
    /// The whole demangled name: `ns::Bar<int>::baz(int) const`, `main.Foo.bar(x: Swift.Int) -> Swift.Int`.
    case full
    /// The demangled name without the parenthesized parameter list (and, for Swift, the result type), keeping
    /// namespaces and template arguments: `ns::Bar<int>::baz`, `main.Foo.bar`. What folded stacks show by default:
    /// overloads merge, and frames stay short.
    case noParams = "no-params"
    /// As `noParams`, and Swift names read as `swift demangle --simplified` shows them: no module names, no private
    /// discriminators (`(x in _62CE83…)`), `specialized f` for a specialization of `f` (see `SwiftSimplifier`).
    /// C++ and Rust names as in `noParams`, but those longer than 200 characters (the Swift runtime's C++) without
    /// their template arguments (`Map<…>::get<…>`). The command line's default: Swift's generic specializations otherwise
    /// reach a thousand characters.
    case simplified
    /// The name as stored in the binary.
    case none
}
