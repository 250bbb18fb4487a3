// CPerfEvent: the few things Swift cannot say directly about perf_event_open.
// - syscall(2) is variadic, so the syscall needs a plain C wrapper;
// - the ring buffer's data_head must be read with acquire and data_tail written with release ordering, which
//   Swift has no portable spelling for on a foreign struct field;
// - ioctl(2) is variadic too;
// - launching a target that waits at a gate until its events exist needs fork+exec, which Swift cannot do safely,
//   and posix_spawn's attributes and file actions are macros and opaque structs;
// - a prefetch (a load that does not wait) has no Swift spelling either.
// Every symbol is prefixed cperf_.
#ifndef CPERFEVENT_H
#define CPERFEVENT_H

#include <linux/perf_event.h>
#include <stdint.h>
#include <sys/types.h>

/// perf_event_open(2). Returns the fd, or -1 with errno set.
int cperf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd, unsigned long flags);

/// ioctl(fd, PERF_EVENT_IOC_ENABLE/DISABLE, 0).
int cperf_enable(int fd);
int cperf_disable(int fd);
/// ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, target_fd): send fd's records into target_fd's ring.
int cperf_set_output(int fd, int target_fd);

/// process_vm_readv(2) of one remote range into one local buffer (Glibc's declaration needs _GNU_SOURCE, which the
/// Swift importer does not set). Returns the bytes read, or -1 with errno set.
ssize_t cperf_read_memory(pid_t pid, void *local, size_t length, uint64_t remote);

/// Acquire load of the ring's data_head (the kernel's write position).
uint64_t cperf_load_head(const struct perf_event_mmap_page *page);
/// Release store of the ring's data_tail (our read position), after the records are consumed.
void cperf_store_tail(struct perf_event_mmap_page *page, uint64_t tail);

/// fork(2) and exec, for a target that must not run a single instruction of its own before its events exist
/// and must not keep the parent's descriptors: the child
/// - closes every descriptor but 0, 1, 2, gate_fd and err_fd (so another session's pipe ends cannot leak into it
///   and hold that session's gate or error pipe open);
/// - restores the default disposition of every signal and an empty signal mask (a Swift thread pool thread blocks
///   most signals, and execve would hand that mask to the target);
/// - sets its nice value to nice_value, the one fpprof was started with (libdispatch renices its worker threads by
///   QoS, default-qos to 0, and fork copies the forking thread's: the target would not run at the user's priority);
/// - waits for one byte on gate_fd: EOF means the parent gave up, and the child exits 127 without exec;
/// - execv(path, argv), path being already resolved (execv, unlike execvp, is async-signal-safe);
/// - on failure writes errno to err_fd (which must be close-on-exec) and exits 127.
/// Returns the child's pid, or -1 with errno set.
pid_t cperf_spawn_held(const char *path, char *const argv[], int gate_fd, int err_fd, int nice_value);

/// pidfd_open(2): a descriptor that polls readable once every thread of pid has exited. -1 with errno on failure.
int cperf_pidfd_open(pid_t pid);

/// pipe2(fds, O_CLOEXEC): Glibc's Swift overlay only shows pipe2 with _GNU_SOURCE.
int cperf_pipe_cloexec(int fds[2]);

/// posix_spawn(3) of `path` with `stdin_fd` as its standard input, standard output and error on /dev/null, no other
/// descriptor of the parent's, no signal blocked and every one at its default, and `envp` as its environment.
/// Returns the pid, or -1 with errno set.
pid_t cperf_spawn_filter(const char *path, char *const argv[], char *const envp[], int stdin_fd);

/// eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK): <sys/eventfd.h> is not part of the Glibc module.
int cperf_eventfd(void);

/// Asks for the cache lines of [start, start + length) without waiting for them (one prefetch per 64-byte line).
/// Inline, so that Swift code calling it in a loop pays no call.
static inline void cperf_prefetch(const void *start, size_t length) {
    const char *p = (const char *)start;
    const char *end = p + length;
    for (; p < end; p += 64) __builtin_prefetch(p, 0, 3);
}

#endif
