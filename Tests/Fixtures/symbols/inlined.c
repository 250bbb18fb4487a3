// DWARF fixture: outer functions that call static inline helpers, which GCC at -O2 inlines (helper_a into each
// outer, helper_b into helper_a), so addresses inside the loops carry two levels of inlined calls. Built -O2 -g by
// FPProfSymbolsTests and compared address by address with eu-addr2line -f -i.
#include <stdio.h>
#include <stdlib.h>

#define FX_KEEP __attribute__((noinline, used))

static inline int helper_b(int x) {
    int s = 0;
    for (int i = 0; i < x; i++) s += i * x ^ (s >> 2);
    return s;
}

static inline int helper_a(int x) {
    int t = helper_b(x) * 3;
    return t + helper_b(x + 1);
}

static inline __attribute__((always_inline)) long mix(long a, long b) { return (a * 31) ^ (b >> 3); }

FX_KEEP int outer_one(int x) { return helper_a(x) + 7; }

FX_KEEP int outer_two(int x) {
    int total = 0;
    for (int k = 0; k < 3; k++) total += helper_a(x + k) ^ k;
    return total;
}

FX_KEEP long outer_three(long n) {
    long acc = 1;
    for (long i = 0; i < n; i++) acc = mix(acc, i) + helper_b((int)(i & 15));
    return acc;
}

// Not inlined: a plain function, for addresses with no inline chain.
FX_KEEP long plain(long n) {
    long acc = 0;
    for (long i = 1; i <= n; i++) acc += n % i;
    return acc;
}

int main(int argc, char **argv) {
    (void)argv;
    printf("%d %d %ld %ld\n", outer_one(argc * 10), outer_two(argc), outer_three(argc * 100), plain(argc * 50));
    return 0;
}
