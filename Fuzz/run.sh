#!/usr/bin/env bash
# Builds the libFuzzer harness with AddressSanitizer and runs each parser for RUNS executions.
#   Fuzz/run.sh [RUNS=1000000] [TARGETS="safetensors npy npz csv query"]
# Crashes are written to Fuzz/crashes/TARGET/; each one found becomes a regression test.
set -euo pipefail
cd "$(dirname "$0")"
RUNS=${1:-1000000}
TARGETS=${2:-safetensors npy npz csv query}
# Every module gets AddressSanitizer and coverage instrumentation; only the harness links libFuzzer
# (its own flags in Package.swift). lld, because gold crashes on sanitizer binaries here.
FLAGS=(-Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table -Xswiftc -use-ld=lld)
swift build -c debug --scratch-path .build-fuzz "${FLAGS[@]}" --product fuzz-parsers
BIN=$(swift build -c debug --scratch-path .build-fuzz "${FLAGS[@]}" --show-bin-path)/fuzz-parsers
for t in $TARGETS; do
  mkdir -p "corpus/$t" "crashes/$t"
  echo "== $t: $RUNS runs"
  # seeds/TARGET holds small valid files: magic strings and headers are beyond blind mutation.
  # npz: leak detection off — ZIPFoundation leaks Foundation's fileSystemRepresentation buffer
  # (28 bytes per archive opened), upstream, not a crash.
  extra=(); [[ $t == npz ]] && extra=(-detect_leaks=0) && export ASAN_OPTIONS=detect_leaks=0
  FUZZ_TARGET=$t "$BIN" -runs="$RUNS" -max_len=4096 -timeout=10 -artifact_prefix="crashes/$t/" "${extra[@]}" "corpus/$t" $([[ -d seeds/$t ]] && echo "seeds/$t") 2>&1 | grep -E "^#[0-9]+ +DONE|Done [0-9]+ runs|ERROR|SUMMARY" || true
done
