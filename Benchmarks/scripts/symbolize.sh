#!/usr/bin/env bash
# Symbolizer throughput and peak memory: `fpprof symbolize` beside eu-addr2line (elfutils), addr2line (binutils)
# and llvm-symbolizer, on the same random addresses of large binaries with DWARF, all in the same run.
#
#   Benchmarks/scripts/symbolize.sh
#
# Environment (defaults in brackets):
#   N [100000]        random addresses per target, uniform over .text, in random order (seeded: SEED [1])
#   EU_N [10000]      how many of them eu-addr2line gets (the first EU_N of the same list): it is slow
#   RUNS [3]          runs per tool and target; the table gives the median and the range
#   TARGETS ["libc go"]
#                     libc: glibc with its separate debug file (libc6-dbg): eu-addr2line, addr2line and
#                     llvm-symbolizer read /usr/lib/debug/.build-id/xx/yyy.debug of the libc.so.6 in use (same
#                     addresses); fpprof is given libc.so.6 and finds that file by build ID itself, as in a profile
#                     (given the .debug file, whose .text is NOBITS, `fpprof symbolize` answers ?? for everything)
#                     go:    Go's cmd/compile built with DWARF (`go build -o $WORK/compile cmd/compile`; Debian's
#                     pkg/tool/.../compile is stripped); GO_EXE=PATH uses one already built
#   WORK [mktemp]     address lists, outputs, timings
#   SKIP_BUILD [0]    1: use the release fpprof already built
#
# Each run is one whole command reading its addresses from a file on stdin and writing `addr2line -a -f -i`
# blocks to a file (inline frames on, no demangling options): addresses/s = addresses / wall time of the
# command, so start-up, reading the ELF/DWARF and writing the text are all in it (that is "cold": every
# tool starts with nothing cached, the file in the page cache). Peak RSS is /usr/bin/time's maximum resident set.
# fpprof additionally reports, with --stats (SymbolizeCommand.swift):
#   fpprof in-process cold  the symbolizing loop only (first pass over the addresses: opening DWARF, indexing, the
#                           lookups), without process start, parsing the input or writing the output
#   fpprof warm             10 more passes over the same addresses in the same process, every address seen
#                           before (answers come from the per-module answer cache), through the normalized API a
#                           profile uses
# Peak RSS of the fpprof row includes those warm passes. The symbolizer's memory cap (Options.symbolMemoryLimit,
# 512 MiB by default) is not an option of `fpprof symbolize`: the default is what is measured.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

N=${N:-100000}
EU_N=${EU_N:-10000}
RUNS=${RUNS:-3}
SEED=${SEED:-1}
TARGETS=${TARGETS:-"libc go"}
WORK=${WORK:-$(mktemp -d /tmp/fpprof-symbolize.XXXXXX)}
mkdir -p "$WORK"

need eu-addr2line addr2line llvm-symbolizer-14 readelf python3 swift
[[ -x /usr/bin/time ]] || { echo "missing /usr/bin/time (Debian: apt-get install time)" >&2; exit 1; }
build_fpprof

# target_file NAME: the ELF file the other tools are given; fpprof_file NAME: the one fpprof is given.
fpprof_file() {
    case $1 in
    libc) readlink -f /lib/x86_64-linux-gnu/libc.so.6 ;;
    *) target_file "$1" ;;
    esac
}

target_file() {
    case $1 in
    libc)
        local libc id
        libc=$(readlink -f /lib/x86_64-linux-gnu/libc.so.6)
        id=$(readelf -n "$libc" | awk '/Build ID/ {print $3}')
        local debug=/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug
        [[ -r $debug ]] || { echo "no debug file $debug (apt-get install libc6-dbg)" >&2; exit 1; }
        echo "$debug"
        ;;
    go)
        if [[ -n ${GO_EXE:-} ]]; then
            echo "$GO_EXE"
        else
            if [[ ! -x $WORK/compile ]]; then
                need go
                log "go build -o $WORK/compile cmd/compile (with DWARF)"
                (cd "$WORK" && go build -o "$WORK/compile" cmd/compile) >&2
            fi
            echo "$WORK/compile"
        fi
        ;;
    *) echo "unknown target $1" >&2; exit 1 ;;
    esac
}

# addresses FILE OUT: N random addresses inside FILE's .text (its section headers; NOBITS in a .debug file is fine).
addresses() {
    readelf -SW "$1" | python3 -c '
import random, re, sys
n, seed, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for line in sys.stdin:
    m = re.search(r"\]\s+\.text\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", line)
    if m:
        start, size = int(m.group(1), 16), int(m.group(2), 16)
        break
else:
    sys.exit("no .text section")
rng = random.Random(seed)
with open(out, "w") as f:
    for _ in range(n):
        f.write("0x%x\n" % rng.randrange(start, start + size))
print("%d addresses in .text 0x%x..0x%x" % (n, start, start + size), file=sys.stderr)
' "$N" "$SEED" "$2"
}

# measure TAG ADDRS CMD...: one run; appends "tag addresses seconds maxrss_kb" to $WORK/times.
measure() {
    local tag=$1 addrs=$2
    shift 2
    local count start end
    count=$(wc -l <"$addrs")
    start=$(date +%s.%N)
    # A non-zero status is not fatal: fpprof exits 2 and eu-addr2line 1 when some addresses have no answer (their
    # messages are in err.TAG). No output at all is.
    /usr/bin/time -f '%M' -o "$WORK/rss" "$@" <"$addrs" >"$WORK/out.$tag" 2>"$WORK/err.$tag" ||
        log "$tag: exit status $? ($(grep -v '^Command exited' "$WORK/err.$tag" | sort | uniq -c | sort -rn | head -n 1))"
    [[ -s $WORK/out.$tag ]] || { echo "$tag: no output: $(tail -n 3 "$WORK/err.$tag")" >&2; exit 1; }
    end=$(date +%s.%N)
    echo "$tag $count $(python3 -c "print($end - $start)") $(tail -n 1 "$WORK/rss")" >>"$WORK/times"
    if [[ $tag == fpprof.* ]]; then
        grep -h '^fpprof: .*addresses: cold' "$WORK/err.$tag" | sed "s/^/$tag /" >>"$WORK/stats" || true
    fi
}

log "$(machine_line)"
log "fpprof: $(fpprof_commit)"
: >"$WORK/times"
: >"$WORK/stats"
for target in $TARGETS; do
    file=$(target_file "$target")
    fpfile=$(fpprof_file "$target")
    log "$target: $file ($(du -h "$file" | cut -f1)); fpprof: $fpfile"
    addresses "$file" "$WORK/$target.addrs"
    head -n "$EU_N" "$WORK/$target.addrs" >"$WORK/$target.eu.addrs"
    for run in $(seq "$RUNS"); do
        log "$target run $run/$RUNS"
        measure "fpprof.$target" "$WORK/$target.addrs" "$FPPROF" symbolize --exe "$fpfile" --stats
        measure "llvm-symbolizer.$target" "$WORK/$target.addrs" \
            llvm-symbolizer-14 --obj="$file" --output-style=GNU -a -f -i
        measure "addr2line.$target" "$WORK/$target.addrs" addr2line -a -f -i -e "$file"
        measure "eu-addr2line.$target" "$WORK/$target.eu.addrs" eu-addr2line -a -f -i -e "$file"
    done
done

# The table, and how often fpprof's innermost file:line agrees with each tool's (last run's outputs).
python3 - "$WORK" "$TARGETS" <<'EOF'
import re, statistics, sys
work, targets = sys.argv[1], sys.argv[2].split()
rows = {}
for line in open(f"{work}/times"):
    tag, n, sec, rss = line.split()
    rows.setdefault(tag, []).append((int(n) / float(sec), int(rss) / 1024, int(n)))
stats = {}
for line in open(f"{work}/stats"):
    tag = line.split()[0]
    m = re.search(r"cold .*?\((\d+)/s\), warm .*?\((\d+)/s\)", line)
    if m:
        stats.setdefault(tag, []).append((int(m.group(1)), int(m.group(2))))

def fmt(values):
    med = statistics.median(values)
    return f"{med:>12,.0f}  ({min(values):,.0f}-{max(values):,.0f})"

def blocks(path):
    """address -> innermost 'file:line' (column and discriminator dropped)."""
    out, lines = {}, open(path).read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i].startswith("0x"):
            addr = int(lines[i], 16)
            loc = lines[i + 2] if i + 2 < len(lines) else "??:0"
            loc = re.sub(r" \(discriminator \d+\)$", "", loc)
            loc = re.sub(r"^(.*:\d+):\d+$", r"\1", loc)
            out[addr] = loc
            i += 3
        else:
            i += 1
    return out

print(f"{'target':<7} {'tool':<34} {'addrs':>7}  {'addresses/s median (range)':<34} {'peak RSS MiB median (range)'}")
for target in targets:
    for tool in ("fpprof", "llvm-symbolizer", "addr2line", "eu-addr2line"):
        tag = f"{tool}.{target}"
        if tag not in rows:
            continue
        r = rows[tag]
        print(f"{target:<7} {tool + ' (whole command)':<34} {r[0][2]:>7}  {fmt([x[0] for x in r]):<34} "
              f"{statistics.median([x[1] for x in r]):,.0f} ({min(x[1] for x in r):,.0f}-{max(x[1] for x in r):,.0f})")
        if tool == "fpprof" and tag in stats:
            s = stats[tag]
            print(f"{target:<7} {'fpprof in-process cold (--stats)':<34} {r[0][2]:>7}  {fmt([x[0] for x in s]):<34}")
            print(f"{target:<7} {'fpprof warm, 10 passes (--stats)':<34} {r[0][2]:>7}  {fmt([x[1] for x in s]):<34}")
    fp = blocks(f"{work}/out.fpprof.{target}")
    for tool in ("llvm-symbolizer", "addr2line", "eu-addr2line"):
        other = blocks(f"{work}/out.{tool}.{target}")
        common = [a for a in other if a in fp]
        same = sum(fp[a] == other[a] for a in common)
        if common:
            print(f"{target:<7}   innermost file:line same as {tool}: {same}/{len(common)} ({100 * same / len(common):.1f}%)")
EOF
log "outputs and timings in $WORK"
