/* exact.c — exact nearest (or farthest) neighbours.
 *
 * Two strategies give the same answer.  The tree search (kdtree.c) visits
 * the leaves of T nearest first and skips those whose bounding box cannot
 * beat the answers found so far; it wins in low and moderate dimension.
 * The brute force compares everything and wins in high dimension.  In the
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

#define TILE_BLOCKS 64          /* 1024 rows of T per tile */
#define TASK_QUERIES 64         /* queries a thread takes at a time */

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

typedef struct tree_ctx {
    const pann_matrix *S;
    const kd_index *ix;
    const pann_metric *metric;
    const pann_engine_opts *o;
    float eps_cmp;
    float abs_margin;        /* rounding allowance of bounds vs distances */
    bool fast_bounds;        /* no categorical column, nearest: box_gaps() */
    size_t max_leaves;       /* per group of queries; 0 = no limit (exact) */
    size_t k;                /* entries per row of the lists below */
                             /* filled == NULL: one answer per row in nn/best;
                                else lists of k sorted entries (min mode) */
    uint32_t *nn;
    float *best;
    uint32_t *filled;        /* k > 1: entries held in each row's list */
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

static void scan_leaf(const tree_ctx *x, group *g, size_t node_id, pann_hit *hits)
{
    const kd_index *ix = x->ix;
    const kd_node *node = &ix->nodes[node_id];
    const float *queries[PANN_QBATCH];
    uint32_t qrows[PANN_QBATCH];
    float bound[PANN_QBATCH];
    size_t nq = 0;
    for (size_t q = 0; q < g->nq; q++) {
        float box = node_bound(x, g->point[q], g->point[q], node_id);
        float limit = row_bound(x, g->rows[q]);
        if (!hopeless(x, box, limit)) {
            queries[nq] = pann_row(x->S, g->rows[q]);
            qrows[nq] = g->rows[q];
            bound[nq++] = limit;
        }
    }
    if (nq == 0)
        return;
    g->evaluations += (uint64_t)nq * node->count;
    size_t nh = pann_block_filter(x->metric, &ix->blocks, ix->leaf_block[node->leaf],
                                  ix->leaf_nblocks[node->leaf], queries, nq, bound,
                                  x->o->mode, hits);
    if (!x->filled)
        apply_hits(x->o, x->eps_cmp, hits, nh, qrows, ix->slot_row, x->nn, x->best);
    else
        apply_list_hits(x, hits, nh, qrows, ix->slot_row);
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
        scan_leaf(x, g, node_id, vals);
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
 * it enters.  Best first spends it on the leaves nearest the group: a
 * min-heap of nodes keyed by their distance to the queries' centroid (the
 * box bound is 0 for every node overlapping the group's box, no order at
 * all), pruned by the box bound as depth first is.  The search is proven
 * when the heap runs out before the budget does. */
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

static void visit_best_first(const tree_ctx *x, group *g, const float *centre,
                             heap_entry *heap, pann_hit *vals)
{
    const kd_index *ix = x->ix;
    size_t size = 0;
    heap_push(heap, &size, node_bound(x, centre, centre, 0), 0);
    while (size > 0) {
        uint32_t id = heap_pop(heap, &size).node;
        if (hopeless(x, node_bound(x, g->lo, g->hi, id), g->worst))
            continue;
        const kd_node *node = &ix->nodes[id];
        if (node->leaf < 0) {
            heap_push(heap, &size, node_bound(x, centre, centre, node->left), (uint32_t)node->left);
            heap_push(heap, &size, node_bound(x, centre, centre, node->right),
                      (uint32_t)node->right);
        } else if (g->leaves_left == 0) {
            g->cut = true;
            return;
        } else {
            scan_leaf(x, g, id, vals);
            g->leaves_left--;
        }
    }
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

/* Query rows ordered by the leaf they fall in, so a group's rows are close. */
static uint32_t *queries_by_leaf(const kd_index *ix, const pann_matrix *S)
{
    uint32_t *order = malloc((S->n ? S->n : 1) * sizeof *order);
    uint32_t *leaf = malloc((S->n ? S->n : 1) * sizeof *leaf);
    size_t *start = calloc(ix->nleaves + 1, sizeof *start);
    if (!order || !leaf || !start) {
        free(order);
        order = NULL;
    } else {
        for (size_t k = 0; k < S->n; k++) {
            leaf[k] = (uint32_t)kd_leaf_of(ix, pann_row(S, k));
            start[leaf[k] + 1]++;
        }
        for (size_t l = 0; l < ix->nleaves; l++)
            start[l + 1] += start[l];
        for (size_t k = 0; k < S->n; k++)
            order[start[leaf[k]]++] = (uint32_t)k;
    }
    free(leaf);
    free(start);
    return order;
}

static bool search_group(const tree_ctx *x, const uint32_t *rows, size_t nq, pann_hit *vals,
                         heap_entry *heap, uint64_t *evaluations)
{
    group g = { .nq = nq, .leaves_left = x->max_leaves ? x->max_leaves : SIZE_MAX };
    size_t d = x->ix->d;
    for (size_t j = 0; j < d; j++) {
        g.lo[j] = INFINITY;
        g.hi[j] = -INFINITY;
    }
    for (size_t q = 0; q < nq; q++) {
        g.rows[q] = rows[q];
        const float *row = pann_row(x->S, rows[q]);
        for (size_t j = 0; j < d; j++) {
            g.point[q][j] = row[j];
            g.lo[j] = row[j] < g.lo[j] ? row[j] : g.lo[j];
            g.hi[j] = row[j] > g.hi[j] ? row[j] : g.hi[j];
        }
    }
    g.worst = group_worst(x, &g);
    if (heap) {
        float centre[64] = { 0 };
        for (size_t j = 0; j < d; j++)
            centre[j] = 0.5f * (g.lo[j] + g.hi[j]);
        visit_best_first(x, &g, centre, heap, vals);
    } else {
        visit(x, &g, 0, node_bound(x, g.lo, g.hi, 0), vals);
    }
    *evaluations += g.evaluations;
    return !g.cut;
}

static int tree_search(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                       const pann_engine_opts *o, size_t max_leaves, size_t k, uint32_t *nn,
                       float *best, uint32_t *filled, unsigned char *proven,
                       uint64_t *evaluations, pann_error *err)
{
    kd_index ix;
    int rc = kd_build(&ix, T, err);
    if (rc)
        return rc;
    uint32_t *order = queries_by_leaf(&ix, S);
    if (!order) {
        kd_free(&ix);
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", S->n);
    }
    float scale = coordinate_scale(S, T), d = (float)m->d;
    float abs_margin = m->kind == PANN_L1 ? 1e-6f * d * scale
                     : m->kind == PANN_L2 ? 4e-6f * d * scale * scale : 1e-6f * d;
    bool has_cat = false;
    for (size_t j = 0; m->is_cat && j < m->d; j++)
        has_cat = has_cat || m->is_cat[j];
    tree_ctx x = { S, &ix, m, o, pann_dist_to_cmp(m, o->eps), abs_margin,
                   !has_cat && o->mode == PANN_MIN, max_leaves, k, nn, best, filled };
    size_t max_blocks = 1;
    for (size_t l = 0; l < ix.nleaves; l++)
        max_blocks = ix.leaf_nblocks[l] > max_blocks ? ix.leaf_nblocks[l] : max_blocks;
    size_t ngroups = (S->n + PANN_QBATCH - 1) / PANN_QBATCH;
    int out_of_memory = 0;
    uint64_t total = 0, rows_done = 0;
#pragma omp parallel num_threads(pann_threads(o->threads)) reduction(+:total)
    {
        pann_hit *vals = malloc(PANN_QBATCH * max_blocks * PANN_LANES * sizeof *vals);
        /* best first for a budget in nearest mode (every node at most once) */
        bool best_first = max_leaves && o->mode == PANN_MIN && x.fast_bounds;
        heap_entry *heap = best_first ? malloc(ix.nnodes * sizeof *heap) : NULL;
        if (best_first && !heap) {
            free(vals);
            vals = NULL;
        }
#pragma omp for schedule(dynamic, 8)
        for (size_t gi = 0; gi < ngroups; gi++) {
            size_t first = gi * PANN_QBATCH;
            size_t nq = S->n - first < PANN_QBATCH ? S->n - first : PANN_QBATCH;
            if (vals) {
                bool complete = search_group(&x, order + first, nq, vals, heap, &total);
                for (size_t q = 0; proven && q < nq; q++)
                    proven[order[first + q]] = complete;
            }
            report_rows(o, &rows_done, nq, S->n);
        }
        if (!vals) {
#pragma omp atomic write
            out_of_memory = 1;
        }
        free(vals);
        free(heap);
    }
    free(order);
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


/* Both entry points: allocate the answers, search, convert the comparison
 * values to distances.  The brute force proves every row; the tree proves
 * the rows whose search was not cut by the leaf budget. */
static int run_search(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                      const pann_engine_opts *o, bool tree, size_t max_leaves,
                      pann_result *r, pann_error *err)
{
    double started = pann_now();
    int rc = pann_check_search(S, T, m, err);
    if (rc)
        return rc;
    size_t n = S->n;
    float *best = malloc((n ? n : 1) * sizeof *best);
    if (!best || pann_result_alloc(r, n, err)) {
        free(best);
        pann_result_free(r);
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", n);
    }
    for (size_t k = 0; k < n; k++)
        best[k] = o->mode == PANN_MIN ? INFINITY : -INFINITY;
    if (tree) {
        rc = tree_search(S, T, m, o, max_leaves, 1, r->nn, best, NULL, r->proven,
                         &r->iterations, err);
    } else {
        rc = brute_search(S, T, m, o, r->nn, best, err);
        memset(r->proven, 1, n);
        r->iterations = (uint64_t)n * T->n;
    }
    if (rc) {
        free(best);
        pann_result_free(r);
        return rc;
    }
    for (size_t k = 0; k < n; k++) {
        r->dist[k] = r->nn[k] == PANN_NONE ? NAN : (float)pann_cmp_to_dist(m, best[k]);
        r->nproven += r->proven[k];
    }
    free(best);
    r->steps = r->iterations;
    r->seconds = pann_now() - started;
    return 0;
}

int pann_exact_run(const pann_matrix *S, const pann_matrix *T,
                   const pann_metric *m, const pann_engine_opts *o,
                   pann_result *r, pann_error *err)
{
    return run_search(S, T, m, o, pann_tree_suits(S, T, m, o), 0, r, err);
}

int pann_tree_run(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                  const pann_engine_opts *o, size_t max_leaves, pann_result *r,
                  pann_error *err)
{
    memset(r, 0, sizeof *r);
    if (m->d == 0 || m->d > 64)
        return pann_fail(err, PANN_EINPUT, "the tree search needs 1 to 64 columns, not %zu", m->d);
    if (m->kind == PANN_COSINE && (has_zero_row(S) || has_zero_row(T)))
        return pann_fail(err, PANN_EINPUT, "the tree search with cosine needs rows of non-zero norm");
    return run_search(S, T, m, o, true, max_leaves, r, err);
}

int pann_tree_knn(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                  const pann_engine_opts *o, size_t k, size_t max_leaves, uint32_t *nn,
                  float *cmp, uint32_t *filled, unsigned char *proven, uint64_t *evaluations,
                  pann_error *err)
{
    pann_engine_opts min_mode = *o;
    min_mode.mode = PANN_MIN;
    min_mode.use_eps = false;
    return tree_search(S, T, m, &min_mode, max_leaves, k, nn, cmp, filled, proven, evaluations,
                       err);
}
