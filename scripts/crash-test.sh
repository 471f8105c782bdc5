#!/usr/bin/env bash
# Crash suite: start fusebox processes that register versions, train, log runs and move aliases,
# SIGKILL them at random moments, and after every kill check that the store is whole:
# integrity_check ok, every tensor verifies, versions gapless, no run left 'running', gc finds no
# orphan blobs.
#
#   scripts/crash-test.sh [KILLS=100] [FUSEBOX=.build/release/fusebox]     (needs python3 with numpy, safetensors)
set -euo pipefail
KILLS=${1:-100}
FUSEBOX=$(realpath "${2:-.build/release/fusebox}")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
python3 - <<'PY'
import numpy as np
rng = np.random.default_rng(0)
def probs(n, k=10):
    z = rng.standard_normal((n, k)); e = np.exp(z - z.max(1, keepdims=True)); return (e / e.sum(1, keepdims=True)).astype(np.float32)
np.save("image.npy", probs(20000)); np.save("text.npy", probs(20000)); np.save("labels.npy", rng.integers(0, 10, 20000))
PY
"$FUSEBOX" init >/dev/null
"$FUSEBOX" train base --modality image=image.npy --modality text=text.npy --labels labels.npy --epochs 1 >/dev/null
"$FUSEBOX" alias set base production 1 >/dev/null
kills=0
round=0
while (( kills < KILLS )); do
  round=$((round + 1))
  case $((round % 4)) in
    0) # a fresh 16 MB file, so nothing deduplicates and the write takes time
       python3 -c "import numpy as np; from safetensors.numpy import save_file; save_file({'w': np.random.default_rng($round).standard_normal(4_000_000).astype(np.float32)}, 'big.safetensors')"
       cmd=("$FUSEBOX" register big --weights big.safetensors) ;;
    1) cmd=("$FUSEBOX" train base --modality image=image.npy --modality text=text.npy --labels labels.npy --method concat-mlp --epochs 50) ;;
    2) cmd=("$FUSEBOX" eval base@1 --modality image=image.npy --modality text=text.npy --labels labels.npy) ;;
    3) cmd=(sh -c "for i in \$(seq 200); do '$FUSEBOX' alias set base staging 1 >/dev/null; '$FUSEBOX' rollback base --alias staging >/dev/null 2>&1 || true; done") ;;
  esac
  "${cmd[@]}" >/dev/null 2>&1 &
  pid=$!
  sleep "0.$(printf '%03d' $((RANDOM % 400)))"
  killed=0
  if kill -0 "$pid" 2>/dev/null; then
    pkill -9 -P "$pid" 2>/dev/null || true
    kill -9 "$pid" 2>/dev/null || true
    kills=$((kills + 1))
    killed=1
  fi
  wait "$pid" 2>/dev/null || true
  # The store must be whole after every kill.
  "$FUSEBOX" verify >/dev/null || { echo "FAIL after kill $kills: verify"; "$FUSEBOX" verify; exit 1; }
  for model in base big; do
    "$FUSEBOX" models --format json | grep -q "\"$model\"" || continue
    "$FUSEBOX" versions "$model" --format json | python3 -c "
import json, sys
v = sorted(x['version'] for x in json.load(sys.stdin))
assert v == list(range(1, len(v) + 1)), f'gap in $model versions: {v}'" || { echo "FAIL after kill $kills: gapless $model"; exit 1; }
  done
  running=$("$FUSEBOX" runs --where "status = 'running'" --format json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
  [[ $running == 0 ]] || { echo "FAIL after kill $kills: $running runs left running"; exit 1; }
  "$FUSEBOX" gc --dry-run --format json | grep -q '"blobs" : 0' || { echo "FAIL after kill $kills: orphan blobs"; exit 1; }
  if (( killed && kills % 10 == 0 )); then echo "$kills kills, store whole"; fi
done
echo "PASS: $kills kills, integrity ok, all tensors verified, versions gapless, no run left running, no orphan blobs"
