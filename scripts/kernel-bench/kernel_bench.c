// Fusebox's AVX2+FMA product kernel against OpenBLAS's cblas_sgemm on the concat-MLP head's
// shapes, one thread each (OPENBLAS_NUM_THREADS=1 is set by run.sh). Prints GFLOP/s, median of 7.
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../Sources/TensorKernels/include/TensorKernels.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int compare(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static void shape(long m, long k, long n, const char *what) {
    float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n);
    float *c = malloc(sizeof(float) * m * n), *d = malloc(sizeof(float) * m * n);
    for (long i = 0; i < m * k; i++) a[i] = (float)rand() / RAND_MAX - 0.5f;
    for (long i = 0; i < k * n; i++) b[i] = (float)rand() / RAND_MAX - 0.5f;
    long reps = 2e8 / (2.0 * m * k * n) + 1;
    double ours[7], blas[7];
    for (int r = 0; r < 7; r++) {
        double t0 = now();
        for (long i = 0; i < reps; i++) tk_sgemm_rows_avx2(n, k, a, k, 1, b, c, 0, m);
        double t1 = now();
        for (long i = 0; i < reps; i++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1, a, k, b, n, 0, d, n);
        double t2 = now();
        ours[r] = 2.0 * m * k * n * reps / (t1 - t0) / 1e9;
        blas[r] = 2.0 * m * k * n * reps / (t2 - t1) / 1e9;
    }
    double worst = 0;
    for (long i = 0; i < m * n; i++) {
        double e = c[i] - d[i];
        if (e < 0) e = -e;
        if (e > worst) worst = e;
    }
    qsort(ours, 7, sizeof(double), compare);
    qsort(blas, 7, sizeof(double), compare);
    printf("| %ld × %ld · %ld × %ld | %s | %.1f | %.1f | %.2f× | %.1e |\n", m, k, k, n, what, ours[3], blas[3],
           ours[3] / blas[3], worst);
    free(a), free(b), free(c), free(d);
}

int main(void) {
    if (!tk_cpu_has_avx2_fma()) {
        fprintf(stderr, "this CPU has no AVX2 and FMA\n");
        return 1;
    }
    printf("| shape | where | Fusebox GFLOP/s | OpenBLAS GFLOP/s | ratio | max |difference| |\n|---|---|---|---|---|---|\n");
    shape(256, 20, 128, "training batch, first layer");
    shape(256, 128, 10, "training batch, output layer");
    shape(256, 10, 128, "backward, G · Kᵀ");
    shape(1024, 20, 128, "prediction chunk, first layer");
    shape(1024, 128, 10, "prediction chunk, output layer");
    shape(40000, 20, 128, "all training rows at once");
    return 0;
}
