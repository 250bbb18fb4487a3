// The demo workload of the README: three call paths taking about 50 %, 30 % and 20 % of the CPU, so the
// flamegraph has a known shape. Usage: demo [seconds]
#include <stdlib.h>
#include <time.h>

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static volatile unsigned long sink;

__attribute__((noinline)) static void spin(double seconds) {
    double end = cpu_now() + seconds;
    while (cpu_now() < end) {
        for (int i = 0; i < 1000; i++) sink += i;
    }
}

__attribute__((noinline)) void parse_request(void) { spin(0.005); }
__attribute__((noinline)) void handle_request(void) { parse_request(); }
__attribute__((noinline)) void compress_block(void) { spin(0.003); }
__attribute__((noinline)) void write_response(void) { compress_block(); }
__attribute__((noinline)) void log_line(void) { spin(0.002); }
__attribute__((noinline)) void flush_logs(void) { log_line(); }

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 3.0;
    double end = cpu_now() + seconds;
    while (cpu_now() < end) {
        handle_request();
        write_response();
        flush_logs();
    }
    return 0;
}
