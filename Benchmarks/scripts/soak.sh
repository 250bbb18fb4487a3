#!/usr/bin/env bash
# soak.sh: a profiler's resident memory over a long recording of process churn (issue 11's soak).
#
#   soak.sh engine SECONDS OUT      fpprof-bench soak: ProfilingEngine, a pprof window cut every 10 s
#   soak.sh record FPPROF SECONDS OUT   `FPPROF record` of the same churn (a build without windows), for contrast
#
# The workload is workloads/churn.c: 10 short-lived children per second, each with its own JIT region. The
# profiler's VmRSS is read every 10 s from /proc/PID/status into OUT (one `t_seconds rss_kib` line each); its own
# output goes to OUT.log. The last lines print min/median/max of the series and the 2-minute and last samples.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

mode=$1
shift
churn=$(mktemp /tmp/fpprof-churn.XXXXXX)
build_c "$churn" "$BENCH/workloads/churn.c"
case $mode in
engine)
    seconds=$1 out=$2
    build_bench
    "$FPPROF_BENCH" soak "$seconds" 10 -- "$churn" "$seconds" 10 >"$out.log" 2>&1 &
    ;;
record)
    fpprof=$1 seconds=$2 out=$3
    "$fpprof" record -F 99 --per-thread --duration "$seconds" --format pprof -o /dev/null -- "$churn" "$seconds" 10 \
        >"$out.log" 2>&1 &
    ;;
*) echo "usage: soak.sh engine SECONDS OUT | soak.sh record FPPROF SECONDS OUT" >&2; exit 64 ;;
esac
pid=$!
: >"$out"
t=0
while kill -0 "$pid" 2>/dev/null; do
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
    [[ -n $rss ]] && echo "$t $rss" >>"$out"
    sleep 10
    t=$((t + 10))
done
wait "$pid" || true
rm -f "$churn"
python3 - "$out" <<'PY'
import statistics, sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
rss = [r for _, r in rows]
at2 = next((r for t, r in rows if t >= 120), rss[0])
print(f"rss_kib min={min(rss)} median={statistics.median(rss):.0f} max={max(rss)} at_2min={at2} last={rss[-1]} "
      f"last/at_2min={rss[-1] / at2:.3f} samples={len(rss)}")
PY
