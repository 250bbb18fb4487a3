#!/usr/bin/env bash
# Decode + unwind + fold throughput of fpprof, in samples per second on one core with warm symbol caches, beside
# perf on a `perf record --call-graph fp` capture of the same workload, all in the same run. fpprof walks by frame
# records alone (`--unwind fp`, as perf does here); hybrid-throughput.sh measures `--unwind hybrid`.
#
#   Benchmarks/scripts/decode-throughput.sh            # as root (perf_event_paranoid is 2 here)
#
# Environment (defaults in brackets):
#   DURATION [10]   seconds each workload runs while it is recorded
#   SHORT [2]       seconds of a second, short perf recording (perf's start-up cost is measured by the difference)
#   FREQ [999]      sampling rate of both recordings, Hz per thread
#   RUNS [7]        timed passes / hyperfine runs per tool
#   CPU [0]         the core every measurement is pinned to (taskset -c)
#   WORKLOADS ["mix shares recursion"]
#                   mix: the shares and recursion fixtures side by side (two processes, one per core);
#                   shares: 4-6 frames a sample; recursion: 300 recursive frames a sample (perf's kernel FP
#                   callchain stops at 127 frames, fpprof walks all of them)
#   WORK [mktemp]   where captures and results go (several hundred MB: each fpprof sample carries its stack copy)
#   NICE [0]        e.g. -19: run the measurements at that priority (root), on a machine others are loading
#   SKIP_BUILD [0]  1: use the release binaries already built
#
# For each workload: one fpprof recording (`fpprof record --raw`), one perf recording (`perf record -e cpu-clock
# --call-graph fp`) and a second, SHORT perf recording; then, with nothing else of ours running, pinned to CPU:
#   fpprof-bench pipeline CAPTURE --repeat RUNS     decode + unwind + aggregate + symbolize + fold, warm caches
#                                                   (and the same without symbolize + fold)
#   hyperfine 'perf script -i perf.data'            perf's decode + symbolize + text (what stackcollapse reads)
#   hyperfine 'perf report -g folded ...'           perf's own decode + symbolize + aggregate + folded stacks
# and a table of medians, ranges and fpprof ÷ tool ratios (samples/s = the capture's samples / wall time).
# perf is given twice: as a whole command (what a user waits for; includes its start-up, mostly reading kallsyms,
# about 75 ms here) and per sample (the long capture's extra samples over the extra time they take beside the
# short capture: start-up subtracted). fpprof-bench has no start-up in its figure (warm caches, in-process).
# `perf script | stackcollapse-perf.pl` is not measured: FlameGraph is not packaged in Debian 12 (apt-cache
# policy flamegraph: no candidate) and nothing outside the registries can be fetched here; `perf report -g
# folded` is perf's own equivalent of that pipe.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DURATION=${DURATION:-10}
SHORT=${SHORT:-2}
FREQ=${FREQ:-999}
RUNS=${RUNS:-7}
CPU=${CPU:-0}
WORKLOADS=${WORKLOADS:-"mix shares recursion"}
WORK=${WORK:-$(mktemp -d /tmp/fpprof-decode.XXXXXX)}
mkdir -p "$WORK"

need perf hyperfine taskset gcc python3 swift
build_fpprof
build_bench
for f in shares recursion; do build_c "$WORK/$f" "$ROOT/Tests/Fixtures/c/$f.c"; done
apply_nice

# workload_cmd NAME SECONDS: the command line of a workload, in the array CMD.
workload_cmd() {
    case $1 in
        shares) CMD=("$WORK/shares" "$2") ;;
        recursion) CMD=("$WORK/recursion" "$2") ;;
        mix) CMD=(sh -c "'$WORK/shares' $2 & '$WORK/recursion' $2; wait") ;;
        *) echo "unknown workload $1" >&2; exit 64 ;;
    esac
}

{
    echo "machine: $(machine_line)"
    echo "fpprof: $(fpprof_commit)"
} | tee "$WORK/machine.txt"

for w in $WORKLOADS; do
    workload_cmd "$w" "$DURATION"
    log "record $w with fpprof: $FPPROF record -F $FREQ --unwind fp --raw $WORK/$w.raw -o $WORK/$w.fpprof.folded -- ${CMD[*]}"
    # Exit status 2 means a profile was written but the kernel dropped some records: still a capture to measure.
    rc=0
    "$FPPROF" record -F "$FREQ" --unwind fp --raw "$WORK/$w.raw" -o "$WORK/$w.fpprof.folded" -- "${CMD[@]}" \
        2>"$WORK/$w.fpprof.log" || rc=$?
    [[ $rc == 0 || $rc == 2 ]] || { cat "$WORK/$w.fpprof.log" >&2; exit 1; }
    sed 's/^/   /' "$WORK/$w.fpprof.log" >&2
    log "record $w with perf: perf record -e cpu-clock -F $FREQ --call-graph fp -o $WORK/$w.perf.data -- ${CMD[*]}"
    perf record -e cpu-clock -F "$FREQ" --call-graph fp -o "$WORK/$w.perf.data" -- "${CMD[@]}" 2>"$WORK/$w.perf.log"
    sed 's/^/   /' "$WORK/$w.perf.log" >&2
    # A short recording of the same workload: the difference between the two gives perf's cost per sample
    # without its fixed start-up (reading kallsyms and the binaries), which dominates captures of this size.
    workload_cmd "$w" "$SHORT"
    log "record $w with perf for $SHORT s: ... -o $WORK/$w.perf-short.data -- ${CMD[*]}"
    perf record -e cpu-clock -F "$FREQ" --call-graph fp -o "$WORK/$w.perf-short.data" -- "${CMD[@]}" \
        2>"$WORK/$w.perf-short.log"
done

results=$WORK/throughput.tsv
: >"$results"
for w in $WORKLOADS; do
    log "fpprof-bench pipeline $w.raw --repeat $RUNS (taskset -c $CPU)"
    taskset -c "$CPU" "$FPPROF_BENCH" pipeline "$WORK/$w.raw" --repeat "$RUNS" --folded "$WORK/$w.bench.folded" \
        | tee "$WORK/$w.bench.txt" >&2
    cmp -s "$WORK/$w.bench.folded" "$WORK/$w.fpprof.folded" \
        || log "note: the replayed folded output differs from the live recording's ($w)"
    result=$(grep '^RESULT ' "$WORK/$w.bench.txt")
    field() { sed -E "s/.*[ ]$1=([0-9.,]+).*/\\1/" <<<"$result"; }
    printf '%s\tfpprof: decode+unwind+aggregate+symbolize+fold (fpprof-bench)\t%s\t%s\trates\t%s;%s\n' \
        "$w" "$(field samples)" "$(field frames_per_sample)" "$(field rates)" "$(field cpu_rates)" >>"$results"
    printf '%s\tfpprof: decode+unwind+aggregate only (no symbolize+fold)\t%s\t%s\trates\t%s;%s\n' \
        "$w" "$(field samples)" "$(field frames_per_sample)" "$(field build_rates)" "" >>"$results"

    n=$(perf_samples "$WORK/$w.perf.data")
    n_short=$(perf_samples "$WORK/$w.perf-short.data")
    frames=$(perf script -i "$WORK/$w.perf.data" 2>/dev/null | awk -v n="$n" '/^\t/ { f++ } END { printf "%.1f", f / n }')
    log "hyperfine perf script -i $w.perf.data ($n samples) and $w.perf-short.data ($n_short samples)"
    hyperfine -N --warmup 1 --runs "$RUNS" --output=null --export-json "$WORK/$w.script.json" \
        "taskset -c $CPU perf script -i $WORK/$w.perf.data" \
        "taskset -c $CPU perf script -i $WORK/$w.perf-short.data" >&2
    printf '%s\tperf script (whole command)\t%s\t%s\thyperfine\t%s\n' "$w" "$n" "$frames" "$WORK/$w.script.json" >>"$results"
    printf '%s\tperf script, per sample (start-up subtracted)\t%s\t%s\tmarginal\t%s|%s\n' \
        "$w" "$((n - n_short))" "$frames" "$WORK/$w.script.json" "$n_short" >>"$results"

    log "hyperfine perf report -g folded -i $w.perf.data and $w.perf-short.data"
    report=(perf report --stdio --no-children -g folded,0,caller,count --sort comm)
    hyperfine -N --warmup 1 --runs "$RUNS" --output=null --export-json "$WORK/$w.report.json" \
        "taskset -c $CPU ${report[*]} -i $WORK/$w.perf.data" \
        "taskset -c $CPU ${report[*]} -i $WORK/$w.perf-short.data" >&2
    printf '%s\tperf report -g folded (whole command)\t%s\t%s\thyperfine\t%s\n' "$w" "$n" "$frames" "$WORK/$w.report.json" >>"$results"
    printf '%s\tperf report -g folded, per sample (start-up subtracted)\t%s\t%s\tmarginal\t%s|%s\n' \
        "$w" "$((n - n_short))" "$frames" "$WORK/$w.report.json" "$n_short" >>"$results"
done

{
    echo
    echo "## decode + unwind + fold throughput, one core (CPU $CPU), samples per second"
    echo
    echo "fpprof: $(fpprof_commit)"
    echo "Recorded at $FREQ Hz for $DURATION s per workload (perf also for $SHORT s); $RUNS timed passes or runs per tool."
    echo "machine at the start: $(sed -n 's/^machine: //p' "$WORK/machine.txt")"
    echo "machine at the end:   $(machine_line)"
    echo "Results in $WORK."
    python3 "$BENCH_SCRIPTS/stats.py" throughput "$results"
    echo
    for w in $WORKLOADS; do
        printf -- '- `%s`: fpprof capture %s MB (%s); perf.data %s MB; fpprof-bench %s\n' "$w" \
            "$(stat -c %s "$WORK/$w.raw" | awk '{ printf "%.1f", $1 / 1e6 }')" \
            "$(grep -m1 'samples in' "$WORK/$w.fpprof.log" | sed 's/^fpprof: //')" \
            "$(stat -c %s "$WORK/$w.perf.data" | awk '{ printf "%.1f", $1 / 1e6 }')" \
            "$(grep -m1 '^warm-up' "$WORK/$w.bench.txt")"
    done
} | tee "$WORK/throughput.md"
