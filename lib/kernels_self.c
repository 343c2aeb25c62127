/* kernels_self.c — the distance kernel of a self-match on a budget.
 *
 * A self-match (S is T, a row never its own neighbour) on a budget gets
 * every distance twice over: when query a scans a leaf holding row b,
 * d(a, b) is also a candidate for b (on W6, recall 0.81 -> 0.90 for 16
 * leaves of the former ranking).  The kernels below compute the distances
 * once, return the hits of the queries as pann_block_filter does, and
 * offer each row of the leaf the nearest of the queries through rev
 * (rev_offer in kernels.h), in slot order.  The minimum of a set does not
 * depend on the order it is taken in, and which pairs are computed depends
 * only on each group's own search (its rows' answers in best are written by
 * it alone; the offers are merged in after the search), so the answers do
 * not depend on the threads, and a row's proof, from its own search, stays
 * true.  A group also offers its rows' own answers (exact_budget.c), so
 * that the kernel's first look at rev spares the lock for the many offers
 * worse than what a row has.  Each query's bound is lowered as the leaf is
 * scanned to the least value met of a row other than its own, so that a
 * first leaf (bound +inf) returns a few hits, not all of its rows.
 * Rounding as the filtering kernels of kernels.c: columns summed in order,
 * L2 with one fmaf per column.  Plain C, AVX2 with FMA and AVX-512; kernels.c
 * chooses with the distance kernels.
 */
#include <config.h>
#include <math.h>
#include "kernels.h"
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

size_t kernel_sym_filter_plain(const float *base, size_t nblk, size_t d, bool squared,
                               const float *const *queries, const uint32_t *qrow,
                               const float *bound, size_t nq, pann_hit *hits,
                               size_t first_slot, const uint32_t *slot_row, uint64_t *rev)
{
    size_t nh = 0;
    float limit[PANN_QBATCH];
    for (size_t q = 0; q < nq; q++)
        limit[q] = bound[q];
    for (size_t blk = 0; blk < nblk; blk++, base += d * PANN_LANES) {
        for (size_t r = 0; r < PANN_LANES; r++) {
            size_t slot = first_slot + blk * PANN_LANES + r;
            uint32_t row = slot_row[slot];
            uint64_t least = UINT64_MAX;
            for (size_t q = 0; q < nq; q++) {
                float acc = 0.0f;
                for (size_t j = 0; j < d; j++) {
                    float diff = queries[q][j] - base[j * PANN_LANES + r];
                    acc = squared ? fmaf(diff, diff, acc) : acc + fabsf(diff);
                }
                if (acc <= limit[q]) {
                    hits[nh++] = (pann_hit){ (uint32_t)q, (uint32_t)slot, acc };
                    if (row != PANN_NONE && row != qrow[q])
                        limit[q] = acc;
                }
                uint64_t key = rev_key(acc, qrow[q]);
                if (row != PANN_NONE && qrow[q] != row && key < least)
                    least = key;
            }
            if (least != UINT64_MAX)
                rev_offer(rev, slot, least);
        }
    }
    return nh;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* A kernel instantiated for each query count, so that its loops over the
 * queries unroll. */
#define SYM_BY_COUNT(KERNEL) switch (nq) {                                   \
    case 1: return KERNEL(1);                                                 \
    case 2: return KERNEL(2);                                                 \
    case 3: return KERNEL(3);                                                 \
    case 4: return KERNEL(4);                                                 \
    case 5: return KERNEL(5);                                                 \
    case 6: return KERNEL(6);                                                 \
    case 7: return KERNEL(7);                                                 \
    default: return KERNEL(8);                                                \
    }

/* Q queries, a constant after inlining (1 to 8); queries and qrow
 * padded to PANN_QBATCH with copies of the first, and in increasing row
 * order, so that the first of equal values is the lowest row. */
__attribute__((target("avx512f"), always_inline))
static inline size_t sym512_q(const float *base, size_t nblk, size_t d, bool squared,
                              const float *const *queries, const uint32_t *qrow,
                              const float *bound, size_t nq, pann_hit *hits, size_t first_slot,
                              const uint32_t *slot_row, uint64_t *rev, const int Q)
{
    size_t nh = 0;
    const __m512 one = _mm512_set1_ps(1.0f), inf = _mm512_set1_ps(INFINITY);
    const __m512i none = _mm512_set1_epi32((int)PANN_NONE);
    __m512i qr[PANN_QBATCH];
    float limit[PANN_QBATCH];
#pragma GCC unroll 8
    for (int q = 0; q < Q; q++) {
        qr[q] = _mm512_set1_epi32((int)qrow[q]);
        limit[q] = bound[q];
    }
    /* one or two queries: four or two blocks at a time, for the
     * accumulators' latency (each block's columns still summed in order) */
    const size_t step = Q == 1 ? 4 : Q == 2 ? 2 : 1;
    for (size_t blk0 = 0; blk0 < nblk; blk0 += step, base += step * d * PANN_LANES) {
        size_t nb = blk0 + step <= nblk ? step : nblk - blk0;
        __m512 accs[4][PANN_QBATCH];
        const float *bases[4];
        for (size_t k = 0; k < step; k++) {
            bases[k] = base + (k < nb ? k : 0) * d * PANN_LANES;
#pragma GCC unroll 8
            for (int q = 0; q < Q; q++)
                accs[k][q] = _mm512_setzero_ps();
        }
        if (squared) {
            for (size_t j = 0; j < d; j++) {
#pragma GCC unroll 4
                for (size_t k = 0; k < step; k++) {
                    __m512 col = _mm512_load_ps(bases[k] + j * PANN_LANES);
#pragma GCC unroll 8
                    for (int q = 0; q < Q; q++) {
                        __m512 diff = _mm512_sub_ps(_mm512_set1_ps(queries[q][j]), col);
                        accs[k][q] = _mm512_fmadd_ps(diff, diff, accs[k][q]);
                    }
                }
            }
        } else {
            for (size_t j = 0; j < d; j++) {
#pragma GCC unroll 4
                for (size_t k = 0; k < step; k++) {
                    __m512 col = _mm512_load_ps(bases[k] + j * PANN_LANES);
#pragma GCC unroll 8
                    for (int q = 0; q < Q; q++) {
                        __m512 diff = _mm512_sub_ps(_mm512_set1_ps(queries[q][j]), col);
                        accs[k][q] = _mm512_fmadd_ps(_mm512_abs_ps(diff), one, accs[k][q]);
                    }
                }
            }
        }
        for (size_t k = 0; k < nb; k++) {
            size_t blk = blk0 + k;
            __m512 *acc = accs[k];
            size_t slot0 = first_slot + blk * PANN_LANES;
            __m512i rows = _mm512_loadu_si512(slot_row + slot0), arg = none;
            for (size_t q = 0; q < nq; q++) {
                __mmask16 pass = _mm512_cmp_ps_mask(acc[q], _mm512_set1_ps(limit[q]), _CMP_LE_OQ);
                if (!pass)
                    continue;
                float lanes[PANN_LANES];
                _mm512_storeu_ps(lanes, acc[q]);
                for (unsigned bits = pass; bits; bits &= bits - 1) {
                    int r = __builtin_ctz(bits);
                    hits[nh++] = (pann_hit){ (uint32_t)q, (uint32_t)(slot0 + r), lanes[r] };
                }
                /* what the rest must beat: the least value of a row other than
                 * the query's own */
                __mmask16 row = pass & _mm512_cmpneq_epi32_mask(rows, qr[q]) &
                                _mm512_cmpneq_epi32_mask(rows, none);
                if (row) {
                    float least_value = _mm512_mask_reduce_min_ps(row, acc[q]);
                    limit[q] = least_value < limit[q] ? least_value : limit[q];
                }
            }
            __m512 least = inf;
    #pragma GCC unroll 8
            for (int q = 0; q < Q; q++) {
                __mmask16 other = _mm512_cmpneq_epi32_mask(rows, qr[q]);
                __mmask16 lower = _mm512_mask_cmp_ps_mask(other, acc[q], least, _CMP_LT_OQ);
                least = _mm512_mask_mov_ps(least, lower, acc[q]);
                arg = _mm512_mask_mov_epi32(arg, lower, qr[q]);
            }
            __mmask16 live = _mm512_cmpneq_epi32_mask(rows, none) &
                             _mm512_cmp_ps_mask(least, inf, _CMP_LT_OQ);
            if (!live)
                continue;
            /* a first look at the values held, without the lock (each 64-bit
             * element is read whole; a stale one only costs a vain attempt) */
            __m512i k0 = _mm512_loadu_si512(rev + slot0), k1 = _mm512_loadu_si512(rev + slot0 + 8);
            __m512i held = _mm512_inserti64x4(
                _mm512_castsi256_si512(_mm512_cvtepi64_epi32(_mm512_srli_epi64(k0, 32))),
                _mm512_cvtepi64_epi32(_mm512_srli_epi64(k1, 32)), 1);
            __mmask16 offer = _mm512_mask_cmple_epu32_mask(live, _mm512_castps_si512(least), held);
            if (!offer)
                continue;
            float value[PANN_LANES];
            uint32_t from[PANN_LANES];
            _mm512_storeu_ps(value, least);
            _mm512_storeu_si512(from, arg);
            for (unsigned bits = offer; bits; bits &= bits - 1) {
                int r = __builtin_ctz(bits);
                rev_offer(rev, slot0 + r, rev_key(value[r], from[r]));
            }
        }
    }
    return nh;
}

__attribute__((target("avx512f")))
size_t kernel_sym_filter_avx512(const float *base, size_t nblk, size_t d, bool squared,
                                const float *const *queries, const uint32_t *qrow,
                                const float *bound, size_t nq, pann_hit *hits,
                                size_t first_slot, const uint32_t *slot_row, uint64_t *rev)
{
#define SYM_Q(Q) sym512_q(base, nblk, d, squared, queries, qrow, bound, nq, hits, first_slot, \
                          slot_row, rev, Q)
    SYM_BY_COUNT(SYM_Q);
#undef SYM_Q
}
#endif

#if defined(__x86_64__) && defined(__GNUC__)
/* The self-match kernel for AVX2 with FMA: sym512_q's work on the two
 * halves of a block, the masks through movemask, the offers checked one
 * lane at a time.  Which values pass and which offers are made may differ
 * from sym512_q's in how soon a limit is lowered, never in the least of
 * them, so the answers are the same. */
__attribute__((target("avx2,fma"), always_inline))
static inline size_t sym256_q(const float *base, size_t nblk, size_t d, bool squared,
                              const float *const *queries, const uint32_t *qrow,
                              const float *bound, size_t nq, pann_hit *hits, size_t first_slot,
                              const uint32_t *slot_row, uint64_t *rev, const int Q)
{
    size_t nh = 0;
    const __m256 one = _mm256_set1_ps(1.0f), inf = _mm256_set1_ps(INFINITY);
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256i none = _mm256_set1_epi32((int)PANN_NONE);
    float limit[PANN_QBATCH];
    for (int q = 0; q < Q; q++)
        limit[q] = bound[q];
    for (size_t blk = 0; blk < nblk; blk++, base += d * PANN_LANES) {
        __m256 acc[PANN_QBATCH][2];
#pragma GCC unroll 8
        for (int q = 0; q < Q; q++)
            acc[q][0] = acc[q][1] = _mm256_setzero_ps();
        for (size_t j = 0; j < d; j++) {
            __m256 col[2] = { _mm256_load_ps(base + j * PANN_LANES),
                              _mm256_load_ps(base + j * PANN_LANES + 8) };
#pragma GCC unroll 8
            for (int q = 0; q < Q; q++)
                for (int h = 0; h < 2; h++) {
                    __m256 diff = _mm256_sub_ps(_mm256_set1_ps(queries[q][j]), col[h]);
                    acc[q][h] = squared ? _mm256_fmadd_ps(diff, diff, acc[q][h])
                                        : _mm256_fmadd_ps(_mm256_andnot_ps(sign, diff), one,
                                                          acc[q][h]);
                }
        }
        size_t slot0 = first_slot + blk * PANN_LANES;
        __m256i rows[2] = { _mm256_loadu_si256((const __m256i *)(slot_row + slot0)),
                            _mm256_loadu_si256((const __m256i *)(slot_row + slot0 + 8)) };
        unsigned real = ~((unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(
                              _mm256_cmpeq_epi32(rows[0], none))) |
                          (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(
                              _mm256_cmpeq_epi32(rows[1], none))) << 8) & 0xffffu;
        __m256 least[2] = { inf, inf };
        __m256i arg[2] = { none, none };
        for (int q = 0; q < Q; q++) {
            __m256i qr = _mm256_set1_epi32((int)qrow[q]);
            float lanes[PANN_LANES];
            _mm256_storeu_ps(lanes, acc[q][0]);
            _mm256_storeu_ps(lanes + 8, acc[q][1]);
            unsigned own = 0;
            for (int h = 0; h < 2; h++) {
                __m256 same = _mm256_castsi256_ps(_mm256_cmpeq_epi32(rows[h], qr));
                own |= (unsigned)_mm256_movemask_ps(same) << (8 * h);
                __m256 lower = _mm256_andnot_ps(same, _mm256_cmp_ps(acc[q][h], least[h],
                                                                     _CMP_LT_OQ));
                least[h] = _mm256_blendv_ps(least[h], acc[q][h], lower);
                arg[h] = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(arg[h]),
                                                              _mm256_castsi256_ps(qr), lower));
            }
            if ((size_t)q >= nq)
                continue;
            __m256 lim = _mm256_set1_ps(limit[q]);
            unsigned pass = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(acc[q][0], lim, _CMP_LE_OQ)) |
                            (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(acc[q][1], lim, _CMP_LE_OQ))
                                << 8;
            for (unsigned bits = pass; bits; bits &= bits - 1) {
                int r = __builtin_ctz(bits);
                hits[nh++] = (pann_hit){ (uint32_t)q, (uint32_t)(slot0 + r), lanes[r] };
                if ((real & ~own) >> r & 1u)   /* what the rest must beat */
                    limit[q] = lanes[r] < limit[q] ? lanes[r] : limit[q];
            }
        }
        float value[PANN_LANES];
        uint32_t from[PANN_LANES];
        _mm256_storeu_ps(value, least[0]);
        _mm256_storeu_ps(value + 8, least[1]);
        _mm256_storeu_si256((__m256i *)from, arg[0]);
        _mm256_storeu_si256((__m256i *)(from + 8), arg[1]);
        for (unsigned bits = real; bits; bits &= bits - 1) {
            int r = __builtin_ctz(bits);
            if (!(value[r] < INFINITY))
                continue;
            uint64_t key = rev_key(value[r], from[r]);
            /* a first look without the lock, as sym512_q */
            if (key < __atomic_load_n(&rev[slot0 + r], __ATOMIC_RELAXED))
                rev_offer(rev, slot0 + r, key);
        }
    }
    return nh;
}

__attribute__((target("avx2,fma")))
size_t kernel_sym_filter_avx2(const float *base, size_t nblk, size_t d, bool squared,
                              const float *const *queries, const uint32_t *qrow,
                              const float *bound, size_t nq, pann_hit *hits,
                              size_t first_slot, const uint32_t *slot_row, uint64_t *rev)
{
#define SYM_Q(Q) sym256_q(base, nblk, d, squared, queries, qrow, bound, nq, hits, first_slot, \
                          slot_row, rev, Q)
    SYM_BY_COUNT(SYM_Q);
#undef SYM_Q
}
#endif
