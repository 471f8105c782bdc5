#ifndef TENSOR_KERNELS_H
#define TENSOR_KERNELS_H

/// Non-zero when this CPU executes AVX2 and FMA instructions (checked with CPUID at run time, so
/// the binary runs on CPUs without them and uses the portable kernels there).
int tk_cpu_has_avx2_fma(void);

/// Rows `rowBegin ..< rowEnd` of `C = op(A) · B`, with AVX2 and FMA: `C` is `m × n` row-major,
/// `B` is `k × n` row-major, and element `(i, p)` of `op(A)` is `a[i·rowStepA + p·strideA]` (so a
/// transposed `A` needs no copy). Each element is the sum over `p = 0, 1, …, k − 1` in that order,
/// one fused multiply-add per term. Tiles are 4 rows × 16 columns; the last columns of a row are
/// a masked tile, so no memory beyond the matrices is read or written. Call only when
/// `tk_cpu_has_avx2_fma()` is non-zero.
void tk_sgemm_rows_avx2(long n, long k, const float *a, long rowStepA, long strideA, const float *b,
                        float *c, long rowBegin, long rowEnd);

#endif
