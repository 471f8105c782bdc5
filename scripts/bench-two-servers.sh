#!/usr/bin/env bash
# Throughput of one `fusebox serve` against two, both on one PostgreSQL database: prediction by
# alias (demo-fusion@production, one row a request, token checked a request), 32 connections in
# all (wrk), first all on server A, then 16 on A and 16 on B at once; the two wrk figures add up.
#
#   scripts/with-postgres.sh scripts/bench-two-servers.sh [SECONDS=10] [POOL_SIZE=4]
#
# Needs a release build (swift build -c release --product fusebox) and wrk (apt-get install wrk).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-10}
pool=${2:-4}
fusebox=$root/.build/release/fusebox
server=${FUSEBOX_TEST_POSTGRES_URL:?run under scripts/with-postgres.sh}
database=bench_two_servers_$$
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; psql "$server" -Xqc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
cd "$work"
psql "$server" -Xqc "CREATE DATABASE $database"
db=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit((p.scheme, p.netloc, "/" + sys.argv[2], "sslmode=disable&pool_size=" + sys.argv[3], "")))' "$server" "$database" "$pool")

"$fusebox" demo --db "$db" >/dev/null 2>&1
token=$("$fusebox" token create bench --scope read --db "$db" 2>/dev/null)
"$fusebox" serve --db "$db" --port 0 >/dev/null 2>a.log &
"$fusebox" serve --db "$db" --port 0 >/dev/null 2>b.log &
port() {
    for _ in $(seq 100); do grep -q "^Serving" "$1" && break; sleep 0.1; done
    sed -n 's/^Serving.*:\([0-9]*\) (.*/\1/p' "$1"
}
a=$(port a.log)
b=$(port b.log)
image='[0.7, 0.1, 0.05, 0.05, 0.02, 0.02, 0.02, 0.02, 0.01, 0.01]'
text='[0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]'
cat >predict.lua <<LUA
wrk.method = "POST"
wrk.body = '{"inputs": {"image": [$image], "text": [$text]}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA
path=/api/v1/models/demo-fusion/versions/production/predict
rate() { sed -n 's/^Requests\/sec: *\([0-9.]*\)/\1/p' "$1"; }
wrk -t2 -c32 -d"${seconds}s" -s predict.lua "http://127.0.0.1:$a$path" >one.txt
wrk -t1 -c16 -d"${seconds}s" -s predict.lua "http://127.0.0.1:$a$path" >two-a.txt &
first=$!
wrk -t1 -c16 -d"${seconds}s" -s predict.lua "http://127.0.0.1:$b$path" >two-b.txt
wait "$first"
one=$(rate one.txt)
two=$(python3 -c "print(round($(rate two-a.txt) + $(rate two-b.txt), 1))")
echo "one server:  $one requests/s (32 connections; pool_size=$pool)"
echo "two servers: $two requests/s (16 + 16 connections)"
python3 -c "print(f'ratio: {$two / $one:.2f}x on $(nproc) cores')"
grep -h "Latency" one.txt two-a.txt two-b.txt
