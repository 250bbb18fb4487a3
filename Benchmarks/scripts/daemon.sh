#!/usr/bin/env bash
# daemon.sh: the daemon's cost on a host (issue 12's benchmarks).
#
#   daemon.sh cost SECONDS     `fpprof daemon` with an `all` target at 99 Hz for SECONDS while two busy fixtures run:
#                              its CPU seconds per second and RSS every 10 s; then `perf record -a -g -F 99` over the
#                              same SECONDS with the same two fixtures, its CPU seconds per second (perf record's
#                              own, and the whole run's with the write of perf.data); the ratio.
#   daemon.sh build SECONDS    the daemon with an `all` target at 99 Hz (60 s windows) while `swift build
#                              --build-tests` of a fresh clone of this checkout runs (a host busy with compilers: huge
#                              binaries without frame pointers, hundreds of short processes); RSS every 10 s, peak
#                              RSS and CPU seconds per second over SECONDS. With FPPROF_OLD set, that binary runs
#                              beside it on the same build with its own config, for a before/after on one workload.
#   daemon.sh fds              descriptors the daemon holds with an `all` target, and with a `comm` target matching
#                              a process of 500 threads.
#
# FPPROF (default: the release build of this checkout) is the binary measured; SKIP_BUILD=1 skips building it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need perf gcc python3

work=$(mktemp -d /tmp/fpprof-daemon-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
build_fpprof
fpprof=${FPPROF_BIN:-$FPPROF}
build_c "$work/fixedwork" "$BENCH/workloads/fixedwork.c"
gcc "${FIXTURE_CFLAGS[@]}" -pthread -o "$work/threads" "$BENCH/workloads/threads.c"
machine_line
echo "fpprof: $(fpprof_commit)"

# cpu_seconds PID: utime + stime of PID and its reaped children, in seconds.
cpu_seconds() {
    awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15 + $16 + $17) / hz }' "/proc/$1/stat"
}

config() { # NAME MATCH-LINE
    cat >"$work/$1.toml" <<TOML
state_directory = "$work/state-$1"
window = "60s"
frequency = 99
formats = ["pprof"]
[[target]]
name = "$1"
$2
TOML
}

busy() { # two fixtures that keep one CPU each busy for SECONDS
    local rounds=$(($1 * 100))
    "$work/fixedwork" "$rounds" >/dev/null &
    "$work/fixedwork" "$rounds" >/dev/null &
}

case ${1:-} in
cost)
    seconds=${2:-600}
    config host 'all = true'
    "$fpprof" daemon --config "$work/host.toml" 2>"$work/daemon.log" &
    daemon=$!
    sleep 3
    busy "$seconds"
    start=$(cpu_seconds "$daemon")
    : >"$work/rss"
    for ((t = 0; t < seconds; t += 10)); do
        sleep 10
        awk -v t="$t" '/^VmRSS:/ { print t + 10, $2 }' "/proc/$daemon/status" >>"$work/rss"
    done
    end=$(cpu_seconds "$daemon")
    kill -TERM "$daemon"
    wait "$daemon" || true
    wait
    python3 - "$work/rss" "$start" "$end" "$seconds" <<'PY'
import statistics, sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
rss = [r / 1024 for _, r in rows]
cpu = (float(sys.argv[3]) - float(sys.argv[2])) / int(sys.argv[4])
print(f"daemon all@99Hz: cpu {cpu:.4f} s/s; rss MiB min {min(rss):.1f} median {statistics.median(rss):.1f} "
      f"max {max(rss):.1f} first {rss[0]:.1f} last {rss[-1]:.1f}")
open(sys.argv[1] + ".cpu", "w").write(f"{cpu}\n")
PY
    busy "$seconds"
    /usr/bin/time -f "%U %S" -o "$work/perf.time" perf record -a -g -F 99 -o "$work/perf.data" -- sleep "$seconds" \
        >/dev/null 2>&1
    wait
    python3 - "$work/perf.time" "$work/rss.cpu" "$seconds" "$work/perf.data" <<'PY'
import os, sys
user, system = map(float, open(sys.argv[1]).read().split()[-2:])
perf = (user + system) / int(sys.argv[3])
daemon = float(open(sys.argv[2]).read())
print(f"perf record -a -g -F 99: cpu {perf:.4f} s/s; perf.data {os.path.getsize(sys.argv[4]) / 2**20:.1f} MiB; "
      f"daemon/perf cpu ratio {daemon / perf:.2f}")
PY
    ;;
build)
    seconds=${2:-600}
    config host 'all = true'
    names=(new)
    binaries=("$fpprof")
    [[ -n ${FPPROF_OLD:-} ]] && names+=(old) binaries+=("$FPPROF_OLD")
    pids=()
    for i in "${!names[@]}"; do
        sed "s|state-host|state-${names[$i]}|" "$work/host.toml" >"$work/${names[$i]}.toml"
        "${binaries[$i]}" daemon --config "$work/${names[$i]}.toml" 2>"$work/${names[$i]}.log" &
        pids+=($!)
    done
    sleep 3
    git clone -q "$ROOT" "$work/clone"
    (cd "$work/clone" && timeout "$seconds" swift build --build-tests >"$work/build.log" 2>&1) &
    builder=$!
    starts=()
    for pid in "${pids[@]}"; do starts+=("$(cpu_seconds "$pid")"); done
    for name in "${names[@]}"; do : >"$work/rss-$name"; done
    for ((t = 0; t < seconds; t += 10)); do
        sleep 10
        for i in "${!names[@]}"; do
            awk -v t="$t" '/^VmRSS:/ { print t + 10, $2 }' "/proc/${pids[$i]}/status" >>"$work/rss-${names[$i]}"
        done
    done
    for i in "${!names[@]}"; do
        pid=${pids[$i]}
        end=$(cpu_seconds "$pid")
        peak=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
        windows=$(find "$work/state-${names[$i]}" -name '*.pb.gz' | wc -l)
        kill -TERM "$pid"
        wait "$pid" || true
        python3 - "$work/rss-${names[$i]}" "${starts[$i]}" "$end" "$seconds" "${names[$i]}" "$peak" "$windows" <<'PY'
import statistics, sys
rss = [int(l.split()[1]) / 1024 for l in open(sys.argv[1]) if l.strip()]
cpu = (float(sys.argv[3]) - float(sys.argv[2])) / int(sys.argv[4])
print(f"{sys.argv[5]}: cpu {cpu:.4f} s/s; rss MiB min {min(rss):.1f} median {statistics.median(rss):.1f} "
      f"max {max(rss):.1f} last {rss[-1]:.1f}; peak (VmHWM) {int(sys.argv[6]) / 1024:.1f} MiB; {sys.argv[7]} windows")
PY
    done
    wait "$builder" || true
    echo "build: $(tail -n 1 "$work/build.log")"
    ;;
fds)
    config host 'all = true'
    "$fpprof" daemon --config "$work/host.toml" 2>"$work/host.log" &
    daemon=$!
    sleep 5
    echo "all target: $(ls "/proc/$daemon/fd" | wc -l) descriptors ($(nproc) CPUs)"
    kill -TERM "$daemon"
    wait "$daemon" || true
    "$work/threads" 500 40 &
    sleep 2
    config many 'comm = "threads"'
    "$fpprof" daemon --config "$work/many.toml" 2>"$work/many.log" &
    daemon=$!
    sleep 8
    echo "comm target on a 500-thread process: $(ls "/proc/$daemon/fd" | wc -l) descriptors"
    kill -TERM "$daemon"
    wait "$daemon" || true
    ;;
*) echo "usage: daemon.sh cost SECONDS | daemon.sh build SECONDS | daemon.sh fds" >&2; exit 64 ;;
esac
