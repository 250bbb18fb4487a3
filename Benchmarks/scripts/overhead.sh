#!/usr/bin/env bash
# The target's slowdown under `fpprof record` against `perf record --call-graph dwarf,16384` (both copy 16 KiB of
# user stack with every sample), at 999 and 4999 Hz, on a FIXED amount of work (Benchmarks/workloads/fixedwork.c,
# about 2 s alone, single-threaded).
#
#   Benchmarks/scripts/overhead.sh            # as root (perf_event_paranoid is 2 here)
#
# Environment (defaults in brackets):
#   ROUNDS [200]    rounds of fixedwork (10 ms of work each)
#   RUNS [7]        runs per configuration (after 1 warm-up run), interleaved: RUNS rounds of one run of each
#   FREQS ["999 4999"]
#   WORK [mktemp]   where outputs go (perf.data at 4999 Hz with DWARF stacks is about 170 MB a run)
#   NICE [0]        e.g. -19: run the measurements at that priority (root), on a machine others are loading
#   SKIP_BUILD [0]  1: use the fpprof release binary already built
#   BASELINE []     another fpprof binary (e.g. a snapshot's .build/release/fpprof, see snapshot.sh) measured in the
#                   same interleaved rounds as baseline-HZ: old and new beside each other, under the same load
#
# Configurations, each a hyperfine command (-N, no shell), run in interleaved rounds:
#   alone               fixedwork ROUNDS TIMES
#   fpprof-HZ           fpprof record -F HZ -o OUT.folded -- fixedwork ROUNDS TIMES
#   perf-dwarf-HZ       perf record -q -e cpu-clock -F HZ --call-graph dwarf,16384 -o OUT.data -- fixedwork ...
# Two measures:
#   - the target's own wall time, which fixedwork appends to TIMES (CLOCK_MONOTONIC from main's start to its end)
#     with its user and system CPU time: the issue's "target's slowdown", without the profiler's start-up and end
#     processing (fpprof symbolizes and writes folded stacks after the target exits; perf only closes its file);
#   - the whole command's wall time, as hyperfine times it.
# fpprof's output goes to a file in WORK, not /dev/null: `-o` writes atomically, by renaming a temporary file over
# the path, which would replace /dev/null itself when run as root.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ROUNDS=${ROUNDS:-200}
RUNS=${RUNS:-7}
FREQS=${FREQS:-"999 4999"}
WORK=${WORK:-$(mktemp -d /tmp/fpprof-overhead.XXXXXX)}
mkdir -p "$WORK"
WARMUP=1

need perf hyperfine gcc python3 swift
build_fpprof
build_c "$WORK/fixedwork" "$BENCH/workloads/fixedwork.c"
apply_nice

{
    echo "machine: $(machine_line)"
    echo "fpprof: $(fpprof_commit)"
    if [[ -n ${BASELINE:-} ]]; then
        echo "baseline: $BASELINE ($(cat "$(dirname "$BASELINE")/../../.snapshot-commit" 2>/dev/null | head -n 1))"
    fi
} | tee "$WORK/machine.txt"

labels=(alone)
commands=("$WORK/fixedwork $ROUNDS $WORK/alone.times")
for hz in $FREQS; do
    labels+=("fpprof-$hz")
    commands+=("$FPPROF record -F $hz -o $WORK/fpprof-$hz.folded -- $WORK/fixedwork $ROUNDS $WORK/fpprof-$hz.times")
    if [[ -n ${BASELINE:-} ]]; then
        labels+=("baseline-$hz")
        commands+=("$BASELINE record -F $hz -o $WORK/baseline-$hz.folded -- $WORK/fixedwork $ROUNDS $WORK/baseline-$hz.times")
    fi
    labels+=("perf-dwarf-$hz")
    commands+=("perf record -q -e cpu-clock -F $hz --call-graph dwarf,16384 -o $WORK/perf-dwarf-$hz.data -- $WORK/fixedwork $ROUNDS $WORK/perf-dwarf-$hz.times")
done
for l in "${labels[@]}"; do rm -f "$WORK/$l.times"; done

log "hyperfine: ${#commands[@]} configurations, $RUNS rounds of one run each, after $WARMUP warm-up"
names=()
for i in "${!labels[@]}"; do names+=(-n "${labels[$i]}"); done
# Interleaved: RUNS rounds, each running every configuration once, so that a burst of load from the neighbours
# falls on all configurations alike instead of on whichever hyperfine happened to be running (it runs all the runs
# of one command before the next). The rounds' JSON files are merged into overhead.json.
# -i: fpprof exits 2 when the kernel dropped records (the profile is still written); perf may lose some too.
for ((r = 1; r <= RUNS; r++)); do
    warm=()
    ((r == 1)) && warm=(--warmup "$WARMUP")
    hyperfine -N -i "${warm[@]}" --runs 1 --style basic --export-json "$WORK/overhead-round$r.json" \
        "${names[@]}" "${commands[@]}" 2>&1 | grep -E '^(Benchmark|  Time)' >&2
done
python3 "$BENCH_SCRIPTS/stats.py" merge "$WORK/overhead.json" "$WORK"/overhead-round*.json

# One more run of each profiler, outside the timing, to show what it captured (samples, lost records).
{
    echo
    echo "What each profiler captured (one extra run, not timed):"
    for hz in $FREQS; do
        rm -f "$WORK/check.times"
        rc=0
        "$FPPROF" record -F "$hz" -o "$WORK/check.folded" -- "$WORK/fixedwork" "$ROUNDS" "$WORK/check.times" \
            2>"$WORK/fpprof-$hz.log" || rc=$?
        echo "- fpprof -F $hz (exit $rc): $(grep -m1 'samples in' "$WORK/fpprof-$hz.log" | sed 's/^fpprof: //')"
        perf record -e cpu-clock -F "$hz" --call-graph dwarf,16384 -o "$WORK/check.data" -- \
            "$WORK/fixedwork" "$ROUNDS" "$WORK/check.times" 2>"$WORK/perf-dwarf-$hz.log" >/dev/null
        stats=$(perf report -i "$WORK/check.data" --stats 2>/dev/null)
        echo "- perf --call-graph dwarf,16384 -F $hz: $(awk '/SAMPLE events:/ { print $3; exit }' <<<"$stats") samples," \
            "$(awk '/LOST events:/ { print $3; exit }' <<<"$stats" | grep . || echo 0) LOST records," \
            "perf.data $(($(stat -c %s "$WORK/check.data") / 1000000)) MB" \
            "($(grep -m1 'Captured and wrote' "$WORK/perf-dwarf-$hz.log" | sed 's/^\[ perf record: //; s/ \]$//'))"
    done
    rm -f "$WORK/check.data" "$WORK/check.folded" "$WORK/check.times"
} >"$WORK/captured.txt"

pairs=()
for l in "${labels[@]}"; do pairs+=("$l=$WORK/$l.times"); done
{
    echo
    echo "## Target slowdown under fpprof record and perf record --call-graph dwarf,16384"
    echo
    echo "fpprof: $(fpprof_commit)"
    sed -n 's/^baseline: /baseline: /p' "$WORK/machine.txt"
    echo "fixedwork $ROUNDS rounds; $RUNS interleaved rounds of one run per configuration, after $WARMUP warm-up (hyperfine -N)."
    echo "machine at the start: $(sed -n 's/^machine: //p' "$WORK/machine.txt")"
    echo "machine at the end:   $(machine_line)"
    echo "Results in $WORK."
    echo
    echo "Commands:"
    for i in "${!labels[@]}"; do echo "- ${labels[$i]}: \`${commands[$i]}\`"; done
    python3 "$BENCH_SCRIPTS/stats.py" overhead "$WORK/overhead.json" "$WARMUP" "${pairs[@]}"
    cat "$WORK/captured.txt"
} | tee "$WORK/overhead.md"
