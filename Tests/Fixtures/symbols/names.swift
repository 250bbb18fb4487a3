// Swift fixture: a struct method, a generic function and a closure, for checking names demangled through the
// Swift runtime's swift_demangle (full and without parameters).
struct Counter {
    var value: Int

    @inline(never)
    mutating func advance(by step: Int) -> Int {
        value = value &* 31 &+ step
        return value
    }
}

@inline(never)
func accumulate<T: FixedWidthInteger>(_ values: [T]) -> T {
    var total: T = 0
    for value in values { total = total &* 3 &+ value }
    return total
}

@inline(never)
func runClosure(_ seed: Int) -> Int {
    let body: (Int) -> Int = { $0 &* 2 &+ 1 }
    return body(body(seed))
}

var counter = Counter(value: CommandLine.arguments.count)
print(counter.advance(by: 3), accumulate([1, 2, CommandLine.arguments.count]), runClosure(4))
