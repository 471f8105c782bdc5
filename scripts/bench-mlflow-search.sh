#!/usr/bin/env bash
# search_runs at N runs (default 10000) through MLflow's client, against `mlflow server` and
# `fusebox serve` holding the same runs (MLflow writes them; `fusebox import mlflow` copies them).
#   swift build -c release && MLFLOW_PY=/tmp/mlflow-venv/bin/python scripts/bench-mlflow-search.sh 10000
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${MLFLOW_PY:-.build/mlflow-venv/bin/python}
FUSEBOX=$PWD/.build/release/fusebox
N=${1:-10000}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
wait_for() { for _ in $(seq 1 600); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, mlflow $($PY -c 'import mlflow;print(mlflow.__version__)'), $N runs"
$PY scripts/bench-mlflow-search.py make "$WORK" "$N" >/dev/null 2>&1
export FUSEBOX_DB=$WORK/fusebox.sqlite
"$FUSEBOX" import mlflow "$WORK/mlflow.db" | sed -n 1,4p
echo "## mlflow server (sqlite backend)"
"$(dirname "$PY")/mlflow" server --backend-store-uri "sqlite:///$WORK/mlflow.db" --host 127.0.0.1 --port 5121 \
    >"$WORK/mlflow.log" 2>&1 &
wait_for http://127.0.0.1:5121/health
$PY scripts/bench-mlflow-search.py search http://127.0.0.1:5121 2>/dev/null
kill %1; wait %1 2>/dev/null || true
echo "## fusebox serve"
TOKEN=$("$FUSEBOX" token create bench --scope read 2>/dev/null)
"$FUSEBOX" serve --port 5122 2>"$WORK/fusebox.log" &
wait_for http://127.0.0.1:5122/healthz
MLFLOW_TRACKING_TOKEN=$TOKEN $PY scripts/bench-mlflow-search.py search http://127.0.0.1:5122 2>/dev/null
echo "## fusebox serve, server-side time of those searches (from its request log)"
grep "runs/search" "$WORK/fusebox.log" | tail -10 | awk '{print $(NF-2)}' | sort -n | awk '{a[NR]=$1} END {print "median " a[int((NR+1)/2)] " ms"}'
