#!/usr/bin/env bash
# What unwinding by CFI costs (issue 15), in samples per second on one core with warm caches, all in one run:
#
#   Benchmarks/scripts/hybrid-throughput.sh            # as root (perf_event_paranoid is 2 here)
#
# 1. Programs Debian builds without frame pointers (xz -9 over base64 text, a sqlite3 query): one
#    `fpprof record --raw` capture and one `perf record -e cpu-clock --call-graph dwarf,16384` capture of the same
#    command (both keep a 16 KiB stack copy per sample). Then, pinned to CPU:
#      fpprof-bench pipeline CAPTURE --unwind hybrid    decode + CFI/frame-record walk + aggregate + symbolize + fold
#      hyperfine 'perf script -i perf.data'             perf unwinds every sample's copy with libdw, names, prints
#      hyperfine 'perf report -g folded ...'            the same unwinding, aggregated to folded stacks
#    perf is also given per sample (a second, SHORT capture subtracts its start-up), as decode-throughput.sh does,
#    and so is fpprof (a SHORT capture's best pass subtracted from the long one's: what a pass costs besides its
#    samples, such as setting up the builder and folding the distinct stacks); per-sample rows are compared with
#    fpprof's per-sample row.
# 2. Frame-pointer captures (the shares and recursion fixtures, with the fixture flags, and mix: both side by side,
#    two processes, as in decode-throughput.sh): the same capture through `--unwind hybrid` and `--unwind fp`,
#    alternated pass by pass in one fpprof-bench process (`--unwind hybrid,fp`: one load of the capture, both modes
#    under the same drift of the machine), RUNS passes of each per round, ROUNDS rounds; the median of every pass.
#
# Environment (defaults in brackets): DURATION [20] seconds each workload is recorded (xz and sqlite3 are sized to
# run about that long; perf's start-up is about 0.2 s, and a 5 s capture's samples were a tenth of its command, too
# little for a per-sample figure), SHORT [1], FREQ [999] Hz, FP_FREQ [4999] Hz and FP_DURATION [10] s for the
# frame-pointer captures, RUNS [11], ROUNDS [3], CPU [0], WORK [mktemp], NICE [0], SKIP_BUILD [0] as in
# decode-throughput.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DURATION=${DURATION:-20}
SHORT=${SHORT:-1}
FREQ=${FREQ:-999}
# The frame-pointer captures are made denser and longer: at FREQ, a pass over 5 s of them takes 5 ms, too short to time.
FP_FREQ=${FP_FREQ:-4999}
FP_DURATION=${FP_DURATION:-10}
RUNS=${RUNS:-11}
ROUNDS=${ROUNDS:-3}
CPU=${CPU:-0}
WORK=${WORK:-$(mktemp -d /tmp/fpprof-hybrid.XXXXXX)}
mkdir -p "$WORK"

need perf hyperfine taskset gcc python3 swift xz sqlite3 base64
build_fpprof
build_bench
for f in shares recursion; do build_c "$WORK/$f" "$ROOT/Tests/Fixtures/c/$f.c"; done
apply_nice
# xz -9 compresses about 1.6 MB of this text a second: enough of it for DURATION, and never less than before.
head -c $((DURATION > 7 ? DURATION * 1300000 : 9000000)) /dev/urandom | base64 >"$WORK/input.txt"

# workload_cmd NAME SECONDS: the command line of a workload, in the array CMD. xz's input and sqlite3's row count
# scale with SECONDS (about 1.6 MB of text and 2.5 million rows a second here).
workload_cmd() {
    case $1 in
        xz) CMD=(sh -c "head -c $(($2 * 1600000)) '$WORK/input.txt' | xz -9 -T1 >/dev/null") ;;
        sqlite3)
            CMD=(sqlite3 :memory: "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT $(($2 * 2500000)))
                SELECT sum(x*x % 7) FROM c;")
            ;;
        mix) CMD=(sh -c "'$WORK/shares' $2 & '$WORK/recursion' $2; wait") ;;
        shares) CMD=("$WORK/shares" "$2") ;;
        recursion) CMD=("$WORK/recursion" "$2") ;;
        *) echo "unknown workload $1" >&2; exit 64 ;;
    esac
}

# record NAME UNWIND [HZ SECONDS [WORKLOAD]]: the fpprof capture NAME.raw (and its folded output, walked with
# UNWIND) of WORKLOAD (default NAME).
record() {
    local hz=${3:-$FREQ}
    workload_cmd "${5:-$1}" "${4:-$DURATION}"
    log "record $1 with fpprof: $FPPROF record -F $hz --unwind $2 --raw $WORK/$1.raw -- ${CMD[*]}"
    local rc=0
    "$FPPROF" record -F "$hz" --unwind "$2" --raw "$WORK/$1.raw" -o "$WORK/$1.fpprof.folded" -- "${CMD[@]}" \
        >/dev/null 2>"$WORK/$1.fpprof.log" || rc=$?
    [[ $rc == 0 || $rc == 2 ]] || { cat "$WORK/$1.fpprof.log" >&2; exit 1; }
    sed 's/^/   /' "$WORK/$1.fpprof.log" >&2
}

# collect OUTPUT NAME UNWIND: from an fpprof-bench OUTPUT, UNWIND's rates appended to NAME's list for UNWIND and its
# shape (samples, frames per sample) noted.
collect() {
    local result
    result=$(grep "^RESULT mode=$3 " "$1")
    sed -E 's/.* rates=([0-9.,]+).* cpu_rates=([0-9.,]+).*/\1;\2/' <<<"$result" >>"$WORK/$2.$3.rates"
    sed -E 's/.* samples=([0-9]+).* frames_per_sample=([0-9.]+).*/\1 \2/' <<<"$result" >"$WORK/$2.$3.shape"
}

# bench NAME UNWIND: one fpprof-bench run of RUNS passes, its rates appended to NAME's list for UNWIND.
bench() {
    taskset -c "$CPU" "$FPPROF_BENCH" pipeline "$WORK/$1.raw" --unwind "$2" --repeat "$RUNS" >"$WORK/$1.$2.txt"
    collect "$WORK/$1.$2.txt" "$1" "$2"
}

# bench_pair NAME: one fpprof-bench run alternating `--unwind hybrid` and `--unwind fp` pass by pass, RUNS passes of
# each; each mode's rates appended to NAME's list for it, as `bench` does.
bench_pair() {
    taskset -c "$CPU" "$FPPROF_BENCH" pipeline "$WORK/$1.raw" --unwind hybrid,fp --repeat "$RUNS" >"$WORK/$1.pair.txt"
    for mode in hybrid fp; do collect "$WORK/$1.pair.txt" "$1" "$mode"; done
}

# joined NAME UNWIND: every pass's rates of NAME under UNWIND, as one `wall;cpu` field of stats.py.
joined() {
    python3 - "$WORK/$1.$2.rates" <<'PY'
import sys
walls, cpus = [], []
for line in open(sys.argv[1]):
    wall, cpu = line.strip().split(";")
    walls += wall.split(","); cpus += cpu.split(",")
print(",".join(walls) + ";" + ",".join(cpus))
PY
}

{
    echo "machine: $(machine_line)"
    echo "fpprof: $(fpprof_commit)"
} | tee "$WORK/machine.txt"

results=$WORK/hybrid.tsv
: >"$results"
for w in xz sqlite3; do
    record "$w" hybrid
    workload_cmd "$w" "$DURATION"
    log "record $w with perf: perf record -e cpu-clock -F $FREQ --call-graph dwarf,16384 -o $WORK/$w.perf.data"
    perf record -e cpu-clock -F "$FREQ" --call-graph dwarf,16384 -o "$WORK/$w.perf.data" -- "${CMD[@]}" \
        >/dev/null 2>"$WORK/$w.perf.log"
    workload_cmd "$w" "$SHORT"
    perf record -e cpu-clock -F "$FREQ" --call-graph dwarf,16384 -o "$WORK/$w.perf-short.data" -- "${CMD[@]}" \
        >/dev/null 2>"$WORK/$w.perf-short.log"

    log "fpprof-bench pipeline $w.raw --unwind hybrid --repeat $RUNS (taskset -c $CPU)"
    bench "$w" hybrid
    read -r samples frames <"$WORK/$w.hybrid.shape"
    printf '%s\tfpprof --unwind hybrid (fpprof-bench)\t%s\t%s\trates\t%s\n' "$w" "$samples" "$frames" \
        "$(joined "$w" hybrid)" >>"$results"
    # fpprof per sample, as perf's below: a SHORT capture's best pass subtracted from the long one's.
    record "$w-short" hybrid "$FREQ" "$SHORT" "$w"
    bench "$w-short" hybrid
    read -r short_samples _ <"$WORK/$w-short.hybrid.shape"
    printf '%s\tfpprof --unwind hybrid, per sample\t%s\t%s\tfmarginal\t%s|%s\n' "$w" "$((samples - short_samples))" \
        "$frames" "$WORK/$w.hybrid.txt" "$WORK/$w-short.hybrid.txt" >>"$results"

    n=$(perf_samples "$WORK/$w.perf.data")
    n_short=$(perf_samples "$WORK/$w.perf-short.data")
    pframes=$(perf script -i "$WORK/$w.perf.data" 2>/dev/null | awk -v n="$n" '/^\t/ { f++ } END { printf "%.1f", f / n }')
    log "hyperfine perf script / perf report -g folded on $w.perf.data ($n samples) and $w.perf-short.data ($n_short)"
    hyperfine -N --warmup 1 --runs "$RUNS" --output=null --export-json "$WORK/$w.script.json" \
        "taskset -c $CPU perf script -i $WORK/$w.perf.data" \
        "taskset -c $CPU perf script -i $WORK/$w.perf-short.data" >&2
    report=(perf report --stdio --no-children -g folded,0,caller,count --sort comm)
    hyperfine -N --warmup 1 --runs "$RUNS" --output=null --export-json "$WORK/$w.report.json" \
        "taskset -c $CPU ${report[*]} -i $WORK/$w.perf.data" \
        "taskset -c $CPU ${report[*]} -i $WORK/$w.perf-short.data" >&2
    printf '%s\tperf script, dwarf (whole command)\t%s\t%s\thyperfine\t%s\n' "$w" "$n" "$pframes" \
        "$WORK/$w.script.json" >>"$results"
    printf '%s\tperf script, dwarf, per sample\t%s\t%s\tmarginal\t%s|%s\n' "$w" "$((n - n_short))" "$pframes" \
        "$WORK/$w.script.json" "$n_short" >>"$results"
    printf '%s\tperf report -g folded, dwarf (whole command)\t%s\t%s\thyperfine\t%s\n' "$w" "$n" "$pframes" \
        "$WORK/$w.report.json" >>"$results"
    printf '%s\tperf report -g folded, dwarf, per sample\t%s\t%s\tmarginal\t%s|%s\n' "$w" "$((n - n_short))" \
        "$pframes" "$WORK/$w.report.json" "$n_short" >>"$results"
done

for w in mix shares recursion; do
    record "$w" fp "$FP_FREQ" "$FP_DURATION"
    for ((r = 0; r < ROUNDS; r++)); do
        log "round $((r + 1))/$ROUNDS: fpprof-bench pipeline $w.raw --unwind hybrid,fp"
        bench_pair "$w"
    done
    for mode in hybrid fp; do
        read -r samples frames <"$WORK/$w.$mode.shape"
        printf '%s\tfpprof --unwind %s (fpprof-bench)\t%s\t%s\trates\t%s\n' "$w" "$mode" "$samples" "$frames" \
            "$(joined "$w" "$mode")" >>"$results"
    done
done

{
    echo
    echo "## --unwind hybrid: samples per second, one core (CPU $CPU)"
    echo
    echo "fpprof: $(fpprof_commit)"
    echo "Recorded at $FREQ Hz for about $DURATION s per workload (the frame-pointer captures at $FP_FREQ Hz for"
    echo "$FP_DURATION s); $RUNS passes or runs per tool ($ROUNDS rounds of $RUNS passes of each mode, alternated pass by"
    echo "pass in one process, on the frame-pointer captures). The ratio column is the workload's first row ÷ the row; on a per-sample row, fpprof's"
    echo "per-sample row ÷ the row."
    echo "machine at the start: $(sed -n 's/^machine: //p' "$WORK/machine.txt")"
    echo "machine at the end:   $(machine_line)"
    echo "Results in $WORK."
    python3 "$BENCH_SCRIPTS/stats.py" throughput "$results"
} | tee "$WORK/hybrid.md"
