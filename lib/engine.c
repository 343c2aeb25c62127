/* engine.c — the PANN anytime search of the article (sections 1 and 3).
 *
 * Every row k of S holds a current neighbour sigma(k) in T, the best
 * neighbour seen so far, and a counter into its own keyed permutation of T
 * (rng.c): proposal i of row k is candidate perm_k(i), so no candidate is
 * proposed twice, and once the counter reaches m every candidate has been
 * tried and the row's best is exact.  The anytime search and the exact
 * answer are one loop stopped at different times.
 *
 * An epoch selects the top fraction of the rows still searching, ordered by
 * how much they have to gain (largest current distance in min mode), and
 * gives each one proposal, accepted when new < (1 - tau(t)) * old (min mode)
 * with tau(t) = decay / log(2 + t).  Two defects of the article's program
 * are avoided by construction: state is indexed by row, so re-sorting never
 * separates a row from its tried candidates, and exhausted rows leave the
 * selection instead of staying on top and starving the others.
 *
 * Determinism: the rows of an epoch are processed in row order in chunks; a
 * proposal depends only on (seed, row, counter, t), each row touches only its
 * own state, and sums are reduced serially in position order, so the output
 * is the same for any thread count.
 */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "pann.h"
#include "internal.h"

/* Large chunks: each parallel region ends with OpenMP threads spinning for a
 * while, which costs a loaded machine dearly if regions are many. */
#define CHUNK_MAX 262144

typedef struct outcome {
    double d_cur, d_best;        /* change of the row's distances */
    uint32_t steps;              /* candidates drawn */
    unsigned char swapped, assigned, exhausted;
} outcome;

typedef struct engine {
    const pann_matrix *S, *T;
    const pann_metric *metric;
    const pann_engine_opts *o;
    size_t n, m;
    uint32_t *cur_nn, *best_nn, *tried;
    float *cur_cmp, *best_cmp;
    float eps_cmp;
} engine;


void pann_engine_opts_init(pann_engine_opts *o)
{
    memset(o, 0, sizeof *o);
    o->mode = PANN_MIN;
    o->top_fraction = 0.5;
    o->seed = 1;
}

void pann_result_free(pann_result *r)
{
    free(r->nn);
    free(r->dist);
    free(r->proven);
    free(r->history);
    memset(r, 0, sizeof *r);
}

static inline bool better(pann_mode mode, float c, uint32_t cand, float best, uint32_t best_nn)
{
    if (best_nn == PANN_NONE)
        return true;
    if (c == best)
        return cand < best_nn;     /* ties: the lowest row, as brute force */
    return mode == PANN_MIN ? c < best : c > best;
}

/* The article's accept rule, on reported distances (not squared L2). */
static inline bool accept(const engine *e, double new_dist, double old_dist, uint64_t t)
{
    double threshold = 1.0 - e->o->decay / log(2.0 + (double)t);
    if (e->o->mode == PANN_MIN)
        return new_dist < threshold * old_dist;
    return old_dist < threshold * new_dist;
}

/* One proposal for row k at time t.  With keep_drawing (the first pass) a
 * row draws until it finds an admissible candidate, as the article's
 * initialisation loop does; otherwise an eps-excluded draw uses up the
 * proposal, as in the article's main loop. */
static void propose(engine *e, size_t k, uint64_t t, bool keep_drawing, outcome *res)
{
    const pann_metric *metric = e->metric;
    pann_perm perm;
    pann_perm_init(&perm, e->m, e->o->seed, k);
    memset(res, 0, sizeof *res);
    while (e->tried[k] < e->m) {
        uint32_t cand = (uint32_t)pann_perm_at(&perm, e->tried[k]++);
        res->steps++;
        if (e->o->self_exclude && cand == k)
            continue;
        float c = pann_cmp(metric, pann_row(e->S, k), pann_row(e->T, cand));
        if (e->o->use_eps && c < e->eps_cmp) {
            if (keep_drawing)
                continue;
            break;
        }
        double dist = pann_cmp_to_dist(metric, c);
        if (better(e->o->mode, c, cand, e->best_cmp[k], e->best_nn[k])) {
            res->d_best = dist - (e->best_nn[k] == PANN_NONE ? 0.0
                                  : pann_cmp_to_dist(metric, e->best_cmp[k]));
            res->assigned = e->best_nn[k] == PANN_NONE;
            e->best_nn[k] = cand;
            e->best_cmp[k] = c;
        }
        if (e->cur_nn[k] == PANN_NONE) {
            e->cur_nn[k] = cand;
            e->cur_cmp[k] = c;
            res->d_cur = dist;
        } else {
            double old = pann_cmp_to_dist(metric, e->cur_cmp[k]);
            if (accept(e, dist, old, t)) {
                e->cur_nn[k] = cand;
                e->cur_cmp[k] = c;
                res->d_cur = dist - old;
                res->swapped = 1;
            }
        }
        break;
    }
    res->exhausted = e->tried[k] >= e->m;
}

static int cmp_key(const pann_sel_key *a, const pann_sel_key *b)
{   /* a total order: more to gain first, then the lower row */
    if (a->badness != b->badness)
        return a->badness > b->badness ? -1 : 1;
    return a->row < b->row ? -1 : (a->row > b->row);
}

/* Rearrange keys so that the first k are the k smallest in cmp_key order
 * (quickselect; the set is unique because the order is total). */
void pann_select_top(pann_sel_key *keys, size_t count, size_t k)
{
    size_t lo = 0, hi = count;
    while (k > lo && k < hi) {
        if (hi - lo <= 16) {   /* small ranges: insertion sort, and no
                                  two-element partition that cannot shrink */
            for (size_t i = lo + 1; i < hi; i++)
                for (size_t j = i; j > lo && cmp_key(&keys[j], &keys[j - 1]) < 0; j--) {
                    pann_sel_key tmp = keys[j]; keys[j] = keys[j - 1]; keys[j - 1] = tmp;
                }
            return;
        }
        pann_sel_key a = keys[lo], b = keys[lo + (hi - lo) / 2], c = keys[hi - 1];
        pann_sel_key pivot = cmp_key(&a, &b) < 0
            ? (cmp_key(&b, &c) < 0 ? b : (cmp_key(&a, &c) < 0 ? c : a))
            : (cmp_key(&a, &c) < 0 ? a : (cmp_key(&b, &c) < 0 ? c : b));
        size_t i = lo, j = hi - 1;
        for (;;) {   /* Hoare partition around the pivot value */
            while (cmp_key(&keys[i], &pivot) < 0) i++;
            while (cmp_key(&keys[j], &pivot) > 0) j--;
            if (i >= j) break;
            pann_sel_key tmp = keys[i]; keys[i] = keys[j]; keys[j] = tmp;
            i++; j--;
        }
        if (k <= j) hi = j + 1;
        else lo = j + 1;
    }
}

static float badness(const void *ctx, size_t k)
{
    const engine *e = ctx;
    if (e->cur_nn[k] == PANN_NONE)
        return INFINITY;
    return e->o->mode == PANN_MIN ? e->cur_cmp[k] : -e->cur_cmp[k];
}

typedef struct run_state {
    const engine *e;
    pann_result *r;
    double sum_cur, sum_best;
    size_t assigned;             /* rows with a neighbour */
    size_t history_cap;
    uint64_t history_from;       /* proposals at the first history line */
    double started;
} run_state;

static int record_history(run_state *st, pann_error *err)
{
    pann_result *r = st->r;
    if (r->nhistory == st->history_cap) {
        size_t cap = st->history_cap ? 2 * st->history_cap : 64;
        pann_history_rec *grown = realloc(r->history, cap * sizeof *grown);
        if (!grown)
            return pann_fail(err, PANN_ESYSTEM, "out of memory (history)");
        r->history = grown;
        st->history_cap = cap;
    }
    double denom = st->assigned ? (double)st->assigned : NAN;
    r->history[r->nhistory++] = (pann_history_rec){
        .step = r->steps, .iteration = r->iterations, .swaps = r->swaps,
        .mean_best = st->sum_best / denom, .mean_current = st->sum_cur / denom,
    };
    if (st->e->o->snapshot)
        st->e->o->snapshot(st->e->o->snapshot_ctx, &r->history[r->nhistory - 1],
                           st->e->cur_nn, st->e->best_nn, st->e->n);
    return 0;
}

/* Process rows[0..count) (one proposal each, time t0 + position) in
 * parallel, then fold their outcomes in position order. */
static void process_chunk(engine *e, run_state *st, const uint32_t *rows, size_t count,
                          bool keep_drawing, outcome *outcomes, int threads)
{
    uint64_t t0 = st->r->iterations;
#pragma omp parallel for schedule(static) num_threads(threads) if (count >= 256)
    for (size_t i = 0; i < count; i++)
        propose(e, rows[i], t0 + i, keep_drawing, &outcomes[i]);
    pann_result *r = st->r;
    for (size_t i = 0; i < count; i++) {
        const outcome *oc = &outcomes[i];
        st->sum_cur += oc->d_cur;
        st->sum_best += oc->d_best;
        st->assigned += oc->assigned;
        r->steps += oc->steps;
        r->swaps += oc->swapped;
    }
    r->iterations += count;
}

size_t pann_select_epoch(const uint32_t *active, size_t nactive, double top_fraction,
                         float (*gain)(const void *ctx, size_t row), const void *ctx,
                         pann_sel_key *keys, unsigned char *chosen, uint32_t *epoch_rows)
{
    size_t take = (size_t)ceil(top_fraction * (double)nactive);
    if (take < 1) take = 1;
    if (take >= nactive) {
        memcpy(epoch_rows, active, nactive * sizeof *active);
        return nactive;
    }
    for (size_t i = 0; i < nactive; i++)
        keys[i] = (pann_sel_key){ gain(ctx, active[i]), active[i] };
    pann_select_top(keys, nactive, take);
    for (size_t i = 0; i < take; i++)
        chosen[keys[i].row] = 1;
    size_t count = 0;
    for (size_t i = 0; i < nactive; i++)
        if (chosen[active[i]]) {
            chosen[active[i]] = 0;
            epoch_rows[count++] = active[i];
        }
    return count;
}

static bool budget_left(const engine *e, const run_state *st)
{
    return pann_budget_left(e->o, st->r->iterations, st->started, &st->r->stopped_by_time);
}

/* How many of the next `want` positions to run before a budget or history
 * boundary. */
static size_t chunk_length(const engine *e, const run_state *st, size_t want)
{
    const pann_engine_opts *o = e->o;
    uint64_t done = st->r->iterations;
    size_t len = want < CHUNK_MAX ? want : CHUNK_MAX;
    if (o->max_iterations && o->max_iterations - done < len)
        len = (size_t)(o->max_iterations - done);
    if (o->history_every) {
        uint64_t to_next = o->history_every - (done - st->history_from) % o->history_every;
        if (to_next < len)
            len = (size_t)to_next;
    }
    return len;
}

static int after_chunk(const engine *e, run_state *st, pann_error *err)
{
    const pann_engine_opts *o = e->o;
    if (o->history_every && (st->r->iterations - st->history_from) % o->history_every == 0)
        if (record_history(st, err))
            return err->status;
    if (o->progress)
        o->progress(o->progress_ctx, st->r->iterations, o->max_iterations);
    return 0;
}

size_t pann_drop_exhausted(const uint32_t *tried, size_t m, uint32_t *active, size_t nactive)
{
    size_t kept = 0;
    for (size_t i = 0; i < nactive; i++)
        if (tried[active[i]] < m)
            active[kept++] = active[i];
    return kept;
}

static int search_epochs(engine *e, run_state *st, uint32_t *active, size_t nactive,
                         outcome *outcomes, int threads, pann_error *err)
{
    size_t n = e->n;
    pann_sel_key *keys = malloc(n * sizeof *keys);
    unsigned char *chosen = calloc(n, 1);
    uint32_t *epoch_rows = malloc(n * sizeof *epoch_rows);
    int rc = 0;
    if (!keys || !chosen || !epoch_rows) {
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", n);
        goto done;
    }
    while (nactive > 0 && budget_left(e, st)) {
        size_t count = pann_select_epoch(active, nactive, e->o->top_fraction, badness, e,
                                         keys, chosen, epoch_rows);
        for (size_t pos = 0; pos < count && budget_left(e, st);) {
            size_t len = chunk_length(e, st, count - pos);
            process_chunk(e, st, epoch_rows + pos, len, false, outcomes, threads);
            pos += len;
            if ((rc = after_chunk(e, st, err)))
                goto done;
        }
        st->r->epochs++;
        nactive = pann_drop_exhausted(e->tried, e->m, active, nactive);
    }
done:
    free(keys);
    free(chosen);
    free(epoch_rows);
    return rc;
}

int pann_check_search(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                      pann_error *err)
{
    if (S->d != T->d || S->d != m->d)
        return pann_fail(err, PANN_EINPUT, "the two tables have %zu and %zu columns", S->d, T->d);
    if (T->n == 0)
        return pann_fail(err, PANN_EINPUT, "the reference table has no rows");
    if (T->n >= PANN_NONE)
        return pann_fail(err, PANN_EINPUT, "the reference table has too many rows (%zu)", T->n);
    return 0;
}

int pann_result_alloc(pann_result *r, size_t n, pann_error *err)
{
    memset(r, 0, sizeof *r);
    r->n = n;
    r->nn = malloc((n ? n : 1) * sizeof *r->nn);
    r->dist = malloc((n ? n : 1) * sizeof *r->dist);
    r->proven = calloc(n ? n : 1, 1);
    if (!r->nn || !r->dist || !r->proven)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", n);
    for (size_t k = 0; k < n; k++) {
        r->nn[k] = PANN_NONE;
        r->dist[k] = NAN;
    }
    return 0;
}

static int check_inputs(const pann_matrix *S, const pann_matrix *T,
                        const pann_metric *m, const pann_engine_opts *o, pann_error *err)
{
    int rc = pann_check_search(S, T, m, err);
    if (rc)
        return rc;
    if (o->self_exclude && S->n != T->n)
        return pann_fail(err, PANN_EINPUT, "self exclusion needs the same table on both sides");
    if (!(o->top_fraction > 0.0 && o->top_fraction <= 1.0))
        return pann_fail(err, PANN_EINPUT, "top fraction must be in (0, 1], not %g", o->top_fraction);
    if (!isfinite(o->decay))
        return pann_fail(err, PANN_EINPUT, "decay must be a finite number");
    return 0;
}

static int alloc_state(engine *e, pann_result *r, pann_error *err)
{
    size_t n = e->n;
    e->cur_nn = malloc(n * sizeof *e->cur_nn);
    e->best_nn = malloc(n * sizeof *e->best_nn);
    e->tried = calloc(n, sizeof *e->tried);
    e->cur_cmp = malloc(n * sizeof *e->cur_cmp);
    e->best_cmp = malloc(n * sizeof *e->best_cmp);
    if (pann_result_alloc(r, n, err) || !e->cur_nn || !e->best_nn || !e->tried
        || !e->cur_cmp || !e->best_cmp)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", n);
    for (size_t k = 0; k < n; k++) {
        e->cur_nn[k] = e->best_nn[k] = PANN_NONE;
        e->cur_cmp[k] = e->best_cmp[k] = NAN;
    }
    return 0;
}

static void free_state(engine *e)
{
    free(e->cur_nn);
    free(e->best_nn);
    free(e->tried);
    free(e->cur_cmp);
    free(e->best_cmp);
}

/* The article's initialisation: every row gets a first admissible
 * candidate, whatever the budget.  These draws count as proposals; the
 * history starts after them, with every row that can have a neighbour
 * holding one, so that its mean covers the same rows throughout (in min
 * mode without temperature it never rises from its first line). */
static int first_pass(engine *e, run_state *st, uint32_t *rows, outcome *outcomes,
                      int threads, pann_error *err)
{
    for (size_t k = 0; k < e->n; k++)
        rows[k] = (uint32_t)k;
    for (size_t pos = 0; pos < e->n;) {
        size_t len = e->n - pos < CHUNK_MAX ? e->n - pos : CHUNK_MAX;
        process_chunk(e, st, rows + pos, len, true, outcomes, threads);
        pos += len;
        if (e->o->progress)
            e->o->progress(e->o->progress_ctx, st->r->iterations, e->o->max_iterations);
    }
    st->history_from = st->r->iterations;
    return e->o->history_every ? record_history(st, err) : 0;
}

static void fill_result(const engine *e, pann_result *r)
{
    r->nproven = 0;
    for (size_t k = 0; k < e->n; k++) {
        r->nn[k] = e->best_nn[k];
        r->dist[k] = e->best_nn[k] == PANN_NONE ? NAN
                     : (float)pann_cmp_to_dist(e->metric, e->best_cmp[k]);
        r->proven[k] = e->tried[k] >= e->m;
        r->nproven += r->proven[k];
    }
}

int pann_match_anytime(const pann_matrix *S, const pann_matrix *T,
                       const pann_metric *m, const pann_engine_opts *o,
                       pann_result *r, pann_error *err)
{
    memset(r, 0, sizeof *r);
    int rc = check_inputs(S, T, m, o, err);
    if (rc)
        return rc;
    engine e = { .S = S, .T = T, .metric = m, .o = o, .n = S->n, .m = T->n,
                 .eps_cmp = pann_dist_to_cmp(m, o->eps) };
    run_state st = { .e = &e, .r = r, .started = pann_now() };
    r->n = S->n;
    int threads = pann_threads(o->threads);
    uint32_t *active = malloc((e.n ? e.n : 1) * sizeof *active);
    outcome *outcomes = malloc(CHUNK_MAX * sizeof *outcomes);
    if (!active || !outcomes)
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", e.n);
    if (!rc)
        rc = alloc_state(&e, r, err);
    if (!rc)
        rc = first_pass(&e, &st, active, outcomes, threads, err);
    if (!rc)
        rc = search_epochs(&e, &st, active, pann_drop_exhausted(e.tried, e.m, active, e.n),
                           outcomes, threads, err);
    if (!rc && o->history_every
        && (r->nhistory == 0 || r->history[r->nhistory - 1].iteration != r->iterations))
        rc = record_history(&st, err);
    if (!rc)
        fill_result(&e, r);
    r->seconds = pann_now() - st.started;
    free_state(&e);
    free(active);
    free(outcomes);
    if (rc)
        pann_result_free(r);
    return rc;
}
