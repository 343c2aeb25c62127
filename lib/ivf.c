/* ivf.c — the IVF anytime search (pann_ivf.h): probes, passes, proofs.
 *
 * Probes: each query row's comparison values with every centroid (an
 * ivf_kernel: 96 rows at a time by the matrix-product kernel, else 8 by
 * the blocked kernel), its `probes` nearest cells in order (ties: the
 * lower cell), and for each rank r a lower bound on the distance of any
 * row in the cells from rank r on: the least centroid distance less the
 * cell's radius over those cells (the cells never probed included).
 *
 * Passes: ranks [r0, r1) of every row not yet proven are the pass's
 * (row, cell) pairs.  Pairs are grouped by cell in pair order (a counting
 * sort), cells are scanned in parallel, each against its pairs' rows (96
 * or 8 at a time, as the probes) with the row's best value before the pass
 * as the kernel's bound, and each pair keeps its best (value, row); then
 * each query row takes its pairs' results in rank order.  Nothing depends
 * on which thread scans what, nor on which kernel (their values are
 * pann_cmp's), so the answers are the same for any thread count.
 */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pann.h"
#include "internal.h"
#include "ivf_internal.h"

enum { ROW_TILE = 32 };    /* blocks of a cell per blocked-kernel call */

void pann_ivf_opts_init(pann_ivf_opts *o)
{
    *o = (pann_ivf_opts){ .kmeans_rounds = 8 };
}

size_t pann_ivf_auto_cells(size_t nq, size_t nt)
{
    double c = 2.0 * sqrt((double)nq);
    if (c > (double)nt / 32)
        c = (double)nt / 32;
    return c < 1 ? 1 : (size_t)c;
}

typedef struct ivf_search {
    const pann_matrix *S;
    const ivf_index *ix;
    const pann_metric *m;
    bool self, proofs;
    int threads;
    size_t P;                    /* probes per row */
    uint32_t *probe;             /* n x P cells by rank */
    float *lb;                   /* n x (P + 1) lower bounds */
    float *best;                 /* best comparison value so far */
    uint32_t *best_row;
    unsigned char *proven;
    size_t *scanned;             /* ranks scanned per row */
} ivf_search;

/* ---- probes -------------------------------------------------------------- */

/* Sift-down of a max-heap of (value, cell) keys. */
static void heap_down(float *v, uint32_t *c, size_t n, size_t at)
{
    for (;;) {
        size_t big = at, l = 2 * at + 1, r = l + 1;
        if (l < n && pann_key_less(v[big], c[big], v[l], c[l]))
            big = l;
        if (r < n && pann_key_less(v[big], c[big], v[r], c[r]))
            big = r;
        if (big == at)
            return;
        float tv = v[at];
        uint32_t tc = c[at];
        v[at] = v[big], c[at] = c[big];
        v[big] = tv, c[big] = tc;
        at = big;
    }
}

/* The P smallest of vals[0..k) by (value, cell), ascending, into cell/value. */
static void smallest(const float *vals, size_t k, size_t P, uint32_t *cell, float *value)
{
    size_t n = 0;
    for (size_t c = 0; c < k; c++) {
        if (n < P) {
            cell[n] = (uint32_t)c, value[n] = vals[c];
            if (++n == P)
                for (size_t i = P / 2; i-- > 0;)
                    heap_down(value, cell, P, i);
        } else if (pann_key_less(vals[c], (uint32_t)c, value[0], cell[0])) {
            cell[0] = (uint32_t)c, value[0] = vals[c];
            heap_down(value, cell, P, 0);
        }
    }
    for (size_t end = n; end > 1; end--) {   /* heap sort: ascending */
        float tv = value[0];
        uint32_t tc = cell[0];
        value[0] = value[end - 1], cell[0] = cell[end - 1];
        value[end - 1] = tv, cell[end - 1] = tc;
        heap_down(value, cell, end - 1, 0);
    }
}

/* The bound of a cell: no row in it is nearer than this (a margin for the
 * kernels' rounding). */
static float cell_bound(const ivf_search *s, uint32_t c, float value)
{
    double dq = ivf_metric_dist(s->m, value), r = s->ix->radius[c];
    return (float)(dq - r - 1e-4 * (dq + r) - 1e-6);
}

static void probe_row(ivf_search *s, size_t q, const float *vals, uint32_t *cell, float *value,
                      unsigned char *mark)
{
    size_t P = s->P, k = s->ix->ncells;
    smallest(vals, k, P, cell, value);
    float *lb = s->lb + q * (P + 1);
    float rest = INFINITY;
    for (size_t r = 0; r < P; r++)
        mark[cell[r]] = 1;
    for (size_t c = 0; c < k; c++) {
        if (!mark[c]) {
            float b = cell_bound(s, (uint32_t)c, vals[c]);
            rest = b < rest ? b : rest;
        }
        mark[c] = 0;
    }
    lb[P] = rest;
    for (size_t r = P; r-- > 0;) {
        float b = cell_bound(s, cell[r], value[r]);
        lb[r] = b < lb[r + 1] ? b : lb[r + 1];
    }
    memcpy(s->probe + q * P, cell, P * sizeof *cell);
}

static int make_probes(ivf_search *s, pann_error *err)
{
    size_t n = s->S->n, k = s->ix->ncells;
    int failed = 0;
#pragma omp parallel num_threads(s->threads)
    {
        ivf_kernel kern;
        bool ready = ivf_kernel_init(&kern, s->m, IVF_CELL_TILE) == 0;
        float *vals = malloc(kern.batch * k * sizeof *vals);
        float *value = malloc(s->P * sizeof *value);
        uint32_t *cell = malloc(s->P * sizeof *cell);
        unsigned char *mark = calloc(k, 1);
        ready = ready && vals && value && cell && mark;
        if (!ready) {
#pragma omp atomic write
            failed = 1;
        }
        size_t nbatch = (n + kern.batch - 1) / kern.batch;
#pragma omp for schedule(dynamic, 1)
        for (size_t b = 0; b < nbatch; b++) {
            if (!ready)
                continue;
            const float *rows[IVF_MAX_BATCH];
            size_t first = b * kern.batch, nq = n - first < kern.batch ? n - first : kern.batch;
            for (size_t q = 0; q < nq; q++)
                rows[q] = pann_row(s->S, first + q);
            ivf_centroid_cmp(s->ix, &kern, rows, nq, vals);
            for (size_t q = 0; q < nq; q++)
                probe_row(s, first + q, vals + q * k, cell, value, mark);
        }
        ivf_kernel_free(&kern);
        free(vals);
        free(value);
        free(cell);
        free(mark);
    }
    return failed ? pann_fail(err, PANN_ESYSTEM, "out of memory (IVF probes)") : 0;
}

/* ---- passes ---------------------------------------------------------------- */

/* One pass's pairs: active[a] is a row still searching, pair a * w + j its
 * rank r0 + j (none past P); by_cell lists pairs by cell in pair order. */
typedef struct ivf_pass {
    size_t r0, w, nactive;
    uint32_t *active;
    size_t *cell_start;          /* ncells + 1 */
    uint32_t *by_cell;
    float *res;                  /* per pair: best value in its cell */
    uint32_t *res_row;
} ivf_pass;

static uint32_t pair_cell(const ivf_search *s, const ivf_pass *p, size_t pair)
{
    size_t j = pair % p->w, r = p->r0 + j;
    return r < s->P ? s->probe[(size_t)p->active[pair / p->w] * s->P + r] : PANN_NONE;
}

static void group_pairs(const ivf_search *s, ivf_pass *p)
{
    size_t k = s->ix->ncells, npairs = p->nactive * p->w;
    memset(p->cell_start, 0, (k + 1) * sizeof *p->cell_start);
    for (size_t i = 0; i < npairs; i++) {
        uint32_t c = pair_cell(s, p, i);
        if (c != PANN_NONE)
            p->cell_start[c + 1]++;
        p->res[i] = INFINITY;
        p->res_row[i] = PANN_NONE;
    }
    for (size_t c = 0; c < k; c++)
        p->cell_start[c + 1] += p->cell_start[c];
    size_t *fill = p->cell_start;   /* advanced, then restored */
    for (size_t i = 0; i < npairs; i++) {
        uint32_t c = pair_cell(s, p, i);
        if (c != PANN_NONE)
            p->by_cell[fill[c]++] = (uint32_t)i;
    }
    for (size_t c = k; c > 0; c--)
        fill[c] = fill[c - 1];
    fill[0] = 0;
}

/* Up to k->batch pairs of cell c against the cell's rows. */
static void scan_batch(const ivf_search *s, ivf_pass *p, const ivf_kernel *k, uint32_t c,
                       const uint32_t *pairs, size_t nq)
{
    const ivf_index *ix = s->ix;
    const float *rows[IVF_MAX_BATCH];
    float bound[IVF_MAX_BATCH];
    uint32_t query[IVF_MAX_BATCH];
    for (size_t q = 0; q < nq; q++) {
        query[q] = p->active[pairs[q] / p->w];
        rows[q] = pann_row(s->S, query[q]);
        bound[q] = s->best[query[q]];
    }
    for (size_t b = ix->cell_block[c]; b < ix->cell_block[c + 1]; b += k->tile) {
        size_t nb = ix->cell_block[c + 1] - b < k->tile ? ix->cell_block[c + 1] - b : k->tile;
        size_t nh = ivf_filter(k, &ix->rows, b, nb, rows, nq, bound);
        for (size_t h = 0; h < nh; h++) {
            const pann_hit *x = &k->hits[h];
            uint32_t q = x->query, row = ix->slot_row[x->slot];
            size_t pair = pairs[q];
            if (row == PANN_NONE || (s->self && row == query[q]))
                continue;
            if (pann_key_less(x->value, row, p->res[pair], p->res_row[pair])) {
                p->res[pair] = x->value;
                p->res_row[pair] = row;
                bound[q] = x->value;
            }
        }
    }
}

static int scan_cells(const ivf_search *s, ivf_pass *p, pann_error *err)
{
    size_t k = s->ix->ncells;
    int failed = 0;
#pragma omp parallel num_threads(s->threads)
    {
        ivf_kernel kern;
        bool ready = ivf_kernel_init(&kern, s->m, ROW_TILE) == 0;
        if (!ready) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t c = 0; c < k; c++)
            for (size_t at = p->cell_start[c]; ready && at < p->cell_start[c + 1];
                 at += kern.batch) {
                size_t nq = p->cell_start[c + 1] - at < kern.batch ? p->cell_start[c + 1] - at
                                                                   : kern.batch;
                scan_batch(s, p, &kern, (uint32_t)c, p->by_cell + at, nq);
            }
        ivf_kernel_free(&kern);
    }
    return failed ? pann_fail(err, PANN_ESYSTEM, "out of memory (IVF scan)") : 0;
}

/* Each active row takes its pairs' results in rank order; then whether it
 * is proven.  Returns the pass's distances computed; *swaps gets the
 * accepted candidates. */
static uint64_t take_results(ivf_search *s, const ivf_pass *p, uint64_t *swaps)
{
    uint64_t evals = 0, accepted = 0;
#pragma omp parallel for num_threads(s->threads) schedule(static) reduction(+:evals, accepted)
    for (size_t a = 0; a < p->nactive; a++) {
        uint32_t q = p->active[a];
        for (size_t j = 0; j < p->w && p->r0 + j < s->P; j++) {
            size_t pair = a * p->w + j;
            evals += s->ix->cell_size[pair_cell(s, p, pair)];
            if (p->res_row[pair] != PANN_NONE &&
                pann_key_less(p->res[pair], p->res_row[pair], s->best[q], s->best_row[q])) {
                s->best[q] = p->res[pair];
                s->best_row[q] = p->res_row[pair];
                accepted++;
            }
        }
        size_t done = p->r0 + p->w < s->P ? p->r0 + p->w : s->P;
        s->scanned[q] = done;
        bool all = done == s->ix->ncells;
        bool bound = s->proofs && s->best_row[q] != PANN_NONE &&
                     ivf_metric_dist(s->m, s->best[q]) * (1 + 1e-5) < s->lb[q * (s->P + 1) + done];
        s->proven[q] = all || bound;
    }
    *swaps = accepted;
    return evals;
}

/* ---- the run ----------------------------------------------------------------- */

static bool unit_rows(const pann_matrix *X, int threads)
{
    size_t off = 0;
#pragma omp parallel for num_threads(threads) schedule(static) reduction(+:off)
    for (size_t i = 0; i < X->n; i++) {
        const float *x = pann_row(X, i);
        double ss = 0;
        for (size_t j = 0; j < X->d; j++)
            ss += (double)x[j] * x[j];
        off += fabs(ss - 1) > 1e-4;
    }
    return off == 0;
}

static int check_ivf(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                     const pann_engine_opts *o, pann_error *err)
{
    int rc = pann_check_search(S, T, m, err);
    if (rc)
        return rc;
    for (size_t j = 0; m->is_cat && j < m->d; j++)
        if (m->is_cat[j])
            return pann_fail(err, PANN_EINPUT, "the IVF strategy needs numeric columns");
    if (o->mode != PANN_MIN || o->use_eps)
        return pann_fail(err, PANN_EINPUT, "the IVF strategy searches nearest neighbours "
                         "(no --mode=max, no --eps)");
    return 0;
}

static int record(pann_result *r, const ivf_search *s, size_t *cap, pann_error *err)
{
    if (r->nhistory == *cap) {
        size_t grown_cap = *cap ? 2 * *cap : 32;
        pann_history_rec *grown = realloc(r->history, grown_cap * sizeof *grown);
        if (!grown)
            return pann_fail(err, PANN_ESYSTEM, "out of memory (history)");
        r->history = grown;
        *cap = grown_cap;
    }
    double sum = 0;
    size_t count = 0;
    for (size_t q = 0; q < s->S->n; q++)
        if (s->best_row[q] != PANN_NONE) {
            sum += pann_cmp_to_dist(s->m, s->best[q]);
            count++;
        }
    double mean = count ? sum / count : NAN;
    r->history[r->nhistory++] = (pann_history_rec){ r->iterations, r->iterations, r->swaps,
                                                    mean, mean };
    return 0;
}

static int alloc_search(ivf_search *s, ivf_pass *p, pann_result *r, pann_error *err)
{
    size_t n = s->S->n, P = s->P, k = s->ix->ncells;
    s->probe = malloc(n * P * sizeof *s->probe);
    s->lb = malloc(n * (P + 1) * sizeof *s->lb);
    s->best = malloc(n * sizeof *s->best);
    s->scanned = calloc(n, sizeof *s->scanned);
    s->best_row = r->nn;
    s->proven = r->proven;
    p->active = malloc(n * sizeof *p->active);
    p->cell_start = malloc((k + 1) * sizeof *p->cell_start);
    /* a pass covers at most max(1, P / 2) ranks */
    size_t wmax = P / 2 > 1 ? P / 2 : 1;
    p->by_cell = malloc(n * wmax * sizeof *p->by_cell);
    p->res = malloc(n * wmax * sizeof *p->res);
    p->res_row = malloc(n * wmax * sizeof *p->res_row);
    if (!s->probe || !s->lb || !s->best || !s->scanned || !p->active || !p->cell_start ||
        !p->by_cell || !p->res || !p->res_row)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (IVF search of %zu rows, %zu "
                         "probes)", n, P);
    for (size_t q = 0; q < n; q++)
        s->best[q] = INFINITY;
    return 0;
}

static void free_search(ivf_search *s, ivf_pass *p)
{
    free(s->probe);
    free(s->lb);
    free(s->best);
    free(s->scanned);
    free(p->active);
    free(p->cell_start);
    free(p->by_cell);
    free(p->res);
    free(p->res_row);
}

/* Passes of 1, 1, 2, 4, ... ranks until every row is proven or has
 * scanned its P cells, or time is up. */
static int run_passes(ivf_search *s, ivf_pass *p, const pann_engine_opts *o, pann_result *r,
                      double started, pann_error *err)
{
    size_t cap = 0, n = s->S->n;
    int rc = o->history_every ? record(r, s, &cap, err) : 0;
    for (size_t r0 = 0, w = 1; !rc && r0 < s->P; r0 += w, w = r0 > 1 ? r0 : 1) {
        p->r0 = r0;
        p->w = w < s->P - r0 ? w : s->P - r0;
        p->nactive = 0;
        for (size_t q = 0; q < n; q++)
            if (!s->proven[q])
                p->active[p->nactive++] = (uint32_t)q;
        if (!p->nactive)
            break;
        group_pairs(s, p);
        if ((rc = scan_cells(s, p, err)))
            break;
        uint64_t swaps;
        r->iterations += take_results(s, p, &swaps);
        r->swaps += swaps;
        r->epochs++;
        if (o->history_every)
            rc = record(r, s, &cap, err);
        if (o->progress)
            o->progress(o->progress_ctx, r0 + p->w, s->P);
        if (o->max_seconds > 0 && pann_now() - started >= o->max_seconds && r0 + p->w < s->P) {
            r->stopped_by_time = true;
            break;
        }
    }
    return rc;
}

int pann_match_ivf(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                   const pann_engine_opts *o, const pann_ivf_opts *io, pann_result *r,
                   pann_error *err)
{
    double started = pann_now();
    int rc = check_ivf(S, T, m, o, err);
    if (rc || (rc = pann_result_alloc(r, S->n, err)))
        return rc;
    ivf_index ix;
    size_t cells = io->cells ? io->cells : pann_ivf_auto_cells(S->n, T->n);
    int threads = pann_threads(o->threads);
    rc = ivf_build(&ix, T, m, cells, io->sample, io->kmeans_rounds, o->seed, threads, err);
    if (rc) {
        pann_result_free(r);
        return rc;
    }
    ivf_search s = { .S = S, .ix = &ix, .m = m, .self = o->self_exclude, .threads = threads };
    s.P = io->probes == 0 || io->probes > ix.ncells ? ix.ncells : io->probes;
    s.proofs = m->kind != PANN_COSINE || (unit_rows(S, threads) && unit_rows(T, threads));
    ivf_pass p = {0};
    rc = alloc_search(&s, &p, r, err);
    if (!rc)
        rc = make_probes(&s, err);
    r->iterations = ix.evaluations + (uint64_t)S->n * ix.ncells;
    if (!rc)
        rc = run_passes(&s, &p, o, r, started, err);
    for (size_t q = 0; !rc && q < S->n; q++) {
        r->dist[q] = r->nn[q] != PANN_NONE ? (float)pann_cmp_to_dist(m, s.best[q]) : NAN;
        r->nproven += r->proven[q];
    }
    r->steps = r->iterations;
    free_search(&s, &p);
    ivf_free(&ix);
    r->seconds = pann_now() - started;
    if (rc)
        pann_result_free(r);
    return rc;
}
