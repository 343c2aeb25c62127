/* kernels.c — the filtering distance kernel behind every exact search.
 *
 * pann_block_filter compares up to PANN_QBATCH queries with a run of
 * blocks of T and returns only the (query, row, value) triples that pass
 * each query's bound — the current best for 1-NN, the K-th best for K-NN, a
 * threshold for filtering.  The values stay in registers: for each block
 * the eight queries' accumulators are updated column by column (one load of
 * T per column for all eight), then compared with the bounds, so almost
 * nothing leaves the kernel.  Three versions with identical rounding
 * (columns summed in order; L2 and cosine accumulate with one fused
 * multiply-add per column, fmaf() in C, so the sums round alike) are
 * chosen at run time: AVX-512, AVX2 with FMA, and plain C, which is also
 * the reference the others are tested against.  The choice, made here once
 * for the whole kernel family (this file, kernels_box.c, kernels_self.c),
 * gives every search routine the same instruction set (pann_kernels).
 */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PANN_X86 1
#endif
#include "pann.h"
#include "internal.h"
#include "kernels.h"

/* ---- plain C: the reference ---------------------------------------------- */

static size_t filter_generic(const float *base, size_t nblk, size_t d, const unsigned char *cat,
                             pann_metric_kind kind, const float *const *queries,
                             const float *bound, bool max_mode, pann_hit *hits,
                             size_t first_slot, size_t nq)
{
    size_t nh = 0;
    for (size_t blk = 0; blk < nblk; blk++, base += d * PANN_LANES) {
        for (size_t q = 0; q < nq; q++) {
            float acc[PANN_LANES] = {0};
            const float *x = queries[q];
            for (size_t j = 0; j < d; j++) {
                const float *col = base + j * PANN_LANES;
                for (int r = 0; r < PANN_LANES; r++) {
                    if (cat && cat[j]) {
                        acc[r] += x[j] != col[r] ? 1.0f : 0.0f;
                    } else if (kind == PANN_L1) {
                        acc[r] += fabsf(x[j] - col[r]);
                    } else if (kind == PANN_L2) {
                        float diff = x[j] - col[r];
                        acc[r] = fmaf(diff, diff, acc[r]);
                    } else {
                        acc[r] = fmaf(x[j], col[r], acc[r]);
                    }
                }
            }
            for (int r = 0; r < PANN_LANES; r++) {
                float v = kind == PANN_COSINE ? 1.0f - acc[r] : acc[r];
                if (max_mode ? v >= bound[q] : v <= bound[q])
                    hits[nh++] = (pann_hit){ (uint32_t)q, (uint32_t)(first_slot + blk * PANN_LANES + r), v };
            }
        }
    }
    return nh;
}

#ifdef PANN_X86
/* ---- AVX-512: one 16-lane register per query, eight queries -------------- */

#define Q8 PANN_QBATCH

/* Q queries (a compile-time constant after inlining: 1, 2, 4 or 8), so
 * that pruned queries cost nothing and the accumulators stay in registers. */
__attribute__((target("avx512f"), always_inline))
static inline void update512(__m512 *acc, __m512 col, const float *const *queries, size_t j,
                             bool is_cat, pann_metric_kind kind, const int Q)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    if (is_cat) {
#pragma GCC unroll 8
        for (int q = 0; q < Q; q++) {
            __mmask16 differ = _mm512_cmp_ps_mask(_mm512_set1_ps(queries[q][j]), col, _CMP_NEQ_UQ);
            acc[q] = _mm512_mask_add_ps(acc[q], differ, acc[q], one);
        }
    } else if (kind == PANN_L1) {
        /* acc + |diff| as fma(|diff|, 1, acc): the product by 1 is exact,
         * so the single rounding is the addition's — the same bits — but
         * the additions go to the FMA pipes, leaving the add pipes to the
         * subtractions */
#pragma GCC unroll 8
        for (int q = 0; q < Q; q++) {
            __m512 diff = _mm512_sub_ps(_mm512_set1_ps(queries[q][j]), col);
            acc[q] = _mm512_fmadd_ps(_mm512_abs_ps(diff), one, acc[q]);
        }
    } else if (kind == PANN_L2) {
#pragma GCC unroll 8
        for (int q = 0; q < Q; q++) {
            __m512 diff = _mm512_sub_ps(_mm512_set1_ps(queries[q][j]), col);
            acc[q] = _mm512_fmadd_ps(diff, diff, acc[q]);
        }
    } else {
#pragma GCC unroll 8
        for (int q = 0; q < Q; q++)
            acc[q] = _mm512_fmadd_ps(_mm512_set1_ps(queries[q][j]), col, acc[q]);
    }
}

__attribute__((target("avx512f"), always_inline))
static inline size_t filter512_q(const float *base, size_t nblk, size_t d,
                                 const unsigned char *cat, pann_metric_kind kind,
                                 const float *const *queries, const float *bound, bool max_mode,
                                 pann_hit *hits, size_t first_slot, size_t nq, const int Q)
{
    size_t nh = 0;
    const __m512 one = _mm512_set1_ps(1.0f);
    for (size_t blk = 0; blk < nblk; blk++, base += d * PANN_LANES) {
        __m512 acc[Q8];
#pragma GCC unroll 8
        for (int q = 0; q < Q; q++)
            acc[q] = _mm512_setzero_ps();
        /* without categorical columns, one loop per metric with no
         * branch inside (update512 is inlined with a constant kind) */
        if (!cat && kind == PANN_L1) {
            for (size_t j = 0; j < d; j++)
                update512(acc, _mm512_load_ps(base + j * PANN_LANES), queries, j, false,
                          PANN_L1, Q);
        } else if (!cat && kind == PANN_L2) {
            for (size_t j = 0; j < d; j++)
                update512(acc, _mm512_load_ps(base + j * PANN_LANES), queries, j, false,
                          PANN_L2, Q);
        } else if (!cat && kind == PANN_COSINE) {
            for (size_t j = 0; j < d; j++)
                update512(acc, _mm512_load_ps(base + j * PANN_LANES), queries, j, false,
                          PANN_COSINE, Q);
        } else {
            for (size_t j = 0; j < d; j++)
                update512(acc, _mm512_load_ps(base + j * PANN_LANES), queries, j,
                          cat && cat[j], kind, Q);
        }
        for (size_t q = 0; q < nq; q++) {
            __m512 v = kind == PANN_COSINE ? _mm512_sub_ps(one, acc[q]) : acc[q];
            __m512 limit = _mm512_set1_ps(bound[q]);
            __mmask16 pass = max_mode ? _mm512_cmp_ps_mask(v, limit, _CMP_GE_OQ)
                                      : _mm512_cmp_ps_mask(v, limit, _CMP_LE_OQ);
            if (!pass)
                continue;
            float lanes[PANN_LANES];
            _mm512_storeu_ps(lanes, v);
            for (unsigned bits = pass; bits; bits &= bits - 1) {
                int r = __builtin_ctz(bits);
                hits[nh++] = (pann_hit){ (uint32_t)q, (uint32_t)(first_slot + blk * PANN_LANES + r),
                                         lanes[r] };
            }
        }
    }
    return nh;
}

__attribute__((target("avx512f")))
static size_t filter_avx512(const float *base, size_t nblk, size_t d, const unsigned char *cat,
                            pann_metric_kind kind, const float *const *queries,
                            const float *bound, bool max_mode, pann_hit *hits,
                            size_t first_slot, size_t nq)
{
    if (nq <= 1)
        return filter512_q(base, nblk, d, cat, kind, queries, bound, max_mode, hits, first_slot, nq, 1);
    if (nq <= 2)
        return filter512_q(base, nblk, d, cat, kind, queries, bound, max_mode, hits, first_slot, nq, 2);
    if (nq <= 4)
        return filter512_q(base, nblk, d, cat, kind, queries, bound, max_mode, hits, first_slot, nq, 4);
    return filter512_q(base, nblk, d, cat, kind, queries, bound, max_mode, hits, first_slot, nq, 8);
}

/* ---- AVX2: each 16-lane block as two halves of eight lanes --------------- */

__attribute__((target("avx2,fma")))
static void half_avx2(const float *base, size_t d, const unsigned char *cat,
                      pann_metric_kind kind, const float *const *queries, __m256 acc[Q8])
{
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 one = _mm256_set1_ps(1.0f);
#pragma GCC unroll 8
    for (int q = 0; q < Q8; q++)
        acc[q] = _mm256_setzero_ps();
    for (size_t j = 0; j < d; j++) {
        __m256 col = _mm256_load_ps(base + j * PANN_LANES);
        bool is_cat = cat && cat[j];
#pragma GCC unroll 8
        for (int q = 0; q < Q8; q++) {
            __m256 x = _mm256_set1_ps(queries[q][j]);
            if (is_cat) {
                __m256 differ = _mm256_cmp_ps(x, col, _CMP_NEQ_UQ);
                acc[q] = _mm256_add_ps(acc[q], _mm256_and_ps(differ, one));
            } else if (kind == PANN_L1) {
                acc[q] = _mm256_add_ps(acc[q], _mm256_and_ps(_mm256_sub_ps(x, col), absmask));
            } else if (kind == PANN_L2) {
                __m256 diff = _mm256_sub_ps(x, col);
                acc[q] = _mm256_fmadd_ps(diff, diff, acc[q]);
            } else {
                acc[q] = _mm256_fmadd_ps(x, col, acc[q]);
            }
        }
    }
    if (kind == PANN_COSINE)
        for (int q = 0; q < Q8; q++)
            acc[q] = _mm256_sub_ps(one, acc[q]);
}

__attribute__((target("avx2,fma")))
static size_t filter_avx2(const float *base, size_t nblk, size_t d, const unsigned char *cat,
                          pann_metric_kind kind, const float *const *queries,
                          const float *bound, bool max_mode, pann_hit *hits,
                          size_t first_slot, size_t nq)
{
    size_t nh = 0;
    for (size_t blk = 0; blk < nblk; blk++, base += d * PANN_LANES) {
        for (int half = 0; half < 2; half++) {
            __m256 acc[Q8];
            half_avx2(base + half * 8, d, cat, kind, queries, acc);
            for (size_t q = 0; q < nq; q++) {
                __m256 limit = _mm256_set1_ps(bound[q]);
                __m256 pass = max_mode ? _mm256_cmp_ps(acc[q], limit, _CMP_GE_OQ)
                                       : _mm256_cmp_ps(acc[q], limit, _CMP_LE_OQ);
                unsigned bits = (unsigned)_mm256_movemask_ps(pass);
                if (!bits)
                    continue;
                float lanes[8];
                _mm256_storeu_ps(lanes, acc[q]);
                for (; bits; bits &= bits - 1) {
                    int r = __builtin_ctz(bits);
                    hits[nh++] = (pann_hit){ (uint32_t)q,
                        (uint32_t)(first_slot + blk * PANN_LANES + half * 8 + r), lanes[r] };
                }
            }
        }
    }
    return nh;
}
#endif

/* ---- the choice: one instruction set for every kernel -------------------- */

static const kernel_set generic_set = {
    "generic", filter_generic, kernel_point_bounds_plain, kernel_sym_filter_plain
};
#ifdef PANN_X86
static const kernel_set avx2_set = {
    "avx2", filter_avx2, kernel_point_bounds_plain, kernel_sym_filter_avx2
};
static const kernel_set avx512_set = {
    "avx512", filter_avx512, kernel_point_bounds_avx512, kernel_sym_filter_avx512
};
#endif

static const kernel_set *choose_kernel(void)
{
#ifdef PANN_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return &avx512_set;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return &avx2_set;
#endif
    return &generic_set;
}

static const kernel_set *kernel_by_name(const char *name)
{
    if (strcmp(name, "generic") == 0)
        return &generic_set;
#ifdef PANN_X86
    __builtin_cpu_init();
    if (strcmp(name, "avx2") == 0 && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma"))
        return &avx2_set;
    if (strcmp(name, "avx512") == 0 && __builtin_cpu_supports("avx512f"))
        return &avx512_set;
#endif
    return NULL;
}

static const kernel_set *current_kernel;

const kernel_set *pann_kernels(void)
{
    const kernel_set *k = __atomic_load_n(&current_kernel, __ATOMIC_RELAXED);
    if (!k) {
        const char *forced = getenv("PANN_KERNEL");
        k = forced && kernel_by_name(forced) ? kernel_by_name(forced) : choose_kernel();
        __atomic_store_n(&current_kernel, k, __ATOMIC_RELAXED);
    }
    return k;
}

int pann_kernel_select(const char *name)
{
    const kernel_set *k = name ? kernel_by_name(name) : choose_kernel();
    if (!k)
        return -1;
    __atomic_store_n(&current_kernel, k, __ATOMIC_RELAXED);
    return 0;
}

const char *pann_kernel_name(void)
{
    return pann_kernels()->name;
}

size_t pann_block_filter(const pann_metric *m, const pann_blocks *b, size_t first, size_t nblk,
                         const float *const *queries, size_t nq, const float *bound,
                         pann_mode mode, pann_hit *hits)
{
    filter_fn f = pann_kernels()->filter;
    /* The vector kernels always compute PANN_QBATCH queries: pad with the
     * first one and ignore the extra results. */
    const float *padded[PANN_QBATCH];
    for (size_t q = 0; q < PANN_QBATCH; q++)
        padded[q] = queries[q < nq ? q : 0];
    size_t nh = f(b->v + first * b->d * PANN_LANES, nblk, b->d, m->is_cat, m->kind, padded,
                  bound, mode == PANN_MAX, hits, first * PANN_LANES, nq);
    /* slots past the end of T (the last block's padding) are not rows */
    size_t kept = 0;
    for (size_t i = 0; i < nh; i++)
        if (hits[i].slot < b->n)
            hits[kept++] = hits[i];
    return kept;
}
