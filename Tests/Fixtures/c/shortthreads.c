/*
 * shortthreads: one thread after another, each spinning about 1 ms of CPU and exiting, for SECONDS (default 2):
 * thousands of threads, each living far shorter than a sampling period at 99 Hz (10 ms). The process is busy the
 * whole time (its CPU time is about its run time), but a per-thread sampler sees few samples. Not in the `Fixture`
 * enum: its profile has no stacks to check, only the summary's comparison of samples with CPU time.
 *
 * Usage: shortthreads [SECONDS]; prints "threads N" on stdout at the end.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

volatile unsigned long sink;

static void *short_work(void *unused) {
    (void)unused;
    double start = now(CLOCK_THREAD_CPUTIME_ID);
    while (now(CLOCK_THREAD_CPUTIME_ID) - start < 0.001) sink++;
    return NULL;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    double start = now(CLOCK_MONOTONIC);
    long threads = 0;
    while (now(CLOCK_MONOTONIC) - start < seconds) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, short_work, NULL) != 0) return 1;
        pthread_join(thread, NULL);
        threads++;
    }
    printf("threads %ld\n", threads);
    return 0;
}
