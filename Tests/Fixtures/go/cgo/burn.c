/*
 * The C part of the cgo fixture: three functions calling one another, compiled -O2 -fomit-frame-pointer (the
 * #cgo CFLAGS in main.go), as a distribution builds a C library: none of them keeps a frame record, so the walk
 * from c_leaf back to the Go frames needs their call frame information.
 *
 *   c_outer;c_middle;c_leaf      nearly all of the fixture's CPU, in c_leaf
 */
#include "burn.h"

/* The work: dependent multiply-adds, about 1 ms per call (1,000,000 steps, as the C fixtures' unit). */
__attribute__((noinline)) static unsigned long c_leaf(unsigned long x) {
    for (unsigned long i = 0; i < 1000000UL; i++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        __asm__ volatile("" : "+r"(x));
    }
    return x;
}

__attribute__((noinline)) static unsigned long c_middle(unsigned long x) { return c_leaf(x) ^ c_leaf(x + 1); }

__attribute__((noinline)) unsigned long c_outer(unsigned long x) { return c_middle(x) + c_middle(x ^ 1); }
