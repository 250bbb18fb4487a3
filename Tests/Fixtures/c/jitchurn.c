/*
 * jitchurn: many short-lived processes, each with JIT code of its own, for the engine's bounded state.
 *
 *   jitchurn;main;child_main;run_child_jit;jit_child_N_PID;jit_child_leaf   (in child N, pid PID)
 *
 * The parent forks COUNT children one after the other. Each child maps an anonymous page, writes into it the
 * same 18 bytes as the `jit` fixture (a function with its own frame record that calls `jit_child_leaf`), names
 * it in /tmp/perf-PID.map as `jit_child_N_PID`, runs it for MS milliseconds of CPU (counted in work units, so
 * whatever the load) and exits. Every child maps
 * its page at the same address (the parent's layout is the same at each fork), so only the module of the right
 * process gives a frame its right name. Once all children are reaped, the parent writes each child's map path,
 * one a line, then `done`, to OUT (stdout by default; a test removes the maps), and spins in `parent_tail` for
 * SECONDS, giving the profiler records to move on with.
 *
 * Usage: jitchurn [SECONDS [COUNT [MS [OUT]]]]   (default 3 s, 100 children, 4 ms; 0 s = spin until killed).
 * x86-64 only.
 */
#include "fixture_common.h"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

volatile unsigned long fixture_sink = 1;

FIXTURE_FN void jit_child_leaf(void) { FIXTURE_SPIN(1); }

FIXTURE_FN void run_child_jit(void (*code)(void), int units) {
    FIXTURE_KEEP_FRAME(); /* gcc would otherwise shrink-wrap the frame record behind the loop's test */
    for (int i = 0; i < units; i++) code();
    __asm__ volatile("");
}

FIXTURE_FN int child_main(int index, int units) {
    unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) return 1;
    unsigned long target = (unsigned long)&jit_child_leaf;
    unsigned char body[18] = {0x55, 0x48, 0x89, 0xe5, 0x48, 0xb8};
    memcpy(body + 6, &target, 8);
    body[14] = 0xff; /* call *%rax */
    body[15] = 0xd0;
    body[16] = 0x5d; /* pop %rbp */
    body[17] = 0xc3; /* ret */
    memcpy(code, body, sizeof body);
    if (mprotect(code, 4096, PROT_READ | PROT_EXEC) != 0) return 1;
    char path[64];
    snprintf(path, sizeof path, "/tmp/perf-%d.map", (int)getpid());
    FILE *map = fopen(path, "w");
    if (map == NULL) return 1;
    fprintf(map, "%lx %zx jit_child_%d_%d\n", (unsigned long)code, sizeof body, index, (int)getpid());
    fclose(map);
    run_child_jit((void (*)(void))code, units);
    return 0;
}

FIXTURE_FN void parent_tail(double seconds) {
    double start = fixture_now();
    do {
        FIXTURE_SPIN(1);
    } while (fixture_now() - start < seconds);
}

int main(int argc, char **argv) {
    double tail = fixture_seconds_arg(argc, argv, 1, 3.0);
    int count = argc > 2 ? atoi(argv[2]) : 100;
    int units = argc > 3 ? atoi(argv[3]) : 4;
    if (count <= 0 || units <= 0) return 2;
    pid_t *pids = calloc((size_t)count, sizeof *pids);
    if (pids == NULL) return 1;
    for (int i = 0; i < count; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) _exit(child_main(i, units));
        int status = 0;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "child %d failed\n", i);
            return 1;
        }
        pids[i] = pid;
    }
    FILE *out = argc > 4 ? fopen(argv[4], "w") : stdout;
    if (out == NULL) {
        perror(argv[4]);
        return 1;
    }
    for (int i = 0; i < count; i++) fprintf(out, "/tmp/perf-%d.map\n", (int)pids[i]);
    fprintf(out, "done\n");
    fflush(out);
    if (out != stdout) fclose(out);
    double start = fixture_now();
    do {
        parent_tail(0.1);
    } while (fixture_keep_going(start, tail));
    free(pids);
    return 0;
}
