#define _GNU_SOURCE
#include "CPerfEvent.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

int cperf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd, unsigned long flags) {
    return (int)syscall(SYS_perf_event_open, attr, pid, cpu, group_fd, flags);
}

ssize_t cperf_read_memory(pid_t pid, void *local, size_t length, uint64_t remote) {
    struct iovec here = {.iov_base = local, .iov_len = length};
    struct iovec there = {.iov_base = (void *)(uintptr_t)remote, .iov_len = length};
    return process_vm_readv(pid, &here, 1, &there, 1, 0);
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

// The kernel's own struct sigaction (x86-64 and arm64 layout): glibc's sigaction() refuses its internal signals
// (32 and 33), which a parent may have ignored, and an ignored signal stays ignored across execve.
struct cperf_kernel_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    uint64_t mask;
};

static void cperf_default_signal(int sig) {
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    if (sigaction(sig, &dfl, NULL) == 0) return;
#if defined(__x86_64__) || defined(__aarch64__)
    struct cperf_kernel_sigaction raw = {SIG_DFL, 0, NULL, 0};
    (void)syscall(SYS_rt_sigaction, sig, &raw, NULL, sizeof raw.mask);
#endif
}

static void cperf_close_range(unsigned first, unsigned last) {
    if (first <= last) (void)syscall(SYS_close_range, first, last, 0u);
}

// PR_SET_PDEATHSIG fires when the *thread* that forked the child ends, not the process: forked from a libdispatch
// worker, which ends after some idle time, the child would get SIGTERM in the middle of a recording. So children
// are forked by one launcher thread that lives as long as fpprof (one thread, started on the first launch), and a
// killed fpprof takes its children with it.
struct cperf_spawn_request {
    const char *path;
    char *const *argv;
    int gate_fd, err_fd, nice_value;
    pid_t pid;
    int error;
    int done;
};

static pthread_mutex_t cperf_launcher_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cperf_launcher_wake = PTHREAD_COND_INITIALIZER;
static struct cperf_spawn_request *cperf_launcher_request;
static int cperf_launcher_state; // 0 not started, 1 running, -1 could not start

static pid_t cperf_fork_held(const struct cperf_spawn_request *r);

static void *cperf_launcher_main(void *unused) {
    (void)unused;
    // No signal handler ever runs on this thread; the child resets its mask before exec.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    pthread_mutex_lock(&cperf_launcher_lock);
    for (;;) {
        while (cperf_launcher_request == NULL || cperf_launcher_request->done)
            pthread_cond_wait(&cperf_launcher_wake, &cperf_launcher_lock);
        struct cperf_spawn_request *r = cperf_launcher_request;
        r->pid = cperf_fork_held(r);
        r->error = errno;
        r->done = 1;
        pthread_cond_broadcast(&cperf_launcher_wake);
    }
    return NULL;
}

pid_t cperf_spawn_held(const char *path, char *const argv[], int gate_fd, int err_fd, int nice_value) {
    struct cperf_spawn_request r = {path, argv, gate_fd, err_fd, nice_value, -1, 0, 0};
    pthread_mutex_lock(&cperf_launcher_lock);
    if (cperf_launcher_state == 0) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attributes, 64 * 1024);
        cperf_launcher_state = pthread_create(&thread, &attributes, cperf_launcher_main, NULL) == 0 ? 1 : -1;
        pthread_attr_destroy(&attributes);
    }
    if (cperf_launcher_state < 0) {
        pthread_mutex_unlock(&cperf_launcher_lock);
        errno = EAGAIN;
        return -1;
    }
    while (cperf_launcher_request != NULL) pthread_cond_wait(&cperf_launcher_wake, &cperf_launcher_lock);
    cperf_launcher_request = &r;
    pthread_cond_broadcast(&cperf_launcher_wake);
    while (!r.done) pthread_cond_wait(&cperf_launcher_wake, &cperf_launcher_lock);
    cperf_launcher_request = NULL;
    pthread_cond_broadcast(&cperf_launcher_wake);
    pthread_mutex_unlock(&cperf_launcher_lock);
    errno = r.error;
    return r.pid;
}

static pid_t cperf_fork_held(const struct cperf_spawn_request *r) {
    const char *path = r->path;
    char *const *argv = r->argv;
    int gate_fd = r->gate_fd, err_fd = r->err_fd, nice_value = r->nice_value;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0) return pid;
    // Child: only async-signal-safe calls from here on. SIGTERM when fpprof dies, even by SIGKILL; if it died
    // before the call, the parent is already someone else.
    (void)prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    unsigned lo = (unsigned)(gate_fd < err_fd ? gate_fd : err_fd);
    unsigned hi = (unsigned)(gate_fd < err_fd ? err_fd : gate_fd);
    cperf_close_range(3, lo - 1);
    cperf_close_range(lo + 1, hi - 1);
    cperf_close_range(hi + 1, ~0u);
    for (int sig = 1; sig < NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) cperf_default_signal(sig);
    }
    sigset_t none;
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
    // A failure (no privilege to go below the forking thread's value) leaves the value fork gave.
    (void)syscall(SYS_setpriority, PRIO_PROCESS, 0, nice_value);
    char byte;
    ssize_t n;
    while ((n = read(gate_fd, &byte, 1)) < 0 && errno == EINTR) {}
    if (n != 1) _exit(127);
    close(gate_fd);
    execv(path, argv);
    int e = errno;
    (void)!write(err_fd, &e, sizeof e);
    _exit(127);
}

int cperf_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0u); }

int cperf_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

pid_t cperf_spawn_filter(const char *path, char *const argv[], char *const envp[], int stdin_fd) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    int error = posix_spawn_file_actions_init(&actions);
    if (error != 0) {
        errno = error;
        return -1;
    }
    error = posix_spawnattr_init(&attributes);
    if (error != 0) {
        posix_spawn_file_actions_destroy(&actions);
        errno = error;
        return -1;
    }
    if (error == 0) error = posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
    if (error == 0) error = posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    if (error == 0) error = posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    if (error == 0) error = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    if (error == 0) error = posix_spawnattr_setsigmask(&attributes, &none);
    if (error == 0) error = posix_spawnattr_setsigdefault(&attributes, &all);
    if (error == 0) error = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    if (error == 0) error = posix_spawn(&pid, path, &actions, &attributes, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (error != 0) {
        errno = error;
        return -1;
    }
    return pid;
}

int cperf_eventfd(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }
