/*
 * realign: a function that realigns its stack through gcc's DRAP register (over-aligned locals beside a
 * variable-length array), between functions built without frame pointers; nearly every sample is in leaf_nofp:
 *
 *   main;outer_nofp;realigned_work;leaf_nofp
 *
 * Built -O2 -fomit-frame-pointer (HybridDifferentialTests): realigned_work's CFA is the word at BP - 8 (where it
 * saved the DRAP register, its caller's SP) and its caller's BP is saved at [BP]; outer_nofp's CFA is SP + n, so a
 * walk must take outer_nofp's SP from that slot, not from realigned_work's frame record (a frame-pointer step).
 *
 * Usage: realign [SECONDS]   (default 3)
 */
#include "fixture_common.h"

volatile unsigned long fixture_sink = 1;

FIXTURE_FN void leaf_nofp(double *values, unsigned long iterations) {
    unsigned long x = fixture_sink + (unsigned long)values[1];
    for (unsigned long i = 0; i < iterations; i++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        __asm__ volatile("" : "+r"(x));
    }
    fixture_sink = x;
}

FIXTURE_FN void realigned_work(int n) {
    double aligned[16] __attribute__((aligned(64)));
    volatile double sized[(n & 7) + 1];
    sized[0] = n;
    for (int i = 0; i < 16; i++) aligned[i] = i * sized[0];
    leaf_nofp(aligned, FIXTURE_UNIT_ITERATIONS / 10);
}

FIXTURE_FN void outer_nofp(int n) {
    /* Locals on the stack, so that this frame's CFA is SP + n with n > 8. */
    volatile unsigned long spill[4] = {1, 2, 3, (unsigned long)n};
    realigned_work((int)spill[3]);
}

int main(int argc, char **argv) {
    double duration = fixture_seconds_arg(argc, argv, 1, 3.0);
    double start = fixture_now();
    int n = 0;
    do {
        outer_nofp(n++);
    } while (fixture_keep_going(start, duration));
    return 0;
}
