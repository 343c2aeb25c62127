/* exact.c — exact nearest (or farthest) neighbours.
 *
 * Two strategies give the same answer.  The tree search (kdtree.c) visits
 * the leaves of T nearest first and skips those whose bounding box cannot
 * beat the answers found so far; it wins in low and moderate dimension.
 * The brute force compares everything and wins in high dimension.  The
 * tree search also serves the anytime strategy with a budget of leaves per
 * query (pann_tree_run, pann_tree_knn; see visit_chunk), proving the rows
 * it can; in a self-match on a budget each distance computed serves both
 * of its rows (see rev_key).  In the brute force, T is rearranged into
 * blocks of PANN_LANES rows (distance.c) and walked in
 * tiles small enough to stay in cache; each tile is compared with
 * PANN_QBATCH queries at a time, so a row of T is loaded once for several
 * queries.  Threads split the queries, each owning its rows' answers, so the
 * result does not depend on the thread count.  Candidates are visited in
 * increasing row order and replaced only when strictly better, so ties go
 * to the lowest row, as the definition of brute force used in the tests.
 */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "pann.h"
#include "kdtree.h"
#include "internal.h"
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#define TILE_BLOCKS 64          /* 1024 rows of T per tile */
#define TASK_QUERIES 64         /* queries a thread takes at a time */
/* Leaves of the tree: exact search prunes whole leaves, so larger ones cost
 * fewer bounds; a budget is spent more precisely on smaller ones. */
#define EXACT_LEAF_ROWS 256
#define BUDGET_LEAF_ROWS 128

typedef struct exact_ctx {
    const pann_matrix *S;
    const pann_blocks *blocks;
    const pann_metric *metric;
    const pann_engine_opts *o;
    float eps_cmp;
    uint32_t *nn;
    float *best;
} exact_ctx;

/* Fold the values that passed the kernel's bounds into the answers: a
 * candidate replaces the answer when strictly better, or equal and of a
 * lower row (ties to the lowest row, in whatever order rows are visited). */
static void apply_hits(const pann_engine_opts *o, float eps_cmp, const pann_hit *hits,
                       size_t nh, const uint32_t *qrows, const uint32_t *slot_row,
                       uint32_t *nn, float *best)
{
    const bool min_mode = o->mode == PANN_MIN;
    for (size_t i = 0; i < nh; i++) {
        uint32_t row = qrows[hits[i].query];
        uint32_t cand = slot_row ? slot_row[hits[i].slot] : hits[i].slot;
        float c = hits[i].value;
        bool wins = min_mode ? c < best[row] : c > best[row];
        if (!wins && !(c == best[row] && cand < nn[row]))
            continue;
        if (cand == PANN_NONE || (o->self_exclude && cand == row))
            continue;
        if (o->use_eps && c < eps_cmp)
            continue;
        best[row] = c;
        nn[row] = cand;
    }
}

static void exact_task(const exact_ctx *x, size_t q_begin, size_t q_end, pann_hit *hits)
{
    const pann_blocks *b = x->blocks;
    for (size_t tile = 0; tile < b->nblocks; tile += TILE_BLOCKS) {
        size_t nblk = b->nblocks - tile < TILE_BLOCKS ? b->nblocks - tile : TILE_BLOCKS;
        for (size_t q0 = q_begin; q0 < q_end; q0 += PANN_QBATCH) {
            size_t nq = q_end - q0 < PANN_QBATCH ? q_end - q0 : PANN_QBATCH;
            const float *queries[PANN_QBATCH];
            uint32_t qrows[PANN_QBATCH];
            float bound[PANN_QBATCH];
            for (size_t q = 0; q < nq; q++) {
                qrows[q] = (uint32_t)(q0 + q);
                queries[q] = pann_row(x->S, q0 + q);
                bound[q] = x->best[q0 + q];
            }
            size_t nh = pann_block_filter(x->metric, b, tile, nblk, queries, nq, bound,
                                          x->o->mode, hits);
            apply_hits(x->o, x->eps_cmp, hits, nh, qrows, NULL, x->nn, x->best);
        }
    }
}

/* Rows done so far, reported by one thread only (callbacks need not be
 * thread-safe). */
static void report_rows(const pann_engine_opts *o, uint64_t *done, size_t rows, size_t total)
{
    uint64_t now;
#pragma omp atomic capture
    now = *done += rows;
#ifdef _OPENMP
    if (omp_get_thread_num() != 0)
        return;
#endif
    if (o->progress)
        o->progress(o->progress_ctx, now, total);
}

/* ---- the tree search ---------------------------------------------------- */

/* Bounds from one point to the boxes of n nodes (see point_bounds_plain). */
typedef void (*point_bounds_fn)(const kd_index *ix, const float *point, bool squared,
                                float scale, const uint32_t *nodes, size_t n, float *out);

/* The distance kernel of a self-match on a budget (see reverse_update). */
typedef size_t (*sym_filter_fn)(const float *base, size_t nblk, size_t d, bool squared,
                                const float *const *queries, const uint32_t *qrow,
                                const float *bound, size_t nq, pann_hit *hits,
                                size_t first_slot, const uint32_t *slot_row, uint64_t *rev);

/* Where the queries' coordinates are: the rows of S, or, in a self-match
 * that gave T's memory to the index (kd_build_owned), the index's blocks,
 * found through each row's slot. */
typedef struct query_source {
    const pann_matrix *S;    /* NULL: read from the index */
    const kd_index *ix;
    const uint32_t *row_slot;   /* S == NULL: the slot of each row of T */
    size_t n, d;
} query_source;

/* The coordinates of a query: row of S, or the row in this slot of the
 * index. */
static void query_coords(const query_source *qs, size_t row, size_t slot, float *out)
{
    if (qs->S) {
        memcpy(out, pann_row(qs->S, row), qs->d * sizeof *out);
        return;
    }
    size_t d = qs->d;
    const float *block = qs->ix->blocks.v + slot / PANN_LANES * d * PANN_LANES;
    for (size_t j = 0; j < d; j++)
        out[j] = block[j * PANN_LANES + slot % PANN_LANES];
}

typedef struct tree_ctx {
    const query_source *qs;
    const kd_index *ix;
    const pann_metric *metric;
    const pann_engine_opts *o;
    float eps_cmp;
    float abs_margin;        /* rounding allowance of bounds vs distances */
    bool fast_bounds;        /* no categorical column, nearest: box_gaps() */
    size_t max_leaves;       /* per query; 0 = no limit (exact) */
    size_t k;                /* entries per row of the lists below */
                             /* filled == NULL: one answer per row in nn/best;
                                else lists of k sorted entries (min mode) */
    uint32_t *nn;
    float *best;
    uint32_t *filled;        /* k > 1: entries held in each row's list */
    point_bounds_fn point_bounds;   /* fast_bounds only */
    uint64_t *rev;           /* self-match budget: see rev_key() */
    sym_filter_fn sym_filter;
} tree_ctx;

/* What a candidate must beat for row: its answer, or its list's last. */
static inline float row_bound(const tree_ctx *x, size_t row)
{
    if (!x->filled)
        return x->best[row];
    return x->filled[row] == x->k ? x->best[row * x->k + x->k - 1] : INFINITY;
}

static void apply_list_hits(const tree_ctx *x, const pann_hit *hits, size_t nh,
                            const uint32_t *qrows, const uint32_t *slot_row)
{
    for (size_t i = 0; i < nh; i++) {
        uint32_t row = qrows[hits[i].query], cand = slot_row[hits[i].slot];
        if (cand == PANN_NONE || (x->o->self_exclude && cand == row))
            continue;
        pann_list_insert(x->best + row * x->k, x->nn + row * x->k, &x->filled[row], x->k,
                         hits[i].value, cand);
    }
}

typedef struct group {
    size_t nq;
    size_t leaves_left;      /* budget of leaves still to scan (anytime) */
    bool cut;                /* the budget stopped the search: not proven */
    uint64_t evaluations;    /* distances computed */
    size_t home;             /* the leaf holding the queries (queries_by_leaf) */
    float worst;             /* the loosest of the queries' bounds */
    uint32_t rows[PANN_QBATCH];
    uint32_t slots[PANN_QBATCH];   /* a self-match's: the rows' slots */
    /* the queries' box and the queries, at the index's box stride (d <= 64
     * on this path), zero past d */
    float lo[64], hi[64];
    float point[PANN_QBATCH][64];
} group;

/* Per-column gap between two boxes: at least (far = false) or at most
 * (far = true) what any pair of points from them differs by. */
static inline float column_gap(bool cat, bool far, float alo, float ahi, float blo, float bhi)
{
    if (cat) {
        bool both_single = alo == ahi && blo == bhi;
        if (far)
            return both_single && alo == blo ? 0.0f : 1.0f;
        return both_single && alo != blo ? 1.0f : 0.0f;
    }
    if (far) {
        float x = bhi - alo, y = ahi - blo;
        return x > y ? x : y;
    }
    float gap = blo - ahi, other = alo - bhi;
    gap = other > gap ? other : gap;
    return gap > 0.0f ? gap : 0.0f;
}

/* The nearest-mode bound of box_bound() without categorical columns, the
 * common case and the tree's inner loop, KD_BOX_LANES columns at a time in
 * GCC vector types (SSE on any x86-64, NEON elsewhere) since -O2 does not
 * vectorise the loop by itself.  The summation order differs from the
 * distances', which the comparison margin allows for. */
typedef float box_vec __attribute__((vector_size(16)));
typedef int32_t box_mask __attribute__((vector_size(16)));
#define BOX_VEC_LANES 4

static inline box_vec box_load(const float *p)
{
    box_vec v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline box_vec box_max(box_vec a, box_vec b)
{
    box_mask a_wins = a > b;
    return (box_vec)(((box_mask)a & a_wins) | ((box_mask)b & ~a_wins));
}

static inline box_vec box_gap(const float *alo, const float *ahi, const float *blo,
                              const float *bhi)
{
    const box_vec zero = { 0 };
    box_vec gap = box_max(box_load(blo) - box_load(ahi), box_load(alo) - box_load(bhi));
    return box_max(gap, zero);
}

static inline float box_gaps(const float *alo, const float *ahi, const float *blo,
                             const float *bhi, size_t dbox, bool squared)
{
    box_vec acc0 = { 0 }, acc1 = { 0 };
    for (size_t j = 0; j < dbox; j += 2 * BOX_VEC_LANES) {
        size_t k = j + BOX_VEC_LANES;
        box_vec g0 = box_gap(alo + j, ahi + j, blo + j, bhi + j);
        box_vec g1 = box_gap(alo + k, ahi + k, blo + k, bhi + k);
        acc0 += squared ? g0 * g0 : g0;
        acc1 += squared ? g1 * g1 : g1;
    }
    acc0 += acc1;
    return (acc0[0] + acc0[1]) + (acc0[2] + acc0[3]);
}

/* Bound, in comparison units, on cmp(a, b) for a in box A and b in box B. */
static float box_bound(const pann_metric *m, bool far, const float *alo, const float *ahi,
                       const float *blo, const float *bhi)
{
    float acc = 0.0f;
    for (size_t j = 0; j < m->d; j++) {
        float gap = column_gap(m->is_cat && m->is_cat[j], far, alo[j], ahi[j], blo[j], bhi[j]);
        acc += m->kind == PANN_L1 ? gap : gap * gap;
    }
    return m->kind == PANN_COSINE ? 0.5f * acc : acc;
}

static inline float node_bound(const tree_ctx *x, const float *alo, const float *ahi,
                               size_t node_id)
{
    const kd_index *ix = x->ix;
    const float *blo = ix->lo + node_id * ix->dbox, *bhi = ix->hi + node_id * ix->dbox;
    if (x->fast_bounds) {
        float acc = box_gaps(alo, ahi, blo, bhi, ix->dbox, x->metric->kind != PANN_L1);
        return x->metric->kind == PANN_COSINE ? 0.5f * acc : acc;
    }
    return box_bound(x->metric, x->o->mode == PANN_MAX, alo, ahi, blo, bhi);
}

/* Bounds from one point to the boxes of n nodes, in the comparison units
 * of a metric without categorical columns (nearest mode): the inner loop
 * of the budgeted search, which ranks many leaves for every query.  An
 * AVX-512 version, chosen at run time, takes 16 columns per instruction. */
static void point_bounds_plain(const kd_index *ix, const float *point, bool squared, float scale,
                               const uint32_t *nodes, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++) {
        const float *lo = ix->lo + (size_t)nodes[i] * ix->dbox;
        const float *hi = ix->hi + (size_t)nodes[i] * ix->dbox;
        out[i] = scale * box_gaps(point, point, lo, hi, ix->dbox, squared);
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f")))
static void point_bounds_avx512(const kd_index *ix, const float *point, bool squared,
                                float scale, const uint32_t *nodes, size_t n, float *out)
{
    __m512 p[4];
    __mmask16 lanes[4];
    size_t chunks = (ix->dbox + 15) / 16;
    for (size_t c = 0; c < chunks; c++) {
        size_t width = ix->dbox - 16 * c < 16 ? ix->dbox - 16 * c : 16;
        lanes[c] = (__mmask16)((1u << width) - 1u);
        p[c] = _mm512_maskz_loadu_ps(lanes[c], point + 16 * c);
    }
    const __m512 zero = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i++) {
        const float *lo = ix->lo + (size_t)nodes[i] * ix->dbox;
        const float *hi = ix->hi + (size_t)nodes[i] * ix->dbox;
        __m512 acc = zero;
        for (size_t c = 0; c < chunks; c++) {
            __m512 below = _mm512_sub_ps(_mm512_maskz_loadu_ps(lanes[c], lo + 16 * c), p[c]);
            __m512 above = _mm512_sub_ps(p[c], _mm512_maskz_loadu_ps(lanes[c], hi + 16 * c));
            __m512 gap = _mm512_max_ps(_mm512_max_ps(below, above), zero);
            acc = squared ? _mm512_fmadd_ps(gap, gap, acc) : _mm512_add_ps(acc, gap);
        }
        out[i] = scale * _mm512_reduce_add_ps(acc);
    }
}
#endif

/* A self-match (S is T, a row never its own neighbour) on a budget gets
 * every distance twice over: when query a scans a leaf holding row b,
 * d(a, b) is also a candidate for b (on W6, recall 0.81 -> 0.90 for 16
 * leaves of the former ranking).  The kernel below computes the distances
 * once, returns the hits of the queries as pann_block_filter does, and
 * offers each row of the leaf the nearest of the queries: rev, in slot
 * order, holds for each row the least (value, query row) offered, packed
 * in 64 bits (value bits above, row below: distances are never negative,
 * so the integer order is the (value, row) order, ties to the lowest row)
 * and lowered by compare-and-swap, so threads may offer at once.  The
 * minimum of a set does not depend on the order it is taken in, and which
 * pairs are computed depends only on each group's own search (its rows'
 * answers in best are written by it alone; the offers are merged in after
 * the search), so the answers do not depend on the threads, and a row's
 * proof, from its own search, stays true.  A group also offers its rows'
 * own answers (publish_answers), so that the kernel's first look at rev
 * spares the lock for the many offers worse than what a row has.  Each
 * query's bound is lowered as the leaf is scanned to the least value met
 * of a row other than its own, so that a first leaf (bound +inf) returns a
 * few hits, not all of its rows.  Rounding as the kernels of kernels.c:
 * columns summed in order, L2 with one fmaf per column. */
static inline uint64_t rev_key(float v, uint32_t row)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    return (uint64_t)bits << 32 | row;
}

static inline void rev_offer(uint64_t *rev, size_t slot, uint64_t key)
{
    uint64_t cur = __atomic_load_n(&rev[slot], __ATOMIC_RELAXED);
    while (key < cur && !__atomic_compare_exchange_n(&rev[slot], &cur, key, true,
                                                     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

static size_t sym_filter_plain(const float *base, size_t nblk, size_t d, bool squared,
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
static size_t sym_filter_avx512(const float *base, size_t nblk, size_t d, bool squared,
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
static size_t sym_filter_avx2(const float *base, size_t nblk, size_t d, bool squared,
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

/* The tree's own routines, AVX-512 when the distance kernels are (PANN_KERNEL
 * forces them), so a forced plain run is plain throughout. */
static void choose_tree_routines(tree_ctx *x)
{
    x->point_bounds = point_bounds_plain;
    x->sym_filter = sym_filter_plain;
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f") && strcmp(pann_kernel_name(), "avx512") == 0) {
        x->point_bounds = point_bounds_avx512;
        x->sym_filter = sym_filter_avx512;
    }
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             strcmp(pann_kernel_name(), "avx2") == 0)
        x->sym_filter = sym_filter_avx2;
#endif
}

/* True when nothing in a box with this bound can beat (or tie) best. */
static inline bool hopeless(const tree_ctx *x, float bound, float best)
{
    float margin = x->abs_margin + 1e-5f * fabsf(best);
    return x->o->mode == PANN_MIN ? bound > best + margin : bound < best - margin;
}

static float group_worst(const tree_ctx *x, const group *g)
{
    float worst = x->o->mode == PANN_MIN ? -INFINITY : INFINITY;
    for (size_t q = 0; q < g->nq; q++) {
        float b = row_bound(x, g->rows[q]);
        if (x->o->mode == PANN_MIN ? b > worst : b < worst)
            worst = b;
    }
    return worst;
}

#define ALL_QUERIES ((1u << PANN_QBATCH) - 1u)

/* Scan a leaf for nq queries (of one group or several, in increasing row
 * order) and fold what passes their bounds into their answers. */
static void run_batch(const tree_ctx *x, size_t node_id, const float **queries, uint32_t *qrows,
                      const float *bound, size_t nq, pann_hit *hits)
{
    const kd_index *ix = x->ix;
    const kd_node *node = &ix->nodes[node_id];
    if (x->rev) {
        /* padded with the first (sym512_q) */
        for (size_t q = nq; q < PANN_QBATCH; q++) {
            queries[q] = queries[0];
            qrows[q] = qrows[0];
        }
        size_t first = (size_t)ix->leaf_block[node->leaf] * PANN_LANES;
        size_t nh = x->sym_filter(ix->blocks.v + first * ix->d, ix->leaf_nblocks[node->leaf],
                                  ix->d, x->metric->kind == PANN_L2, queries, qrows, bound, nq,
                                  hits, first, ix->slot_row, x->rev);
        apply_hits(x->o, x->eps_cmp, hits, nh, qrows, ix->slot_row, x->nn, x->best);
        return;
    }
    size_t first = ix->leaf_block[node->leaf], nblk = ix->leaf_nblocks[node->leaf];
    /* A query with no answer yet lets every row through its bound, and
     * folding them all in costs more than the distances: the first block
     * alone gives it an answer that filters the rest. */
    float limit[PANN_QBATCH];
    bool unbounded = false;
    for (size_t q = 0; q < nq; q++) {
        limit[q] = bound[q];
        unbounded = unbounded || isinf(bound[q]);
    }
    size_t head = unbounded && nblk > 1 ? 1 : nblk;
    for (size_t at = first, run = head; run > 0; at += run, run = first + nblk - at) {
        size_t nh = pann_block_filter(x->metric, &ix->blocks, at, run, queries, nq, limit,
                                      x->o->mode, hits);
        if (!x->filled)
            apply_hits(x->o, x->eps_cmp, hits, nh, qrows, ix->slot_row, x->nn, x->best);
        else
            apply_list_hits(x, hits, nh, qrows, ix->slot_row);
        for (size_t q = 0; q < nq; q++)
            limit[q] = row_bound(x, qrows[q]);
    }
}

/* Scan a leaf for the group's queries in mask (bit q: query q) that it
 * can still help; known: their bounds on it, when already computed. */
static void scan_leaf(const tree_ctx *x, group *g, size_t node_id, unsigned mask,
                      const float *known, pann_hit *hits)
{
    const kd_index *ix = x->ix;
    const kd_node *node = &ix->nodes[node_id];
    const float *queries[PANN_QBATCH];
    uint32_t qrows[PANN_QBATCH];
    float bound[PANN_QBATCH];
    size_t nq = 0;
    for (size_t q = 0; q < g->nq; q++) {
        if (!(mask >> q & 1u))
            continue;
        float box = known ? known[q] : node_bound(x, g->point[q], g->point[q], node_id);
        float limit = row_bound(x, g->rows[q]);
        if (!hopeless(x, box, limit)) {
            queries[nq] = g->point[q];
            qrows[nq] = g->rows[q];
            bound[nq++] = limit;
        }
    }
    if (nq == 0)
        return;
    g->evaluations += (uint64_t)nq * node->count;
    run_batch(x, node_id, queries, qrows, bound, nq, hits);
    g->worst = group_worst(x, g);
}

/* Depth first, the more promising child first, pruning by box bounds. */
static void visit(const tree_ctx *x, group *g, size_t node_id, float bound, pann_hit *vals)
{
    if (hopeless(x, bound, g->worst))
        return;
    if (g->leaves_left == 0) {
        g->cut = true;
        return;
    }
    const kd_index *ix = x->ix;
    const kd_node *node = &ix->nodes[node_id];
    if (node->leaf >= 0) {
        scan_leaf(x, g, node_id, ALL_QUERIES, NULL, vals);
        g->leaves_left--;
        return;
    }
    bool far = x->o->mode == PANN_MAX;
    float left = node_bound(x, g->lo, g->hi, node->left);
    float right = node_bound(x, g->lo, g->hi, node->right);
    bool left_first = far ? left >= right : left <= right;
    if (left_first) {
        visit(x, g, node->left, left, vals);
        visit(x, g, node->right, right, vals);
    } else {
        visit(x, g, node->right, right, vals);
        visit(x, g, node->left, left, vals);
    }
}

/* With a budget of leaves, depth first spends it all in the first subtree
 * it enters, and one order for the whole group serves its queries unevenly
 * (on W6 of bench/, recall 0.64 for 4,096 rows scanned per query).  Ranking
 * for each query the leaves nearest the group's centre (the method before
 * this one: 2.5 x max_leaves candidates, each query keeping its max_leaves
 * nearest) did better, 0.91 for 32 leaves, but cost more than the
 * distances, and in 10 columns nearly every leaf it kept had a box nearer
 * than the query's answer, so the order of the boxes says little.  What
 * tells where the neighbour is, is the distance to it.  So a group first
 * scans its own leaf, which gives each query q an answer at distance r_q;
 * then q takes the leaves whose box is within beta * r_q (a depth-first
 * walk, the nearer child first, cells bounded incrementally and far
 * children by their boxes), the nearest max_leaves - 1 of them when there
 * are more.  Groups go CHUNK_GROUPS at a time, and each leaf taken is
 * scanned once for the queries of the chunk that took it (visit_chunk), so
 * that the kernel's batches are fuller.  The budget thus bounds the leaves
 * per query, and sets the radius:
 * beta = max_leaves / (max_leaves + RADIUS_HALF), growing towards 1 (for a
 * budget of every leaf, every leaf that is not hopeless is taken).  On W6,
 * 32 leaves take 13 per query on average, for recall 0.96.  A query is
 * proven when nothing it left (a leaf or subtree beyond the radius, or a
 * leaf beyond the budget, bounded by its box or cell) can beat its answer. */
#define RADIUS_HALF 128.0f
#define CHUNK_GROUPS 8
#define CHUNK_QUERIES (CHUNK_GROUPS * PANN_QBATCH)

static inline void point_node_bounds(const tree_ctx *x, const float *point,
                                     const uint32_t *nodes, size_t n, float *out)
{
    pann_metric_kind kind = x->metric->kind;
    x->point_bounds(x->ix, point, kind != PANN_L1, kind == PANN_COSINE ? 0.5f : 1.0f, nodes, n,
                    out);
}

/* A leaf within a query's radius, and the query's bound on its box. */
typedef struct leaf_key {
    float key;
    uint32_t leaf;
} leaf_key;

/* Per thread: the leaves the queries of a chunk took, in the order first
 * taken, which queries took each, and their bounds on it. */
/* The queries of a chunk, one bit each. */
typedef uint64_t chunk_mask;
_Static_assert(CHUNK_QUERIES <= 64, "a chunk's queries fit a chunk_mask");

typedef struct pick_scratch {
    chunk_mask *leaf_mask;      /* nleaves: bit 8 * group + query, zero
                                   between chunks */
    uint32_t *touched;          /* nleaves: the leaves taken */
    size_t ntouched;
    uint32_t *place;            /* nleaves: a leaf's index in touched */
    float *known;               /* CHUNK_QUERIES per touched leaf: bounds
                                   (pick_scratch_alloc: how many leaves) */
    leaf_key *within;           /* nleaves: one query's leaves in radius */
    size_t nwithin;
    uint32_t *cell_node;        /* nleaves: the leaves whose cell is in */
    float *cell_box;            /* nleaves: their boxes' bounds */
    size_t ncells;
} pick_scratch;

/* One query's walk.  bound is a lower bound on the distance from the query
 * to the node's cell (the split planes above it), kept one column at a time
 * (off[c]: the query's gap to the cell in column c, in comparison units:
 * Arya and Mount's incremental distance); a leaf is then bounded by its box. */
typedef struct walk {
    const tree_ctx *x;
    pick_scratch *ps;
    const float *point;
    float off[64];
    float radius;            /* take leaves whose box is nearer than this */
    float skipped;           /* the least bound of what was left */
    size_t home;             /* the group's own leaf, scanned already */
    bool squared;            /* L2, cosine: squared gaps, times scale */
    float scale;             /* 0.5 for cosine (1 - cos = |a - b|^2 / 2 on
                                unit rows), else 1 */
} walk;

static void walk_leaves(walk *w, size_t node_id, float bound)
{
    const kd_index *ix = w->x->ix;
    const kd_node *node = &ix->nodes[node_id];
    if (node->leaf >= 0) {
        if ((size_t)node->leaf == w->home)
            return;
        w->ps->cell_node[w->ps->ncells++] = (uint32_t)node_id;   /* boxes: later, at once */
        return;
    }
    /* left rows <= split <= right rows (kdtree.c) */
    size_t c = (size_t)node->col;
    float diff = w->point[c] - node->split;
    walk_leaves(w, diff < 0.0f ? node->left : node->right, bound);
    float gap = w->squared ? w->scale * diff * diff : fabsf(diff), old = w->off[c];
    float far = bound - old + gap;
    if (far < w->radius) {
        /* the far child's own box, tighter than its cell */
        uint32_t id = (uint32_t)(diff < 0.0f ? node->right : node->left);
        float box;
        /* inline: one box through the dispatched routine costs more in
         * calls than in arithmetic */
        box = w->scale * box_gaps(w->point, w->point, ix->lo + (size_t)id * ix->dbox,
                                  ix->hi + (size_t)id * ix->dbox, ix->dbox, w->squared);
        if (!(box < w->radius)) {
            w->skipped = box < w->skipped ? box : w->skipped;
            return;
        }
    }
    if (!(far < w->radius)) {
        w->skipped = far < w->skipped ? far : w->skipped;
        return;
    }
    w->off[c] = gap;
    walk_leaves(w, diff < 0.0f ? node->right : node->left, far);
    w->off[c] = old;
}

/* Reorder v[0..n) so that v[0..k) are the k of least key (ties as they
 * fall: the order is the walk's, which is fixed). */
static void keep_least(leaf_key *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        float pivot = v[lo + (hi - lo) / 2].key;
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i].key < pivot) i++;
            while (v[j].key > pivot) j--;
            if (i <= j) {
                leaf_key t = v[i]; v[i] = v[j]; v[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j) hi = j;          /* v[lo..j] <= pivot <= v[i..hi] */
        else if (k >= i) lo = i;
        else return;
    }
}

/* A self-match: the group's answers so far, offered to its own rows' slots
 * (the least of every offer is the same, whenever they are made). */
static void publish_answers(const tree_ctx *x, const group *g)
{
    if (!x->rev)
        return;
    for (size_t q = 0; q < g->nq; q++) {
        uint32_t row = g->rows[q];
        if (x->nn[row] != PANN_NONE)
            rev_offer(x->rev, g->slots[q], rev_key(x->best[row], x->nn[row]));
    }
}

/* One group: its own leaf scanned, then each query's leaves within its
 * radius noted in ps (bit 8 * gi + q of leaf_mask, the bound in known). */
static void take_leaves(const tree_ctx *x, group *g, size_t gi, pick_scratch *ps,
                        float *skipped, pann_hit *vals)
{
    const kd_index *ix = x->ix;
    size_t home = g->home;
    scan_leaf(x, g, ix->leaf_node[home], ALL_QUERIES, NULL, vals);
    publish_answers(x, g);
    bool every_leaf = x->max_leaves >= ix->nleaves;
    float beta = (float)x->max_leaves / ((float)x->max_leaves + RADIUS_HALF);
    size_t most = x->max_leaves - 1;
    for (size_t q = 0; q < g->nq; q++) {
        float best = row_bound(x, g->rows[q]);
        /* beyond best + margin nothing can beat best (hopeless()) */
        float reach = best + x->abs_margin + 1e-5f * fabsf(best);
        walk w = { .x = x, .ps = ps, .point = g->point[q], .skipped = INFINITY, .home = home,
                   .squared = x->metric->kind != PANN_L1,
                   .scale = x->metric->kind == PANN_COSINE ? 0.5f : 1.0f };
        /* every leaf: take those within reach, leave the hopeless */
        w.radius = every_leaf ? nextafterf(reach, INFINITY) : beta * best < reach ? beta * best
                                                                                 : reach;
        ps->ncells = 0;
        walk_leaves(&w, 0, 0.0f);
        point_node_bounds(x, g->point[q], ps->cell_node, ps->ncells, ps->cell_box);
        ps->nwithin = 0;
        for (size_t i = 0; i < ps->ncells; i++) {
            float box = ps->cell_box[i];
            if (box < w.radius)
                ps->within[ps->nwithin++] =
                    (leaf_key){ box, (uint32_t)ix->nodes[ps->cell_node[i]].leaf };
            else
                w.skipped = box < w.skipped ? box : w.skipped;
        }
        size_t taken = ps->nwithin;
        if (!every_leaf && taken > most) {
            /* the budget: the nearest boxes */
            keep_least(ps->within, taken, most);
            for (size_t i = most; i < taken; i++)
                w.skipped = ps->within[i].key < w.skipped ? ps->within[i].key : w.skipped;
            taken = most;
        }
        size_t bit = gi * PANN_QBATCH + q;
        for (size_t i = 0; i < taken; i++) {
            uint32_t leaf = ps->within[i].leaf;
            if (!ps->leaf_mask[leaf]) {
                ps->place[leaf] = (uint32_t)ps->ntouched;
                ps->touched[ps->ntouched++] = leaf;
            }
            ps->leaf_mask[leaf] |= (chunk_mask)1 << bit;
            ps->known[(size_t)ps->place[leaf] * CHUNK_QUERIES + bit] = ps->within[i].key;
        }
        skipped[q] = w.skipped;
    }
}

/* A taker of a leaf: a query of the chunk, its row and its bound on the leaf. */
typedef struct taker {
    uint32_t row;
    uint32_t bit;
    float known;
} taker;

/* CHUNK_GROUPS consecutive groups at once: every leaf taken is scanned once
 * for all the queries of the chunk that took it, PANN_QBATCH at a time in
 * increasing row order (leaves taken by one query of each group share the
 * kernel's loads); complete[8 * gi + q] says whether query q of group gi is
 * proven. */
static void visit_chunk(const tree_ctx *x, group *gs, size_t ng, pick_scratch *ps,
                        bool *complete, pann_hit *vals)
{
    const kd_index *ix = x->ix;
    float skipped[CHUNK_QUERIES];
    ps->ntouched = 0;
    for (size_t gi = 0; gi < ng; gi++)
        take_leaves(x, &gs[gi], gi, ps, skipped + gi * PANN_QBATCH, vals);
    for (size_t i = 0; i < ps->ntouched; i++) {
        uint32_t leaf = ps->touched[i];
        chunk_mask mask = ps->leaf_mask[leaf];
        ps->leaf_mask[leaf] = 0;
        taker t[CHUNK_QUERIES];
        size_t nt = 0;
        for (chunk_mask bits = mask; bits; bits &= bits - 1) {
            uint32_t bit = (uint32_t)__builtin_ctzll(bits);
            taker add = { gs[bit / PANN_QBATCH].rows[bit % PANN_QBATCH], bit,
                          ps->known[(size_t)i * CHUNK_QUERIES + bit] };
            size_t k = nt++;
            for (; k > 0 && t[k - 1].row > add.row; k--)
                t[k] = t[k - 1];
            t[k] = add;
        }
        size_t node_id = ix->leaf_node[leaf];
        const float *queries[PANN_QBATCH];
        uint32_t qrows[PANN_QBATCH];
        float bound[PANN_QBATCH];
        size_t nq = 0;
        for (size_t k = 0; k < nt; k++) {
            float limit = row_bound(x, t[k].row);
            if (!hopeless(x, t[k].known, limit)) {
                queries[nq] = gs[t[k].bit / PANN_QBATCH].point[t[k].bit % PANN_QBATCH];
                qrows[nq] = t[k].row;
                bound[nq++] = limit;
            }
            if (nq == PANN_QBATCH || (k + 1 == nt && nq > 0)) {
                gs[0].evaluations += (uint64_t)nq * ix->nodes[node_id].count;
                run_batch(x, node_id, queries, qrows, bound, nq, vals);
                nq = 0;
            }
        }
    }
    for (size_t gi = 0; gi < ng; gi++) {
        const group *g = &gs[gi];
        publish_answers(x, g);
        for (size_t q = 0; q < g->nq; q++) {
            float limit = row_bound(x, g->rows[q]), left = skipped[gi * PANN_QBATCH + q];
            complete[gi * PANN_QBATCH + q] = left == INFINITY || hopeless(x, left, limit);
        }
    }
}

static void pick_scratch_free(pick_scratch *ps)
{
    free(ps->leaf_mask);
    free(ps->touched);
    free(ps->within);
    free(ps->cell_node);
    free(ps->cell_box);
    free(ps->place);
    free(ps->known);
}

static bool pick_scratch_alloc(pick_scratch *ps, const kd_index *ix, size_t max_leaves)
{
    size_t n = ix->nleaves ? ix->nleaves : 1;
    /* leaves a chunk takes: at most max_leaves - 1 per query */
    size_t touched = max_leaves < n / CHUNK_QUERIES + 1 ? CHUNK_QUERIES * max_leaves : n;
    ps->leaf_mask = calloc(n, sizeof *ps->leaf_mask);
    ps->touched = malloc(n * sizeof *ps->touched);
    ps->within = malloc(n * sizeof *ps->within);
    ps->cell_node = malloc(n * sizeof *ps->cell_node);
    ps->cell_box = malloc(n * sizeof *ps->cell_box);
    ps->place = malloc(n * sizeof *ps->place);
    ps->known = malloc(touched * CHUNK_QUERIES * sizeof *ps->known);
    if (ps->leaf_mask && ps->touched && ps->within && ps->cell_node && ps->cell_box &&
        ps->place && ps->known)
        return true;
    pick_scratch_free(ps);
    return false;
}

static float coordinate_scale(const pann_matrix *a, const pann_matrix *b)
{
    float top = 0.0f;
    for (size_t i = 0; i < a->n * a->d; i++)
        top = fabsf(a->v[i]) > top ? fabsf(a->v[i]) : top;
    for (size_t i = 0; i < b->n * b->d; i++)
        top = fabsf(b->v[i]) > top ? fabsf(b->v[i]) : top;
    return top;
}

/* Split the query rows order[lo, hi) at the median of their widest column
 * until at most PANN_QBATCH remain, so each group of PANN_QBATCH consecutive
 * rows is a small box: the budgeted search spends its leaves near every
 * query of a group, and the exact search's shared bound stays tight. */
static void split_queries(const pann_matrix *S, uint32_t *order, size_t count)
{
    if (count <= PANN_QBATCH)
        return;
    float width;
    int col = kd_widest_column(S, order, count, &width);
    /* halves of whole groups, so the groups stay aligned */
    size_t mid = (count + PANN_QBATCH - 1) / PANN_QBATCH / 2 * PANN_QBATCH;
    kd_select_median(S, order, 0, count, mid, (size_t)col);
    split_queries(S, order, mid);
    split_queries(S, order + mid, count - mid);
}

/* The query rows in search order and where each group of at most
 * PANN_QBATCH rows starts: rows are ordered by the leaf they fall in (in a
 * self-match on a budget, the leaf that holds them), and a leaf's rows are
 * split into small boxes (split_queries); no group spans two leaves, and a
 * group's rows are in increasing order (the self-match kernel meets equal
 * values lowest row first). */
typedef struct query_groups {
    uint32_t *order;
    uint32_t *slot;          /* with row slots: each query's slot, by order */
    size_t *first;           /* ngroups + 1 entries */
    uint32_t *leaf;          /* each group's leaf */
    size_t ngroups;
} query_groups;

static void query_groups_free(query_groups *qg)
{
    free(qg->order);
    free(qg->slot);
    free(qg->first);
    free(qg->leaf);
}

/* Reorder v[0, count) as v[local[0]], v[local[1]], ... (through spare). */
static void permute(uint32_t *v, const uint32_t *local, size_t count, uint32_t *spare)
{
    for (size_t i = 0; i < count; i++)
        spare[i] = v[local[i]];
    memcpy(v, spare, count * sizeof *v);
}

/* Split the queries of one leaf, order[0, count), into small boxes.  With
 * slots, the leaf's queries are first gathered into a small matrix
 * (scratch: count rows; local: twice count numbers), the same values in the
 * same order whether they come from S or from the index, and their slots
 * follow them. */
static void split_leaf_queries(const query_source *qs, uint32_t *order, uint32_t *slot,
                               size_t count, float *scratch, uint32_t *local)
{
    if (!slot) {
        split_queries(qs->S, order, count);
        return;
    }
    pann_matrix gathered = { .n = count, .d = qs->d, .v = scratch };
    for (size_t i = 0; i < count; i++) {
        query_coords(qs, order[i], slot[i], scratch + i * qs->d);
        local[i] = (uint32_t)i;
    }
    split_queries(&gathered, local, count);
    permute(order, local, count, local + count);
    permute(slot, local, count, local + count);
}

/* Each query's leaf: the leaf that holds it (held), or kd_leaf_of, from the
 * rows of S or from the index, read there in slot order (in row order every
 * read would be a cache miss). */
static void leaf_of_queries(const query_source *qs, bool held, uint32_t *leaf, int threads)
{
    const kd_index *ix = qs->ix;
    if (held) {
#pragma omp parallel for num_threads(threads) schedule(static)
        for (size_t l = 0; l < ix->nleaves; l++) {
            size_t first = (size_t)ix->leaf_block[l] * PANN_LANES;
            size_t slots = (size_t)ix->leaf_nblocks[l] * PANN_LANES;
            for (size_t i = first; i < first + slots; i++)
                if (ix->slot_row[i] != PANN_NONE)
                    leaf[ix->slot_row[i]] = (uint32_t)l;
        }
        return;
    }
    size_t count = qs->S ? qs->n : ix->blocks.n;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t k = 0; k < count; k++) {
        float point[64];
        uint32_t row = qs->S ? (uint32_t)k : ix->slot_row[k];
        if (row == PANN_NONE)
            continue;
        query_coords(qs, row, k, point);
        leaf[row] = (uint32_t)kd_leaf_of(ix, point);
    }
}

/* Split every leaf's queries (split_leaf_queries); false when out of memory. */
static bool split_leaves(query_groups *qg, const query_source *qs, const size_t *end,
                         size_t most, int threads)
{
    const kd_index *ix = qs->ix;
    int failed = 0;
#pragma omp parallel num_threads(threads)
    {
        bool gather = qg->slot != NULL;
        float *scratch = gather ? malloc((most ? most : 1) * qs->d * sizeof *scratch) : NULL;
        uint32_t *local = gather ? malloc(2 * (most ? most : 1) * sizeof *local) : NULL;
        bool have = !gather || (scratch && local);
#pragma omp for schedule(dynamic, 64)
        for (size_t l = 0; l < ix->nleaves; l++) {
            size_t begin = l ? end[l - 1] : 0;
            if (have)
                split_leaf_queries(qs, qg->order + begin, gather ? qg->slot + begin : NULL,
                                   end[l] - begin, scratch, local);
        }
        if (!have) {
#pragma omp atomic write
            failed = 1;
        }
        free(scratch);
        free(local);
    }
    return !failed;
}

/* Each group's rows in increasing order, their slots with them. */
static void sort_groups(query_groups *qg, int threads)
{
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t gi = 0; gi < qg->ngroups; gi++) {
        uint32_t *rows = qg->order + qg->first[gi];
        uint32_t *slots = qg->slot ? qg->slot + qg->first[gi] : NULL;
        size_t count = qg->first[gi + 1] - qg->first[gi];
        for (size_t i = 1; i < count; i++)
            for (size_t k = i; k > 0 && rows[k - 1] > rows[k]; k--) {
                uint32_t r = rows[k]; rows[k] = rows[k - 1]; rows[k - 1] = r;
                if (slots) {
                    r = slots[k]; slots[k] = slots[k - 1]; slots[k - 1] = r;
                }
            }
    }
}

/* held: rows grouped by the leaf that holds them (a self-match on a
 * budget).  With qs->row_slot, the groups also get each query's slot. */
static bool queries_by_leaf(query_groups *qg, const query_source *qs, bool held, int threads)
{
    const kd_index *ix = qs->ix;
    size_t n = qs->n;
    /* a leaf's c queries make ceil(c / PANN_QBATCH) groups */
    size_t most_groups = n / PANN_QBATCH + ix->nleaves + 1;
    memset(qg, 0, sizeof *qg);
    qg->order = malloc((n ? n : 1) * sizeof *qg->order);
    qg->slot = qs->row_slot ? malloc((n ? n : 1) * sizeof *qg->slot) : NULL;
    qg->first = malloc(most_groups * sizeof *qg->first);
    qg->leaf = malloc(most_groups * sizeof *qg->leaf);
    uint32_t *leaf = malloc((n ? n : 1) * sizeof *leaf);
    size_t *end = calloc(ix->nleaves + 1, sizeof *end);
    bool ok = qg->order && (!qs->row_slot || qg->slot) && qg->first && qg->leaf && leaf && end;
    if (ok) {
        leaf_of_queries(qs, held, leaf, threads);
        for (size_t k = 0; k < n; k++)
            end[leaf[k] + 1]++;
        size_t most = 0;
        for (size_t l = 0; l < ix->nleaves; l++) {
            most = end[l + 1] > most ? end[l + 1] : most;
            end[l + 1] += end[l];
        }
        for (size_t k = 0; k < n; k++) {
            if (qg->slot)
                qg->slot[end[leaf[k]]] = qs->row_slot[k];
            qg->order[end[leaf[k]]++] = (uint32_t)k;
        }
        free(leaf);
        leaf = NULL;
        ok = split_leaves(qg, qs, end, most, threads);
        qg->ngroups = 0;
        for (size_t l = 0, begin = 0; ok && l < ix->nleaves; begin = end[l++])
            for (size_t k = begin; k < end[l]; k += PANN_QBATCH) {
                qg->leaf[qg->ngroups] = (uint32_t)l;
                qg->first[qg->ngroups++] = k;
            }
        qg->first[qg->ngroups] = n;
        if (ok)
            sort_groups(qg, threads);
    }
    if (!ok)
        query_groups_free(qg);
    free(leaf);
    free(end);
    return ok;
}

/* Search one group; complete[q] says whether query q's answer is proven. */
static void group_init(const tree_ctx *x, group *g, const uint32_t *rows,
                       const uint32_t *slots, size_t nq, size_t home)
{
    /* depth first (categorical columns, farthest rows) the group shares
     * its rows' budgets */
    size_t shared = x->max_leaves <= SIZE_MAX / PANN_QBATCH ? x->max_leaves * nq : SIZE_MAX;
    g->nq = nq;
    g->leaves_left = x->max_leaves ? shared : SIZE_MAX;
    g->cut = false;
    g->evaluations = 0;
    g->home = home;
    size_t d = x->ix->d, dbox = x->ix->dbox;
    for (size_t j = 0; j < dbox; j++) {
        g->lo[j] = j < d ? INFINITY : 0.0f;     /* zero past d (box_gaps) */
        g->hi[j] = j < d ? -INFINITY : 0.0f;
    }
    for (size_t q = 0; q < nq; q++) {
        g->rows[q] = rows[q];
        g->slots[q] = slots ? slots[q] : 0;
        const float *row = g->point[q];
        query_coords(x->qs, rows[q], g->slots[q], g->point[q]);
        for (size_t j = d; j < dbox; j++)
            g->point[q][j] = 0.0f;
        for (size_t j = 0; j < d; j++) {
            g->lo[j] = row[j] < g->lo[j] ? row[j] : g->lo[j];
            g->hi[j] = row[j] > g->hi[j] ? row[j] : g->hi[j];
        }
    }
    g->worst = group_worst(x, g);
}

/* Search one group depth first; complete[q] says whether query q's answer
 * is proven. */
static void search_group(const tree_ctx *x, const uint32_t *rows, const uint32_t *slots,
                         size_t nq, pann_hit *vals, bool *complete, uint64_t *evaluations)
{
    group g;
    group_init(x, &g, rows, slots, nq, 0);
    visit(x, &g, 0, node_bound(x, g.lo, g.hi, 0), vals);
    for (size_t q = 0; q < nq; q++)
        complete[q] = !g.cut;
    *evaluations += g.evaluations;
}

/* The same rows in the same order (a self-match). */
static bool same_matrix(const pann_matrix *a, const pann_matrix *b)
{
    if (a->n != b->n || a->d != b->d)
        return false;
    return a->v == b->v || memcmp(a->v, b->v, a->n * a->d * sizeof *a->v) == 0;
}

/* The slot of each row of the index (the inverse of slot_row). */
static uint32_t *rows_to_slots(const kd_index *ix)
{
    uint32_t *row_slot = malloc((ix->n ? ix->n : 1) * sizeof *row_slot);
    for (size_t slot = 0; row_slot && slot < ix->blocks.n; slot++)
        if (ix->slot_row[slot] != PANN_NONE)
            row_slot[ix->slot_row[slot]] = (uint32_t)slot;
    return row_slot;
}

/* owned: T (NULL, or T itself), whose rows the index takes
 * (kd_build_owned); T->v is NULL once the index is built.  In a self-match
 * (S == T == owned) the queries are then read from the index. */
static int tree_search(const pann_matrix *S, const pann_matrix *T, pann_matrix *owned,
                       const pann_metric *m, const pann_engine_opts *o, size_t max_leaves,
                       size_t k, uint32_t *nn, float *best, uint32_t *filled,
                       unsigned char *proven, uint64_t *evaluations, pann_error *err)
{
    /* before an owned build takes the rows: their scale, and whether this
     * is a self-match on a budget, whose rows are grouped by the leaf that
     * holds them and each distance offered to both its rows */
    float scale = coordinate_scale(S, T), d = (float)m->d;
    bool self_budget = max_leaves && o->self_exclude && same_matrix(S, T);
    size_t leaf_rows = max_leaves ? BUDGET_LEAF_ROWS : EXACT_LEAF_ROWS;
    int threads = pann_threads(o->threads);
    kd_index ix;
    int rc = owned ? kd_build_owned(&ix, owned, leaf_rows, threads, err)
                   : kd_build(&ix, T, leaf_rows, threads, err);
    if (rc)
        return rc;
    /* slots go with the queries when they are read from the index or
     * offered distances */
    bool from_index = owned && S == owned;
    uint32_t *row_slot = from_index || self_budget ? rows_to_slots(&ix) : NULL;
    query_source qs = { from_index ? NULL : S, &ix, row_slot, S->n, ix.d };
    query_groups qg;
    bool grouped = (row_slot || !(from_index || self_budget))
                   && queries_by_leaf(&qg, &qs, self_budget, threads);
    free(row_slot);   /* the groups hold each query's slot */
    qs.row_slot = NULL;
    if (!grouped) {
        kd_free(&ix);
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", S->n);
    }
    float abs_margin = m->kind == PANN_L1 ? 1e-6f * d * scale
                     : m->kind == PANN_L2 ? 4e-6f * d * scale * scale : 1e-6f * d;
    bool has_cat = false;
    for (size_t j = 0; m->is_cat && j < m->d; j++)
        has_cat = has_cat || m->is_cat[j];
    tree_ctx x = { &qs, &ix, m, o, pann_dist_to_cmp(m, o->eps), abs_margin,
                   !has_cat && o->mode == PANN_MIN, max_leaves, k, nn, best, filled,
                   NULL, NULL, NULL };
    choose_tree_routines(&x);
    bool symmetric = self_budget && !filled && o->mode == PANN_MIN && !o->use_eps && !has_cat &&
                     (m->kind == PANN_L1 || m->kind == PANN_L2);
    if (symmetric) {
        x.rev = malloc((ix.blocks.n ? ix.blocks.n : 1) * sizeof *x.rev);
        if (!x.rev) {
            query_groups_free(&qg);
            kd_free(&ix);
            return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", S->n);
        }
#pragma omp parallel for num_threads(threads) schedule(static)
        for (size_t i = 0; i < ix.blocks.n; i++)
            x.rev[i] = UINT64_MAX;
    }
    size_t max_blocks = 1;
    for (size_t l = 0; l < ix.nleaves; l++)
        max_blocks = ix.leaf_nblocks[l] > max_blocks ? ix.leaf_nblocks[l] : max_blocks;
    int out_of_memory = 0;
    uint64_t total = 0, rows_done = 0;
    /* best first for a budget in nearest mode (every node at most once),
     * CHUNK_GROUPS groups at a time */
    bool best_first = max_leaves && o->mode == PANN_MIN && x.fast_bounds;
    size_t per = best_first ? CHUNK_GROUPS : 1;
    size_t units = (qg.ngroups + per - 1) / per;
#pragma omp parallel num_threads(pann_threads(o->threads)) reduction(+:total)
    {
        pann_hit *vals = malloc(PANN_QBATCH * max_blocks * PANN_LANES * sizeof *vals);
        pick_scratch scratch = { 0 };
        pick_scratch *ps = best_first ? &scratch : NULL;
        if (best_first && !pick_scratch_alloc(ps, &ix, max_leaves)) {
            free(vals);
            vals = NULL;
        }
#pragma omp for schedule(dynamic, 2)
        for (size_t u = 0; u < units; u++) {
            size_t g0 = u * per, g1 = g0 + per < qg.ngroups ? g0 + per : qg.ngroups;
            if (vals && ps) {
                group gs[CHUNK_GROUPS];
                bool complete[CHUNK_QUERIES];
                for (size_t gi = g0; gi < g1; gi++)
                    group_init(&x, &gs[gi - g0], qg.order + qg.first[gi],
                               qg.slot ? qg.slot + qg.first[gi] : NULL,
                               qg.first[gi + 1] - qg.first[gi], qg.leaf[gi]);
                visit_chunk(&x, gs, g1 - g0, ps, complete, vals);
                for (size_t gi = g0; gi < g1; gi++) {
                    total += gs[gi - g0].evaluations;
                    for (size_t q = 0; proven && q < gs[gi - g0].nq; q++)
                        proven[qg.order[qg.first[gi] + q]] = complete[(gi - g0) * PANN_QBATCH + q];
                }
            } else if (vals) {
                size_t first = qg.first[g0], nq = qg.first[g0 + 1] - first;
                bool complete[PANN_QBATCH];
                search_group(&x, qg.order + first, qg.slot ? qg.slot + first : NULL, nq, vals,
                             complete, &total);
                for (size_t q = 0; proven && q < nq; q++)
                    proven[qg.order[first + q]] = complete[q];
            }
            report_rows(o, &rows_done, qg.first[g1] - qg.first[g0], S->n);
        }
        if (!vals) {
#pragma omp atomic write
            out_of_memory = 1;
        }
        free(vals);
        if (ps)
            pick_scratch_free(ps);
    }
    if (x.rev && !out_of_memory) {
        /* each row's answer: the better of what it found and was offered */
#pragma omp parallel for num_threads(pann_threads(o->threads)) schedule(static)
        for (size_t i = 0; i < ix.blocks.n; i++) {
            uint32_t row = ix.slot_row[i];
            if (row == PANN_NONE || x.rev[i] == UINT64_MAX)
                continue;
            uint32_t from = (uint32_t)x.rev[i], bits = (uint32_t)(x.rev[i] >> 32);
            float v;
            memcpy(&v, &bits, sizeof v);
            if (v < best[row] || (v == best[row] && from < nn[row])) {
                best[row] = v;
                nn[row] = from;
            }
        }
    }
    free(x.rev);
    query_groups_free(&qg);
    kd_free(&ix);
    *evaluations = total;
    if (o->progress && !out_of_memory)
        o->progress(o->progress_ctx, S->n, S->n);
    return out_of_memory ? pann_fail(err, PANN_ESYSTEM, "out of memory") : 0;
}

static bool has_zero_row(const pann_matrix *a)
{
    for (size_t i = 0; i < a->n; i++) {
        bool zero = true;
        for (size_t j = 0; j < a->d && zero; j++)
            zero = a->v[i * a->d + j] == 0.0f;
        if (zero)
            return true;
    }
    return false;
}

/* The tree pays in low and moderate dimension; cosine bounds hold only on
 * unit rows (a zero row has distance 1 to everything). */
bool pann_tree_suits(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                     const pann_engine_opts *o)
{
    if (o->exact_method == PANN_EXACT_BRUTE)
        return false;
    if (m->d == 0 || m->d > 64)
        return false;
    if (m->kind == PANN_COSINE && (has_zero_row(S) || has_zero_row(T)))
        return false;
    if (o->exact_method == PANN_EXACT_TREE)
        return true;
    return m->d <= 24 && T->n >= 2048;
}

static int brute_search(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                        const pann_engine_opts *o, uint32_t *nn, float *best, pann_error *err)
{
    pann_blocks blocks;
    int rc = pann_blocks_build(&blocks, T, err);
    if (rc)
        return rc;
    exact_ctx x = { S, &blocks, m, o, pann_dist_to_cmp(m, o->eps), nn, best };
    size_t ntasks = (S->n + TASK_QUERIES - 1) / TASK_QUERIES;
    int out_of_memory = 0;
    uint64_t rows_done = 0;
#pragma omp parallel num_threads(pann_threads(o->threads))
    {
        pann_hit *vals = malloc(PANN_QBATCH * TILE_BLOCKS * PANN_LANES * sizeof *vals);
#pragma omp for schedule(dynamic, 1)
        for (size_t task = 0; task < ntasks; task++) {
            size_t q_end = (task + 1) * TASK_QUERIES < S->n ? (task + 1) * TASK_QUERIES : S->n;
            if (vals)
                exact_task(&x, task * TASK_QUERIES, q_end, vals);
            report_rows(o, &rows_done, q_end - task * TASK_QUERIES, S->n);
        }
        if (!vals) {
#pragma omp atomic write
            out_of_memory = 1;
        }
        free(vals);
    }
    pann_blocks_free(&blocks);
    if (o->progress && !out_of_memory)   /* the end, whichever thread got there */
        o->progress(o->progress_ctx, S->n, S->n);
    return out_of_memory ? pann_fail(err, PANN_ESYSTEM, "out of memory") : 0;
}


/* T's rows once the search is done with them (see owned). */
void pann_release_rows(pann_matrix *owned)
{
    if (owned) {
        free(owned->v);
        owned->v = NULL;
    }
}

/* Every entry point: allocate the answers, search, convert the comparison
 * values to distances.  The brute force proves every row; the tree proves
 * the rows whose search was not cut by the leaf budget.  owned: see
 * tree_search; the rows are released whatever the outcome. */
static int run_search(const pann_matrix *S, const pann_matrix *T, pann_matrix *owned,
                      const pann_metric *m, const pann_engine_opts *o, bool tree,
                      size_t max_leaves, pann_result *r, pann_error *err)
{
    double started = pann_now();
    int rc = pann_check_search(S, T, m, err);
    size_t n = S->n, tn = T->n;
    if (!rc && pann_result_alloc(r, n, err)) {
        pann_result_free(r);
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", n);
    }
    if (rc) {
        pann_release_rows(owned);
        return rc;
    }
    float *best = r->dist;   /* comparison values until converted, in place */
    for (size_t k = 0; k < n; k++)
        best[k] = o->mode == PANN_MIN ? INFINITY : -INFINITY;
    if (tree) {
        rc = tree_search(S, T, owned, m, o, max_leaves, 1, r->nn, best, NULL, r->proven,
                         &r->iterations, err);
    } else {
        rc = brute_search(S, T, m, o, r->nn, best, err);
        pann_release_rows(owned);
        memset(r->proven, 1, n);
        r->iterations = (uint64_t)n * tn;
    }
    if (rc) {
        pann_result_free(r);
        return rc;
    }
    for (size_t k = 0; k < n; k++) {
        r->dist[k] = r->nn[k] == PANN_NONE ? NAN : (float)pann_cmp_to_dist(m, best[k]);
        r->nproven += r->proven[k];
    }
    r->steps = r->iterations;
    r->seconds = pann_now() - started;
    return 0;
}

int pann_exact_run(const pann_matrix *S, const pann_matrix *T,
                   const pann_metric *m, const pann_engine_opts *o,
                   pann_result *r, pann_error *err)
{
    return run_search(S, T, NULL, m, o, pann_tree_suits(S, T, m, o), 0, r, err);
}

int pann_exact_consume(const pann_matrix *S, pann_matrix *T, const pann_metric *m,
                       const pann_engine_opts *o, pann_result *r, pann_error *err)
{
    return run_search(S, T, T, m, o, pann_tree_suits(S, T, m, o), 0, r, err);
}

static int tree_run(const pann_matrix *S, const pann_matrix *T, pann_matrix *owned,
                    const pann_metric *m, const pann_engine_opts *o, size_t max_leaves,
                    pann_result *r, pann_error *err)
{
    memset(r, 0, sizeof *r);
    int rc = 0;
    if (m->d == 0 || m->d > 64)
        rc = pann_fail(err, PANN_EINPUT, "the tree search needs 1 to 64 columns, not %zu", m->d);
    else if (m->kind == PANN_COSINE && (has_zero_row(S) || has_zero_row(T)))
        rc = pann_fail(err, PANN_EINPUT, "the tree search with cosine needs rows of non-zero norm");
    if (rc) {
        pann_release_rows(owned);
        return rc;
    }
    return run_search(S, T, owned, m, o, true, max_leaves, r, err);
}

int pann_tree_run(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                  const pann_engine_opts *o, size_t max_leaves, pann_result *r,
                  pann_error *err)
{
    return tree_run(S, T, NULL, m, o, max_leaves, r, err);
}

int pann_tree_consume(const pann_matrix *S, pann_matrix *T, const pann_metric *m,
                      const pann_engine_opts *o, size_t max_leaves, pann_result *r,
                      pann_error *err)
{
    return tree_run(S, T, T, m, o, max_leaves, r, err);
}

int pann_tree_knn(const pann_matrix *S, const pann_matrix *T, pann_matrix *owned,
                  const pann_metric *m, const pann_engine_opts *o, size_t k,
                  size_t max_leaves, uint32_t *nn, float *cmp, uint32_t *filled,
                  unsigned char *proven, uint64_t *evaluations, pann_error *err)
{
    pann_engine_opts min_mode = *o;
    min_mode.mode = PANN_MIN;
    min_mode.use_eps = false;
    return tree_search(S, T, owned, m, &min_mode, max_leaves, k, nn, cmp, filled, proven,
                       evaluations, err);
}
