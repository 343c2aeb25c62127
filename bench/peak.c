/* peak.c — the machine's measured peak for the L1 kernel's operation mix:
 * per element, a subtract, an absolute value and an accumulation (as an
 * FMA by 1, like lib/kernels.c), on registers only (no loads), with enough
 * independent accumulators to hide latency.  The result, in element-
 * distances per second per core, is the ceiling the kernel is measured
 * against.  Usage: bench-peak [seconds] */
#include <config.h>
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define CHAINS 12

__attribute__((target("avx512f"), noinline))
static float l1_mix_avx512(long reps, float seed)
{
    __m512 acc[CHAINS], q[CHAINS];
    const __m512 one = _mm512_set1_ps(1.0f), col = _mm512_set1_ps(seed * 0.5f);
    for (int c = 0; c < CHAINS; c++) {
        acc[c] = _mm512_setzero_ps();
        q[c] = _mm512_set1_ps(seed + c);
    }
    for (long r = 0; r < reps; r++) {
#pragma GCC unroll 12
        for (int c = 0; c < CHAINS; c++)
            acc[c] = _mm512_fmadd_ps(_mm512_abs_ps(_mm512_sub_ps(q[c], col)), one, acc[c]);
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
    if (!__builtin_cpu_supports("avx512f")) {
        printf("no AVX-512 on this machine: no peak measured\n");
        return 0;
    }
    long reps = 1000000;
    double t0 = now(), t1;
    float sink = 0;
    for (;;) {   /* grow until the run lasts the time asked */
        t0 = now();
        sink += l1_mix_avx512(reps, (float)reps);
        t1 = now();
        if (t1 - t0 > seconds)
            break;
        reps *= 2;
    }
    double elems = (double)reps * CHAINS * 16;
    printf("measured peak of the L1 operation mix (sub, abs, fma; registers only): "
           "%.1f G element-distances per second per core%s\n", elems / (t1 - t0) * 1e-9,
           sink == 12345.0f ? " " : "");
    return 0;
}
