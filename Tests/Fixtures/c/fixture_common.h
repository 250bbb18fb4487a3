/*
 * Shared helpers of the fpprof C fixtures. Everything here is always_inline or a macro, so that no helper ever
 * shows up as a frame of its own: the only frames of a fixture are the functions its file names.
 *
 * Build: gcc -O1 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-optimize-sibling-calls [-pthread]
 * (shares-omitfp: gcc -O2 -g -fomit-frame-pointer -fno-optimize-sibling-calls -DFIXTURE_OMIT_FRAME_POINTER)
 */
#ifndef FPPROF_FIXTURE_COMMON_H
#define FPPROF_FIXTURE_COMMON_H

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Every named function of a fixture: never inlined, never cloned (no ".constprop.0" names), always emitted. */
#define FIXTURE_FN __attribute__((noinline, noclone, used))

/*
 * One unit of CPU work: FIXTURE_UNIT_ITERATIONS steps of a dependent multiply-add chain, about 1 ms here
 * (0.98 ms measured on the 2-core development VM).
 * Shares are set by counting units, not by reading a clock, so they hold whatever the load on the machine: a
 * sampled CPU-clock profile sees CPU time, and CPU time is proportional to the units done.
 * The loop makes no call, so a function that runs it is a true leaf and every sample lands in its own body.
 */
#define FIXTURE_UNIT_ITERATIONS 1000000UL

extern volatile unsigned long fixture_sink;

/*
 * gcc 12 on x86-64 drops the frame of a leaf that needs no stack, even with -fno-omit-frame-pointer and
 * -mno-omit-leaf-frame-pointer. Taking the frame's address forces `push %rbp; mov %rsp,%rbp`. Every fixture leaf
 * starts with this (FIXTURE_SPIN does it), so that all named functions own a frame record. Built with
 * -DFIXTURE_OMIT_FRAME_POINTER (shares-omitfp: a whole program without frame pointers) it forces nothing.
 */
#ifdef FIXTURE_OMIT_FRAME_POINTER
#define FIXTURE_KEEP_FRAME() do { } while (0)
#else
#define FIXTURE_KEEP_FRAME() __asm__ volatile("" : : "r"(__builtin_frame_address(0)))
#endif

#define FIXTURE_SPIN(units)                                                                                        \
    do {                                                                                                           \
        FIXTURE_KEEP_FRAME();                                                                                      \
        unsigned long fixture_x_ = fixture_sink;                                                                   \
        unsigned long fixture_n_ = (unsigned long)(units) * FIXTURE_UNIT_ITERATIONS;                               \
        for (unsigned long fixture_i_ = 0; fixture_i_ < fixture_n_; fixture_i_++) {                                \
            fixture_x_ = fixture_x_ * 6364136223846793005UL + 1442695040888963407UL;                               \
            __asm__ volatile("" : "+r"(fixture_x_));                                                               \
        }                                                                                                          \
        fixture_sink = fixture_x_;                                                                                 \
    } while (0)

/* Monotonic wall-clock seconds. */
static inline __attribute__((always_inline)) double fixture_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* argv[index] as seconds (fractions allowed), or `fallback` when absent. 0 means "run until killed". */
static inline __attribute__((always_inline)) double fixture_seconds_arg(int argc, char **argv, int index,
                                                                        double fallback) {
    if (argc <= index) return fallback;
    char *end = NULL;
    double value = strtod(argv[index], &end);
    if (end == argv[index] || *end != '\0' || value < 0) {
        fprintf(stderr, "%s: bad number of seconds: %s\n", argv[0], argv[index]);
        exit(2);
    }
    return value;
}

/* True while the run should go on: forever when `duration` is 0. */
static inline __attribute__((always_inline)) int fixture_keep_going(double start, double duration) {
    return duration == 0 || fixture_now() - start < duration;
}

/* True when the environment asks for the self-check (FPPROF_FIXTURE_CHECK=1). */
static inline __attribute__((always_inline)) int fixture_check_mode(void) {
    const char *value = getenv("FPPROF_FIXTURE_CHECK");
    return value != NULL && strcmp(value, "1") == 0;
}

#endif
