/* highdim-peak.c — the machine's measured peak for the cosine/dot kernel's
 * operation mix: one fused multiply-add per element (acc += x * y), on
 * registers only (14 of them), with 12 independent accumulators to hide the
 * latency, on the widest vectors the processor has (AVX-512, else AVX2
 * with FMA).  The
 * result, in G multiply-adds per second per core, is the ceiling an exact
 * search's rate (query rows x reference rows x columns / seconds / cores)
 * is reported against in bench/README.md.  With S_ROWS T_ROWS D, it then
 * times pann's exact search (brute force, cosine, one thread, the kernel
 * pann chooses) on random unit rows of that size and prints its rate and
 * its share of the peak measured in the same run.  Both are timed in the
 * process's CPU seconds, so that other work on the machine taking turns
 * with this one does not count against either.
 * Usage: bench-highdim-peak [SECONDS [S_ROWS T_ROWS D]] */
#include <config.h>
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "pann.h"

#define CHAINS 12

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Twelve accumulators as twelve named registers: an array of them would
 * live in memory, and the stores would be the limit, not the FMAs.  The
 * empty asm makes each step's result a register the compiler must keep. */
#define STEP(fma, a) a = fma(x, y, a)
#define CHAIN_STEPS(fma) do { \
        STEP(fma, a0); STEP(fma, a1); STEP(fma, a2); STEP(fma, a3); STEP(fma, a4); \
        STEP(fma, a5); STEP(fma, a6); STEP(fma, a7); STEP(fma, a8); STEP(fma, a9); \
        STEP(fma, a10); STEP(fma, a11); \
        __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5), \
                         "+v"(a6), "+v"(a7), "+v"(a8), "+v"(a9), "+v"(a10), "+v"(a11)); \
    } while (0)

__attribute__((target("avx2,fma"), noinline))
static float dot_mix_avx2(long reps, float seed)
{
    const __m256 x = _mm256_set1_ps(1.0f), y = _mm256_set1_ps(seed * 1e-9f);
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
           a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
    for (long r = 0; r < reps; r++)
        CHAIN_STEPS(_mm256_fmadd_ps);
    __m256 sum = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                               _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    sum = _mm256_add_ps(sum, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    float lanes[8], total = 0;
    _mm256_storeu_ps(lanes, sum);
    for (int k = 0; k < 8; k++)
        total += lanes[k];
    return total;
}

__attribute__((target("avx512f"), noinline))
static float dot_mix_avx512(long reps, float seed)
{
    const __m512 x = _mm512_set1_ps(1.0f), y = _mm512_set1_ps(seed * 1e-9f);
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0,
           a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
    for (long r = 0; r < reps; r++)
        CHAIN_STEPS(_mm512_fmadd_ps);
    __m512 sum = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                               _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    sum = _mm512_add_ps(sum, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
    return _mm512_reduce_add_ps(sum);
}

/* n x d rows of uniform noise on [-1, 1), each scaled to unit norm. */
static void unit_rows(pann_matrix *m, size_t n, size_t d, unsigned seed)
{
    pann_error err;
    if (pann_matrix_alloc(m, n, d, &err) != 0) {
        fprintf(stderr, "bench-highdim-peak: %s\n", err.msg);
        exit(2);
    }
    srand(seed);
    for (size_t i = 0; i < n; i++) {
        double ss = 0;
        for (size_t j = 0; j < d; j++) {
            float v = (float)rand() / ((float)RAND_MAX / 2) - 1.0f;
            m->v[i * d + j] = v;
            ss += (double)v * v;
        }
        for (size_t j = 0; j < d; j++)
            m->v[i * d + j] /= (float)sqrt(ss);
    }
}

/* G multiply-adds per CPU second of pann's exact search, one thread. */
static double exact_rate(size_t ns, size_t nt, size_t d)
{
    pann_matrix S, T;
    unit_rows(&S, ns, d, 1);
    unit_rows(&T, nt, d, 2);
    pann_metric m = { .kind = PANN_COSINE, .d = d };
    pann_engine_opts o;
    pann_engine_opts_init(&o);
    o.threads = 1;
    o.exact_method = PANN_EXACT_BRUTE;
    pann_result r;
    pann_error err;
    double t0 = now();
    if (pann_match_exact(&S, &T, &m, &o, &r, &err) != 0) {
        fprintf(stderr, "bench-highdim-peak: %s\n", err.msg);
        exit(1);
    }
    double t1 = now();
    pann_result_free(&r);
    pann_matrix_free(&S);
    pann_matrix_free(&T);
    return (double)ns * nt * d / (t1 - t0) * 1e-9;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    __builtin_cpu_init();
    int wide = __builtin_cpu_supports("avx512f");
    if (!wide && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
        printf("no AVX2 with FMA on this machine: no peak measured\n");
        return 0;
    }
    long reps = 1000000;
    double t0, t1;
    float sink = 0;
    for (;;) {   /* grow until the run lasts the time asked */
        t0 = now();
        sink += wide ? dot_mix_avx512(reps, (float)reps) : dot_mix_avx2(reps, (float)reps);
        t1 = now();
        if (t1 - t0 > seconds)
            break;
        reps *= 2;
    }
    double fmas = (double)reps * CHAINS * (wide ? 16 : 8);
    double peak = fmas / (t1 - t0) * 1e-9;
    printf("measured peak of the dot operation mix (%s fma; registers only): %.1f G "
           "multiply-adds per second per core%s\n", wide ? "AVX-512" : "AVX2", peak,
           sink == 12345.0f ? " " : "");
    if (argc > 4) {
        size_t ns = strtoul(argv[2], NULL, 10), nt = strtoul(argv[3], NULL, 10);
        size_t d = strtoul(argv[4], NULL, 10);
        double rate = exact_rate(ns, nt, d);
        printf("pann exact search (%s kernel, cosine, %zu x %zu x %zu, one thread): %.1f G "
               "multiply-adds per second per core, %.0f%% of the peak\n", pann_kernel_name(),
               ns, nt, d, rate, 100 * rate / peak);
    }
    return 0;
}
