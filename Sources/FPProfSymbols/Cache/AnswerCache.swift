internal import FPProfCore

/// The answers of one module by file offset: an open-addressing hash table with linear probing and a
/// multiplicative hash, in memory of its own. A warm profile asks it once per sampled frame, so a hit must cost a
/// few loads: `Dictionary`'s seeded SipHash and the retains of copying a struct of arrays out of a class cost more
/// than the rest of the lookup. Bounded: past `limit` answers it starts over (a daemon's addresses drift with the
/// code it runs; recomputing a few answers is cheaper than tracking recency on every hit).
// Invariant: `keys` and `values` each hold `capacity` initialized elements (empty slots: key `empty`, value `[]`),
// are owned by this object alone, and are replaced only whole, in `resize`, and freed in `deinit`.
final class AnswerCache {
    private static let empty = UInt64.max
    private var keys: UnsafeMutablePointer<UInt64>
    private var values: UnsafeMutablePointer<[SymbolFrame]>
    private var capacity: Int
    private var mask: Int
    private(set) var count = 0
    private let limit: Int

    init(limit: Int) {
        self.limit = max(limit, 1)
        capacity = 64
        mask = capacity - 1
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: Self.empty, count: capacity)
        values = .allocate(capacity: capacity)
        values.initialize(repeating: [], count: capacity)
    }

    deinit {
        values.deinitialize(count: capacity)
        values.deallocate()
        keys.deallocate()
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9e37_79b9_7f4a_7c15) >> 24) & mask
    }

    /// The answer for `key` (a file offset; never `UInt64.max`, which no file reaches).
    @inline(__always)
    func get(_ key: UInt64) -> [SymbolFrame]? {
        var index = slot(key)
        while true {
            let found = keys[index]
            if found == key { return values[index] }
            if found == Self.empty { return nil }
            index = (index + 1) & mask
        }
    }

    func set(_ key: UInt64, _ value: [SymbolFrame]) {
        guard key != Self.empty else { return }
        if count >= limit { removeAll() }
        if (count + 1) * 2 > capacity { resize(to: capacity * 2) }
        var index = slot(key)
        while keys[index] != Self.empty {
            if keys[index] == key {
                values[index] = value
                return
            }
            index = (index + 1) & mask
        }
        keys[index] = key
        values[index] = value
        count += 1
    }

    func removeAll() { resize(to: 64) }

    private func resize(to newCapacity: Int) {
        let oldKeys = keys
        let oldValues = values
        let oldCapacity = capacity
        capacity = newCapacity
        mask = newCapacity - 1
        keys = .allocate(capacity: newCapacity)
        keys.initialize(repeating: Self.empty, count: newCapacity)
        values = .allocate(capacity: newCapacity)
        values.initialize(repeating: [], count: newCapacity)
        let keep = newCapacity > oldCapacity
        count = 0
        for index in 0..<oldCapacity where keep && oldKeys[index] != Self.empty {
            var slot = self.slot(oldKeys[index])
            while keys[slot] != Self.empty { slot = (slot + 1) & mask }
            keys[slot] = oldKeys[index]
            values[slot] = oldValues[index]
            count += 1
        }
        oldValues.deinitialize(count: oldCapacity)
        oldValues.deallocate()
        oldKeys.deallocate()
    }
}
