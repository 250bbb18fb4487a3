/*
 * fixedwork: a FIXED amount of CPU work (not a fixed time), for measuring a profiler's overhead on its target.
 *
 * The work is counted in iterations of a dependent multiply-add chain, spread over call paths of several depths
 * so that every sample has a real frame-pointer chain to copy and walk:
 *
 *   main;path_a;a1;leaf_a                      50 % of the units
 *   main;path_b;leaf_b                         30 %
 *   main;path_c;c1;c2;c3;leaf_c                10 %
 *   main;deep;deep;...(64 frames)...;leaf_deep 10 %
 *
 * Usage: fixedwork [ROUNDS [TIMES_FILE]]
 *   ROUNDS      rounds of 10 units (a unit is 1,000,000 iterations, about 1 ms here); default 200 (about 2 s)
 *   TIMES_FILE  append one line "wall_ns user_ns sys_ns voluntary_switches involuntary_switches"
 *               (CLOCK_MONOTONIC from main's start to its end; the process's user and system CPU time and context
 *               switches from getrusage) to this file, so that a benchmark can read the target's own run time apart
 *               from the profiler's start-up and end processing, and see how often it was descheduled.
 *
 * Build: gcc -O1 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-optimize-sibling-calls
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#define FN __attribute__((noinline, noclone, used))
#define UNIT 1000000UL
/* gcc drops the frame record of a leaf that needs no stack; taking the frame's address keeps it. */
#define KEEP_FRAME() __asm__ volatile("" : : "r"(__builtin_frame_address(0)))

volatile unsigned long sink = 1;

static inline __attribute__((always_inline)) void spin(unsigned long units) {
    KEEP_FRAME();
    unsigned long x = sink;
    unsigned long n = units * UNIT;
    for (unsigned long i = 0; i < n; i++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        __asm__ volatile("" : "+r"(x));
    }
    sink = x;
}

FN void leaf_a(unsigned long u) { spin(u); }
FN void a1(unsigned long u) { leaf_a(u); }
FN void path_a(unsigned long u) { a1(u); }

FN void leaf_b(unsigned long u) { spin(u); }
FN void path_b(unsigned long u) { leaf_b(u); }

FN void leaf_c(unsigned long u) { spin(u); }
FN void c3(unsigned long u) { leaf_c(u); }
FN void c2(unsigned long u) { c3(u); }
FN void c1(unsigned long u) { c2(u); }
FN void path_c(unsigned long u) { c1(u); }

FN void leaf_deep(unsigned long u) { spin(u); }
FN void deep(int depth, unsigned long u) {
    KEEP_FRAME();
    if (depth > 0) {
        deep(depth - 1, u);
    } else {
        leaf_deep(u);
    }
    __asm__ volatile("" ::: "memory"); /* not a tail call */
}

static long long ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
    long long start = ns(CLOCK_MONOTONIC);
    long rounds = 200;
    if (argc > 1) {
        char *end = NULL;
        rounds = strtol(argv[1], &end, 10);
        if (end == argv[1] || *end != '\0' || rounds < 1) {
            fprintf(stderr, "%s: bad ROUNDS: %s\n", argv[0], argv[1]);
            return 2;
        }
    }
    for (long r = 0; r < rounds; r++) {
        path_a(5);
        path_b(3);
        path_c(1);
        deep(63, 1);
    }
    long long wall = ns(CLOCK_MONOTONIC) - start;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long long user = (long long)ru.ru_utime.tv_sec * 1000000000LL + (long long)ru.ru_utime.tv_usec * 1000LL;
    long long sys = (long long)ru.ru_stime.tv_sec * 1000000000LL + (long long)ru.ru_stime.tv_usec * 1000LL;
    if (argc > 2) {
        FILE *f = fopen(argv[2], "a");
        if (f == NULL) {
            perror(argv[2]);
            return 1;
        }
        fprintf(f, "%lld %lld %lld %ld %ld\n", wall, user, sys, ru.ru_nvcsw, ru.ru_nivcsw);
        fclose(f);
    }
    return 0;
}
