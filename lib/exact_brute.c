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
 * From GEMM_MIN_COLUMNS columns on, cosine and L2 go through the
 * matrix-product kernel (kernels_gemm.c) instead, GEMM_MAX_QUERIES queries
 * at a time: the same values, a larger share of the processor's peak.
 * In a self-match whose blocks took T's rows (exact_pass_blocks), the
 * queries are T's rows read back from the blocks: each task gathers its
 * rows into a small buffer of its thread, so T is held about once.
 */
#include <config.h>
#include <stdlib.h>
#include "exact_internal.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#define TILE_BLOCKS 64          /* 1024 rows of T per tile */
#define TASK_QUERIES 64         /* queries a thread takes at a time */
_Static_assert(TASK_QUERIES <= GEMM_MAX_QUERIES, "a task's rows fit GEMM_MAX_QUERIES pointers");

/* Rows q_begin..q_end-1 of b into rows, d floats each: lane r of a block
 * holds column j of its row r at j * PANN_LANES + r. */
static void gather_rows(const pann_blocks *b, size_t q_begin, size_t q_end, float *rows)
{
    const size_t d = b->d;
    for (size_t q = q_begin; q < q_end; q++) {
        const float *lane = b->v + q / PANN_LANES * d * PANN_LANES + q % PANN_LANES;
        float *row = rows + (q - q_begin) * d;
        for (size_t j = 0; j < d; j++)
            row[j] = lane[j * PANN_LANES];
    }
}

/* The task's query rows into queries: S's own, or gathered from the
 * query blocks into scratch. */
static void task_rows(const exact_pass *p, size_t q_begin, size_t q_end, float *scratch,
                      const float **queries)
{
    if (p->query_blocks)
        gather_rows(p->query_blocks, q_begin, q_end, scratch);
    for (size_t q = q_begin; q < q_end; q++)
        queries[q - q_begin] = p->query_blocks ? scratch + (q - q_begin) * p->query_blocks->d
                                               : pann_row(p->S, q);
}

/* The tile walk of one task: queries q_begin..q_end-1 (rows: theirs)
 * against every tile. */
static void pass_task(const exact_pass *p, size_t q_begin, size_t q_end,
                      const float *const *rows, pann_hit *hits)
{
    const pann_blocks *b = p->blocks;
    for (size_t tile = 0; tile < b->nblocks; tile += TILE_BLOCKS) {
        size_t nblk = b->nblocks - tile < TILE_BLOCKS ? b->nblocks - tile : TILE_BLOCKS;
        for (size_t q0 = q_begin; q0 < q_end; q0 += PANN_QBATCH) {
            size_t nq = q_end - q0 < PANN_QBATCH ? q_end - q0 : PANN_QBATCH;
            float bound[PANN_QBATCH];
            for (size_t q = 0; q < nq; q++)
                bound[q] = p->bound(p->ctx, q0 + q);
            size_t nh = pann_block_filter(p->metric, b, tile, nblk, rows + (q0 - q_begin), nq,
                                          bound, p->mode, hits);
            p->apply(p->ctx, q0, hits, nh);
        }
    }
}

/* The matrix-product walk of one task: every query of the task (rows:
 * theirs) at once, tile by tile; values: the kernel's scratch. */
static void pass_task_gemm(const exact_pass *p, size_t q_begin, size_t q_end,
                           const float *const *rows, pann_hit *hits, float *values)
{
    const pann_blocks *b = p->blocks;
    float bound[GEMM_MAX_QUERIES];
    size_t nq = q_end - q_begin;
    for (size_t tile = 0; tile < b->nblocks; tile += GEMM_TILE_BLOCKS) {
        size_t nblk = b->nblocks - tile < GEMM_TILE_BLOCKS ? b->nblocks - tile
                                                           : GEMM_TILE_BLOCKS;
        for (size_t q = 0; q < nq; q++)
            bound[q] = p->bound(p->ctx, q_begin + q);
        size_t nh = pann_gemm_filter(p->metric, b, tile, nblk, rows, nq, bound, p->mode,
                                     values, hits);
        p->apply(p->ctx, q_begin, hits, nh);
    }
}

/* Threads split the queries (see exact_internal.h); from GEMM_MIN_COLUMNS
 * columns on, cosine and L2 take the matrix-product walk.  Per thread:
 * the hits, the kernel's values, and with query blocks a task's rows. */
int exact_pass_run(const exact_pass *p, int threads, pann_error *err)
{
    bool gemm = pann_gemm_suits(p->metric);
    size_t task_queries = gemm ? GEMM_MAX_QUERIES : TASK_QUERIES;
    size_t nhits = gemm ? GEMM_MAX_QUERIES * GEMM_TILE_BLOCKS * PANN_LANES
                        : PANN_QBATCH * TILE_BLOCKS * PANN_LANES;
    size_t n = p->S->n, ntasks = (n + task_queries - 1) / task_queries;
    size_t d = p->query_blocks ? p->query_blocks->d : 0;
    size_t nscratch = p->query_blocks ? task_queries * (d ? d : 1) : 0;
    int out_of_memory = 0;
    uint64_t rows_done = 0;
#pragma omp parallel num_threads(threads)
    {
        pann_hit *hits = malloc(nhits * sizeof *hits);
        float *values = gemm ? malloc(nhits * sizeof *values) : NULL;
        float *scratch = nscratch ? malloc(nscratch * sizeof *scratch) : NULL;
        bool ready = hits && (values || !gemm) && (scratch || !nscratch);
        const float *rows[GEMM_MAX_QUERIES];   /* the larger of the two walks' tasks */
#pragma omp for schedule(dynamic, 1)
        for (size_t task = 0; task < ntasks; task++) {
            size_t q_begin = task * task_queries;
            size_t q_end = q_begin + task_queries < n ? q_begin + task_queries : n;
            if (ready)
                task_rows(p, q_begin, q_end, scratch, rows);
            if (ready && gemm)
                pass_task_gemm(p, q_begin, q_end, rows, hits, values);
            else if (ready)
                pass_task(p, q_begin, q_end, rows, hits);
            if (p->progress)
                exact_report_rows(p->progress, &rows_done, q_end - q_begin, n);
        }
        if (!ready) {
#pragma omp atomic write
            out_of_memory = 1;
        }
        free(hits);
        free(values);
        free(scratch);
    }
    return out_of_memory ? pann_fail(err, PANN_ESYSTEM, "out of memory") : 0;
}

typedef struct exact_ctx {
    const pann_engine_opts *o;
    float eps_cmp;
    uint32_t *nn;
    float *best;
} exact_ctx;

static float best_bound(const void *ctx, size_t row)
{
    return ((const exact_ctx *)ctx)->best[row];
}

static void apply_best(void *ctx, size_t q0, const pann_hit *hits, size_t nh)
{
    const exact_ctx *x = ctx;
    uint32_t qrows[GEMM_MAX_QUERIES];   /* the larger of the two walks' batches */
    for (size_t q = 0; q < GEMM_MAX_QUERIES; q++)
        qrows[q] = (uint32_t)(q0 + q);
    exact_apply_hits(x->o, x->eps_cmp, hits, nh, qrows, NULL, x->nn, x->best);
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

int exact_pass_blocks(pann_blocks *b, const pann_matrix *S, const pann_matrix *T,
                      pann_matrix *owned, const pann_blocks **query_blocks, pann_error *err)
{
    *query_blocks = owned && owned->v == S->v ? b : NULL;
    return owned ? pann_blocks_consume(b, owned, err) : pann_blocks_build(b, T, err);
}

int exact_brute_search(const pann_matrix *S, const pann_matrix *T, pann_matrix *owned,
                       const pann_metric *m, const pann_engine_opts *o, uint32_t *nn,
                       float *best, pann_error *err)
{
    pann_blocks blocks;
    const pann_blocks *queries;
    int rc = exact_pass_blocks(&blocks, S, T, owned, &queries, err);
    if (rc)
        return rc;
    exact_ctx x = { o, pann_dist_to_cmp(m, o->eps), nn, best };
    exact_pass p = { S, &blocks, m, o->mode, best_bound, apply_best, &x, o, queries };
    rc = exact_pass_run(&p, pann_threads(o->threads), err);
    pann_blocks_free(&blocks);
    if (o->progress && !rc)   /* the end, whichever thread got there */
        o->progress(o->progress_ctx, S->n, S->n);
    return rc;
}
