#!/usr/bin/env bash
# Builds the DocC documentation of the Fusebox library product (TensorCore, TensorIO, FusionCore,
# RegistryStore, RegistryPostgres) as one combined archive, and fails on any DocC warning (a broken symbol or
# article link, a parameter left undocumented) and on any public symbol without a doc comment.
# The archive is .build/plugins/Swift-DocC/outputs/Fusebox.doccarchive; to read it, run
# `swift package --disable-sandbox preview-documentation --target RegistryStore`, or serve the
# archive folder with any static file server.
set -euo pipefail
cd "$(dirname "$0")/.."

outputs=.build/plugins/Swift-DocC/outputs
rm -rf "$outputs"
swift package --disable-sandbox generate-documentation \
    --target TensorCore --target TensorIO --target FusionCore --target RegistryStore --target RegistryPostgres \
    --enable-experimental-combined-documentation \
    --enable-inherited-docs --warnings-as-errors \
    --experimental-documentation-coverage --coverage-summary-level brief
python3 scripts/docs-coverage.py "$outputs"/intermediates/*.doccarchive
