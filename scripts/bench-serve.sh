#!/usr/bin/env bash
# Prediction over HTTP, one row per request, 32 connections (wrk): `fusebox serve` answering
# demo-fusion@production (a weighted-average head), then — with MLFLOW_PY set — `mlflow models
# serve` answering the same head with the same weights as a pyfunc model
# (scripts/mlflow-pyfunc-head.py), run one after the other on this machine.
#
#   scripts/bench-serve.sh [SECONDS=10] [MLFLOW_WORKERS=2]
#   MLFLOW_PY=/tmp/mlflow-venv/bin/python scripts/bench-serve.sh      (mlflow from PyPI)
#
# Needs a release build (swift build -c release) and wrk (apt-get install wrk).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-10}
workers=${2:-2}
fusebox=$root/.build/release/fusebox
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$work"

"$fusebox" demo --db store.sqlite >/dev/null 2>&1
token=$("$fusebox" token create bench --scope read --db store.sqlite 2>/dev/null)
"$fusebox" serve --db store.sqlite --port 0 2>serve.log &
for _ in $(seq 100); do grep -q "^Serving" serve.log && break; sleep 0.1; done
port=$(sed -n 's/^Serving.*:\([0-9]*\) (.*/\1/p' serve.log)
image='[0.7, 0.1, 0.05, 0.05, 0.02, 0.02, 0.02, 0.02, 0.01, 0.01]'
text='[0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]'
cat >fusebox.lua <<LUA
wrk.method = "POST"
wrk.body = '{"inputs": {"image": [$image], "text": [$text]}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA
url="http://127.0.0.1:$port/api/v1/models/demo-fusion/versions/production/predict"
echo "== fusebox serve: $(curl -s -H "Authorization: Bearer $token" -d "{\"inputs\": {\"image\": [$image], \"text\": [$text]}}" "$url")"
wrk -t2 -c32 -d"${seconds}s" --latency -s fusebox.lua "$url"

[ -n "${MLFLOW_PY:-}" ] || exit 0
run=$("$fusebox" show demo-fusion@production --db store.sqlite --format json | sed -n 's/^  "training_run" : \([0-9]*\).*/\1/p')
read -r w_image w_text < <("$fusebox" weights demo-fusion@production --db store.sqlite --format csv |
    awk -F, 'NR > 1 { last[$2] = $4 } END { print last["image"], last["text"] }')
echo "== weights of demo-fusion@production (training run $run): image $w_image, text $w_text"
"$MLFLOW_PY" "$root/scripts/mlflow-pyfunc-head.py" "$w_image" "$w_text" "$work/wavg" >/dev/null 2>&1
PATH="$(dirname "$MLFLOW_PY"):$PATH" mlflow models serve -m "$work/wavg" --env-manager local -p 5088 -h 127.0.0.1 \
    -w "$workers" >mlflow.log 2>&1 &
for _ in $(seq 120); do curl -fs http://127.0.0.1:5088/ping >/dev/null 2>&1 && break; sleep 1; done
columns=$(printf '"image_%d",' $(seq 0 9); printf '"text_%d",' $(seq 0 9))
body="{\"dataframe_split\": {\"columns\": [${columns%,}], \"data\": [$(echo "$image $text" | sed 's/\] \[/, /')]}}"
cat >mlflow.lua <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
LUA
echo "== mlflow models serve (-w $workers): $(curl -s -H 'Content-Type: application/json' -d "$body" http://127.0.0.1:5088/invocations)"
wrk -t2 -c32 -d"${seconds}s" --latency -s mlflow.lua http://127.0.0.1:5088/invocations
