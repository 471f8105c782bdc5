#!/usr/bin/env bash
# The registry benchmark on PostgreSQL, beside MLflow 3.x on the same server, one after the other:
#
#   MLFLOW_PY=/path/to/venv/bin/python scripts/with-postgres.sh scripts/bench-registry-postgres.sh [MLFLOW_RUNS=10000]
#
# 1. `fusebox-bench registry --db $FUSEBOX_TEST_POSTGRES_URL` (each section on a new database of
#    that server): metric logging, versions with 1 MiB of weights, alias moves, search over 2k,
#    10k and 1M runs, a 1 GiB component registered and exported.
# 2. ../shared/anchors/mlflow/bench.py — the SQLite anchor, unchanged but for its store URI, which
#    points at a new database of the same server (postgresql://, psycopg2), and its last section
#    (the SQLite file's size and pragmas), which a database does not have. Search over
#    MLFLOW_RUNS runs (a million would take MLflow hours to log).
#
# Needs a release build (swift build -c release --product fusebox --product fusebox-bench), psql,
# and a Python with mlflow>=3 and psycopg2-binary from PyPI in MLFLOW_PY.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
url=${FUSEBOX_TEST_POSTGRES_URL:?run under scripts/with-postgres.sh}
py=${MLFLOW_PY:?set MLFLOW_PY to a Python with mlflow and psycopg2-binary}
bench=${MLFLOW_BENCH:-$root/../shared/anchors/mlflow/bench.py}
large=${1:-10000}
database=mlflow_bench_$$
trap 'psql "$url" -Xqc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true' EXIT

echo "## fusebox-bench registry --db (PostgreSQL $(psql "$url" -XAtc 'SHOW server_version'))"
"$root/.build/release/fusebox-bench" registry --db "$url"

echo "## MLflow $("$py" -c 'import mlflow; print(mlflow.__version__)') on the same server ($database)"
psql "$url" -Xqc "CREATE DATABASE $database"
mlflow_url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(("postgresql+psycopg2", p.netloc, "/" + sys.argv[2], "", "")))' "$url" "$database")
MLFLOW_BENCH_URI=$mlflow_url "$py" - "$bench" --runs-large "$large" <<'PY'
import os, sys
path = sys.argv[1]
sys.argv = sys.argv[1:]
source = open(path).read()
for old, new in [
    ('uri = f"sqlite:///{db_path}"', 'uri = os.environ["MLFLOW_BENCH_URI"]'),
    ("    # ---- g. sizes ----", "    return\n    # ---- g. sizes ----"),
]:
    assert old in source, old
    source = source.replace(old, new)
exec(compile(source, path, "exec"), {"__name__": "__main__", "__file__": path})
PY
