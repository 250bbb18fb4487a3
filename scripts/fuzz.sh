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
            TOMLKit CTOML Logging ServiceLifecycle UnixSignals AsyncAlgorithms DequeModule
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
if [ "$target" = config ]; then
    # Every library module built (the daemon's dependencies vary with the packages' versions), without the CLI,
    # executables, tools and tests.
    modules=()
    for folder in "$scratch"/debug/*.build; do
        name=$(basename "$folder" .build)
        case $name in fpprof | FPProfCommands | *Tests | *-tool | fpprofPackage* | generate_* | protoc_gen_swift | \
            SwiftProtobufPluginLibrary | ArgumentParser* | ServiceLifecycleTestKit) continue ;; esac
        modules+=("$name")
    done
fi
objects=()
for module in "${modules[@]}"; do
    # C and C++ targets keep their objects in subfolders (CTOML.build/Sources/Node.cpp.o).
    while IFS= read -r -d '' object; do objects+=("$object"); done < <(find "$scratch/debug/$module.build" -name '*.o' -print0)
done
# The module maps SwiftPM generates for C targets (CPerfEvent, TOMLKit's CTOML).
moduleMaps=()
for map in "$scratch"/debug/*.build/module.modulemap; do
    [ -e "$map" ] && moduleMaps+=(-Xcc -fmodule-map-file="$map")
done
# The folders holding the other module maps: fpprof's system-library modules and the C targets of dependencies
# (swift-numerics' _NumericsShims).
includes=(-I Sources/CPerfEvent/include)
for map in Sources/C*/module.modulemap "$scratch"/checkouts/*/Sources/*/include/module.modulemap; do
    [ -e "$map" ] && includes+=(-I "$(dirname "$map")")
done
binary=$scratch/fuzz-$target
swiftc -sanitize=fuzzer,address -parse-as-library -g -I "$scratch/debug/Modules" "${moduleMaps[@]}" "${includes[@]}" \
    "$harness" "${objects[@]}" "${libraries[@]}" -o "$binary" 2> >(grep -v "Cannot export local symbol" >&2)
corpus=$scratch/corpus-$target
mkdir -p "$corpus" "$scratch/crashes-$target"
cp -n Fuzz/Seeds/"$target"/* "$corpus"/ 2>/dev/null || true
# Leaks are reported, but for those scripts/lsan-suppressions.txt names with its reasons (TOMLKit's C layer, which
# the config harness reaches, leaks about 6 KB a parse).
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan-suppressions.txt${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
exec "$binary" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$scratch/crashes-$target/" \
    -rss_limit_mb=1024 "$@" "$corpus"
