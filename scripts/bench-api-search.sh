#!/usr/bin/env bash
# Run search through the API against the library, in one go on one store: fusebox-bench times
# registry.searchRuns over 10,000 runs (MLflow's query: metrics.accuracy > 0.9 and
# params.fusion = 'weighted', by accuracy, first 1,000), then `fusebox serve` answers the same
# query at GET /api/v1/runs on that store, timed by wrk over one connection (each request waits
# for the last: latency, not throughput). (--search-runs-large 2000 keeps the third section off the
# 10k store: it would import 10,000 more runs into it.)
#
#   scripts/bench-api-search.sh [SECONDS=10]      (a release build of fusebox and fusebox-bench; wrk)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-10}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
"$root/.build/release/fusebox-bench" registry --only search --search-runs-large 2000 --repeats 20 --dir "$work" --keep 2>&1 |
    grep search_ms_10k
store=$work/search-10000.sqlite
token=$("$root/.build/release/fusebox" token create bench --scope read --db "$store" 2>/dev/null)
"$root/.build/release/fusebox" serve --db "$store" --port 0 2>"$work/serve.log" &
for _ in $(seq 100); do grep -q "^Serving" "$work/serve.log" && break; sleep 0.1; done
port=$(sed -n 's/^Serving.*:\([0-9]*\) (.*/\1/p' "$work/serve.log")
query="where=metrics.accuracy%20%3E%200.9%20and%20params.fusion%20%3D%20'weighted'&order_by=metrics.accuracy%20desc&limit=1000"
url="http://127.0.0.1:$port/api/v1/runs?$query"
echo "API: $(curl -s -H "Authorization: Bearer $token" "$url" | head -c 120)…"
wrk -t1 -c1 -d"${seconds}s" --latency -H "Authorization: Bearer $token" "$url"
