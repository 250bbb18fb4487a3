#define _GNU_SOURCE
#include "CPerfEvent.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int cperf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd, unsigned long flags) {
    return (int)syscall(SYS_perf_event_open, attr, pid, cpu, group_fd, flags);
}

int cperf_enable(int fd) { return ioctl(fd, PERF_EVENT_IOC_ENABLE, 0); }
int cperf_disable(int fd) { return ioctl(fd, PERF_EVENT_IOC_DISABLE, 0); }
int cperf_set_output(int fd, int target_fd) { return ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, target_fd); }

uint64_t cperf_load_head(const struct perf_event_mmap_page *page) {
    return __atomic_load_n(&page->data_head, __ATOMIC_ACQUIRE);
}

void cperf_store_tail(struct perf_event_mmap_page *page, uint64_t tail) {
    __atomic_store_n(&page->data_tail, tail, __ATOMIC_RELEASE);
}

pid_t cperf_spawn_gated(const char *file, char *const argv[], int gate_fd, int err_fd) {
    pid_t pid = fork();
    if (pid != 0) return pid;
    // Child: only async-signal-safe calls from here on.
    char byte;
    while (read(gate_fd, &byte, 1) < 0 && errno == EINTR) {}
    close(gate_fd);
    execvp(file, argv);
    int e = errno;
    (void)!write(err_fd, &e, sizeof e);
    _exit(127);
}
