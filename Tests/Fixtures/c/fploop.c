/*
 * fploop: the shape of the Go mcall frame-pointer bug (Go commit b52f6d3): a frame record whose saved %rbp holds
 * its own address, [rbp] == rbp.
 *
 * Half of the CPU goes to a healthy path, half to the looping one, alternating every few milliseconds:
 *
 *   main;healthy_work;healthy_leaf              50 %, a normal chain
 *   main;loop_phase;loop_caller;loop_callee     50 %, the true stack (CFI and gdb see it)
 *
 * `loop_caller` (assembly below) builds a normal frame, then sets %rbp to the address where its callee's
 * `push %rbp` will store it, and calls `loop_callee`. In loop_callee, [rbp] == rbp and [rbp+8] is the return
 * address into loop_caller, so a frame-pointer walk sees loop_callee, loop_caller, loop_caller, loop_caller...
 * (perf repeats loop_caller up to its 127-frame limit). A correct walk stops at the record with a marker:
 * loop_callee, loop_caller, then [fp-loop]. The .cfi directives are right, so a DWARF unwinder still finds
 * loop_phase and main.
 *
 * Usage: fploop [SECONDS]   (default 3; 0 = run until killed)
 * With FPPROF_FIXTURE_CHECK=1 it prints "selfloop ok" at exit if loop_callee ran with [rbp] == rbp (and
 * "selfloop FAILED" otherwise, with exit status 1).
 */
#include "fixture_common.h"

volatile unsigned long fixture_sink = 1;

/* Set by loop_callee: 1 when its own frame record pointed at itself every time, -1 if it ever did not. */
static volatile int selfloop_seen = 0;

void loop_caller(unsigned long units);

/*
 * loop_caller(units): %rdi passes through untouched to loop_callee.
 *   entry:            %rsp = 8 mod 16 (return address pushed)
 *   push %rbp         %rsp = 0 mod 16, frame record of loop_caller at %rsp
 *   push %rbx         keep the real %rbp in a callee-saved register
 *   sub $8            %rsp = 0 mod 16 again, as the call requires
 *   lea -16(%rsp),%rbp: `call` stores the return address at %rsp-8, the callee's `push %rbp` stores %rbp at
 *                     %rsp-16, so the callee's saved-BP slot holds its own address.
 * The CFA is tracked through %rsp only, because %rbp is not a frame base while loop_callee runs.
 */
__asm__(
    "    .text\n"
    "    .globl loop_caller\n"
    "    .type loop_caller, @function\n"
    "loop_caller:\n"
    "    .cfi_startproc\n"
    "    pushq %rbp\n"
    "    .cfi_adjust_cfa_offset 8\n"
    "    .cfi_offset %rbp, -16\n"
    "    movq %rsp, %rbp\n"
    "    pushq %rbx\n"
    "    .cfi_adjust_cfa_offset 8\n"
    "    .cfi_offset %rbx, -24\n"
    "    subq $8, %rsp\n"
    "    .cfi_adjust_cfa_offset 8\n"
    "    movq %rbp, %rbx\n"
    "    leaq -16(%rsp), %rbp\n"
    "    call loop_callee\n"
    "    movq %rbx, %rbp\n"
    "    addq $8, %rsp\n"
    "    .cfi_adjust_cfa_offset -8\n"
    "    popq %rbx\n"
    "    .cfi_adjust_cfa_offset -8\n"
    "    .cfi_restore %rbx\n"
    "    popq %rbp\n"
    "    .cfi_adjust_cfa_offset -8\n"
    "    .cfi_restore %rbp\n"
    "    ret\n"
    "    .cfi_endproc\n"
    "    .size loop_caller, .-loop_caller\n");

FIXTURE_FN void loop_callee(unsigned long units) {
    void **frame = __builtin_frame_address(0);
    if (*frame == (void *)frame) {
        if (selfloop_seen == 0) selfloop_seen = 1;
    } else {
        selfloop_seen = -1;
    }
    FIXTURE_SPIN(units);
}

FIXTURE_FN void loop_phase(unsigned long units) { loop_caller(units); }

FIXTURE_FN void healthy_leaf(unsigned long units) { FIXTURE_SPIN(units); }
FIXTURE_FN void healthy_work(unsigned long units) { healthy_leaf(units); }

int main(int argc, char **argv) {
    double duration = fixture_seconds_arg(argc, argv, 1, 3.0);
    double start = fixture_now();
    do {
        healthy_work(5);
        loop_phase(5);
    } while (fixture_keep_going(start, duration));
    if (fixture_check_mode()) {
        if (selfloop_seen == 1) {
            printf("selfloop ok\n");
        } else {
            printf("selfloop FAILED (%d)\n", selfloop_seen);
            return 1;
        }
    }
    return 0;
}
