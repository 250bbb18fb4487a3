import FPProfSampler
import Foundation
import Testing

/// `Locked`: mutual exclusion between real threads (under `--sanitize=thread` this is also the check that
/// ThreadSanitizer sees the lock), errors pass through, and the value is the one left by the last body.
@Suite struct LockedTests {
    @Test func threadsTakeTurns() {
        let counter = Locked((count: 0, inside: 0, overlapped: false))
        let threads = (0..<4).map { _ in
            Thread {
                for _ in 0..<5_000 {
                    counter.withLock {
                        $0.inside += 1
                        if $0.inside > 1 { $0.overlapped = true }
                        $0.count += 1
                        $0.inside -= 1
                    }
                }
            }
        }
        for thread in threads { thread.start() }
        while counter.withLock({ $0.count }) < 20_000 { usleep(1_000) }
        let final = counter.withLock { $0 }
        #expect(final.count == 20_000)
        #expect(!final.overlapped)
    }

    struct Refused: Error {}

    @Test func errorsPassThroughAndTheValueStays() {
        let value = Locked([1, 2])
        #expect(throws: Refused.self) {
            try value.withLock { (v: inout [Int]) throws(Refused) in
                v.append(3)
                throw Refused()
            }
        }
        #expect(value.withLock { $0 } == [1, 2, 3])
    }
}
