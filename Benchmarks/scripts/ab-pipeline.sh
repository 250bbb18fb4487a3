#!/usr/bin/env bash
# ab-pipeline.sh: two builds of fpprof over the same raw captures, interleaved, for "throughput unchanged or better"
# and "pprof files no larger than before" across a change (issue 11 asked it of the engine split).
#
#   ab-pipeline.sh OLD NEW CAPTURE...
#
# OLD and NEW are checkouts of fpprof, each with its release fpprof (`swift build -c release --product fpprof`)
# and release fpprof-bench (`swift build -c release --product fpprof-bench` in Benchmarks/) already built; the
# captures are `fpprof record --raw` files (decode-throughput.sh leaves them in its WORK folder). For each capture,
# ROUNDS rounds of `fpprof-bench pipeline CAPTURE --repeat RUNS`, old then new, pinned to CPU, so the machine's
# drift falls on both alike. Then one `fpprof report CAPTURE --format pprof` of each (`--unwind fp` where the build
# has it): sizes in bytes, and whether `go tool pprof -raw` reads the same samples in both.
#
# Environment: ROUNDS [3], RUNS [7], CPU [0], NICE [0] as in decode-throughput.sh.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

old=${1:?usage: ab-pipeline.sh OLD NEW CAPTURE...}
new=${2:?usage: ab-pipeline.sh OLD NEW CAPTURE...}
shift 2
[[ $# -gt 0 ]] || { echo "usage: ab-pipeline.sh OLD NEW CAPTURE..." >&2; exit 64; }
ROUNDS=${ROUNDS:-3}
RUNS=${RUNS:-7}
CPU=${CPU:-0}
need taskset python3 go
for side in "$old" "$new"; do
    for binary in "$side/.build/release/fpprof" "$side/Benchmarks/.build/release/fpprof-bench"; do
        [[ -x $binary ]] || { echo "missing $binary (build it in release first)" >&2; exit 64; }
    done
done
apply_nice
out=$(mktemp -d /tmp/fpprof-ab.XXXXXX)
label() { git -C "$1" log -1 --format=%h; }
echo "old $(label "$old") ($old), new $(label "$new") ($new); machine: $(machine_line)"

for capture in "$@"; do
    name=$(basename "$capture" .raw)
    for round in $(seq "$ROUNDS"); do
        for side in old new; do
            dir=$old
            [[ $side == new ]] && dir=$new
            taskset -c "$CPU" "$dir/Benchmarks/.build/release/fpprof-bench" pipeline "$capture" --repeat "$RUNS" \
                | grep '^RESULT ' | sed "s/^/$name $side /" | tee -a "$out/results.txt"
        done
    done
    for side in old new; do
        dir=$old
        [[ $side == new ]] && dir=$new
        # Like for like: a build that has --unwind walks by frame records alone, as fpprof-bench does and as builds
        # before it did (hybrid walks go deeper, and their profiles are larger for it).
        unwind=()
        "$dir/.build/release/fpprof" report --help 2>/dev/null | grep -q -- '--unwind' && unwind=(--unwind fp)
        "$dir/.build/release/fpprof" report "$capture" "${unwind[@]}" --format pprof -o "$out/$name.$side.pb.gz" \
            2>/dev/null
        go tool pprof -raw "$out/$name.$side.pb.gz" 2>/dev/null \
            | awk '/^Samples:/ { on = 1; getline; next } /^Locations/ { on = 0 } on && $1 ~ /^[0-9]+$/ { s += $1 } END { print s + 0 }' \
                >"$out/$name.$side.samples"
        echo "$name $side pprof $(stat -c %s "$out/$name.$side.pb.gz") bytes, $(cat "$out/$name.$side.samples") samples" \
            | tee -a "$out/sizes.txt"
    done
done

python3 - "$out/results.txt" <<'PY'
import statistics, sys
rates = {}
for line in open(sys.argv[1]):
    fields = line.split()
    name, side = fields[0], fields[1]
    values = dict(f.split("=", 1) for f in fields[3:] if "=" in f)
    rates.setdefault((name, side), []).extend(int(r) for r in values["rates"].split(","))
print()
print("| capture | old samples/s median (min–max) | new samples/s median (min–max) | new ÷ old |")
print("| --- | --- | --- | --- |")
for name in dict.fromkeys(n for n, _ in rates):
    o, n = rates[(name, "old")], rates[(name, "new")]
    print(f"| {name} | {statistics.median(o):,.0f} ({min(o):,}–{max(o):,}) | "
          f"{statistics.median(n):,.0f} ({min(n):,}–{max(n):,}) | {statistics.median(n) / statistics.median(o):.3f} |")
PY
echo "Results in $out."
