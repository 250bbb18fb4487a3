// CPerfEvent: the few things Swift cannot say directly about perf_event_open.
// - syscall(2) is variadic, so the syscall needs a plain C wrapper;
// - the ring buffer's data_head must be read with acquire and data_tail written with release ordering, which
//   Swift has no portable spelling for on a foreign struct field;
// - ioctl(2) is variadic too;
// - launching a target that waits at a gate until its events exist needs fork+exec, which Swift cannot do safely.
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

/// Acquire load of the ring's data_head (the kernel's write position).
uint64_t cperf_load_head(const struct perf_event_mmap_page *page);
/// Release store of the ring's data_tail (our read position), after the records are consumed.
void cperf_store_tail(struct perf_event_mmap_page *page, uint64_t tail);

/// fork(2), then in the child: wait until a byte (or EOF) arrives on gate_fd, then execvp(file, argv).
/// When exec fails the child writes errno to err_fd (close-on-exec) and exits 127.
/// Returns the child's pid, or -1 with errno set.
pid_t cperf_spawn_gated(const char *file, char *const argv[], int gate_fd, int err_fd);

#endif
