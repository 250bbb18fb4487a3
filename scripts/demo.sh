#!/usr/bin/env bash
# Builds fpprof and profiles the bundled demo workload (Demo/demo.c) into out/demo.folded.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product fpprof
mkdir -p out
gcc -O1 -g -fno-omit-frame-pointer -o out/demo Demo/demo.c
.build/release/fpprof record -F 999 -o out/demo.folded -- out/demo 3
echo "wrote out/demo.folded; top stacks:"
awk '{print $NF, $0}' out/demo.folded | sort -rn | head -5 | cut -d' ' -f2-
