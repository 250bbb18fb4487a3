/*
 * jit: code generated at run time, named the way JITs name it for perf (a /tmp/perf-PID.map line).
 *
 *   main;run_jitted;jitted_hot;jit_leaf       (about all of the CPU)
 *
 * `jitted_hot` is 18 bytes of machine code written into an anonymous mapping that is then made executable:
 * `push %rbp; mov %rsp,%rbp; movabs $jit_leaf,%rax; call *%rax; pop %rbp; ret`, a function with its own frame
 * record, as V8 and the JVM lay out theirs. No file backs it; only the map line names it. The map stays after
 * exit (a profiler names frames once the recording ends, as perf report does later), and its path is printed on
 * stdout so that a test can remove it.
 *
 * Usage: jit [SECONDS]   (default 3 s; 0 s = run until killed). x86-64 only.
 */
#include "fixture_common.h"

#include <sys/mman.h>
#include <unistd.h>

volatile unsigned long fixture_sink = 1;

FIXTURE_FN void jit_leaf(void) { FIXTURE_SPIN(2); }

FIXTURE_FN void run_jitted(void (*code)(void)) {
    code();
    __asm__ volatile("");
}

int main(int argc, char **argv) {
    double duration = fixture_seconds_arg(argc, argv, 1, 3.0);
    unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    unsigned long target = (unsigned long)&jit_leaf;
    unsigned char body[18] = {0x55, 0x48, 0x89, 0xe5, 0x48, 0xb8};
    memcpy(body + 6, &target, 8);
    body[14] = 0xff; /* call *%rax */
    body[15] = 0xd0;
    body[16] = 0x5d; /* pop %rbp */
    body[17] = 0xc3; /* ret */
    memcpy(code, body, sizeof body);
    if (mprotect(code, 4096, PROT_READ | PROT_EXEC) != 0) {
        perror("mprotect");
        return 1;
    }
    char path[64];
    snprintf(path, sizeof path, "/tmp/perf-%d.map", (int)getpid());
    FILE *map = fopen(path, "w");
    if (map == NULL) {
        perror(path);
        return 1;
    }
    fprintf(map, "%lx %zx jitted_hot\n", (unsigned long)code, sizeof body);
    fclose(map);
    printf("%s\n", path);
    fflush(stdout);

    double start = fixture_now();
    do {
        run_jitted((void (*)(void))code);
    } while (fixture_keep_going(start, duration));
    return 0;
}
