/*
 * mixed: frames that keep a frame record and frames that do not, alternating, with glibc's qsort (built without
 * frame pointers) in the middle; nearly every sample is in leaf_nofp:
 *
 *   main;outer_fp;sort_nofp;qsort;<glibc's sort>;compare_fp;leaf_nofp
 *
 * sort_nofp and leaf_nofp are compiled without a frame pointer (optimize("omit-frame-pointer")), and sort_nofp
 * keeps a junk value in %rbp while qsort runs, as code that uses BP as a general register does: a walk by frame
 * records cannot get from compare_fp to outer_fp, a walk by the call frame information can.
 *
 * Usage: mixed [SECONDS]   (default 3; 0 = run until killed)
 */
#include "fixture_common.h"

#define NO_FRAME_POINTER __attribute__((optimize("omit-frame-pointer")))

volatile unsigned long fixture_sink = 1;

/* The work: FIXTURE_SPIN's loop without its forced frame record. */
FIXTURE_FN NO_FRAME_POINTER void leaf_nofp(unsigned long iterations) {
    unsigned long x = fixture_sink;
    for (unsigned long i = 0; i < iterations; i++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        __asm__ volatile("" : "+r"(x));
    }
    fixture_sink = x;
}

/* qsort's callback, with a frame record: about 0.1 ms a call. */
FIXTURE_FN int compare_fp(const void *a, const void *b) {
    FIXTURE_KEEP_FRAME();
    leaf_nofp(FIXTURE_UNIT_ITERATIONS / 10);
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

FIXTURE_FN NO_FRAME_POINTER void sort_nofp(int *values, size_t count) {
    /* BP as a general register: saved and restored by this function's CFI, junk while qsort runs. */
    __asm__ volatile("movabs $0x5a5a5a5a5a5a5a5a, %%rbp" : : : "rbp");
    qsort(values, count, sizeof *values, compare_fp);
}

FIXTURE_FN void outer_fp(int *values, size_t count) {
    FIXTURE_KEEP_FRAME();
    for (size_t i = 0; i < count; i++) values[i] = (int)((count - i) * 7919 % 1009);
    sort_nofp(values, count);
}

int main(int argc, char **argv) {
    double duration = fixture_seconds_arg(argc, argv, 1, 3.0);
    double start = fixture_now();
    int values[32];
    do {
        outer_fp(values, 32);
    } while (fixture_keep_going(start, duration));
    for (int i = 1; i < 32; i++)
        if (values[i - 1] > values[i]) return 1;
    return 0;
}
