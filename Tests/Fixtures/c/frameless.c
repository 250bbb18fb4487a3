/*
 * frameless: a hot leaf without a frame record. Built with -O2 -g -fno-omit-frame-pointer (no
 * -mno-omit-leaf-frame-pointer, no FIXTURE_KEEP_FRAME): gcc keeps `push %rbp; mov %rsp,%rbp` in main and
 * frameless_caller, which make calls, and drops it in frameless_leaf, which needs no stack. A sample in the leaf has
 * BP still pointing at frameless_caller's record, so a naive frame-pointer walk names main as the leaf's caller;
 * the return address at [SP] (CFI: CFA = rsp + 8) gives frameless_caller.
 *
 *   main;frameless_caller;frameless_leaf   ~100 %
 *
 * Usage: frameless [SECONDS]   (default 3; 0 = run until killed)
 */
#include "fixture_common.h"

volatile unsigned long fixture_sink = 1;

/* About 1 ms of dependent multiply-adds per unit; no call, no stack. */
FIXTURE_FN unsigned long frameless_leaf(unsigned long x, unsigned long units) {
    unsigned long n = units * FIXTURE_UNIT_ITERATIONS;
    for (unsigned long i = 0; i < n; i++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        __asm__ volatile("" : "+r"(x));
    }
    return x;
}

FIXTURE_FN void frameless_caller(unsigned long units) {
    unsigned long x = frameless_leaf(fixture_sink, units);
    fixture_sink = x;
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv) {
    double duration = fixture_seconds_arg(argc, argv, 1, 3.0);
    double start = fixture_now();
    do {
        frameless_caller(5);
    } while (fixture_keep_going(start, duration));
    return 0;
}
