#!/usr/bin/env bash
# MLflow's own client, the same script (../shared/anchors/mlflow/client_bench.py), timed against
# `mlflow server` (SQLite backend, artifacts proxied) and `fusebox serve`, one after the other on
# this machine. Needs a release build of fusebox and a venv with mlflow and numpy:
#   swift build -c release && MLFLOW_PY=/tmp/mlflow-venv/bin/python scripts/bench-mlflow-client.sh [--runs 2000]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${MLFLOW_PY:-.build/mlflow-venv/bin/python}
BENCH=${BENCH:-../shared/anchors/mlflow/client_bench.py}
FUSEBOX=$PWD/.build/release/fusebox
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

wait_for() { for _ in $(seq 1 600); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, mlflow $($PY -c 'import mlflow;print(mlflow.__version__)'), flags: $*"
echo "## mlflow server (sqlite backend)"
"$(dirname "$PY")/mlflow" server --backend-store-uri "sqlite:///$WORK/mlflow.db" \
    --artifacts-destination "$WORK/mlflow-artifacts" --host 127.0.0.1 --port 5111 >"$WORK/mlflow.log" 2>&1 &
wait_for http://127.0.0.1:5111/health
$PY "$BENCH" http://127.0.0.1:5111 "$@" 2>/dev/null | grep -v "View "
kill %1; wait %1 2>/dev/null || true

echo "## fusebox serve"
export FUSEBOX_DB=$WORK/fusebox.sqlite
TOKEN=$("$FUSEBOX" token create bench --scope write 2>/dev/null)
"$FUSEBOX" serve --port 5112 2>"$WORK/fusebox.log" &
wait_for http://127.0.0.1:5112/healthz
MLFLOW_TRACKING_TOKEN=$TOKEN $PY "$BENCH" http://127.0.0.1:5112 "$@" 2>/dev/null | grep -v "View "
