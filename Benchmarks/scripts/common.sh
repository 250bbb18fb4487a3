# Shared by the benchmark scripts (sourced, not run).
#
# ROOT is the fpprof checkout, BENCH the Benchmarks package. FPPROF and FPPROF_BENCH are the release binaries.
# SKIP_BUILD=1 uses the binaries already built.

BENCH_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH=$(cd "$BENCH_SCRIPTS/.." && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
FPPROF=$ROOT/.build/release/fpprof
FPPROF_BENCH=$BENCH/.build/release/fpprof-bench
# The fixtures' build flags (Tests/Fixtures/README.md): every function keeps its frame record.
FIXTURE_CFLAGS=(-O1 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-optimize-sibling-calls)

log() { printf '== %s\n' "$*" >&2; }

need() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || { echo "missing tool: $tool (Debian: apt-get install ${2:-$tool})" >&2; exit 1; }
    done
}

# Release builds: fpprof in the root package (its default .build), fpprof-bench in Benchmarks/.build.
build_fpprof() {
    [[ ${SKIP_BUILD:-0} == 1 && -x $FPPROF ]] && return 0
    log "swift build -c release --product fpprof (in $ROOT)"
    (cd "$ROOT" && swift build -c release --product fpprof 2>&1 | tail -n 3) >&2
}

build_bench() {
    [[ ${SKIP_BUILD:-0} == 1 && -x $FPPROF_BENCH ]] && return 0
    log "swift build -c release --product fpprof-bench (in $BENCH)"
    (cd "$BENCH" && swift build -c release --product fpprof-bench 2>&1 | tail -n 3) >&2
}

# perf_samples DATA: the SAMPLE records in a perf.data.
perf_samples() { perf report -i "$1" --stats 2>/dev/null | awk '/SAMPLE events:/ { print $3; exit }'; }

# build_c OUT SOURCE: one C workload with the fixture flags.
build_c() {
    gcc "${FIXTURE_CFLAGS[@]}" -o "$1" "$2"
}

# What the machine was doing, for the record.
machine_line() {
    printf '%s; %s; %s CPUs; load average %s; nice %s; %s; %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(uname -r)" \
        "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nice)" "$(perf version 2>/dev/null)" \
        "$(swift --version 2>/dev/null | head -n 1)"
}

# Which fpprof is measured: the commit of a git checkout, or the one snapshot.sh wrote down.
fpprof_commit() {
    if [[ -f $ROOT/.snapshot-commit ]]; then
        echo "snapshot of $(tr '\n' ' ' <"$ROOT/.snapshot-commit")"
    elif git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
        local dirty=""
        [[ -n $(git -C "$ROOT" status --porcelain -- Sources Package.swift) ]] && dirty=" (work tree has uncommitted changes in Sources/)"
        echo "$(git -C "$ROOT" log -1 --format='%h %s')$dirty"
    else
        echo unknown
    fi
}

# NICE=-N raises this script's priority (and so every child's: the profilers, the targets, perf script, hyperfine)
# for a machine that others are loading with builds: fair to both tools, and wall times stop measuring the
# neighbours. Needs root. Default 0: leave the priority alone.
apply_nice() {
    if [[ ${NICE:-0} != 0 ]]; then
        renice -n "$NICE" -p $$ >/dev/null
        log "running at nice $NICE"
    fi
}
