// Symbolizer fixture: functions with distinct names and sizes, kept out of line, so tests can ask for addresses
// inside each one and compare fpprof's names with nm and addr2line. Built by FPProfSymbolsTests as a PIE and a
// non-PIE executable and, with -DFX_LIBRARY, as a shared library; each also stripped.
#include <stdio.h>
#include <stdlib.h>

#define FX_KEEP __attribute__((noipa, used))

// A local function: only .symtab names it, so a stripped file must not.
static FX_KEEP int fx_static_leaf(int x) {
    int total = 0;
    for (int i = 0; i < x; i++) total += i * x ^ (total >> 3);
    return total;
}

// Exported functions: a shared library's .dynsym names them, stripped or not.
FX_KEEP int fx_exported_one(int x) { return fx_static_leaf(x) + 1; }

FX_KEEP long fx_exported_two(long a, long b) {
    long product = 1;
    for (long i = a; i < b; i++) product = product * 31 + i;
    return product + fx_exported_one((int)a);
}

// Hand-written assembly without a .size directive, as runtimes often have: its symbol has size 0, and addresses
// after its entry still belong to it up to the next symbol.
__asm__(
    ".text\n"
    ".globl fx_asm_unsized\n"
    ".type fx_asm_unsized, @function\n"
    "fx_asm_unsized:\n"
    "  nop\n  nop\n  nop\n  nop\n  nop\n  nop\n  nop\n"
    "  mov $42, %eax\n"
    "  ret\n");
int fx_asm_unsized(void);

FX_KEEP int fx_calls_asm(void) { return fx_asm_unsized() + fx_exported_one(3); }

#ifndef FX_LIBRARY
int main(int argc, char **argv) {
    (void)argv;
    printf("%ld %d\n", fx_exported_two(argc, argc + 10), fx_calls_asm());
    return 0;
}
#endif
