/* kernels_gemm.c — the matrix-product kernel of the brute force in high
 * dimension (dot products for cosine, squared differences for L2).
 *
 * pann_gemm_filter computes the values of up to GEMM_MAX_QUERIES queries
 * with a run of blocks of T the way a matrix product does: a micro-kernel
 * keeps a tile of MR queries by one or two blocks (16 or 32 rows) of
 * accumulators in registers and, for each column, loads the rows' values
 * once and broadcasts each query's value once, so most loads feed several
 * fused multiply-adds.  The columns are taken in chunks of GEMM_KC (cache
 * blocking over d: a block's chunk stays in the first-level cache while
 * every query passes over it); between chunks the accumulators wait in a
 * scratch buffer.  Each value is still one chain of fused multiply-adds
 * over the columns in order, started at zero — the same rounding as
 * pann_block_filter and pann_cmp, so the nearest rows and their distances
 * are bit for bit those of the other kernels.  The values then pass the
 * queries' bounds as pann_block_filter's do.  Three micro-kernels: AVX-512
 * (12 queries by two blocks), AVX2 with FMA (6 queries by one block, as two
 * halves) and plain C (4 queries by one block), the reference the others
 * are tested against; kernels.c chooses one with the rest of the family.
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

/* Columns per chunk: 16 rows x 256 columns of T are 16 KiB. */
#define GEMM_KC 256

/* The micro-kernels' common shape: MR queries, blocks starting at bp
 * (nb of them, d columns each), columns [j0, j1); acc holds the running
 * values, out[q * stride + lane] (lane < 16 * nb), zero on the first chunk. */

/* ---- plain C: the reference ---------------------------------------------- */

#define MR_PLAIN 4

static void micro_plain(const float *bp, size_t d, size_t j0, size_t j1, bool dot,
                        const float *const *queries, size_t mr, float *out, size_t stride,
                        bool first)
{
    float acc[MR_PLAIN][PANN_LANES];
    for (size_t q = 0; q < mr; q++)
        for (int r = 0; r < PANN_LANES; r++)
            acc[q][r] = first ? 0.0f : out[q * stride + r];
    for (size_t j = j0; j < j1; j++) {
        const float *col = bp + j * PANN_LANES;
        for (size_t q = 0; q < mr; q++) {
            float x = queries[q][j];
            for (int r = 0; r < PANN_LANES; r++) {
                float diff = x - col[r];
                acc[q][r] = dot ? fmaf(x, col[r], acc[q][r]) : fmaf(diff, diff, acc[q][r]);
            }
        }
    }
    (void)d;
    for (size_t q = 0; q < mr; q++)
        for (int r = 0; r < PANN_LANES; r++)
            out[q * stride + r] = acc[q][r];
}

void kernel_gemm_plain(const float *base, size_t nblk, size_t d, pann_metric_kind kind,
                       const float *const *queries, size_t nq, float *out)
{
    size_t stride = nblk * PANN_LANES;
    bool dot = kind == PANN_COSINE;
    for (size_t j0 = 0; j0 < d; j0 += GEMM_KC) {
        size_t j1 = d - j0 < GEMM_KC ? d : j0 + GEMM_KC;
        for (size_t blk = 0; blk < nblk; blk++)
            for (size_t q0 = 0; q0 < nq; q0 += MR_PLAIN)
                micro_plain(base + blk * d * PANN_LANES, d, j0, j1, dot, queries + q0,
                            nq - q0 < MR_PLAIN ? nq - q0 : MR_PLAIN,
                            out + q0 * stride + blk * PANN_LANES, stride, j0 == 0);
    }
}

#ifdef PANN_X86
/* ---- AVX2 with FMA: 6 queries by 16 rows (two registers of 8) ------------ */

#define MR_AVX2 6

/* MR is a constant after inlining, so the 2 * MR accumulators stay in
 * registers (12 of the 16, with two for the rows and one broadcast). */
__attribute__((target("avx2,fma"), always_inline))
static inline void micro_avx2(const float *bp, size_t j0, size_t j1, bool dot,
                              const float *const *queries, float *out, size_t stride,
                              bool first, const int MR)
{
    __m256 lo[MR_AVX2], hi[MR_AVX2];
#pragma GCC unroll 6
    for (int q = 0; q < MR; q++) {
        lo[q] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(out + q * stride);
        hi[q] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(out + q * stride + 8);
    }
    if (dot) {
        for (size_t j = j0; j < j1; j++) {
            __m256 c0 = _mm256_load_ps(bp + j * PANN_LANES);
            __m256 c1 = _mm256_load_ps(bp + j * PANN_LANES + 8);
#pragma GCC unroll 6
            for (int q = 0; q < MR; q++) {
                __m256 x = _mm256_broadcast_ss(queries[q] + j);
                lo[q] = _mm256_fmadd_ps(x, c0, lo[q]);
                hi[q] = _mm256_fmadd_ps(x, c1, hi[q]);
            }
        }
    } else {
        for (size_t j = j0; j < j1; j++) {
            __m256 c0 = _mm256_load_ps(bp + j * PANN_LANES);
            __m256 c1 = _mm256_load_ps(bp + j * PANN_LANES + 8);
#pragma GCC unroll 6
            for (int q = 0; q < MR; q++) {
                __m256 x = _mm256_broadcast_ss(queries[q] + j);
                __m256 d0 = _mm256_sub_ps(x, c0);
                lo[q] = _mm256_fmadd_ps(d0, d0, lo[q]);
                __m256 d1 = _mm256_sub_ps(x, c1);
                hi[q] = _mm256_fmadd_ps(d1, d1, hi[q]);
            }
        }
    }
#pragma GCC unroll 6
    for (int q = 0; q < MR; q++) {
        _mm256_storeu_ps(out + q * stride, lo[q]);
        _mm256_storeu_ps(out + q * stride + 8, hi[q]);
    }
}

__attribute__((target("avx2,fma")))
static void micro_avx2_any(const float *bp, size_t j0, size_t j1, bool dot,
                           const float *const *queries, size_t mr, float *out, size_t stride,
                           bool first)
{
    switch (mr) {
    case 6: micro_avx2(bp, j0, j1, dot, queries, out, stride, first, 6); break;
    case 5: micro_avx2(bp, j0, j1, dot, queries, out, stride, first, 5); break;
    case 4: micro_avx2(bp, j0, j1, dot, queries, out, stride, first, 4); break;
    case 3: micro_avx2(bp, j0, j1, dot, queries, out, stride, first, 3); break;
    case 2: micro_avx2(bp, j0, j1, dot, queries, out, stride, first, 2); break;
    default: micro_avx2(bp, j0, j1, dot, queries, out, stride, first, 1); break;
    }
}

__attribute__((target("avx2,fma")))
void kernel_gemm_avx2(const float *base, size_t nblk, size_t d, pann_metric_kind kind,
                      const float *const *queries, size_t nq, float *out)
{
    size_t stride = nblk * PANN_LANES;
    bool dot = kind == PANN_COSINE;
    for (size_t j0 = 0; j0 < d; j0 += GEMM_KC) {
        size_t j1 = d - j0 < GEMM_KC ? d : j0 + GEMM_KC;
        for (size_t blk = 0; blk < nblk; blk++)
            for (size_t q0 = 0; q0 < nq; q0 += MR_AVX2)
                micro_avx2_any(base + blk * d * PANN_LANES, j0, j1, dot, queries + q0,
                               nq - q0 < MR_AVX2 ? nq - q0 : MR_AVX2,
                               out + q0 * stride + blk * PANN_LANES, stride, j0 == 0);
    }
}

/* ---- AVX-512: 12 queries by 32 rows (two blocks, one register each) ------ */

#define MR_512 12

/* NB blocks (1 or 2) d * PANN_LANES floats apart; 12 x 2 accumulators,
 * two registers of rows and one broadcast of the 32. */
__attribute__((target("avx512f"), always_inline))
static inline void micro_512(const float *bp, size_t d, size_t j0, size_t j1, bool dot,
                             const float *const *queries, float *out, size_t stride,
                             bool first, const int MR, const int NB)
{
    __m512 acc[MR_512][2];
    const size_t next = d * PANN_LANES;
#pragma GCC unroll 12
    for (int q = 0; q < MR; q++)
#pragma GCC unroll 2
        for (int b = 0; b < NB; b++)
            acc[q][b] = first ? _mm512_setzero_ps()
                              : _mm512_loadu_ps(out + q * stride + b * PANN_LANES);
    for (size_t j = j0; j < j1; j++) {
        __m512 col[2];
#pragma GCC unroll 2
        for (int b = 0; b < NB; b++)
            col[b] = _mm512_load_ps(bp + b * next + j * PANN_LANES);
#pragma GCC unroll 12
        for (int q = 0; q < MR; q++) {
            __m512 x = _mm512_set1_ps(queries[q][j]);
#pragma GCC unroll 2
            for (int b = 0; b < NB; b++) {
                if (dot) {
                    acc[q][b] = _mm512_fmadd_ps(x, col[b], acc[q][b]);
                } else {
                    __m512 diff = _mm512_sub_ps(x, col[b]);
                    acc[q][b] = _mm512_fmadd_ps(diff, diff, acc[q][b]);
                }
            }
        }
    }
#pragma GCC unroll 12
    for (int q = 0; q < MR; q++)
#pragma GCC unroll 2
        for (int b = 0; b < NB; b++)
            _mm512_storeu_ps(out + q * stride + b * PANN_LANES, acc[q][b]);
}

/* The dot and L2 loops apart, so that neither has a branch inside. */
__attribute__((target("avx512f"), always_inline))
static inline void micro_512_kind(const float *bp, size_t d, size_t j0, size_t j1, bool dot,
                                  const float *const *queries, float *out, size_t stride,
                                  bool first, const int MR, const int NB)
{
    if (dot)
        micro_512(bp, d, j0, j1, true, queries, out, stride, first, MR, NB);
    else
        micro_512(bp, d, j0, j1, false, queries, out, stride, first, MR, NB);
}

__attribute__((target("avx512f")))
static void micro_512_any(const float *bp, size_t d, size_t j0, size_t j1, bool dot,
                          const float *const *queries, size_t mr, size_t nb, float *out,
                          size_t stride, bool first)
{
    if (nb == 2 && mr == MR_512)
        micro_512_kind(bp, d, j0, j1, dot, queries, out, stride, first, MR_512, 2);
    else if (nb == 2)   /* the last queries: one at a time */
        for (size_t q = 0; q < mr; q++)
            micro_512_kind(bp, d, j0, j1, dot, queries + q, out + q * stride, stride, first,
                           1, 2);
    else if (mr == MR_512)
        micro_512_kind(bp, d, j0, j1, dot, queries, out, stride, first, MR_512, 1);
    else
        for (size_t q = 0; q < mr; q++)
            micro_512_kind(bp, d, j0, j1, dot, queries + q, out + q * stride, stride, first,
                           1, 1);
}

__attribute__((target("avx512f")))
void kernel_gemm_avx512(const float *base, size_t nblk, size_t d, pann_metric_kind kind,
                        const float *const *queries, size_t nq, float *out)
{
    size_t stride = nblk * PANN_LANES;
    bool dot = kind == PANN_COSINE;
    for (size_t j0 = 0; j0 < d; j0 += GEMM_KC) {
        size_t j1 = d - j0 < GEMM_KC ? d : j0 + GEMM_KC;
        for (size_t blk = 0; blk < nblk; blk += 2)
            for (size_t q0 = 0; q0 < nq; q0 += MR_512)
                micro_512_any(base + blk * d * PANN_LANES, d, j0, j1, dot, queries + q0,
                              nq - q0 < MR_512 ? nq - q0 : MR_512, nblk - blk < 2 ? 1 : 2,
                              out + q0 * stride + blk * PANN_LANES, stride, j0 == 0);
    }
}
#endif

/* ---- the filter: the values through the queries' bounds ------------------ */

bool pann_gemm_suits(const pann_metric *m)
{
    if (m->d < GEMM_MIN_COLUMNS || (m->kind != PANN_COSINE && m->kind != PANN_L2))
        return false;
    for (size_t j = 0; m->is_cat && j < m->d; j++)
        if (m->is_cat[j])
            return false;
    return true;
}

/* Whether any of row[0..n) passes limit (n a multiple of 16), the values
 * as pann_block_filter forms them (1 - dot for cosine); in GCC vector
 * types, four lanes at a time without a branch, since most tiles have
 * nothing for most queries. */
typedef float lane4 __attribute__((vector_size(16)));
typedef int32_t mask4 __attribute__((vector_size(16)));

static bool any_passes(const float *row, size_t n, float limit, bool cosine, bool max_mode)
{
    const lane4 one = { 1.0f, 1.0f, 1.0f, 1.0f };
    const lane4 lim = { limit, limit, limit, limit };
    mask4 any = { 0 };
    for (size_t s = 0; s < n; s += 4) {
        lane4 v;
        memcpy(&v, row + s, sizeof v);
        if (cosine)
            v = one - v;
        any |= max_mode ? v >= lim : v <= lim;
    }
    return (any[0] | any[1] | any[2] | any[3]) != 0;
}

size_t pann_gemm_filter(const pann_metric *m, const pann_blocks *b, size_t first, size_t nblk,
                        const float *const *queries, size_t nq, const float *bound,
                        pann_mode mode, float *values, pann_hit *hits)
{
    pann_kernels()->gemm(b->v + first * b->d * PANN_LANES, nblk, b->d, m->kind, queries, nq,
                         values);
    size_t stride = nblk * PANN_LANES, first_slot = first * PANN_LANES;
    size_t slots = b->n - first_slot < stride ? b->n - first_slot : stride;
    bool cosine = m->kind == PANN_COSINE, max_mode = mode == PANN_MAX;
    size_t nh = 0;
    for (size_t q = 0; q < nq; q++) {
        const float *row = values + q * stride;
        float limit = bound[q];
        if (!any_passes(row, stride, limit, cosine, max_mode))
            continue;
        for (size_t s = 0; s < slots; s++) {
            float v = cosine ? 1.0f - row[s] : row[s];
            if (max_mode ? v >= limit : v <= limit)
                hits[nh++] = (pann_hit){ (uint32_t)q, (uint32_t)(first_slot + s), v };
        }
    }
    return nh;
}
