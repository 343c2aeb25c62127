/* highdim-peak.c — the machine's measured peak for the cosine/dot kernel's
 * operation mix: one fused multiply-add per element (acc += x * y), on
 * registers only (14 of them), with 12 independent accumulators to hide the
 * latency, on the widest vectors the processor has (AVX-512, else AVX2
 * with FMA).  The
 * result, in G multiply-adds per second per core, is the ceiling an exact
 * search's rate (query rows x reference rows x columns / seconds / cores)
 * is reported against in bench/README.md.  Usage: bench-highdim-peak [s] */
#include <config.h>
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHAINS 12

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

__attribute__((target("avx2,fma"), noinline))
static float dot_mix_avx2(long reps, float seed)
{
    __m256 acc[CHAINS];
    const __m256 x = _mm256_set1_ps(1.0f), y = _mm256_set1_ps(seed * 1e-9f);
    for (int c = 0; c < CHAINS; c++)
        acc[c] = _mm256_setzero_ps();
    for (long r = 0; r < reps; r++) {
#pragma GCC unroll 12
        for (int c = 0; c < CHAINS; c++)
            acc[c] = _mm256_fmadd_ps(x, y, acc[c]);
        __asm__ volatile("" : "+x"(acc[0]), "+x"(acc[1]), "+x"(acc[2]), "+x"(acc[3]));
    }
    float lanes[8], sum = 0;
    for (int c = 0; c < CHAINS; c++) {
        _mm256_storeu_ps(lanes, acc[c]);
        for (int k = 0; k < 8; k++)
            sum += lanes[k];
    }
    return sum;
}

__attribute__((target("avx512f"), noinline))
static float dot_mix_avx512(long reps, float seed)
{
    __m512 acc[CHAINS];
    const __m512 x = _mm512_set1_ps(1.0f), y = _mm512_set1_ps(seed * 1e-9f);
    for (int c = 0; c < CHAINS; c++)
        acc[c] = _mm512_setzero_ps();
    for (long r = 0; r < reps; r++) {
#pragma GCC unroll 12
        for (int c = 0; c < CHAINS; c++)
            acc[c] = _mm512_fmadd_ps(x, y, acc[c]);
        __asm__ volatile("" : "+v"(acc[0]), "+v"(acc[1]), "+v"(acc[2]), "+v"(acc[3]));
    }
    float sum = 0;
    for (int c = 0; c < CHAINS; c++)
        sum += _mm512_reduce_add_ps(acc[c]);
    return sum;
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
    printf("measured peak of the dot operation mix (%s fma; registers only): %.1f G "
           "multiply-adds per second per core%s\n", wide ? "AVX-512" : "AVX2",
           fmas / (t1 - t0) * 1e-9, sink == 12345.0f ? " " : "");
    return 0;
}
