/// pprof's string table: every string stored once, referenced by index, index 0 being "".
struct StringTable {
    private(set) var strings: [String] = [""]
    private var index: [String: Int64] = ["": 0]

    mutating func callAsFunction(_ s: String) -> Int64 {
        if let i = index[s] { return i }
        let i = Int64(strings.count)
        strings.append(s)
        index[s] = i
        return i
    }
}
