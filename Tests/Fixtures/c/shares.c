/*
 * shares: three call paths at different depths holding 50 / 30 / 20 % of the CPU.
 *
 *   main;path_a;a1;leaf_a              50 %
 *   main;path_b;leaf_b                 30 %
 *   main;path_c;c1;c2;c3;leaf_c        20 %
 *
 * Each round does 5 units in leaf_a, 3 in leaf_b and 2 in leaf_c (a unit is ~1 ms of CPU), so the shares hold
 * for a profile of any length above a few rounds. Leaves make no calls: every sample lands in a leaf's body.
 *
 * Usage: shares [SECONDS]   (default 3; 0 = run until killed, for attach tests)
 */
#include "fixture_common.h"

volatile unsigned long fixture_sink = 1;

FIXTURE_FN void leaf_a(unsigned long units) { FIXTURE_SPIN(units); }
FIXTURE_FN void a1(unsigned long units) { leaf_a(units); }
FIXTURE_FN void path_a(unsigned long units) { a1(units); }

FIXTURE_FN void leaf_b(unsigned long units) { FIXTURE_SPIN(units); }
FIXTURE_FN void path_b(unsigned long units) { leaf_b(units); }

FIXTURE_FN void leaf_c(unsigned long units) { FIXTURE_SPIN(units); }
FIXTURE_FN void c3(unsigned long units) { leaf_c(units); }
FIXTURE_FN void c2(unsigned long units) { c3(units); }
FIXTURE_FN void c1(unsigned long units) { c2(units); }
FIXTURE_FN void path_c(unsigned long units) { c1(units); }

int main(int argc, char **argv) {
    double duration = fixture_seconds_arg(argc, argv, 1, 3.0);
    double start = fixture_now();
    do {
        path_a(5);
        path_b(3);
        path_c(2);
    } while (fixture_keep_going(start, duration));
    return 0;
}
