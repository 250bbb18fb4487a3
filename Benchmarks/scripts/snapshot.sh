#!/usr/bin/env bash
# Copies a commit of fpprof (default HEAD) and the Benchmarks folder of this work tree into DIR, so that the
# benchmarks measure committed code even while others edit the shared work tree. Prints DIR.
#
#   dir=$(Benchmarks/scripts/snapshot.sh /tmp/fpprof-snap [COMMIT])
#   "$dir/Benchmarks/scripts/decode-throughput.sh"
#
# DIR keeps its .build folders between runs (only the sources are replaced), so a second snapshot builds
# incrementally.
set -euo pipefail
dir=${1:?usage: snapshot.sh DIR [COMMIT]}
commit=${2:-HEAD}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$dir"
# Replace the sources, keep the build folders.
find "$dir" -mindepth 1 -maxdepth 1 ! -name .build ! -name Benchmarks -exec rm -rf {} +
[[ -d $dir/Benchmarks ]] && find "$dir/Benchmarks" -mindepth 1 -maxdepth 1 ! -name .build -exec rm -rf {} +
git -C "$root" archive "$commit" | tar -x -C "$dir"
mkdir -p "$dir/Benchmarks"
(cd "$root/Benchmarks" && tar -c --exclude=./.build --exclude=./Package.resolved .) | tar -x -C "$dir/Benchmarks"
git -C "$root" log -1 --format='%h %s' "$commit" >"$dir/.snapshot-commit"
if [[ -n $(git -C "$root" status --porcelain -- Benchmarks) ]]; then
    echo "(Benchmarks/ copied with uncommitted changes)" >>"$dir/.snapshot-commit"
fi
echo "$dir"
