#!/usr/bin/env bash
# Kill during upgrade: a store left by an older fusebox (the first four migration files, 2,000
# runs, 500,000 metric values, so the upgrade's foreign-key check takes a few hundred ms) is
# opened by the current fusebox, which is SIGKILLed at a random moment of its run. After
# every kill the store must be either wholly old (migrations 0001-0004, still writable) or wholly
# upgraded (every migration), integrity_check ok, its data intact; a later open must upgrade it.
# `fusebox init` upgrades (commands that only read refuse an older store and never change it).
#
#   scripts/upgrade-kill-test.sh [KILLS=100] [FUSEBOX=.build/release/fusebox]     (needs sqlite3, python3)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KILLS=${1:-100}
FUSEBOX=$(realpath "${2:-.build/release/fusebox}")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
# The shell waits up to 10 s for a lock like fusebox does (its default is to fail at once).
sqlite() { sqlite3 -cmd ".timeout 10000" "$@"; }

# The fixture, made from the migration files themselves, as the older fusebox recorded them.
{
  echo "BEGIN; CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);"
  for f in "$ROOT"/migrations/000[1-4]_*.sql; do
    cat "$f"
    echo "INSERT INTO grdb_migrations VALUES ('$(basename "$f" .sql)');"
  done
  cat <<'SQL'
INSERT INTO model (name, kind, createdAt) VALUES ('legacy', 'fused', 1);
INSERT INTO metricKey (name) VALUES ('loss');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
INSERT INTO run (id, modelId, kind, status, startedAt, endedAt) SELECT i, 1, 'training', 'finished', i, i + 1 FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 499999)
INSERT INTO metric (runId, keyId, step, value, time) SELECT i % 2000 + 1, 1, i / 2000, i * 0.5, i FROM n;
COMMIT;
SQL
} | sqlite old.sqlite
OLD="0001_model,0002_run,0003_model_version,0004_tensor"
NEW=$(cd "$ROOT/migrations" && ls 0*.sql | sed 's/\.sql$//' | paste -sd, -)

# Migrations applied; models|runs|metric values|sum of values. From migration 0010 on, series are
# packed (per sample: varint step delta, 8-byte little-endian value, zigzag-varint time delta);
# this decoder is written from that description, independently of the Swift one.
state() {
  python3 - "$1" <<'PY'
import sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
one = lambda sql: db.execute(sql).fetchone()[0]
print(one("SELECT group_concat(identifier) FROM (SELECT identifier FROM grdb_migrations ORDER BY identifier)"))
if one("SELECT count(*) FROM sqlite_master WHERE name = 'metric'"):
    count, total = db.execute("SELECT count(*), sum(value) FROM metric").fetchone()
else:
    count, total = 0, 0.0
    for (points,) in db.execute("SELECT points FROM metricChunk"):
        i = 0
        while i < len(points):
            for _ in range(2):  # the step delta, then (after the value) the time delta
                while points[i] & 0x80: i += 1
                i += 1
                if _ == 0:
                    total += struct.unpack_from("<d", points, i)[0]
                    i += 8
            count += 1
print(f"{one('SELECT count(*) FROM model')}|{one('SELECT count(*) FROM run')}|{count}|{total:.1f}")
PY
}

{ read -r applied; read -r DATA; } < <(state old.sqlite)
[[ $applied == "$OLD" ]] || { echo "fixture has $applied"; exit 1; }
# Kills fall uniformly within the time one uninterrupted upgrade takes on this machine, now.
cp old.sqlite timing.sqlite
start=$(date +%s%N)
"$FUSEBOX" init --db timing.sqlite >/dev/null 2>&1
WINDOW_MS=$(( ($(date +%s%N) - start) / 1000000 + 1 ))
echo "an uninterrupted upgrade takes $WINDOW_MS ms; kills fall within it"
kills=0 old=0 inside=0 upgraded=0
while (( kills < KILLS )); do
  rm -f store.sqlite*
  cp old.sqlite store.sqlite
  "$FUSEBOX" init --db store.sqlite >/dev/null 2>&1 &
  pid=$!
  delay=$(( (RANDOM * 32768 + RANDOM) % WINDOW_MS ))
  sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
  kill -0 "$pid" 2>/dev/null || { wait "$pid" || true; continue; }   # finished first: not a kill
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  kills=$((kills + 1))
  check=$(sqlite store.sqlite "PRAGMA integrity_check")
  [[ $check == ok ]] || { echo "FAIL after kill $kills: integrity_check: $check"; exit 1; }
  { read -r applied; read -r data; } < <(state store.sqlite)
  [[ $data == "$DATA" ]] || { echo "FAIL after kill $kills: data changed: $data"; exit 1; }
  case $applied in
    "$OLD") # the fixture is in rollback-journal mode; fusebox switches to WAL on open, before it
            # upgrades, so WAL here means the kill landed between opening and the commit
            [[ $(sqlite store.sqlite "PRAGMA journal_mode") == wal ]] && inside=$((inside + 1))
            old=$((old + 1))
            # the old schema still takes writes, as the older fusebox would make them
            sqlite store.sqlite "BEGIN; INSERT INTO model (name, kind, createdAt) VALUES ('old-writer', 'fused', 2); ROLLBACK;" ;;
    "$NEW") upgraded=$((upgraded + 1)) ;;
    *) echo "FAIL after kill $kills: half-upgraded store: $applied"; exit 1 ;;
  esac
  # and the current fusebox upgrades (or simply opens) it afterwards
  "$FUSEBOX" init --db store.sqlite >/dev/null 2>&1 || { echo "FAIL after kill $kills: upgrade after the kill"; exit 1; }
  "$FUSEBOX" models --db store.sqlite --format json 2>/dev/null | grep -q '"legacy"' || { echo "FAIL after kill $kills: reopen"; exit 1; }
  { read -r applied; read -r data; } < <(state store.sqlite)
  [[ $applied == "$NEW" && $data == "$DATA" ]] || { echo "FAIL after kill $kills: reopen left $applied / $data"; exit 1; }
  if (( kills % 10 == 0 )); then echo "$kills kills: $old left the old schema ($inside of them inside the upgrade), $upgraded the new one; every store whole"; fi
done
(( inside > 0 )) || { echo "FAIL: no kill landed inside the upgrade"; exit 1; }
echo "PASS: $kills kills: $inside inside the upgrade, $((old - inside)) before the store was opened, $upgraded after the commit; every store whole"
