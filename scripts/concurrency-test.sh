#!/usr/bin/env bash
# Concurrency: WRITERS processes × PER versions on one model while readers list and load.
# Expects 0 errors and versions 1…WRITERS×PER gapless; prints the throughput against one writer.
#
#   scripts/concurrency-test.sh [WRITERS=4] [PER=250] [FUSEBOX=.build/release/fusebox]
set -euo pipefail
WRITERS=${1:-4}
PER=${2:-250}
FUSEBOX=$(realpath "${3:-.build/release/fusebox}")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
python3 -c "
import numpy as np
from safetensors.numpy import save_file
for i in range($WRITERS):
    save_file({'w': np.full(1000, i, dtype=np.float32)}, f'w{i}.safetensors')
"
"$FUSEBOX" init >/dev/null
start=$(date +%s.%N)
for k in $(seq "$PER"); do "$FUSEBOX" register solo --weights w0.safetensors >/dev/null; done
single=$(echo "$(date +%s.%N) - $start" | bc)
start=$(date +%s.%N)
pids=()
for i in $(seq 0 $((WRITERS - 1))); do
  ( for k in $(seq "$PER"); do "$FUSEBOX" register shared --weights "w$i.safetensors" >/dev/null || exit 1; done ) &
  pids+=($!)
done
readers=()
for r in 1 2; do
  ( while true; do "$FUSEBOX" versions shared >/dev/null 2>&1; "$FUSEBOX" export shared@latest -o "r$r.safetensors" --force >/dev/null 2>&1 || true; done ) &
  readers+=($!)
done
errors=0
for p in "${pids[@]}"; do wait "$p" || errors=$((errors + 1)); done
concurrent=$(echo "$(date +%s.%N) - $start" | bc)
kill "${readers[@]}" 2>/dev/null || true
"$FUSEBOX" versions shared --format json | python3 -c "
import json, sys
v = sorted(x['version'] for x in json.load(sys.stdin))
n = $WRITERS * $PER
assert v == list(range(1, n + 1)), f'expected 1..{n}, got {len(v)} versions'
print(f'versions 1..{n} gapless')"
"$FUSEBOX" verify >/dev/null
echo "errors: $errors"
python3 -c "
s, c, n, w = $single, $concurrent, $PER, $WRITERS
print(f'single writer: {n} versions in {s:.2f} s = {n/s:.1f} versions/s')
print(f'{w} writers + 2 readers: {w*n} versions in {c:.2f} s = {w*n/c:.1f} versions/s ({(w*n/c)/(n/s):.2f}x one writer)')"
[[ $errors == 0 ]]
