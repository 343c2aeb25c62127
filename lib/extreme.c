/* extreme.c — extreme points and outliers of one data set (article,
 * sections 1 and 2.3, Figure 3).
 *
 * The envelope: with S = T and the loss maximised, every row's neighbour is
 * its farthest row, which for any norm lies on the convex hull (a distance
 * to a fixed point is convex, so its maximum over a polytope is at a
 * vertex).  The search itself is the engine's or exact.c's; this module
 * only counts how often each row was chosen and ranks the chosen ones.
 *
 * Outliers: the distance from each row to its K-th nearest other row, exact,
 * by the blocked kernels (PANN_QBATCH queries per pass over tiles of the
 * data, threads over ranges of queries).  Each query keeps its K smallest
 * comparison values in a max-heap, so a candidate that cannot enter costs
 * one comparison with the heap's top.  The K-th smallest value does not
 * depend on how ties are broken, nor on which thread ran which query.
 */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pann.h"

#define TILE_BLOCKS 64          /* 1024 rows per tile, as in exact.c */
#define TASK_QUERIES 64         /* queries a thread takes at a time */
#define HEAP_FLOATS (1u << 20)  /* heap memory a task may use (4 MB) */

static int by_score_then_row(const void *pa, const void *pb)
{
    const pann_scored_row *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->row < b->row ? -1 : (a->row > b->row);
}

int pann_extreme_count(const pann_result *r, pann_scored_row **points, size_t *npoints,
                       pann_error *err)
{
    size_t n = r->n;
    *points = NULL;
    *npoints = 0;
    uint32_t *chosen_by = calloc(n ? n : 1, sizeof *chosen_by);
    if (!chosen_by)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", n);
    size_t distinct = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t j = r->nn[k];
        if (j == PANN_NONE)
            continue;          /* a lone row has no other row to choose */
        if (j >= n) {
            free(chosen_by);
            return pann_fail(err, PANN_EINPUT, "row %zu chose row %lu outside the set",
                             k + 1, (unsigned long)j + 1);
        }
        distinct += chosen_by[j]++ == 0;
    }
    pann_scored_row *list = malloc((distinct ? distinct : 1) * sizeof *list);
    if (!list) {
        free(chosen_by);
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", distinct);
    }
    size_t count = 0;
    for (size_t j = 0; j < n; j++)
        if (chosen_by[j])
            list[count++] = (pann_scored_row){ j, (double)chosen_by[j] };
    free(chosen_by);
    qsort(list, count, sizeof *list, by_score_then_row);
    *points = list;
    *npoints = count;
    return 0;
}

int pann_extreme_envelope(const pann_matrix *X, const pann_metric *m,
                          const pann_engine_opts *o, bool exact, pann_result *r,
                          pann_scored_row **points, size_t *npoints, pann_error *err)
{
    pann_engine_opts farthest = *o;
    farthest.mode = PANN_MAX;
    farthest.self_exclude = true;
    *points = NULL;
    *npoints = 0;
    int rc = exact ? pann_exact_run(X, X, m, &farthest, r, err)
                   : pann_engine_run(X, X, m, &farthest, r, err);
    if (rc)
        return rc;
    rc = pann_extreme_count(r, points, npoints, err);
    if (rc)
        pann_result_free(r);
    return rc;
}

/* ---- K-th nearest neighbour distance ------------------------------------ */

typedef struct kth_ctx {
    const pann_matrix *X;
    const pann_blocks *blocks;
    const pann_metric *metric;
    size_t k;
    double *dist;
} kth_ctx;

/* A max-heap of at most k comparison values: heap[0] is the largest kept. */
typedef struct topk {
    float *heap;
    size_t count;
} topk;

static void topk_offer(topk *t, size_t k, float c)
{
    float *h = t->heap;
    size_t i;
    if (t->count < k) {            /* not full: sift the new value up */
        i = t->count++;
        while (i > 0 && h[(i - 1) / 2] < c) {
            h[i] = h[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        h[i] = c;
        return;
    }
    if (!(c < h[0]))
        return;
    i = 0;                         /* replace the top and sift it down */
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= k)
            break;
        if (child + 1 < k && h[child + 1] > h[child])
            child++;
        if (!(h[child] > c))
            break;
        h[i] = h[child];
        i = child;
    }
    h[i] = c;
}

/* Fold one tile's values for the queries q0.. into their heaps. */
static void fold_tile(const kth_ctx *x, topk *heaps, size_t q0, size_t nq,
                      size_t first_row, size_t nrows, const float *vals, size_t stride)
{
    for (size_t q = 0; q < nq; q++) {
        topk *t = &heaps[q];
        const float *v = vals + q * stride;
        size_t self = q0 + q;
        for (size_t i = 0; i < nrows; i++)
            if (first_row + i != self && (t->count < x->k || v[i] < t->heap[0]))
                topk_offer(t, x->k, v[i]);
    }
}

static void kth_task(const kth_ctx *x, size_t q_begin, size_t q_end, topk *heaps,
                     float *vals)
{
    const pann_blocks *b = x->blocks;
    for (size_t q = 0; q < q_end - q_begin; q++)
        heaps[q].count = 0;
    for (size_t tile = 0; tile < b->nblocks; tile += TILE_BLOCKS) {
        size_t nblk = b->nblocks - tile < TILE_BLOCKS ? b->nblocks - tile : TILE_BLOCKS;
        size_t first_row = tile * PANN_LANES;
        size_t nrows = b->n - first_row < nblk * PANN_LANES ? b->n - first_row
                                                            : nblk * PANN_LANES;
        for (size_t q0 = q_begin; q0 < q_end; q0 += PANN_QBATCH) {
            size_t nq = q_end - q0 < PANN_QBATCH ? q_end - q0 : PANN_QBATCH;
            const float *queries[PANN_QBATCH];
            for (size_t q = 0; q < nq; q++)
                queries[q] = pann_row(x->X, q0 + q);
            pann_block_cmp(x->metric, b, tile, nblk, queries, nq, vals);
            fold_tile(x, heaps + (q0 - q_begin), q0, nq, first_row, nrows, vals,
                      nblk * PANN_LANES);
        }
    }
    for (size_t q = q_begin; q < q_end; q++)
        x->dist[q] = pann_cmp_to_dist(x->metric, heaps[q - q_begin].heap[0]);
}

/* Queries per task: up to TASK_QUERIES, fewer when k is large so that the
 * heaps of a task stay within HEAP_FLOATS, never fewer than one batch. */
static size_t task_queries(size_t k)
{
    size_t q = HEAP_FLOATS / k;
    q -= q % PANN_QBATCH;
    if (q < PANN_QBATCH) q = PANN_QBATCH;
    if (q > TASK_QUERIES) q = TASK_QUERIES;
    return q;
}

/* One worker's share: heaps and tile values of its own, tasks taken in
 * turn.  Returns false when its memory could not be had. */
static bool kth_worker(const kth_ctx *x, size_t per_task, size_t ntasks)
{
    size_t n = x->X->n;
    float *vals = malloc(PANN_QBATCH * TILE_BLOCKS * PANN_LANES * sizeof *vals);
    float *heap_space = malloc(per_task * x->k * sizeof *heap_space);
    topk *heaps = malloc(per_task * sizeof *heaps);
    bool ok = vals && heap_space && heaps;
    if (ok)
        for (size_t q = 0; q < per_task; q++)
            heaps[q].heap = heap_space + q * x->k;
#pragma omp for schedule(dynamic, 1)
    for (size_t task = 0; task < ntasks; task++) {
        size_t q_end = (task + 1) * per_task < n ? (task + 1) * per_task : n;
        if (ok)
            kth_task(x, task * per_task, q_end, heaps, vals);
    }
    free(vals);
    free(heap_space);
    free(heaps);
    return ok;
}

int pann_kth_distance(const pann_matrix *X, const pann_metric *m, size_t k, int threads,
                      double *dist, pann_error *err)
{
    size_t n = X->n;
    if (X->d != m->d)
        return pann_fail(err, PANN_EINPUT, "the table has %zu columns, the metric %zu",
                         X->d, m->d);
    if (k < 1 || k >= n)
        return pann_fail(err, PANN_EINPUT,
                         "k = %zu: the k-th nearest neighbour needs at least k + 1 rows, "
                         "the table has %zu", k, n);
    pann_blocks blocks;
    int rc = pann_blocks_build(&blocks, X, err);
    if (rc)
        return rc;
    kth_ctx x = { X, &blocks, m, k, dist };
    size_t per_task = task_queries(k);
    size_t ntasks = (n + per_task - 1) / per_task;
    int out_of_memory = 0;
#pragma omp parallel num_threads(pann_threads(threads))
    {
        if (!kth_worker(&x, per_task, ntasks)) {
#pragma omp atomic write
            out_of_memory = 1;
        }
    }
    pann_blocks_free(&blocks);
    if (out_of_memory)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (k = %zu)", k);
    return 0;
}

int pann_extreme_outliers(const pann_matrix *X, const pann_metric *m, size_t k,
                          int threads, pann_scored_row **ranked, pann_error *err)
{
    size_t n = X->n;
    *ranked = NULL;
    double *dist = malloc((n ? n : 1) * sizeof *dist);
    pann_scored_row *list = malloc((n ? n : 1) * sizeof *list);
    if (!dist || !list) {
        free(dist);
        free(list);
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", n);
    }
    int rc = pann_kth_distance(X, m, k, threads, dist, err);
    if (rc) {
        free(dist);
        free(list);
        return rc;
    }
    for (size_t i = 0; i < n; i++)
        list[i] = (pann_scored_row){ i, dist[i] };
    free(dist);
    qsort(list, n, sizeof *list, by_score_then_row);
    *ranked = list;
    return 0;
}
