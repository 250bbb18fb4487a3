/*
 * recursion: a chain of DEPTH (default 300) frames of `recurse`, with a spinning leaf at the bottom.
 *
 *   main;recurse;recurse;...(DEPTH times)...;recurse;spin_at_bottom
 *
 * More than perf's 127-frame kernel callchain limit, yet the whole chain fits in a 16384-byte user stack copy:
 * each `recurse` frame is 16 bytes (return address + saved %rbp, nothing else), so 300 levels take 4800 bytes.
 * Recursion repeats the same return address at distinct, rising frame addresses: an unwinder that detects loops
 * by repeated PCs instead of by address progress wrongly stops here.
 *
 * Usage: recursion [SECONDS [DEPTH]]   (default 3 s and 300; 0 s = run until killed)
 */
#include "fixture_common.h"

volatile unsigned long fixture_sink = 1;

FIXTURE_FN void spin_at_bottom(unsigned long units) { FIXTURE_SPIN(units); }

/* Depth `n` counts this frame: recurse(1, ...) calls spin_at_bottom directly. */
FIXTURE_FN void recurse(long n, unsigned long units) {
    if (n <= 1) {
        spin_at_bottom(units);
    } else {
        recurse(n - 1, units);
    }
    /* Code after the call: the call is never a tail call, so every level keeps its frame. */
    __asm__ volatile("");
}

int main(int argc, char **argv) {
    double duration = fixture_seconds_arg(argc, argv, 1, 3.0);
    long depth = argc > 2 ? strtol(argv[2], NULL, 10) : 300;
    if (depth < 1 || depth > 100000) {
        fprintf(stderr, "%s: bad depth: %s\n", argv[0], argv[2]);
        return 2;
    }
    double start = fixture_now();
    do {
        recurse(depth, 2);
    } while (fixture_keep_going(start, duration));
    return 0;
}
