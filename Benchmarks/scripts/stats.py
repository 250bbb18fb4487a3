#!/usr/bin/env python3
"""Statistics and tables for the benchmark scripts (standard library only).

  stats.py throughput RESULTS.tsv
      RESULTS.tsv rows: workload<TAB>tool<TAB>samples<TAB>frames per sample<TAB>kind<TAB>values
        kind "rates":     values are WALL;CPU, each comma-separated samples/s (fpprof-bench passes, by wall time
                          and by thread CPU time)
        kind "hyperfine": values is a hyperfine --export-json file; samples / each run's wall time (first command),
                          and samples / its mean user+system time
        kind "marginal":  values is JSON|N_SHORT, a hyperfine file of two commands (long capture, short capture);
                          samples (long - short) / (best time long - best time short), and by mean CPU time
        kind "fmarginal": values is LONG.txt|SHORT.txt, fpprof-bench outputs of a long and a short capture: the same
                          difference of their best passes. Per-sample rows are compared with this row when present.
      Prints a Markdown table per workload: median, range, and the ratio of fpprof's median to each tool's.

  stats.py overhead HYPERFINE.json SKIP LABEL=TIMESFILE...
      Whole-command wall times from hyperfine, the target's own wall/CPU times from the times files (skipping the
      first SKIP lines of each, hyperfine's warm-up runs), slowdowns against "alone" and fpprof against perf.

  stats.py merge OUT.json ROUND1.json ROUND2.json ...
      Concatenates hyperfine JSON files of the same commands (interleaved rounds of one run each).
"""
import json
import statistics
import sys


def med(xs):
    return statistics.median(xs)


def fmt_rate(x):
    return f"{x:,.0f}"


def throughput(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            workload, tool, samples, frames, kind, values = line.split("\t")
            samples = int(samples)
            if kind == "rates":
                wall, cpu = values.split(";")
                rates = [float(v) for v in wall.split(",")]
                cpu_rate = med([float(v) for v in cpu.split(",")]) if cpu else None
            elif kind == "hyperfine":
                with open(values) as j:
                    r = json.load(j)["results"][0]
                rates = [samples / t for t in r["times"]]
                cpu_rate = samples / (r["user"] + r["system"])
            elif kind == "fmarginal":
                # fpprof-bench's RESULT lines of a long and a short capture: the same difference of best passes.
                def best(path):
                    with open(path) as r:
                        fields = dict(
                            kv.split("=", 1) for kv in next(l for l in r if l.startswith("RESULT ")).split()[1:]
                        )
                    n = int(fields["samples"])
                    # The best pass's wall and CPU seconds.
                    return n / max(float(v) for v in fields["rates"].split(",")), n / max(
                        float(v) for v in fields["cpu_rates"].split(",")
                    )
                lpath, spath = values.split("|")
                (tl, cl), (ts, cs) = best(lpath), best(spath)
                rates = [samples / (tl - ts)] if tl - ts > 0.1 * tl else []
                cpu_rate = samples / (cl - cs) if cl - cs > 0.1 * cl else None
            else:  # marginal: (samples of the long capture - short one) / (best time long - best time short)
                # The best (minimum) times: a difference of two medians is too noisy on a shared machine.
                jpath, _ = values.split("|")
                with open(jpath) as j:
                    long, short = json.load(j)["results"][:2]
                # A difference under a tenth of the long run's time is within the noise: no figure.
                dt = min(long["times"]) - min(short["times"])
                rates = [samples / dt] if dt > 0.1 * min(long["times"]) else []
                long_cpu = long["user"] + long["system"]
                dc = long_cpu - (short["user"] + short["system"])
                cpu_rate = samples / dc if dc > 0.1 * long_cpu else None
            rows.append((workload, tool, samples, frames, kind, rates, cpu_rate))
    for workload in dict.fromkeys(r[0] for r in rows):
        mine = [r for r in rows if r[0] == workload]
        ref = med(mine[0][5])  # the first row of a workload is fpprof's full pipeline
        ref_cpu = mine[0][6]
        # Per-sample rows (perf's) are compared with fpprof's own per-sample row, when there is one.
        own = next((r for r in mine if r[4] == "fmarginal" and r[5]), None)
        print(f"\n### workload `{workload}`\n")
        print(
            "| tool | samples | frames/sample | median samples/s | range (min–max) | runs | fpprof ÷ tool "
            "| samples per CPU-second | fpprof ÷ tool (CPU) |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for _, tool, samples, frames, kind, rates, cpu_rate in mine:
            base, base_cpu = ref, ref_cpu
            if kind in ("marginal", "fmarginal") and own:
                base, base_cpu = med(own[5]), own[6]
            if cpu_rate and base_cpu:
                cpu_cells = f"{fmt_rate(cpu_rate)} | {base_cpu / cpu_rate:.2f}×"
            else:
                cpu_cells = "n/a | "
            if not rates:
                print(f"| {tool} | {samples:,} | {frames} | n/a (noise) | | | | {cpu_cells} |")
                continue
            m = med(rates)
            per_sample = kind in ("marginal", "fmarginal")
            rng = "(best runs)" if per_sample else f"{fmt_rate(min(rates))}–{fmt_rate(max(rates))}"
            runs = "" if per_sample else str(len(rates))
            print(
                f"| {tool} | {samples:,} | {frames} | {fmt_rate(m)} | {rng} | {runs} | {base / m:.2f}× | {cpu_cells} |"
            )


def read_times(path, skip):
    out = []
    with open(path) as f:
        lines = [l.split() for l in f if l.strip()]
    for l in lines[skip:]:
        wall, user, system = l[:3]
        switches = int(l[3]) + int(l[4]) if len(l) >= 5 else 0
        out.append((int(wall) / 1e9, int(user) / 1e9, int(system) / 1e9, switches))
    return out


def overhead(hjson, skip, pairs):
    with open(hjson) as f:
        results = json.load(f)["results"]
    labels = [p.split("=", 1)[0] for p in pairs]
    files = dict(p.split("=", 1) for p in pairs)
    by_label = dict(zip(labels, results))
    cmd = {l: by_label[l]["times"] for l in labels}
    cmd_cpu = {l: by_label[l]["user"] + by_label[l]["system"] for l in labels}
    own = {l: read_times(files[l], skip) for l in labels}
    own_wall = {l: [t[0] for t in own[l]] for l in labels}
    own_cpu = {l: [t[1] + t[2] for t in own[l]] for l in labels}
    own_sys = {l: [t[2] for t in own[l]] for l in labels}
    own_sw = {l: [t[3] for t in own[l]] for l in labels}
    base_own = med(own_wall["alone"])
    base_cmd = med(cmd["alone"])

    print("\n#### The target's own run time (CLOCK_MONOTONIC inside the workload, start of main to its end)\n")
    print(
        "| configuration | median s | range s | runs | slowdown vs alone | target CPU s (user+sys), median "
        "| CPU vs alone | of which sys | context switches, median |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    base_cpu = med(own_cpu["alone"])
    for l in labels:
        w = own_wall[l]
        print(
            f"| {l} | {med(w):.3f} | {min(w):.3f}–{max(w):.3f} | {len(w)} | {med(w) / base_own:.3f}× "
            f"| {med(own_cpu[l]):.3f} | {med(own_cpu[l]) / base_cpu:.3f}× | {med(own_sys[l]):.3f} "
            f"| {med(own_sw[l]):.0f} |"
        )
    print("\n#### The whole command (hyperfine: profiler start-up + target + the profiler's end processing)\n")
    print("| configuration | median s | range s | runs | slowdown vs alone | mean CPU s of the command (user+sys, all processes) |")
    print("|---|---:|---:|---:|---:|---:|")
    for l in labels:
        t = cmd[l]
        print(
            f"| {l} | {med(t):.3f} | {min(t):.3f}–{max(t):.3f} | {len(t)} | {med(t) / base_cmd:.3f}× "
            f"| {cmd_cpu[l]:.3f} |"
        )
    print("\n#### fpprof against perf --call-graph dwarf,16384 (ratio of medians; below 1 means fpprof costs less)\n")
    print("| fpprof | rate | target's extra wall time: fpprof / perf | target slowdown fpprof | target slowdown perf | target CPU: fpprof / perf | whole command fpprof / perf |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for l in labels:
        if not (l.startswith("fpprof-") or l.startswith("baseline-")):
            continue
        hz = l.split("-", 1)[1]
        p = f"perf-dwarf-{hz}"
        if p not in labels:
            continue
        ef = med(own_wall[l]) - base_own
        ep = med(own_wall[p]) - base_own
        extra = f"{ef:+.3f} s / {ep:+.3f} s" + (f" = {ef / ep:.2f}" if ep > 0.005 else "")
        print(
            f"| {l.split('-', 1)[0]} | {hz} | {extra} | {med(own_wall[l]) / base_own:.3f}× | {med(own_wall[p]) / base_own:.3f}× "
            f"| {med(own_cpu[l]) / med(own_cpu[p]):.3f} | {med(cmd[l]) / med(cmd[p]):.3f} |"
        )


def merge(out, paths):
    """Concatenates the runs of hyperfine JSON files with the same commands (one per interleaved round)."""
    merged = None
    for path in sorted(paths, key=lambda p: int("".join(c for c in p.rsplit("round", 1)[-1] if c.isdigit()) or 0)):
        with open(path) as f:
            results = json.load(f)["results"]
        if merged is None:
            merged = [dict(r, times=list(r["times"]), _user=[r["user"]], _system=[r["system"]]) for r in results]
            continue
        for m, r in zip(merged, results):
            assert m["command"] == r["command"]
            m["times"] += r["times"]
            m["_user"].append(r["user"])
            m["_system"].append(r["system"])
    for m in merged:
        m["user"] = statistics.mean(m.pop("_user"))
        m["system"] = statistics.mean(m.pop("_system"))
        t = m["times"]
        m.update(mean=statistics.mean(t), median=med(t), min=min(t), max=max(t))
        m["stddev"] = statistics.stdev(t) if len(t) > 1 else 0.0
    with open(out, "w") as f:
        json.dump({"results": merged}, f, indent=1)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "merge":
        merge(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) >= 3 and sys.argv[1] == "throughput":
        throughput(sys.argv[2])
    elif len(sys.argv) >= 5 and sys.argv[1] == "overhead":
        overhead(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(64)


if __name__ == "__main__":
    main()
