#!/usr/bin/env bash
# The measurement behind the choice of a C kernel over OpenBLAS for the dense layers (issue 16):
# compiles kernel_bench.c with Fusebox's kernel and links Debian's OpenBLAS, one thread each.
# Needs libopenblas-dev (apt-get install -y libopenblas-dev); never run in CI.
set -euo pipefail
cd "$(dirname "$0")"
out=$(mktemp)
cc -O2 -I ../../Sources/TensorKernels/include -o "$out" kernel_bench.c ../../Sources/TensorKernels/sgemm_avx2.c -lopenblas -lm
OPENBLAS_NUM_THREADS=1 "$out"
