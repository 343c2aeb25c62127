/* exact_brute.c — the blocked brute force of the exact search.
 *
 * It compares every query with every row of T and wins in high dimension.
 * T is rearranged into blocks of PANN_LANES rows (distance.c) and walked in
 * tiles small enough to stay in cache; each tile is compared with
 * PANN_QBATCH queries at a time, so a row of T is loaded once for several
 * queries.  Threads split the queries, each owning its rows' answers, so the
 * result does not depend on the thread count.  Candidates are visited in
 * increasing row order and replaced only when strictly better, so ties go
 * to the lowest row, as the definition of brute force used in the tests.
 */
#include <config.h>
#include <stdlib.h>
#include "exact_internal.h"
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
            exact_apply_hits(x->o, x->eps_cmp, hits, nh, qrows, NULL, x->nn, x->best);
        }
    }
}

/* Rows done so far: see exact_internal.h. */
void exact_report_rows(const pann_engine_opts *o, uint64_t *done, size_t rows, size_t total)
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

int exact_brute_search(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
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
            exact_report_rows(o, &rows_done, q_end - task * TASK_QUERIES, S->n);
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
