/* exact.c — exact nearest (or farthest) neighbours.
 *
 * Two strategies give the same answer.  The tree search (kdtree.c) visits
 * the leaves of T nearest first and skips those whose bounding box cannot
 * beat the answers found so far; it wins in low and moderate dimension.
 * The brute force compares everything and wins in high dimension.  The
 * tree search also serves the anytime strategy with a budget of leaves per
 * query (pann_tree_run, pann_tree_knn), proving the rows it can.  In the
 * brute force, T is rearranged into blocks of PANN_LANES rows (distance.c) and walked in
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
/* Candidate leaves ranked by each query of a group, per leaf of budget. */
#define CANDIDATE_FACTOR 2.5

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
    float worst;             /* the loosest of the queries' bounds */
    uint32_t rows[PANN_QBATCH];
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

static point_bounds_fn choose_point_bounds(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f") && strcmp(pann_kernel_name(), "avx512") == 0)
        return point_bounds_avx512;
#endif
    return point_bounds_plain;
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
    size_t first = ix->leaf_block[node->leaf], nblk = ix->leaf_nblocks[node->leaf];
    /* A query with no answer yet lets every row through its bound, and
     * folding them all in costs more than the distances: the first block
     * alone gives it an answer that filters the rest. */
    bool unbounded = false;
    for (size_t q = 0; q < nq; q++)
        unbounded = unbounded || isinf(bound[q]);
    size_t head = unbounded && nblk > 1 ? 1 : nblk;
    for (size_t at = first, run = head; run > 0; at += run, run = first + nblk - at) {
        size_t nh = pann_block_filter(x->metric, &ix->blocks, at, run, queries, nq, bound,
                                      x->o->mode, hits);
        if (!x->filled)
            apply_hits(x->o, x->eps_cmp, hits, nh, qrows, ix->slot_row, x->nn, x->best);
        else
            apply_list_hits(x, hits, nh, qrows, ix->slot_row);
        for (size_t q = 0; q < nq; q++)
            bound[q] = row_bound(x, qrows[q]);
    }
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
 * (on W6 of bench/, recall 0.64 for 4,096 rows scanned per query).  So the
 * group's candidates are the CANDIDATE_FACTOR * max_leaves leaves nearest
 * to its centre, best first (a min-heap of nodes keyed by the distance to
 * their box), each query keeps the max_leaves of them nearest to itself,
 * and the group scans every kept leaf for the queries that kept it,
 * several at a time when they share it (recall 0.91 for the same rows).
 * Walking the tree once per query instead picks slightly better leaves but
 * costs more than the distances.  A query is proven when no leaf it did
 * not keep (a candidate it left, or one under a node still in the heap,
 * bounded from the group's box) can beat its answer. */
typedef struct heap_entry {
    float key;
    uint32_t node;
} heap_entry;

static void heap_push(heap_entry *heap, size_t *size, float key, uint32_t node)
{
    size_t i = (*size)++;
    while (i > 0 && heap[(i - 1) / 2].key > key) {
        heap[i] = heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap[i] = (heap_entry){ key, node };
}

static heap_entry heap_pop(heap_entry *heap, size_t *size)
{
    heap_entry top = heap[0], last = heap[--*size];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= *size)
            break;
        if (child + 1 < *size && heap[child + 1].key < heap[child].key)
            child++;
        if (heap[child].key >= last.key)
            break;
        heap[i] = heap[child];
        i = child;
    }
    if (*size)
        heap[i] = last;
    return top;
}

typedef struct leaf_pick {
    float key;               /* the smallest bound of the queries on it */
    uint32_t node;
    uint32_t index;          /* its place among the candidates */
    unsigned mask;           /* the queries that picked it */
} leaf_pick;

static inline void point_node_bounds(const tree_ctx *x, const float *point,
                                     const uint32_t *nodes, size_t n, float *out)
{
    pann_metric_kind kind = x->metric->kind;
    x->point_bounds(x->ix, point, kind != PANN_L1, kind == PANN_COSINE ? 0.5f : 1.0f, nodes, n,
                    out);
}

/* The `want` leaves nearest to point, best first, appended to picks with
 * an empty mask; returns how many nodes are left in the heap, the roots of
 * every leaf not picked.  The nearer child is descended at once while it
 * stays the nearest, the other one waits in the heap. */
static size_t nearest_leaves(const tree_ctx *x, const float *point, size_t want,
                             heap_entry *heap, leaf_pick *picks, size_t *npicks)
{
    const kd_index *ix = x->ix;
    size_t size = 0, taken = 0;
    uint32_t root = 0;
    float key;
    point_node_bounds(x, point, &root, 1, &key);
    heap_push(heap, &size, key, 0);
    while (size > 0 && taken < want) {
        heap_entry top = heap_pop(heap, &size);
        const kd_node *node = &ix->nodes[top.node];
        while (node->leaf < 0 && (size == 0 || top.key <= heap[0].key)) {
            uint32_t children[2] = { (uint32_t)node->left, (uint32_t)node->right };
            float child_key[2];
            point_node_bounds(x, point, children, 2, child_key);
            float left = child_key[0], right = child_key[1];
            bool left_nearer = left <= right;
            heap_push(heap, &size, left_nearer ? right : left,
                      (uint32_t)(left_nearer ? node->right : node->left));
            top = (heap_entry){ left_nearer ? left : right,
                                (uint32_t)(left_nearer ? node->left : node->right) };
            node = &ix->nodes[top.node];
        }
        if (node->leaf < 0) {      /* no longer the nearest: back in line */
            heap_push(heap, &size, top.key, top.node);
            continue;
        }
        picks[*npicks] = (leaf_pick){ top.key, top.node, (uint32_t)*npicks, 0 };
        ++*npicks;
        taken++;
    }
    return size;
}

/* The value of rank k (0-based) among v[0..n), v reordered. */
static float select_rank(float *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        float pivot = v[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) {
                float swap = v[i]; v[i] = v[j]; v[j] = swap;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j) hi = j;          /* v[lo..j] <= pivot <= v[i..hi] */
        else if (k >= i) lo = i;
        else return v[k];            /* between them, all equal to pivot */
    }
    return v[k];
}

/* Mark in chosen[] the cap smallest keys (ties to the lower index);
 * returns the least key left out, INFINITY when none is. */
static float choose_smallest(const float *keys, size_t n, size_t cap, float *scratch,
                             bool *chosen)
{
    if (n <= cap) {
        for (size_t i = 0; i < n; i++)
            chosen[i] = true;
        return INFINITY;
    }
    memcpy(scratch, keys, n * sizeof *keys);
    float limit = select_rank(scratch, n, cap - 1), left_out = INFINITY;
    size_t below = 0;
    for (size_t i = 0; i < n; i++)
        below += keys[i] < limit;
    size_t ties = cap - below;
    for (size_t i = 0; i < n; i++) {
        chosen[i] = keys[i] < limit || (keys[i] == limit && ties > 0);
        ties -= keys[i] == limit && chosen[i];
        if (!chosen[i] && keys[i] < left_out)
            left_out = keys[i];
    }
    return left_out;
}

static int pick_by_key(const void *a, const void *b)
{
    const leaf_pick *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->node > y->node) - (x->node < y->node);
}

/* Per thread: the candidates of a group, their nodes, and every query's
 * bounds on them. */
typedef struct pick_scratch {
    heap_entry *heap;        /* nnodes */
    float *scratch;          /* most */
    bool *chosen;            /* most */
    leaf_pick *cand;         /* the candidates (at most most) */
    uint32_t *cand_node;
    float *keys;             /* PANN_QBATCH * most */
    size_t most;
} pick_scratch;

static void visit_picked(const tree_ctx *x, group *g, pick_scratch *ps, bool *complete,
                         pann_hit *vals)
{
    const kd_index *ix = x->ix;
    size_t cap = x->max_leaves < ix->nleaves ? x->max_leaves : ix->nleaves;
    float centre[64] = { 0 };
    for (size_t j = 0; j < ix->d; j++)
        centre[j] = 0.5f * (g->lo[j] + g->hi[j]);
    size_t ncand = 0;
    size_t left_in_heap = nearest_leaves(x, centre, ps->most, ps->heap, ps->cand, &ncand);
    for (size_t i = 0; i < ncand; i++)
        ps->cand_node[i] = ps->cand[i].node;
    float rejected[PANN_QBATCH];
    for (size_t q = 0; q < g->nq; q++) {
        float *keys = ps->keys + q * ps->most;
        point_node_bounds(x, g->point[q], ps->cand_node, ncand, keys);
        rejected[q] = choose_smallest(keys, ncand, cap, ps->scratch, ps->chosen);
        for (size_t i = 0; i < ncand; i++) {
            if (!ps->chosen[i])
                continue;
            leaf_pick *c = &ps->cand[i];
            c->key = c->mask && c->key < keys[i] ? c->key : keys[i];
            c->mask |= 1u << q;
        }
    }
    size_t npicks = 0;
    for (size_t i = 0; i < ncand; i++)
        if (ps->cand[i].mask)
            ps->cand[npicks++] = ps->cand[i];
    qsort(ps->cand, npicks, sizeof *ps->cand, pick_by_key);
    for (size_t i = 0; i < npicks; i++) {
        float known[PANN_QBATCH];
        for (size_t q = 0; q < g->nq; q++)
            known[q] = ps->keys[q * ps->most + ps->cand[i].index];
        scan_leaf(x, g, ps->cand[i].node, ps->cand[i].mask, known, vals);
    }
    /* what no query picked: the candidates it left, and the subtrees still
     * in the heap, bounded from the group's box */
    float floor = INFINITY;
    bool floor_known = left_in_heap == 0;
    for (size_t q = 0; q < g->nq; q++) {
        float limit = row_bound(x, g->rows[q]);
        complete[q] = rejected[q] == INFINITY || hopeless(x, rejected[q], limit);
        if (complete[q] && !floor_known) {
            for (size_t i = 0; i < left_in_heap; i++) {
                float b = node_bound(x, g->lo, g->hi, ps->heap[i].node);
                floor = b < floor ? b : floor;
            }
            floor_known = true;
        }
        complete[q] = complete[q] && (floor == INFINITY || hopeless(x, floor, limit));
    }
}

static void pick_scratch_free(pick_scratch *ps)
{
    free(ps->heap);
    free(ps->scratch);
    free(ps->chosen);
    free(ps->cand);
    free(ps->cand_node);
    free(ps->keys);
}

static bool pick_scratch_alloc(pick_scratch *ps, const kd_index *ix, size_t max_leaves)
{
    size_t cap = max_leaves < ix->nleaves ? max_leaves : ix->nleaves;
    double want = ceil(CANDIDATE_FACTOR * (double)cap);
    ps->most = want < (double)ix->nleaves ? (size_t)want : ix->nleaves;
    ps->heap = malloc(ix->nnodes * sizeof *ps->heap);
    ps->scratch = malloc(ps->most * sizeof *ps->scratch);
    ps->chosen = malloc(ps->most * sizeof *ps->chosen);
    ps->cand = malloc(ps->most * sizeof *ps->cand);
    ps->cand_node = malloc(ps->most * sizeof *ps->cand_node);
    ps->keys = malloc(PANN_QBATCH * ps->most * sizeof *ps->keys);
    if (ps->heap && ps->scratch && ps->chosen && ps->cand && ps->cand_node && ps->keys)
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
 * PANN_QBATCH rows starts: rows are ordered by the leaf they fall in, and a
 * leaf's rows are split into small boxes (split_queries); no group spans two
 * leaves. */
typedef struct query_groups {
    uint32_t *order;
    uint32_t *slot;          /* from the index: each query's slot, by order */
    size_t *first;           /* ngroups + 1 entries */
    size_t ngroups;
} query_groups;

static void query_groups_free(query_groups *qg)
{
    free(qg->order);
    free(qg->slot);
    free(qg->first);
}

/* Reorder v[0, count) as v[local[0]], v[local[1]], ... (through spare). */
static void permute(uint32_t *v, const uint32_t *local, size_t count, uint32_t *spare)
{
    for (size_t i = 0; i < count; i++)
        spare[i] = v[local[i]];
    memcpy(v, spare, count * sizeof *v);
}

/* Split the queries of one leaf, order[0, count), into small boxes; from
 * the index, the leaf's queries are first gathered into a small matrix
 * (scratch: count rows; local: twice count numbers), so the split sees the
 * same values in the same order as from S, and their slots follow. */
static void split_leaf_queries(const query_source *qs, uint32_t *order, uint32_t *slot,
                               size_t count, float *scratch, uint32_t *local)
{
    if (qs->S) {
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

/* Each query's leaf (kd_leaf_of), from the rows of S or from the index,
 * read there in slot order: in row order every read would be a cache miss. */
static void leaf_of_queries(const query_source *qs, uint32_t *leaf, int threads)
{
    const kd_index *ix = qs->ix;
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

static bool queries_by_leaf(query_groups *qg, const query_source *qs, int threads)
{
    const kd_index *ix = qs->ix;
    size_t n = qs->n;
    qg->order = malloc((n ? n : 1) * sizeof *qg->order);
    qg->slot = qs->S ? NULL : malloc((n ? n : 1) * sizeof *qg->slot);
    /* a leaf's c queries make ceil(c / PANN_QBATCH) groups */
    qg->first = malloc((n / PANN_QBATCH + ix->nleaves + 1) * sizeof *qg->first);
    uint32_t *leaf = malloc((n ? n : 1) * sizeof *leaf);
    size_t *end = calloc(ix->nleaves + 1, sizeof *end);
    bool ok = qg->order && (qs->S || qg->slot) && qg->first && leaf && end;
    if (ok) {
        leaf_of_queries(qs, leaf, threads);
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
        int failed = 0;
#pragma omp parallel num_threads(threads)
        {
            float *scratch = qs->S ? NULL : malloc((most ? most : 1) * qs->d * sizeof *scratch);
            uint32_t *local = qs->S ? NULL : malloc(2 * (most ? most : 1) * sizeof *local);
            bool have = qs->S || (scratch && local);
#pragma omp for schedule(dynamic, 64)
            for (size_t l = 0; l < ix->nleaves; l++) {
                size_t begin = l ? end[l - 1] : 0;
                if (have)
                    split_leaf_queries(qs, qg->order + begin, qg->slot ? qg->slot + begin : NULL,
                                       end[l] - begin, scratch, local);
            }
            if (!have) {
#pragma omp atomic write
                failed = 1;
            }
            free(scratch);
            free(local);
        }
        ok = !failed;
        qg->ngroups = 0;
        for (size_t l = 0, begin = 0; l < ix->nleaves; begin = end[l++])
            for (size_t k = begin; k < end[l]; k += PANN_QBATCH)
                qg->first[qg->ngroups++] = k;
        qg->first[qg->ngroups] = n;
    }
    if (!ok)
        query_groups_free(qg);
    free(leaf);
    free(end);
    return ok;
}

/* Search one group; complete[q] says whether query q's answer is proven. */
static void search_group(const tree_ctx *x, const uint32_t *rows, const uint32_t *slots,
                         size_t nq, pann_hit *vals,
                         pick_scratch *ps, bool *complete,
                         uint64_t *evaluations)
{
    /* depth first (categorical columns, farthest rows) the group shares
     * its rows' budgets */
    size_t shared = x->max_leaves <= SIZE_MAX / PANN_QBATCH ? x->max_leaves * nq : SIZE_MAX;
    group g = { .nq = nq, .leaves_left = x->max_leaves ? shared : SIZE_MAX };
    size_t d = x->ix->d;
    for (size_t j = 0; j < d; j++) {
        g.lo[j] = INFINITY;
        g.hi[j] = -INFINITY;
    }
    for (size_t q = 0; q < nq; q++) {
        g.rows[q] = rows[q];
        const float *row = g.point[q];
        query_coords(x->qs, rows[q], slots ? slots[q] : 0, g.point[q]);
        for (size_t j = 0; j < d; j++) {
            g.lo[j] = row[j] < g.lo[j] ? row[j] : g.lo[j];
            g.hi[j] = row[j] > g.hi[j] ? row[j] : g.hi[j];
        }
    }
    g.worst = group_worst(x, &g);
    if (ps) {
        visit_picked(x, &g, ps, complete, vals);
    } else {
        visit(x, &g, 0, node_bound(x, g.lo, g.hi, 0), vals);
        for (size_t q = 0; q < nq; q++)
            complete[q] = !g.cut;
    }
    *evaluations += g.evaluations;
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

/* owned: a self-match (S == T == owned) whose rows the index takes
 * (kd_build_owned); the queries are then read from the index, and S->v
 * is NULL once the index is built. */
static int tree_search(const pann_matrix *S, const pann_matrix *T, pann_matrix *owned,
                       const pann_metric *m, const pann_engine_opts *o, size_t max_leaves,
                       size_t k, uint32_t *nn, float *best, uint32_t *filled,
                       unsigned char *proven, uint64_t *evaluations, pann_error *err)
{
    /* before an owned build takes the rows */
    float scale = coordinate_scale(S, T), d = (float)m->d;
    size_t leaf_rows = max_leaves ? BUDGET_LEAF_ROWS : EXACT_LEAF_ROWS;
    int threads = pann_threads(o->threads);
    kd_index ix;
    int rc = owned ? kd_build_owned(&ix, owned, leaf_rows, threads, err)
                   : kd_build(&ix, T, leaf_rows, threads, err);
    if (rc)
        return rc;
    uint32_t *row_slot = owned ? rows_to_slots(&ix) : NULL;
    query_source qs = { owned ? NULL : S, &ix, row_slot, S->n, ix.d };
    query_groups qg;
    bool grouped = (!owned || row_slot) && queries_by_leaf(&qg, &qs, threads);
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
                   choose_point_bounds() };
    size_t max_blocks = 1;
    for (size_t l = 0; l < ix.nleaves; l++)
        max_blocks = ix.leaf_nblocks[l] > max_blocks ? ix.leaf_nblocks[l] : max_blocks;
    int out_of_memory = 0;
    uint64_t total = 0, rows_done = 0;
#pragma omp parallel num_threads(pann_threads(o->threads)) reduction(+:total)
    {
        pann_hit *vals = malloc(PANN_QBATCH * max_blocks * PANN_LANES * sizeof *vals);
        /* best first for a budget in nearest mode (every node at most once) */
        bool best_first = max_leaves && o->mode == PANN_MIN && x.fast_bounds;
        pick_scratch scratch = { 0 };
        pick_scratch *ps = best_first ? &scratch : NULL;
        if (best_first && !pick_scratch_alloc(ps, &ix, max_leaves)) {
            free(vals);
            vals = NULL;
        }
#pragma omp for schedule(dynamic, 8)
        for (size_t gi = 0; gi < qg.ngroups; gi++) {
            size_t first = qg.first[gi], nq = qg.first[gi + 1] - first;
            if (vals) {
                bool complete[PANN_QBATCH];
                search_group(&x, qg.order + first, qg.slot ? qg.slot + first : NULL, nq, vals,
                             ps, complete, &total);
                for (size_t q = 0; proven && q < nq; q++)
                    proven[qg.order[first + q]] = complete[q];
            }
            report_rows(o, &rows_done, nq, S->n);
        }
        if (!vals) {
#pragma omp atomic write
            out_of_memory = 1;
        }
        free(vals);
        if (ps)
            pick_scratch_free(ps);
    }
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


/* A self-match's rows once the search is done with them (see owned). */
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

int pann_exact_self(pann_matrix *T, const pann_metric *m, const pann_engine_opts *o,
                    pann_result *r, pann_error *err)
{
    return run_search(T, T, T, m, o, pann_tree_suits(T, T, m, o), 0, r, err);
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

int pann_tree_self(pann_matrix *T, const pann_metric *m, const pann_engine_opts *o,
                   size_t max_leaves, pann_result *r, pann_error *err)
{
    return tree_run(T, T, T, m, o, max_leaves, r, err);
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
