#!/usr/bin/env bash
# http.sh: on-demand profiles while windows are written (issue 13's benchmark).
#
#   http.sh [REQUESTS]   `fpprof daemon` with 5 s windows of a `comm` target (one busy fixture) and [http] on a
#                        loopback port; after three windows, REQUESTS (default 100) requests of
#                        /debug/pprof/profile?seconds=1 in a row with curl. Prints: how many answered 200 with a
#                        profile `go tool pprof` reads, their sample counts, the samples per second of the windows
#                        written before and during the requests (a disturbed window shows as an outlier), the sum of
#                        the windows' folded counts beside /metrics' fpprof_samples_total scraped with them, and
#                        the daemon's RSS before and after the requests.
#
# FPPROF (default: the release build of this checkout) is the binary measured; SKIP_BUILD=1 skips building it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need curl gcc python3 go

requests=${1:-100}
work=$(mktemp -d /tmp/fpprof-http-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
build_fpprof
fpprof=${FPPROF_BIN:-$FPPROF}
build_c "$work/fixedwork" "$BENCH/workloads/fixedwork.c"
machine_line
echo "fpprof: $(fpprof_commit)"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/fpprof.toml" <<TOML
state_directory = "$work/state"
window = "5s"
frequency = 99
formats = ["pprof", "folded"]
[[target]]
name = "busy"
comm = "fixedwork"
[http]
listen = "127.0.0.1:$port"
TOML
base=http://127.0.0.1:$port

"$work/fixedwork" 1000000 >/dev/null &
"$fpprof" daemon --config "$work/fpprof.toml" 2>"$work/daemon.log" &
daemon=$!
rss() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$daemon/status"; }
until curl -sf "$base/healthz" >/dev/null 2>&1; do sleep 0.2; done
sleep 16 # three whole windows before the requests
before_rss=$(rss)
before_files=$(ls "$work/state/busy" | grep -c '\.folded$' || true)

: >"$work/answers"
for ((i = 0; i < requests; i++)); do
    code=$(curl -s -o "$work/answer.pb.gz" -w '%{http_code}' --max-time 30 "$base/debug/pprof/profile?seconds=1")
    samples=-1
    if [[ $code == 200 ]]; then
        # -raw lists every sample with its count; the sum is the profile's sample count.
        samples=$(go tool pprof -raw "$work/answer.pb.gz" 2>/dev/null |
            awk '/^Samples:/ { on = 1; getline; next } /^Locations/ { on = 0 } on && $1 ~ /^[0-9]+$/ { s += $1 } END { print s + 0 }')
    fi
    echo "$code $samples" >>"$work/answers"
done
after_rss=$(rss)
sleep 6 # one more whole window after the requests
# fpprof_samples_total counts the windows written: scrape between two listings that agree, so that the metric and
# the files on disk describe the same windows.
folded_count() { ls "$work/state/busy" | grep -c '\.folded$' || true; }
while :; do
    scraped_files=$(folded_count)
    metric=$(curl -s "$base/metrics" | awk '/^fpprof_samples_total/ { s += $NF } END { printf "%d", s }')
    [[ $(folded_count) == "$scraped_files" ]] && break
done
kill -TERM "$daemon"
wait "$daemon" || true

python3 - "$work" "$before_files" "$before_rss" "$after_rss" "$metric" "$scraped_files" <<'PY'
import os, statistics, sys
work, before_files, before_rss, after_rss, metric = sys.argv[1], int(sys.argv[2]), *sys.argv[3:6]
scraped_files = int(sys.argv[6])
answers = [l.split() for l in open(f"{work}/answers")]
ok = [int(s) for c, s in answers if c == "200" and int(s) > 0]
print(f"requests: {len(answers)}; answered 200 with a readable profile: {len(ok)}; "
      f"samples per answer min {min(ok, default=0)} median {statistics.median(ok) if ok else 0} max {max(ok, default=0)}")
folder = f"{work}/state/busy"
files = sorted(f for f in os.listdir(folder) if f.endswith(".folded"))
counts = [sum(int(l.rsplit(" ", 1)[1]) for l in open(f"{folder}/{f}") if l.strip()) for f in files]
# Whole windows only: the first (started with the daemon) and the last (cut short by SIGTERM) are left out.
quiet, busy = counts[1:before_files], counts[before_files:-1]
for name, part in (("before the requests", quiet), ("during the requests", busy)):
    if part:
        print(f"windows {name}: {len(part)}, samples per 5 s window min {min(part)} median "
              f"{statistics.median(part)} max {max(part)}")
scraped = sum(counts[:scraped_files])
print(f"sum of the {scraped_files} windows written when /metrics was scraped {scraped}; "
      f"fpprof_samples_total {metric}: {'equal' if scraped == int(metric) else 'DIFFERENT'}")
print(f"daemon RSS before the requests {before_rss} MiB, after {after_rss} MiB")
PY
