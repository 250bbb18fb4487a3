// Live inline fixture: outer_work calls static helpers that gcc -O2 inlines (helper_b into helper_a into
// outer_work), so nearly every sample lands in inlined code. Usage: inlined [seconds]
#include <stdlib.h>
#include <time.h>

static volatile int sink;

static inline int helper_b(int x) {
    int s = 0;
    for (int i = 0; i < x; i++) s += i * x ^ (s >> 2);
    return s;
}

static inline int helper_a(int x) { return helper_b(x) * 3 + helper_b(x + 1); }

__attribute__((noinline)) int outer_work(int x) { return helper_a(x) + 7; }

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        for (int k = 0; k < 200; k++) sink += outer_work(20000 + k);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 < seconds);
    return 0;
}
