import Glibc

/// A value behind a POSIX mutex: the lock of every piece of state fpprof shares between threads.
///
/// Not the standard library's `Synchronization.Mutex`, for one reason: on Linux that one waits in futex calls made
/// from the uninstrumented runtime, so ThreadSanitizer sees no order between two `withLock` bodies and reports every
/// pair of them as a race (a two-thread counter under `Mutex` gives three reports here; the same under this lock,
/// none). `pthread_mutex_lock` is one of the calls ThreadSanitizer intercepts, so `swift test --sanitize=thread`
/// checks fpprof's real locking. Uncontended, both cost an atomic exchange.
public final class Locked<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with the value, no other thread inside; not reentrant.
    public func withLock<Result, Failure: Error>(
        _ body: (inout Value) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
