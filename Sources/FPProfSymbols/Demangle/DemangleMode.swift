/// How much of a mangled C++, Rust or Swift name a frame shows.
public enum DemangleMode: String, Sendable, CaseIterable {
    /// The whole demangled name: `ns::Bar<int>::baz(int) const`, `main.Foo.bar(x: Swift.Int) -> Swift.Int`.
    case full
    /// The demangled name without the parenthesized parameter list (and, for Swift, the result type), keeping
    /// namespaces and template arguments: `ns::Bar<int>::baz`, `main.Foo.bar`. What folded stacks show by default:
    /// overloads merge, and frames stay short.
    case noParams = "no-params"
    /// The name as stored in the binary.
    case none
}
