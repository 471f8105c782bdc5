#include "TensorKernels.h"

#include <immintrin.h>

int tk_cpu_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

#define TK_AVX2 __attribute__((target("avx2,fma")))

/// Lane mask for the first `count` lanes (0 ≤ count ≤ 8): masked-off lanes are neither read nor
/// written, so a tile may end inside a row without touching memory beyond it.
TK_AVX2 static __m256i lanes(long count) {
    static const int ramp[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)count), _mm256_loadu_si256((const __m256i *)ramp));
}

/// A 4-row tile of C, 8 + 8 columns wide, or 8 + 1…7 when `masked` (the second half's lanes
/// given by `m1`), kept in eight registers over the whole inner dimension. Inlined into its two
/// callers, so each has its own loop without a test of `masked` (an unmasked load is faster).
TK_AVX2 static inline __attribute__((always_inline)) void tile4x16any(long n, long k, const float *a, long rs,
                                                                      long sa, const float *b, float *c,
                                                                      int masked, __m256i m1) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    for (long p = 0; p < k; p++) {
        const float *bp = b + p * n;
        __m256 b0 = _mm256_loadu_ps(bp);
        __m256 b1 = masked ? _mm256_maskload_ps(bp + 8, m1) : _mm256_loadu_ps(bp + 8);
        const float *ap = a + p * sa;
        __m256 a0 = _mm256_broadcast_ss(ap), a1 = _mm256_broadcast_ss(ap + rs);
        __m256 a2 = _mm256_broadcast_ss(ap + 2 * rs), a3 = _mm256_broadcast_ss(ap + 3 * rs);
        c00 = _mm256_fmadd_ps(a0, b0, c00); c01 = _mm256_fmadd_ps(a0, b1, c01);
        c10 = _mm256_fmadd_ps(a1, b0, c10); c11 = _mm256_fmadd_ps(a1, b1, c11);
        c20 = _mm256_fmadd_ps(a2, b0, c20); c21 = _mm256_fmadd_ps(a2, b1, c21);
        c30 = _mm256_fmadd_ps(a3, b0, c30); c31 = _mm256_fmadd_ps(a3, b1, c31);
    }
    _mm256_storeu_ps(c, c00);
    _mm256_storeu_ps(c + n, c10);
    _mm256_storeu_ps(c + 2 * n, c20);
    _mm256_storeu_ps(c + 3 * n, c30);
    if (masked) {
        _mm256_maskstore_ps(c + 8, m1, c01); _mm256_maskstore_ps(c + n + 8, m1, c11);
        _mm256_maskstore_ps(c + 2 * n + 8, m1, c21); _mm256_maskstore_ps(c + 3 * n + 8, m1, c31);
    } else {
        _mm256_storeu_ps(c + 8, c01); _mm256_storeu_ps(c + n + 8, c11);
        _mm256_storeu_ps(c + 2 * n + 8, c21); _mm256_storeu_ps(c + 3 * n + 8, c31);
    }
}

/// A full 4-row × 16-column tile.
TK_AVX2 static void tile4x16(long n, long k, const float *a, long rs, long sa, const float *b, float *c) {
    tile4x16any(n, k, a, rs, sa, b, c, 0, _mm256_setzero_si256());
}

/// A 4-row tile of 8 + `width1` columns (`width1` in 1…7): the last columns of a row.
TK_AVX2 static void tile4x16masked(long n, long k, const float *a, long rs, long sa, const float *b, float *c,
                                   long width1) {
    tile4x16any(n, k, a, rs, sa, b, c, 1, lanes(width1));
}

/// A 4-row tile of C, `width` columns wide (1…8, masked).
TK_AVX2 static void tile4x8(long n, long k, const float *a, long rs, long sa, const float *b, float *c, long width) {
    __m256i m = lanes(width);
    __m256 c0 = _mm256_setzero_ps(), c1 = _mm256_setzero_ps();
    __m256 c2 = _mm256_setzero_ps(), c3 = _mm256_setzero_ps();
    for (long p = 0; p < k; p++) {
        __m256 bv = _mm256_maskload_ps(b + p * n, m);
        const float *ap = a + p * sa;
        c0 = _mm256_fmadd_ps(_mm256_broadcast_ss(ap), bv, c0);
        c1 = _mm256_fmadd_ps(_mm256_broadcast_ss(ap + rs), bv, c1);
        c2 = _mm256_fmadd_ps(_mm256_broadcast_ss(ap + 2 * rs), bv, c2);
        c3 = _mm256_fmadd_ps(_mm256_broadcast_ss(ap + 3 * rs), bv, c3);
    }
    _mm256_maskstore_ps(c, m, c0);
    _mm256_maskstore_ps(c + n, m, c1);
    _mm256_maskstore_ps(c + 2 * n, m, c2);
    _mm256_maskstore_ps(c + 3 * n, m, c3);
}

/// A 1-row tile, `width` columns wide (1…8, masked): the rows left over when the row count is not
/// a multiple of 4.
TK_AVX2 static void tile1x8(long n, long k, const float *a, long sa, const float *b, float *c, long width) {
    __m256i m = lanes(width);
    __m256 acc = _mm256_setzero_ps();
    for (long p = 0; p < k; p++)
        acc = _mm256_fmadd_ps(_mm256_broadcast_ss(a + p * sa), _mm256_maskload_ps(b + p * n, m), acc);
    _mm256_maskstore_ps(c, m, acc);
}

TK_AVX2 void tk_sgemm_rows_avx2(long n, long k, const float *a, long rs, long sa, const float *b, float *c,
                                long rowBegin, long rowEnd) {
    // Full column tiles 16 wide, then one masked tile for the rest: 8 + 1…7 columns, or 1…8.
    long i = rowBegin;
    for (; i + 4 <= rowEnd; i += 4) {
        const float *ai = a + i * rs;
        float *ci = c + i * n;
        long j = 0;
        for (; j + 16 <= n; j += 16) tile4x16(n, k, ai, rs, sa, b + j, ci + j);
        if (n - j > 8) tile4x16masked(n, k, ai, rs, sa, b + j, ci + j, n - j - 8);
        else if (j < n) tile4x8(n, k, ai, rs, sa, b + j, ci + j, n - j);
    }
    for (; i < rowEnd; i++) {
        const float *ai = a + i * rs;
        float *ci = c + i * n;
        for (long j = 0; j < n; j += 8) tile1x8(n, k, ai, sa, b + j, ci + j, n - j < 8 ? n - j : 8);
    }
}
