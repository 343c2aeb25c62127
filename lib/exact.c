/* exact.c — exact nearest (or farthest) neighbours by brute force.
 *
 * T is rearranged into blocks of PANN_LANES rows (distance.c) and walked in
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
#include "pann.h"

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

/* Fold one tile's comparison values for nq queries into their bests. */
static void fold_tile(const exact_ctx *x, size_t q0, size_t nq, size_t first_row,
                      size_t nrows, const float *vals, size_t stride)
{
    const bool min_mode = x->o->mode == PANN_MIN;
    for (size_t q = 0; q < nq; q++) {
        size_t row = q0 + q;
        const float *v = vals + q * stride;
        float best = x->best[row];
        uint32_t best_nn = x->nn[row];
        for (size_t i = 0; i < nrows; i++) {
            float c = v[i];
            if (min_mode ? !(c < best) : !(c > best))
                continue;
            size_t cand = first_row + i;
            if (x->o->self_exclude && cand == row)
                continue;
            if (x->o->use_eps && c < x->eps_cmp)
                continue;
            best = c;
            best_nn = (uint32_t)cand;
        }
        x->best[row] = best;
        x->nn[row] = best_nn;
    }
}

static void exact_task(const exact_ctx *x, size_t q_begin, size_t q_end, float *vals)
{
    const pann_blocks *b = x->blocks;
    for (size_t tile = 0; tile < b->nblocks; tile += TILE_BLOCKS) {
        size_t nblk = b->nblocks - tile < TILE_BLOCKS ? b->nblocks - tile : TILE_BLOCKS;
        size_t first_row = tile * PANN_LANES;
        size_t nrows = b->n - first_row < nblk * PANN_LANES ? b->n - first_row
                                                            : nblk * PANN_LANES;
        for (size_t q0 = q_begin; q0 < q_end; q0 += PANN_QBATCH) {
            size_t nq = q_end - q0 < PANN_QBATCH ? q_end - q0 : PANN_QBATCH;
            const float *queries[PANN_QBATCH];
            for (size_t q = 0; q < nq; q++)
                queries[q] = pann_row(x->S, q0 + q);
            pann_block_cmp(x->metric, b, tile, nblk, queries, nq, vals);
            fold_tile(x, q0, nq, first_row, nrows, vals, nblk * PANN_LANES);
        }
    }
}

int pann_exact_run(const pann_matrix *S, const pann_matrix *T,
                   const pann_metric *m, const pann_engine_opts *o,
                   pann_result *r, pann_error *err)
{
    memset(r, 0, sizeof *r);
    if (S->d != T->d || S->d != m->d)
        return pann_fail(err, PANN_EINPUT, "the two tables have %zu and %zu columns", S->d, T->d);
    if (T->n == 0)
        return pann_fail(err, PANN_EINPUT, "the reference table has no rows");
    if (T->n >= PANN_NONE)
        return pann_fail(err, PANN_EINPUT, "the reference table has too many rows (%zu)", T->n);
    size_t n = S->n;
    pann_blocks blocks;
    int rc = pann_blocks_build(&blocks, T, err);
    if (rc)
        return rc;
    r->n = n;
    r->nn = malloc((n ? n : 1) * sizeof *r->nn);
    r->dist = malloc((n ? n : 1) * sizeof *r->dist);
    r->proven = malloc(n ? n : 1);
    float *best = malloc((n ? n : 1) * sizeof *best);
    if (!r->nn || !r->dist || !r->proven || !best) {
        free(best);
        pann_blocks_free(&blocks);
        pann_result_free(r);
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", n);
    }
    for (size_t k = 0; k < n; k++) {
        r->nn[k] = PANN_NONE;
        best[k] = o->mode == PANN_MIN ? INFINITY : -INFINITY;
    }
    exact_ctx x = { S, &blocks, m, o, pann_dist_to_cmp(m, o->eps), r->nn, best };
    size_t ntasks = (n + TASK_QUERIES - 1) / TASK_QUERIES;
    int threads = pann_threads(o->threads);
    int out_of_memory = 0;
#pragma omp parallel num_threads(threads)
    {
        float *vals = malloc(PANN_QBATCH * TILE_BLOCKS * PANN_LANES * sizeof *vals);
#pragma omp for schedule(dynamic, 1)
        for (size_t task = 0; task < ntasks; task++) {
            size_t q_end = (task + 1) * TASK_QUERIES < n ? (task + 1) * TASK_QUERIES : n;
            if (vals)
                exact_task(&x, task * TASK_QUERIES, q_end, vals);
        }
        if (!vals) {
#pragma omp atomic write
            out_of_memory = 1;
        }
        free(vals);
    }
    pann_blocks_free(&blocks);
    if (out_of_memory) {
        free(best);
        pann_result_free(r);
        return pann_fail(err, PANN_ESYSTEM, "out of memory");
    }
    for (size_t k = 0; k < n; k++) {
        r->dist[k] = r->nn[k] == PANN_NONE ? NAN : (float)pann_cmp_to_dist(m, best[k]);
        r->proven[k] = 1;
    }
    free(best);
    r->nproven = n;
    r->iterations = r->steps = (uint64_t)n * T->n;
    return 0;
}
