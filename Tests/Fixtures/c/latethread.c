/*
 * latethread: a thread created after the profiler attached. The main thread spins from the start; after DELAY
 * seconds (default 1.0) it starts a thread named "late-worker" that spins until the end.
 *
 *   main thread (comm "latethread"):  main;main_spin
 *   new thread  (comm "late-worker"): start_thread;late_thread_work;late_leaf   (glibc frames above it vary)
 *
 * A profiler that opened its events only for the threads present at attach time, without `inherit`, never sees
 * late_leaf. Once both run, each gets about half of the samples (given two free cores).
 *
 * Usage: latethread [SECONDS [DELAY]]   (default 3 s and 1.0 s; 0 s = run until killed)
 * stderr gets one line "late-worker started" when the thread is running.
 */
#include "fixture_common.h"

#include <pthread.h>

volatile unsigned long fixture_sink = 1;

static double start_time;
static double run_duration;

FIXTURE_FN void late_leaf(void) {
    do {
        FIXTURE_SPIN(2);
    } while (fixture_keep_going(start_time, run_duration));
}

FIXTURE_FN void *late_thread_work(void *unused) {
    (void)unused;
    pthread_setname_np(pthread_self(), "late-worker");
    fprintf(stderr, "late-worker started\n");
    late_leaf();
    __asm__ volatile("");
    return NULL;
}

/* Spins itself (it is the leaf of the main thread) and starts the late thread once `delay` has passed. */
FIXTURE_FN int main_spin(double delay) {
    pthread_t thread;
    int started = 0;
    do {
        FIXTURE_SPIN(2);
        if (!started && fixture_now() - start_time >= delay) {
            int error = pthread_create(&thread, NULL, late_thread_work, NULL);
            if (error != 0) {
                fprintf(stderr, "pthread_create: %s\n", strerror(error));
                return 1;
            }
            started = 1;
        }
    } while (fixture_keep_going(start_time, run_duration));
    if (started) pthread_join(thread, NULL);
    return 0;
}

int main(int argc, char **argv) {
    run_duration = fixture_seconds_arg(argc, argv, 1, 3.0);
    double delay = fixture_seconds_arg(argc, argv, 2, 1.0);
    start_time = fixture_now();
    int status = main_spin(delay);
    __asm__ volatile("");
    return status;
}
