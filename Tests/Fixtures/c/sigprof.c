/*
 * sigprof: a SIGPROF handler that burns CPU, entered from the kernel's signal frame.
 *
 *   main;main_spin                          the interrupted code, most of the CPU
 *   __restore_rt;on_sigprof;sigprof_leaf     the handler, about a third of the CPU
 *
 * setitimer(ITIMER_PROF) sends SIGPROF every 10 ms of the process's CPU time; the handler spends 3 units (~3 ms)
 * in sigprof_leaf. glibc's sigaction installs its restorer `__restore_rt` (`mov $15,%rax; syscall`), and the
 * kernel pushes the restorer's address as the handler's return address: the handler's caller is entered by a
 * return, not a call, so its name must be looked up at that address itself, not one byte before it.
 * The handler runs on the interrupted stack (no sigaltstack): its frame record's saved BP is the interrupted
 * code's.
 *
 * Usage: sigprof [SECONDS]   (default 3; 0 = run until killed)
 */
#include "fixture_common.h"

#include <signal.h>
#include <sys/time.h>

volatile unsigned long fixture_sink = 1;
static volatile sig_atomic_t handled = 0;

FIXTURE_FN void sigprof_leaf(unsigned long units) { FIXTURE_SPIN(units); }

FIXTURE_FN void on_sigprof(int signal) {
    (void)signal;
    handled = handled + 1;
    sigprof_leaf(3);
}

FIXTURE_FN void main_spin(unsigned long units) { FIXTURE_SPIN(units); }

int main(int argc, char **argv) {
    double duration = fixture_seconds_arg(argc, argv, 1, 3.0);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_sigprof;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    if (sigaction(SIGPROF, &action, NULL) != 0) {
        perror("sigaction");
        return 1;
    }
    struct itimerval timer = {.it_interval = {0, 10000}, .it_value = {0, 10000}};
    if (setitimer(ITIMER_PROF, &timer, NULL) != 0) {
        perror("setitimer");
        return 1;
    }
    double start = fixture_now();
    do {
        main_spin(1);
    } while (fixture_keep_going(start, duration));
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_PROF, &off, NULL);
    if (fixture_check_mode()) printf("handled %ld\n", (long)handled);
    return 0;
}
