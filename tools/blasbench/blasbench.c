// blasbench: OpenBLAS sgemm/sgemv timings on the shapes that models/cpu benchmarks,
// for side-by-side comparison only. It is a measurement tool: nothing in the Go build uses it.
// Build and run: see README.md in this folder.
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *openblas_get_corename(void);
char *openblas_get_config(void);
int openblas_get_num_threads(void);

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static float *randmat(size_t n) {
	float *p = malloc(n * sizeof(float));
	for (size_t i = 0; i < n; i++) p[i] = (float)rand() / RAND_MAX - 0.5f;
	return p;
}

// Shapes are M x K x N: C[M x N] = op(A) * op(B), op(A) M x K, op(B) K x N, as in the Go benchmark.
// NN: dX = dY * W. NT: B stored N x K (a Hugging Face weight [out, in]), Y = X * W^T. TN: A stored
// K x M, dW = dY^T * X.
static void bench_gemm(int m, int k, int n, int transA, int transB) {
	float *a = randmat((size_t)m * k), *b = randmat((size_t)k * n), *c = randmat((size_t)m * n);
	int lda = transA ? m : k, ldb = transB ? k : n;
	enum CBLAS_TRANSPOSE ta = transA ? CblasTrans : CblasNoTrans, tb = transB ? CblasTrans : CblasNoTrans;
	double flops = 2.0 * m * n * k;
	// warm up, then repeat for at least 1.5 s and report the best call and the mean
	cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n);
	double best = 1e30, total = 0;
	int iters = 0;
	double start = now();
	while (now() - start < 1.5 || iters < 5) {
		double t0 = now();
		cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n);
		double dt = now() - t0;
		if (dt < best) best = dt;
		total += dt;
		iters++;
	}
	printf("sgemm %c%c M=%d K=%d N=%d: best %.1f GFLOP/s, mean %.1f GFLOP/s (%d iters)\n", transA ? 'T' : 'N',
	       transB ? 'T' : 'N', m, k, n, flops / best * 1e-9, flops / (total / iters) * 1e-9, iters);
	free(a), free(b), free(c);
}

// y = A * x (N) or A^T * x (T) with A m x n; reports GB/s of A read.
static void bench_gemv(int m, int n, int trans) {
	float *a = randmat((size_t)m * n), *x = randmat(m > n ? m : n), *y = randmat(m > n ? m : n);
	enum CBLAS_TRANSPOSE ta = trans ? CblasTrans : CblasNoTrans;
	cblas_sgemv(CblasRowMajor, ta, m, n, 1.0f, a, n, x, 1, 0.0f, y, 1);
	double best = 1e30, total = 0;
	int iters = 0;
	double start = now();
	while (now() - start < 1.5 || iters < 5) {
		double t0 = now();
		cblas_sgemv(CblasRowMajor, ta, m, n, 1.0f, a, n, x, 1, 0.0f, y, 1);
		double dt = now() - t0;
		if (dt < best) best = dt;
		total += dt;
		iters++;
	}
	double bytes = 4.0 * m * n;
	printf("sgemv %c m=%d n=%d: best %.1f GB/s, mean %.1f GB/s of A (%.1f GFLOP/s best)\n", trans ? 'T' : 'N', m, n, bytes / best * 1e-9,
	       bytes / (total / iters) * 1e-9, 2.0 * m * n / best * 1e-9);
	free(a), free(x), free(y);
}

int main(void) {
	printf("OpenBLAS config: %s\ncore: %s, threads: %d\n", openblas_get_config(), openblas_get_corename(),
	       openblas_get_num_threads());
	int shapes[][3] = {{1024, 1024, 1024}, {128, 2048, 8192}, {512, 256, 688}};
	int trans[][2] = {{0, 0}, {0, 1}, {1, 0}};
	for (int i = 0; i < 3; i++)
		for (int t = 0; t < 3; t++) bench_gemm(shapes[i][0], shapes[i][1], shapes[i][2], trans[t][0], trans[t][1]);
	bench_gemv(2048, 8192, 0);
	bench_gemv(2048, 8192, 1);
	return 0;
}
