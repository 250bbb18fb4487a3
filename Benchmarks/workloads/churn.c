/*
 * churn: short-lived processes, each with code of its own, for the engine's soak (Benchmarks/scripts/soak.sh).
 *
 * Usage: churn SECONDS RATE
 *
 * Forks RATE children per second for SECONDS. Each child writes a small function (`push %rbp; mov %rsp,%rbp;
 * a countdown loop; pop %rbp; ret`) into anonymous memory it makes executable, so that it is a JIT module of its
 * own, runs it for about 10 ms of CPU and exits. The parent reaps every child, and spins a little and sleeps
 * 2 ms between checks (a light load: the soak measures the profiler, not the machine).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void child(void) {
    /* push %rbp; mov %rsp,%rbp; mov %rdi,%rax; 1: dec %rax; jnz 1b; pop %rbp; ret */
    static const unsigned char body[] = {0x55, 0x48, 0x89, 0xe5, 0x48, 0x89, 0xf8, 0x48,
                                         0xff, 0xc8, 0x75, 0xfb, 0x5d, 0xc3};
    unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) _exit(1);
    memcpy(code, body, sizeof body);
    if (mprotect(code, 4096, PROT_READ | PROT_EXEC) != 0) _exit(1);
    ((void (*)(unsigned long))code)(20000000UL);
    _exit(0);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: churn SECONDS RATE\n");
        return 2;
    }
    double seconds = atof(argv[1]);
    double rate = atof(argv[2]);
    if (!(seconds > 0) || !(rate > 0)) return 2;
    double start = now();
    double next = start;
    unsigned long forked = 0;
    volatile unsigned long sink = 0;
    while (now() - start < seconds) {
        if (now() >= next) {
            pid_t pid = fork();
            if (pid == 0) child();
            if (pid > 0) forked++;
            next += 1.0 / rate;
        }
        while (waitpid(-1, NULL, WNOHANG) > 0) {
        }
        for (int i = 0; i < 20000; i++) sink += i;
        usleep(2000);
    }
    while (wait(NULL) > 0) {
    }
    fprintf(stderr, "churn: %lu children\n", forked);
    return 0;
}
