/// Shortens a demangled Swift name to what `noParams` shows: the parameter lists and result types of functions and
/// closures are dropped, everything else (modules, types, generic arguments, `closure #1 in`, `specialization of`)
/// stays. `main.Foo.bar(x: Swift.Int) async throws -> Swift.Int` becomes `main.Foo.bar`, and
/// `closure #1 (Swift.Int) -> Swift.Int in main.foo(x: Swift.Int) -> ()` becomes `closure #1 in main.foo`.
///
/// The Swift runtime's `swift_demangle` has no such option (its flags must be 0), so this works on its output. A
/// parenthesized group counts as a parameter list when it follows a name (`bar(`, `init(`, `Foo<A>(`) or a closure
/// number (`closure #1 (`); a group after a space or a dot (`(extension in Foundation)`,
/// `(unknown context at $1234)`) is part of the name and kept.
enum SwiftSignature {
    static func withoutParameters(_ name: String) -> String {
        let bytes = Array(name.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "("), startsParameterList(out) {
                if out.last == UInt8(ascii: " ") { out.removeLast() }
                index = skipGroup(bytes, from: index)
                index = skipEffects(bytes, from: index)
                index = skipResult(bytes, from: index)
                continue
            }
            out.append(byte)
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether a `(` after `prefix` opens a parameter list.
    private static func startsParameterList(_ prefix: [UInt8]) -> Bool {
        guard let last = prefix.last else { return false }
        if isNameByte(last) || last == UInt8(ascii: ">") || last == UInt8(ascii: ")") || last == UInt8(ascii: "?")
            || last == UInt8(ascii: "!") || last == UInt8(ascii: "]")
        {
            return true
        }
        // `closure #1 (Swift.Int) -> ...`: a space after `#` and digits.
        guard last == UInt8(ascii: " ") else { return false }
        var cursor = prefix.count - 2
        var digits = 0
        while cursor >= 0, prefix[cursor] >= UInt8(ascii: "0"), prefix[cursor] <= UInt8(ascii: "9") {
            cursor -= 1
            digits += 1
        }
        return digits > 0 && cursor >= 0 && prefix[cursor] == UInt8(ascii: "#")
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_") || byte >= 0x80
    }

    /// The index after the balanced group that opens at `start`, or the end of the name if it never closes.
    private static func skipGroup(_ bytes: [UInt8], from start: Int) -> Int {
        var depth = 0
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "<"): depth += 1
            case UInt8(ascii: ")"), UInt8(ascii: "]"):
                depth -= 1
            case UInt8(ascii: ">") where index > 0 && bytes[index - 1] != UInt8(ascii: "-"):
                depth -= 1
            default: break
            }
            index += 1
            if depth <= 0 { return index }
        }
        return index
    }

    /// Skips ` async`, ` throws`, ` rethrows` and ` throws(E)` after a parameter list.
    private static func skipEffects(_ bytes: [UInt8], from start: Int) -> Int {
        var index = start
        while true {
            var matched = false
            for word in [" async", " rethrows", " throws"] {
                let utf8 = Array(word.utf8)
                if bytes.count - index >= utf8.count, Array(bytes[index..<index + utf8.count]) == utf8 {
                    let end = index + utf8.count
                    guard end == bytes.count || !isNameByte(bytes[end]) else { continue }
                    index = end
                    if index < bytes.count, bytes[index] == UInt8(ascii: "(") { index = skipGroup(bytes, from: index) }
                    matched = true
                    break
                }
            }
            if !matched { return index }
        }
    }

    /// Skips ` -> Result` up to the next ` in `, ` of ` or ` : ` outside brackets, or the end.
    private static func skipResult(_ bytes: [UInt8], from start: Int) -> Int {
        let arrow = Array(" -> ".utf8)
        guard bytes.count - start >= arrow.count, Array(bytes[start..<start + arrow.count]) == arrow else {
            return start
        }
        var index = start + arrow.count
        var depth = 0
        let stops = [" in ", " of ", " : "].map { Array($0.utf8) }
        while index < bytes.count {
            let byte = bytes[index]
            if depth == 0, byte == UInt8(ascii: " "),
                stops.contains(where: {
                    bytes.count - index >= $0.count && Array(bytes[index..<index + $0.count]) == $0
                })
            {
                return index
            }
            switch byte {
            case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "<"): depth += 1
            case UInt8(ascii: ")"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: ">") where bytes[index - 1] != UInt8(ascii: "-"): depth -= 1
            default: break
            }
            index += 1
        }
        return index
    }
}
