#!/bin/bash
# Builds and runs one libFuzzer harness from Fuzz/Harnesses for SECONDS seconds (not part of CI).
#   scripts/fuzz.sh capture|records|unwinder|folded|maps|elf|gopclntab|config SECONDS [extra libFuzzer flags]
# The package's library targets are built with ASan and SanitizerCoverage into .build-fuzz, and the harness is
# linked against their objects with `swiftc -sanitize=fuzzer,address`. The committed seeds (Fuzz/Seeds/TARGET) are
# copied into a working corpus under .build-fuzz, which grows there; crashes land in .build-fuzz/crashes-TARGET.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET SECONDS}
seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS}
shift 2
harness=Fuzz/Harnesses/$target.swift
[ -f "$harness" ] || { echo "no harness $harness" >&2; exit 64; }
libraries=()
case $target in
    maps) modules=(FPProfCore FPProfSampler CPerfEvent) ;;
    folded) modules=(FPProfCore FPProfOutput SwiftProtobuf) ;;
    elf | gopclntab) modules=(FPProfCore FPProfSymbols) libraries=(-ldw -lelf -lz -liberty) ;;
    # The daemon's module and everything it is built on (TOMLKit's toml++ is C++).
    config)
        modules=(FPProfCore FPProfSymbols FPProfSampler CPerfEvent FPProfOutput SwiftProtobuf FPProfEngine FPProfDaemon
            TOMLKit CTOMLKit Logging ServiceLifecycle UnixSignals AsyncAlgorithms DequeModule
            InternalCollectionsUtilities OrderedCollections _AsyncAlgorithmsShims)
        libraries=(-ldw -lelf -lz -liberty -lsystemd -lstdc++) ;;
    *) modules=(FPProfCore) ;;
esac
scratch=.build-fuzz
coverage=(-Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp
    -Xcc -fsanitize=address -Xcc -fsanitize-coverage=inline-8bit-counters,pc-table,trace-cmp)
# Building a module builds the ones it depends on: the daemon's builds all of config's.
built=("${modules[@]}")
[ "$target" = config ] && built=(FPProfDaemon)
for module in "${built[@]}"; do
    [ "$module" = CPerfEvent ] && continue
    swift build --scratch-path "$scratch" --target "$module" "${coverage[@]}" >&2
done
objects=()
for module in "${modules[@]}"; do
    for object in "$scratch"/debug/"$module".build/*.o; do [ -e "$object" ] && objects+=("$object"); done
done
binary=$scratch/fuzz-$target
swiftc -sanitize=fuzzer,address -parse-as-library -g -I "$scratch/debug/Modules" \
    -I Sources/CPerfEvent/include -I Sources/CElfutils -I Sources/CDemangle -I Sources/CZlib -I Sources/CSystemd \
    "$harness" "${objects[@]}" "${libraries[@]}" -o "$binary" 2> >(grep -v "Cannot export local symbol" >&2)
corpus=$scratch/corpus-$target
mkdir -p "$corpus" "$scratch/crashes-$target"
cp -n Fuzz/Seeds/"$target"/* "$corpus"/ 2>/dev/null || true
exec "$binary" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$scratch/crashes-$target/" \
    -rss_limit_mb=1024 "$@" "$corpus"
