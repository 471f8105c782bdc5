#!/usr/bin/env bash
# The checks beside the test suite, each a debug build of its own (run before a change that touches
# public API or a parser lands; CI's time budget leaves them out since postgres-nio joined):
# - the library's DocC documentation (scripts/check-docs.sh): any DocC warning (a broken symbol or
#   article link, a parameter left undocumented) or a public symbol without a doc comment fails;
# - the fuzz smoke: every parser under libFuzzer + AddressSanitizer for 10 s each, from the seeds
#   (Fuzz/run.sh 1000000 is the full run). Any crash fails.
# The two builds run side by side in different build folders (.build and Fuzz/.build-fuzz): each
# has serial phases (linking, symbol extraction, DocC, 50 s of single-threaded fuzzing) that leave
# a core to the other.
set -euo pipefail
cd "$(dirname "$0")/.."
docs_log=$(mktemp)
scripts/check-docs.sh >"$docs_log" 2>&1 &
docs=$!
fuzz_status=0
Fuzz/run.sh 10s || fuzz_status=$?
docs_status=0
wait "$docs" || docs_status=$?
cat "$docs_log"
if ((docs_status != 0)); then echo "the documentation check failed (exit $docs_status)" >&2; fi
if ((fuzz_status != 0)); then echo "the fuzz smoke failed (exit $fuzz_status)" >&2; fi
exit $((docs_status != 0 || fuzz_status != 0))
