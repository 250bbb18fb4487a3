/// Shortens a demangled Swift name the way `swift demangle --simplified` reads, for `DemangleMode.simplified`:
/// what a person scanning a flame graph needs to tell functions apart, without what only the compiler needs.
///
/// - private discriminators go: `(parse in _62CE83…)` becomes `parse`, and `Type.(in _1706…).init` `Type.init`;
/// - specializations keep the function, not their arguments: `generic specialization <Swift.Int> of f` becomes
///   `specialized f` (also function-signature specializations), `partial apply forwarder for` `partial apply for`;
/// - module names go: every qualified name in a full demangling starts with its module (`Swift.Int`,
///   `main.Foo.bar`, `__C.CFString`), so the first part of each dotted name is dropped, unless it is a generic
///   parameter (`A.Element`, `B1.Type`);
/// - parameter lists and result types go, as in `noParams` (`SwiftSignature`), and so do the requirements of
///   generic parameter lists (`init<A where A: P>` is `init<A>`).
///
/// The runtime's `swift_demangle` takes no options, so this works on its text, as `SwiftSignature` does.
enum SwiftSimplifier {
    static func simplify(_ full: String) -> String {
        var name = withoutDiscriminators(full)
        for (long, short) in replacements {
            name = replacingPrefixedGroups(name, opening: long, with: short)
        }
        name = name.replacing("partial apply forwarder for ", with: "partial apply for ")
        // A closure's type is a parameter list like any other once its attribute is gone.
        name = name.replacing(" @Sendable (", with: " (")
        name = withoutThunkTypes(name)
        // Past `longName` (a witness-table accessor of a lazy sequence chain), generic arguments go too.
        return withoutLongTemplateArguments(withoutModules(withoutWhereClauses(SwiftSignature.withoutParameters(name))))
    }

    /// Names longer than this in `simplified` mode lose their template arguments.
    static let longName = 200

    /// A C++ name (the Swift runtime's own are C++) longer than `longName` with the contents of each outermost
    /// template argument list replaced by `…`: `swift::ConcurrentReadableHashMap<…>::getOrInsert<…>`. Shorter names
    /// keep theirs (`ns::Bar<int>::baz`): they tell instantiations apart where that costs little.
    static func withoutLongTemplateArguments(_ name: String) -> String {
        guard name.utf8.count > longName else { return name }
        let bytes = Array(name.utf8)
        var out: [UInt8] = []
        var depth = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            // `operator<`, `operator<<`, `operator->`: not a template list.
            let isOperator = out.count >= 8 && Array(out.suffix(8)) == Array("operator".utf8)
            if byte == UInt8(ascii: "<"), !isOperator || depth > 0 {
                if depth == 0 { out += Array("<…".utf8) }
                depth += 1
            } else if byte == UInt8(ascii: ">"), depth > 0, bytes[index - 1] != UInt8(ascii: "-") {
                depth -= 1
                if depth == 0 { out.append(byte) }
            } else if depth == 0 {
                out.append(byte)
            }
            index += 1
        }
        guard out.count > longName else { return String(decoding: out, as: UTF8.self) }
        return String(decoding: withoutParameterLists(out), as: UTF8.self)
    }

    /// Still too long: the parameter lists of the enclosing functions (a lambda's, a local class's) become `(…)`;
    /// `(anonymous namespace)` and empty lists (`operator()`) stay.
    private static func withoutParameterLists(_ bytes: [UInt8]) -> [UInt8] {
        let anonymous = Array("(anonymous namespace)".utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "("), bytes.count - index >= anonymous.count,
                Array(bytes[index..<index + anonymous.count]) == anonymous
            {
                out += anonymous
                index += anonymous.count
                continue
            }
            if byte == UInt8(ascii: "("), index + 1 < bytes.count, bytes[index + 1] != UInt8(ascii: ")") {
                var depth = 0
                var cursor = index
                while cursor < bytes.count {
                    if bytes[cursor] == UInt8(ascii: "(") { depth += 1 }
                    if bytes[cursor] == UInt8(ascii: ")") {
                        depth -= 1
                        if depth == 0 { break }
                    }
                    cursor += 1
                }
                out += Array("(…)".utf8)
                index = cursor + 1
                continue
            }
            out.append(byte)
            index += 1
        }
        return out
    }

    /// Thunks between function representations are named by their two types, which say nothing a profile reader
    /// needs (`reabstraction thunk helper from @callee_guaranteed (...) -> (...) to ...`): only the kind of thunk
    /// stays. A ` with unmangled suffix ".1"` (a clone's) goes too.
    static func withoutThunkTypes(_ name: String) -> String {
        var name = name
        if let suffix = name.firstRange(of: " with unmangled suffix ") { name = String(name[..<suffix.lowerBound]) }
        for kind in ["reabstraction thunk helper", "reabstraction thunk"] {
            if let from = name.firstRange(of: kind + " from ") {
                return String(name[..<from.lowerBound]) + kind
            }
        }
        return name
    }

    /// Drops the requirements of generic parameter lists: `init<A where A: P>` becomes `init<A>`.
    static func withoutWhereClauses(_ name: String) -> String {
        let bytes = Array(name.utf8)
        let clause = Array(" where ".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        var depth = 0
        while index < bytes.count {
            let byte = bytes[index]
            if depth > 0, byte == UInt8(ascii: " "), bytes.count - index >= clause.count,
                Array(bytes[index..<index + clause.count]) == clause
            {
                // Skip to the `>` that closes this list.
                var inner = 0
                while index < bytes.count {
                    let b = bytes[index]
                    if b == UInt8(ascii: "<") { inner += 1 }
                    if b == UInt8(ascii: ">"), bytes[index - 1] != UInt8(ascii: "-") {
                        if inner == 0 { break }
                        inner -= 1
                    }
                    index += 1
                }
                continue
            }
            if byte == UInt8(ascii: "<") { depth += 1 }
            if byte == UInt8(ascii: ">"), index > 0, bytes[index - 1] != UInt8(ascii: "-") { depth -= 1 }
            out.append(byte)
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The specialization phrases whose `<...>` argument list is dropped, and what replaces the whole phrase.
    private static let replacements: [(String, String)] = [
        ("generic specialization <", "specialized "),
        ("generic partial specialization <", "specialized "),
        ("function signature specialization <", "specialized "),
    ]

    /// Drops `(in _HEX)` (with the dot before it) and turns `(name in _HEX)` into `name`.
    static func withoutDiscriminators(_ name: String) -> String {
        let bytes = Array(name.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "("), let (inner, end) = discriminated(bytes, at: index) {
                if inner.isEmpty {
                    if out.last == UInt8(ascii: ".") { out.removeLast() }
                } else {
                    out += inner
                }
                index = end
                continue
            }
            out.append(bytes[index])
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// At a `(`: the name before ` in _` (maybe empty) and the index after the `)`, when the group is a private
    /// discriminator: `(NAME in _` then only hex digits up to `)`.
    private static func discriminated(_ bytes: [UInt8], at start: Int) -> ([UInt8], Int)? {
        var index = start + 1
        var inner: [UInt8] = []
        let bare = Array("in _".utf8)
        let named = Array(" in _".utf8)
        func matches(_ marker: [UInt8]) -> Bool {
            bytes.count - index > marker.count && Array(bytes[index..<index + marker.count]) == marker
        }
        if matches(bare) {
            index += bare.count
        } else {
            while index < bytes.count, isNameByte(bytes[index]) {
                inner.append(bytes[index])
                index += 1
            }
            guard !inner.isEmpty, matches(named) else { return nil }
            index += named.count
        }
        var digits = 0
        while index < bytes.count, isHexDigit(bytes[index]) {
            index += 1
            digits += 1
        }
        guard digits >= 8, index < bytes.count, bytes[index] == UInt8(ascii: ")") else { return nil }
        return (inner, index + 1)
    }

    /// Replaces each `opening...> of ` (the `<` of `opening` balanced) by `short`.
    private static func replacingPrefixedGroups(_ name: String, opening: String, with short: String) -> String {
        let bytes = Array(name.utf8)
        let open = Array(opening.utf8)
        let of = Array(" of ".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes.count - index >= open.count, Array(bytes[index..<index + open.count]) == open {
                var depth = 1
                var cursor = index + open.count
                while cursor < bytes.count, depth > 0 {
                    switch bytes[cursor] {
                    case UInt8(ascii: "<"): depth += 1
                    case UInt8(ascii: ">") where bytes[cursor - 1] != UInt8(ascii: "-"): depth -= 1
                    default: break
                    }
                    cursor += 1
                }
                if depth == 0, bytes.count - cursor >= of.count, Array(bytes[cursor..<cursor + of.count]) == of {
                    out += Array(short.utf8)
                    index = cursor + of.count
                    continue
                }
            }
            out.append(bytes[index])
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Drops the first part of every dotted name (its module), unless that part is a generic parameter.
    static func withoutModules(_ name: String) -> String {
        let bytes = Array(name.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let startsName = isNameByte(bytes[index]) && !isDigit(bytes[index])
            let afterSeparator = index == 0 || !(isNameByte(bytes[index - 1]) || bytes[index - 1] == UInt8(ascii: "."))
            if startsName && afterSeparator {
                var end = index
                while end < bytes.count, isNameByte(bytes[end]) { end += 1 }
                if end + 1 < bytes.count, bytes[end] == UInt8(ascii: "."), isNameByte(bytes[end + 1]),
                    !isGenericParameter(bytes[index..<end])
                {
                    index = end + 1
                    continue
                }
                out += bytes[index..<end]
                index = end
                continue
            }
            out.append(bytes[index])
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `A`, `B`, `A1`: one capital letter and digits, as the demangler names generic parameters.
    private static func isGenericParameter(_ part: ArraySlice<UInt8>) -> Bool {
        guard let first = part.first, first >= UInt8(ascii: "A"), first <= UInt8(ascii: "Z") else { return false }
        return part.dropFirst().allSatisfy(isDigit)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || isDigit(byte)
            || byte == UInt8(ascii: "_") || byte >= 0x80
    }
}
