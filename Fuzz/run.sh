#!/usr/bin/env bash
# Builds the libFuzzer harness with AddressSanitizer and runs each parser for RUNS executions,
# or for N seconds when RUNS is written Ns (CI's smoke: `Fuzz/run.sh 10s`).
#   Fuzz/run.sh [RUNS=1000000 | Ns] [TARGETS="safetensors npy npz csv query"]
# Exits non-zero when any target crashes; crashes are written to Fuzz/crashes/TARGET/, and each
# one found becomes a regression test.
set -euo pipefail
cd "$(dirname "$0")"
RUNS=${1:-1000000}
TARGETS=${2:-safetensors npy npz csv query}
if [[ $RUNS == *s ]]; then LENGTH=(-max_total_time="${RUNS%s}"); else LENGTH=(-runs="$RUNS"); fi
# Every module gets AddressSanitizer and coverage instrumentation; only the harness links libFuzzer
# (its own flags in Package.swift). lld, because gold crashes on sanitizer binaries here.
FLAGS=(-Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table -Xswiftc -use-ld=lld)
swift build -c debug --scratch-path .build-fuzz "${FLAGS[@]}" --product fuzz-parsers
BIN=$(swift build -c debug --scratch-path .build-fuzz "${FLAGS[@]}" --show-bin-path)/fuzz-parsers
# A trap prints its report; the Swift backtracer would only add a wait.
export SWIFT_BACKTRACE=enable=no
failed=()
for t in $TARGETS; do
  mkdir -p "corpus/$t" "crashes/$t"
  echo "== $t: $RUNS"
  # seeds/TARGET holds small valid files: magic strings and headers are beyond blind mutation.
  # npz: leak detection off — ZIPFoundation leaks Foundation's fileSystemRepresentation buffer
  # (28 bytes per archive opened), upstream, not a crash.
  extra=()
  if [[ $t == npz ]]; then extra=(-detect_leaks=0); export ASAN_OPTIONS=detect_leaks=0; else unset ASAN_OPTIONS; fi
  seeds=(); [[ -d seeds/$t ]] && seeds=("seeds/$t")
  log=$(mktemp)
  status=0
  FUZZ_TARGET=$t "$BIN" "${LENGTH[@]}" -max_len=4096 -timeout=10 -artifact_prefix="crashes/$t/" "${extra[@]}" "corpus/$t" "${seeds[@]}" >"$log" 2>&1 || status=$?
  grep -E "^#[0-9]+ +DONE|Done [0-9]+ runs" "$log" || true
  if ((status != 0)); then
    echo "FAIL: $t (exit $status)"
    grep -E "ERROR|SUMMARY|Fatal error|Test unit written" "$log" || tail -20 "$log"
    failed+=("$t")
  fi
  rm -f "$log"
done
if ((${#failed[@]})); then echo "crashed: ${failed[*]}"; exit 1; fi
echo "no crashes: $TARGETS"
