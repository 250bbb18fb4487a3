/*
 * threads: N threads that each wake every 10 ms for a few microseconds of work, for SECONDS seconds: a process
 * with many threads and little CPU, to count the descriptors a per-process target opens (one event per thread
 * with inherit) against a per-CPU target's (one per CPU).
 *
 * Usage: threads N SECONDS
 * Build: gcc -O1 -g -fno-omit-frame-pointer -pthread
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile int stop;

static void *sleeper(void *unused) {
    (void)unused;
    volatile unsigned long sink = 0;
    while (!stop) {
        for (int i = 0; i < 1000; i++) sink += (unsigned long)i;
        usleep(10000);
    }
    return NULL;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 500;
    int seconds = argc > 2 ? atoi(argv[2]) : 30;
    pthread_t *threads = calloc((size_t)n, sizeof *threads);
    if (!threads) return 1;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (int i = 0; i < n; i++) {
        if (pthread_create(&threads[i], &attr, sleeper, NULL) != 0) {
            perror("pthread_create");
            return 1;
        }
    }
    sleep((unsigned)seconds);
    stop = 1;
    for (int i = 0; i < n; i++) pthread_join(threads[i], NULL);
    free(threads);
    return 0;
}
