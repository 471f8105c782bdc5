#!/usr/bin/env bash
# `fusebox copy` of a store holding one 1 GiB component: SQLite file → PostgreSQL → a new SQLite
# file, each timed with its peak memory (GNU time), beside the anchors on the same machine and
# disk: `cp` + `sync` of the 1 GiB object file, and `pg_dump` of the database the copy filled
# (custom format, no compression) — what moving the same bytes costs without Fusebox.
#
#   scripts/with-postgres.sh scripts/bench-copy.sh [MIB=1024]
#
# Needs a release build (swift build -c release --product fusebox), python3 with numpy, GNU time,
# and the server scripts/with-postgres.sh starts ($FUSEBOX_TEST_POSTGRES_URL).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mib=${1:-1024}
fusebox=$root/.build/release/fusebox
url=${FUSEBOX_TEST_POSTGRES_URL:?run under scripts/with-postgres.sh}
work=$(mktemp -d /tmp/fusebox-bench-copy.XXXXXX)
database=bench_copy_$$
trap 'psql "$url" -Xqc "DROP DATABASE IF EXISTS $database" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
cd "$work"

python3 - "$mib" <<'PY'
import json, struct, sys
import numpy as np
n = int(sys.argv[1]) * (1 << 20) // 4
a = np.random.default_rng(1).standard_normal(n).astype("<f4")
h = json.dumps({"w": {"dtype": "F32", "shape": [n], "data_offsets": [0, n * 4]}}).encode()
h += b" " * ((8 - len(h) % 8) % 8)
with open("big.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h)
    f.write(a.tobytes())
PY
"$fusebox" register big --weights big.safetensors --db a.sqlite >/dev/null
psql "$url" -Xqc "CREATE DATABASE $database" >/dev/null
target=${url/\/fusebox\?/\/$database?}
bytes=$((mib << 20))

measure() { # label, command...
    local label=$1
    shift
    sync
    /usr/bin/time -f "%e %M" -o time.txt "$@" >/dev/null
    read -r seconds kib <time.txt
    awk -v l="$label" -v s="$seconds" -v k="$kib" -v b="$bytes" \
        'BEGIN { printf "%-34s %7.2f s  %7.1f MB/s  peak RSS %6.1f MiB\n", l, s, b / s / 1e6, k / 1024 }'
}

object=$(find a.sqlite-objects -type f | head -1)
measure "cp + sync of the object (anchor)" sh -c "cp '$object' copy.bin && sync copy.bin"
measure "fusebox copy SQLite -> PostgreSQL" "$fusebox" copy --from a.sqlite --to "$target"
measure "pg_dump of that database (anchor)" pg_dump -Fc -Z0 -f dump.bin "$target"
measure "fusebox copy PostgreSQL -> SQLite" "$fusebox" copy --from "$target" --to b.sqlite
measure "fusebox copy again (nothing new)" "$fusebox" copy --from a.sqlite --to "$target"
