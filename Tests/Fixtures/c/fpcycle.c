/*
 * fpcycle: a two-record frame-pointer cycle. Record A's saved %rbp points at record B and B's back at A.
 *
 * Half of the CPU goes to a healthy path, half to the cycling one, alternating every few milliseconds:
 *
 *   main;healthy_work;healthy_leaf                 50 %, a normal chain
 *   main;cycle_phase;cycle_caller;cycle_callee     50 %, the true stack (CFI and gdb see it)
 *
 * `cycle_caller` (assembly below) writes two fake frame records into its own frame:
 *   recA = { next = &recB, ret = an address inside cycle_frame_a }
 *   recB = { next = &recA, ret = an address inside cycle_frame_b }
 * then sets %rbp = &recA and calls `cycle_callee`, which pushes &recA as its saved %rbp. A frame-pointer walk from
 * a sample in cycle_callee sees:
 *   cycle_callee, cycle_caller, cycle_frame_a, cycle_frame_b, cycle_frame_a, cycle_frame_b, ...
 * (perf alternates the two up to its 127-frame limit). The walk goes up from cycle_callee's record to recA, up to
 * recB (recA + 16), then back down to recA: a loop longer than one frame, which a correct walk reports as a cycle.
 * cycle_frame_a and cycle_frame_b are real functions (nops and ret, never called): each `ret` slot holds the
 * address of their third instruction (offset 2), so both "ret" and "ret - 1" symbolize inside them.
 *
 * Usage: fpcycle [SECONDS]   (default 3; 0 = run until killed)
 * With FPPROF_FIXTURE_CHECK=1 it prints "cycle ok" at exit if cycle_callee ran with
 * [rbp] -> recA -> recB -> recA and the expected return addresses (otherwise "cycle FAILED", exit status 1).
 */
#include "fixture_common.h"

volatile unsigned long fixture_sink = 1;

/* Set by cycle_callee: 1 when the chain was the expected cycle every time, -1 if it ever was not. */
static volatile int cycle_seen = 0;

void cycle_caller(unsigned long units);
void cycle_frame_a(void);
void cycle_frame_b(void);
/* The return address stored in recA / recB: the third instruction (offset 2) of cycle_frame_a / cycle_frame_b. */
#define CYCLE_RET_OFFSET 2

/*
 * cycle_caller(units): %rdi passes through untouched to cycle_callee.
 *   entry:          %rsp = 8 mod 16
 *   push %rbp       %rsp = 0 mod 16, the real frame record of cycle_caller
 *   push %rbx       keeps the real %rbp
 *   sub $40         %rsp = 0 mod 16; recA at 0(%rsp), recB at 16(%rsp), 8 bytes of padding
 * The CFA is tracked through %rsp only, because %rbp is not a frame base while cycle_callee runs.
 */
__asm__(
    "    .text\n"
    "    .globl cycle_caller\n"
    "    .type cycle_caller, @function\n"
    "cycle_caller:\n"
    "    .cfi_startproc\n"
    "    pushq %rbp\n"
    "    .cfi_adjust_cfa_offset 8\n"
    "    .cfi_offset %rbp, -16\n"
    "    movq %rsp, %rbp\n"
    "    pushq %rbx\n"
    "    .cfi_adjust_cfa_offset 8\n"
    "    .cfi_offset %rbx, -24\n"
    "    subq $40, %rsp\n"
    "    .cfi_adjust_cfa_offset 40\n"
    "    movq %rbp, %rbx\n"
    "    leaq 16(%rsp), %rax\n"                 /* recA.next = &recB */
    "    movq %rax, 0(%rsp)\n"
    "    leaq cycle_frame_a+2(%rip), %rax\n"    /* recA.ret inside cycle_frame_a */
    "    movq %rax, 8(%rsp)\n"
    "    movq %rsp, 16(%rsp)\n"                 /* recB.next = &recA */
    "    leaq cycle_frame_b+2(%rip), %rax\n"    /* recB.ret inside cycle_frame_b */
    "    movq %rax, 24(%rsp)\n"
    "    movq %rsp, %rbp\n"                     /* %rbp = &recA */
    "    call cycle_callee\n"
    "    movq %rbx, %rbp\n"
    "    addq $40, %rsp\n"
    "    .cfi_adjust_cfa_offset -40\n"
    "    popq %rbx\n"
    "    .cfi_adjust_cfa_offset -8\n"
    "    .cfi_restore %rbx\n"
    "    popq %rbp\n"
    "    .cfi_adjust_cfa_offset -8\n"
    "    .cfi_restore %rbp\n"
    "    ret\n"
    "    .cfi_endproc\n"
    "    .size cycle_caller, .-cycle_caller\n"
    "\n"
    "    .globl cycle_frame_a\n"
    "    .type cycle_frame_a, @function\n"
    "cycle_frame_a:\n"
    "    .cfi_startproc\n"
    "    nop\n"
    "    nop\n"
    "    nop\n"
    "    nop\n"
    "    ret\n"
    "    .cfi_endproc\n"
    "    .size cycle_frame_a, .-cycle_frame_a\n"
    "\n"
    "    .globl cycle_frame_b\n"
    "    .type cycle_frame_b, @function\n"
    "cycle_frame_b:\n"
    "    .cfi_startproc\n"
    "    nop\n"
    "    nop\n"
    "    nop\n"
    "    nop\n"
    "    ret\n"
    "    .cfi_endproc\n"
    "    .size cycle_frame_b, .-cycle_frame_b\n");

FIXTURE_FN void cycle_callee(unsigned long units) {
    void **frame = __builtin_frame_address(0);
    void **rec_a = frame[0];
    void **rec_b = rec_a[0];
    void *ret_a = (char *)cycle_frame_a + CYCLE_RET_OFFSET;
    void *ret_b = (char *)cycle_frame_b + CYCLE_RET_OFFSET;
    int ok = rec_a != rec_b && rec_b[0] == (void *)rec_a && rec_a[1] == ret_a && rec_b[1] == ret_b;
    if (ok) {
        if (cycle_seen == 0) cycle_seen = 1;
    } else {
        cycle_seen = -1;
    }
    FIXTURE_SPIN(units);
}

FIXTURE_FN void cycle_phase(unsigned long units) { cycle_caller(units); }

FIXTURE_FN void healthy_leaf(unsigned long units) { FIXTURE_SPIN(units); }
FIXTURE_FN void healthy_work(unsigned long units) { healthy_leaf(units); }

int main(int argc, char **argv) {
    double duration = fixture_seconds_arg(argc, argv, 1, 3.0);
    double start = fixture_now();
    do {
        healthy_work(5);
        cycle_phase(5);
    } while (fixture_keep_going(start, duration));
    if (fixture_check_mode()) {
        if (cycle_seen == 1) {
            printf("cycle ok\n");
        } else {
            printf("cycle FAILED (%d)\n", cycle_seen);
            return 1;
        }
    }
    return 0;
}
