/* knn.c — K nearest neighbours: the article's K-copies rule (section 2.3)
 * as an anytime search, the exact lists by blocked brute force, and what is
 * built on the lists: majority-vote classification and clustering by
 * connected components of the K-NN graph.
 *
 * The K-copies rule, made concrete: query q keeps K copies, a neighbour
 * held by one copy cannot be held by another, so the copies hold K distinct
 * rows, kept as a list sorted by (comparison value, row).  All copies share
 * the query's keyed permutation of T (rng.c), so no candidate is proposed
 * twice; a candidate better than the worst copy replaces it, and once the
 * stream is exhausted the list is exactly the K nearest with ties to the
 * lower row — the anytime search and the exact answer are one loop, as in
 * engine.c.  Epochs and determinism follow engine.c: each epoch gives one
 * proposal to the top fraction of the queries still searching, ordered by
 * their worst copy's distance; a query touches only its own state; outcomes
 * are folded serially in position order, so -j does not change the output.
 */
#include <config.h>
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "pann.h"
#include "internal.h"
#include "exact_internal.h"

#define CHUNK_MAX 65536         /* queries per parallel chunk of an epoch: few
                                   barriers, which a loaded machine makes slow */

void pann_knn_result_free(pann_knn_result *r)
{
    free(r->nn);
    free(r->dist);
    free(r->proven);
    memset(r, 0, sizeof *r);
}

static int check_inputs(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                        size_t k, const pann_engine_opts *o, pann_error *err)
{
    if (S->d != T->d || S->d != m->d)
        return pann_fail(err, PANN_EINPUT, "the two tables have %zu and %zu columns", S->d, T->d);
    if (T->n >= PANN_NONE)
        return pann_fail(err, PANN_EINPUT, "the reference table has too many rows (%zu)", T->n);
    if (o->self_exclude && S->n != T->n)
        return pann_fail(err, PANN_EINPUT, "self exclusion needs the same table on both sides");
    size_t candidates = T->n - (o->self_exclude && T->n > 0);
    if (k == 0)
        return pann_fail(err, PANN_EINPUT, "the number of neighbours K must be at least 1");
    if (k > candidates)
        return pann_fail(err, PANN_EINPUT,
                         "K = %zu neighbours asked, but there are only %zu candidate rows "
                         "(%zu rows%s)", k, candidates, T->n,
                         o->self_exclude ? ", a row not being its own neighbour" : "");
    if (o->mode != PANN_MIN)
        return pann_fail(err, PANN_EINPUT, "K nearest neighbours are searched in min mode only");
    return 0;
}

static int alloc_result(pann_knn_result *r, size_t n, size_t k, pann_error *err)
{
    r->n = n;
    r->k = k;
    size_t cells = n * k;
    if (n && cells / n != k)
        return pann_fail(err, PANN_ESYSTEM, "too many neighbours (%zu rows x %zu)", n, k);
    if (cells == 0)
        cells = 1;
    r->nn = malloc(cells * sizeof *r->nn);
    r->dist = malloc(cells * sizeof *r->dist);
    r->proven = malloc(n ? n : 1);
    if (!r->nn || !r->dist || !r->proven)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows x %zu neighbours)", n, k);
    return 0;
}

/* ---- the anytime search ------------------------------------------------ */

typedef struct knn_engine {
    const pann_matrix *S, *T;
    const pann_metric *metric;
    const pann_engine_opts *o;
    size_t n, m, k;
    uint32_t *nn;                /* n*k, each query's list */
    float *cmp;                  /* n*k comparison values */
    uint32_t *filled;            /* entries held per query (<= k) */
    uint32_t *tried;             /* position in the query's stream */
    pann_perm *perm;             /* each query's stream, keyed once: the
                                    keys cost more hashing than a draw */
} knn_engine;

typedef struct outcome {
    uint32_t steps, evaluated, inserted;
} outcome;


/* Proposals for query q: `want` evaluated candidates (self skipped), fewer
 * when the stream runs out. */
static void propose(knn_engine *e, size_t q, uint32_t want, outcome *res)
{
    const pann_perm *perm = &e->perm[q];
    float *cmp = e->cmp + q * e->k;
    uint32_t *nn = e->nn + q * e->k;
    const float *query = pann_row(e->S, q);
    memset(res, 0, sizeof *res);
    while (res->evaluated < want && e->tried[q] < e->m) {
        uint32_t cand = (uint32_t)pann_perm_at(perm, e->tried[q]++);
        res->steps++;
        if (e->o->self_exclude && cand == q)
            continue;
        float c = pann_cmp(e->metric, query, pann_row(e->T, cand));
        res->evaluated++;
        res->inserted += pann_list_insert(cmp, nn, &e->filled[q], e->k, c, cand);
    }
}

/* Run the queries rows[0..count) in parallel, `want` proposals each, then
 * fold the outcomes in position order. */
static void process_chunk(knn_engine *e, pann_knn_result *r, const uint32_t *rows,
                          size_t count, uint32_t want, outcome *outcomes, int threads)
{
#pragma omp parallel for schedule(static) num_threads(threads) if (count >= 256)
    for (size_t i = 0; i < count; i++)
        propose(e, rows[i], want, &outcomes[i]);
    for (size_t i = 0; i < count; i++) {
        r->steps += outcomes[i].steps;
        r->iterations += outcomes[i].evaluated;
        r->swaps += outcomes[i].inserted;
    }
}

/* How far the query's worst copy is: what it has to gain. */
static float badness(const void *ctx, size_t q)
{
    const knn_engine *e = ctx;
    if (e->filled[q] < e->k)
        return INFINITY;
    float c = e->cmp[q * e->k + e->k - 1];
    return c == c ? c : INFINITY;
}

typedef struct run_state {
    pann_knn_result *r;
    double started;
    int threads;
    outcome *outcomes;
} run_state;

static bool budget_left(const knn_engine *e, run_state *st)
{
    return pann_budget_left(e->o, st->r->iterations, st->started, &st->r->stopped_by_time);
}

static void report_progress(const knn_engine *e, const run_state *st)
{
    if (e->o->progress)
        e->o->progress(e->o->progress_ctx, st->r->iterations, e->o->max_iterations);
}

/* The article's initialisation, one admissible candidate per copy. */
static void first_pass(knn_engine *e, run_state *st, uint32_t *rows)
{
#pragma omp parallel for schedule(static) num_threads(st->threads) if (e->n >= 256)
    for (size_t q = 0; q < e->n; q++) {
        rows[q] = (uint32_t)q;
        pann_perm_init(&e->perm[q], e->m, e->o->seed, q);
    }
    for (size_t pos = 0; pos < e->n; pos += CHUNK_MAX) {
        size_t len = e->n - pos < CHUNK_MAX ? e->n - pos : CHUNK_MAX;
        process_chunk(e, st->r, rows + pos, len, (uint32_t)e->k, st->outcomes, st->threads);
        report_progress(e, st);
    }
}

static int search_epochs(knn_engine *e, run_state *st, uint32_t *active, size_t nactive,
                         pann_error *err)
{
    pann_sel_key *keys = malloc((e->n ? e->n : 1) * sizeof *keys);
    unsigned char *chosen = calloc(e->n ? e->n : 1, 1);
    uint32_t *epoch_rows = malloc((e->n ? e->n : 1) * sizeof *epoch_rows);
    int rc = 0;
    if (!keys || !chosen || !epoch_rows)
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", e->n);
    while (!rc && nactive > 0 && budget_left(e, st)) {
        size_t count = pann_select_epoch(active, nactive, e->o->top_fraction, badness, e,
                                         keys, chosen, epoch_rows);
        for (size_t pos = 0; pos < count && budget_left(e, st);) {
            size_t len = count - pos < CHUNK_MAX ? count - pos : CHUNK_MAX;
            uint64_t left = e->o->max_iterations ? e->o->max_iterations - st->r->iterations : 0;
            if (left && left < len)
                len = (size_t)left;
            process_chunk(e, st->r, epoch_rows + pos, len, 1, st->outcomes, st->threads);
            pos += len;
            report_progress(e, st);
        }
        st->r->epochs++;
        nactive = pann_drop_exhausted(e->tried, e->m, active, nactive);
    }
    free(keys);
    free(chosen);
    free(epoch_rows);
    return rc;
}

static void fill_result(const knn_engine *e, pann_knn_result *r)
{
    r->nproven = 0;
    for (size_t q = 0; q < e->n; q++) {
        for (size_t j = 0; j < e->k; j++) {
            size_t at = q * e->k + j;
            bool held = j < e->filled[q];
            r->nn[at] = held ? e->nn[at] : PANN_NONE;
            r->dist[at] = held ? (float)pann_cmp_to_dist(e->metric, e->cmp[at]) : NAN;
        }
        r->proven[q] = e->tried[q] >= e->m;
        r->nproven += r->proven[q];
    }
}

int pann_knn_anytime(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                     size_t k, const pann_engine_opts *o, pann_knn_result *r, pann_error *err)
{
    memset(r, 0, sizeof *r);
    int rc = check_inputs(S, T, m, k, o, err);
    if (rc)
        return rc;
    if (!(o->top_fraction > 0.0 && o->top_fraction <= 1.0))
        return pann_fail(err, PANN_EINPUT, "top fraction must be in (0, 1], not %g",
                         o->top_fraction);
    knn_engine e = { .S = S, .T = T, .metric = m, .o = o, .n = S->n, .m = T->n, .k = k };
    run_state st = { .r = r, .started = pann_now(), .threads = pann_threads(o->threads) };
    size_t n1 = e.n ? e.n : 1;
    rc = alloc_result(r, e.n, k, err);
    e.nn = rc ? NULL : malloc(n1 * k * sizeof *e.nn);
    e.cmp = rc ? NULL : malloc(n1 * k * sizeof *e.cmp);
    e.filled = calloc(n1, sizeof *e.filled);
    e.tried = calloc(n1, sizeof *e.tried);
    e.perm = malloc(n1 * sizeof *e.perm);
    uint32_t *active = malloc(n1 * sizeof *active);
    st.outcomes = malloc(CHUNK_MAX * sizeof *st.outcomes);
    if (!rc && (!e.nn || !e.cmp || !e.filled || !e.tried || !e.perm || !active || !st.outcomes))
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows x %zu neighbours)", e.n, k);
    if (!rc) {
        first_pass(&e, &st, active);
        rc = search_epochs(&e, &st, active, pann_drop_exhausted(e.tried, e.m, active, e.n), err);
    }
    if (!rc)
        fill_result(&e, r);
    r->seconds = pann_now() - st.started;
    free(e.nn);
    free(e.cmp);
    free(e.filled);
    free(e.tried);
    free(e.perm);
    free(active);
    free(st.outcomes);
    if (rc)
        pann_knn_result_free(r);
    return rc;
}

/* ---- exact lists --------------------------------------------------------- */

typedef struct exact_ctx {
    bool self_exclude;
    size_t self_offset;      /* query row i is row self_offset + i of T */
    size_t k;
    uint32_t *nn;
    float *cmp;
    uint32_t *filled;
} exact_ctx;

/* The K-th best value so far: what a candidate must beat. */
static float list_bound(const void *ctx, size_t row)
{
    const exact_ctx *x = ctx;
    return x->filled[row] == x->k ? x->cmp[row * x->k + x->k - 1] : INFINITY;
}

/* Only values within each list's current last come back; rows come in
 * increasing order, so ties keep the lower row. */
static void insert_hits(void *ctx, size_t q0, const pann_hit *hits, size_t nh)
{
    const exact_ctx *x = ctx;
    const size_t k = x->k;
    for (size_t h = 0; h < nh; h++) {
        size_t row = q0 + hits[h].query;
        uint32_t cand = hits[h].slot;
        if (x->self_exclude && cand == row + x->self_offset)
            continue;
        pann_list_insert(x->cmp + row * k, x->nn + row * k, &x->filled[row], k,
                         hits[h].value, cand);
    }
}

/* Exact (max_leaves 0: the tree where it pays, else the blocked brute
 * force) or the tree with a budget of leaves per group of queries; owned:
 * see pann_tree_knn. */
static int knn_tree_or_brute(const pann_matrix *S, const pann_matrix *T, pann_matrix *owned,
                             const pann_metric *m, size_t k, size_t max_leaves,
                             const pann_engine_opts *o, pann_knn_result *r, pann_error *err)
{
    memset(r, 0, sizeof *r);
    pann_engine_opts checked = *o;
    checked.mode = PANN_MIN;
    int rc = check_inputs(S, T, m, k, &checked, err);
    if (rc) {
        pann_release_rows(owned);
        return rc;
    }
    double started = pann_now();
    size_t n = S->n;
    uint32_t *filled = calloc(n ? n : 1, sizeof *filled);
    rc = alloc_result(r, n, k, err);
    if (!rc && !filled)
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows x %zu neighbours)", n, k);
    float *cmp = r->dist;   /* comparison values until converted, in place */
    uint64_t evaluations = (uint64_t)n * T->n;
    if (!rc)
        memset(r->proven, 1, n);
    if (!rc && (max_leaves || pann_tree_suits(S, T, m, &checked))) {
        rc = pann_tree_knn(S, T, owned, m, o, k, max_leaves, r->nn, cmp, filled, r->proven,
                           &evaluations, err);
        owned = NULL;   /* released by the search */
    } else if (!rc) {   /* high dimension: the blocked brute force */
        pann_blocks blocks;
        const pann_blocks *queries;
        rc = exact_pass_blocks(&blocks, S, T, owned, &queries, err);
        if (!rc) {
            exact_ctx x = { o->self_exclude, 0, k, r->nn, cmp, filled };
            exact_pass p = { S, &blocks, m, PANN_MIN, list_bound, insert_hits, &x, NULL,
                             queries };
            rc = exact_pass_run(&p, pann_threads(o->threads), err);
            pann_blocks_free(&blocks);
        }
    }
    pann_release_rows(owned);
    for (size_t at = 0; !rc && at < n * k; at++) {
        bool held = at % k < filled[at / k];   /* a budget can leave a list short */
        r->nn[at] = held ? r->nn[at] : PANN_NONE;
        r->dist[at] = held ? (float)pann_cmp_to_dist(m, cmp[at]) : INFINITY;
    }
    free(filled);
    if (rc) {
        pann_knn_result_free(r);
        return rc;
    }
    r->nproven = 0;
    for (size_t q = 0; q < n; q++)
        r->nproven += r->proven[q];
    r->iterations = r->steps = evaluations;
    r->seconds = pann_now() - started;
    return 0;
}

int pann_knn_exact(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                   size_t k, const pann_engine_opts *o, pann_knn_result *r, pann_error *err)
{
    return knn_tree_or_brute(S, T, NULL, m, k, 0, o, r, err);
}

int pann_knn_exact_consume(const pann_matrix *S, pann_matrix *T, const pann_metric *m,
                           size_t k, const pann_engine_opts *o, pann_knn_result *r,
                           pann_error *err)
{
    return knn_tree_or_brute(S, T, T, m, k, 0, o, r, err);
}

/* ---- the exact self-match in chunks -------------------------------------- */

/* T's rows, once in the index (or blocks), searched chunk by chunk. */
typedef struct self_chunks {
    const pann_metric *m;
    const pann_engine_opts *o;
    size_t k;
    bool tree;
    kd_index ix;             /* tree */
    float scale;
    pann_blocks blocks;      /* else the brute force's */
} self_chunks;

/* The lists of the chunk S, rows q0.. of T, into r (allocated for S->n). */
static int search_chunk(const self_chunks *sc, const pann_matrix *S, size_t q0,
                        pann_knn_result *r, uint32_t *filled, pann_error *err)
{
    size_t n = S->n, k = sc->k;
    memset(filled, 0, n * sizeof *filled);
    float *cmp = r->dist;   /* comparison values until converted, in place */
    uint64_t evaluations = 0;
    int rc;
    if (sc->tree) {
        rc = exact_tree_index_knn(&sc->ix, sc->scale, S, q0, sc->m, sc->o, k, r->nn, cmp,
                                  filled, &evaluations, err);
    } else {
        exact_ctx x = { sc->o->self_exclude, q0, k, r->nn, cmp, filled };
        exact_pass p = { S, &sc->blocks, sc->m, PANN_MIN, list_bound, insert_hits, &x, NULL,
                         NULL };
        rc = exact_pass_run(&p, pann_threads(sc->o->threads), err);
    }
    for (size_t at = 0; !rc && at < n * k; at++) {
        bool held = at % k < filled[at / k];
        r->nn[at] = held ? r->nn[at] : PANN_NONE;
        r->dist[at] = held ? (float)pann_cmp_to_dist(sc->m, cmp[at]) : INFINITY;
    }
    memset(r->proven, 1, n);
    r->nproven = n;
    return rc;
}

int pann_knn_exact_self_chunks(pann_matrix *T, const pann_metric *m, size_t k,
                               const pann_engine_opts *o, size_t chunk,
                               pann_fetch_rows fetch, pann_take_lists take, void *ctx,
                               pann_error *err)
{
    self_chunks sc = { m, o, k, false, { 0 }, 0, { 0 } };
    pann_engine_opts checked = *o;
    checked.mode = PANN_MIN;
    int rc = check_inputs(T, T, m, k, &checked, err);
    size_t n = T->n, d = T->d;
    chunk = chunk ? chunk : 1;
    sc.tree = pann_tree_suits(T, T, m, &checked);
    if (!rc && sc.tree)
        rc = exact_tree_index_build(&sc.ix, T, &checked, &sc.scale, err);
    else if (!rc)
        rc = pann_blocks_consume(&sc.blocks, T, err);
    pann_release_rows(T);
    size_t most = chunk < n ? chunk : n;
    pann_matrix S = { 0, d, NULL, NULL };
    pann_knn_result r = { 0 };
    uint32_t *filled = malloc((most ? most : 1) * sizeof *filled);
    if (!rc && posix_memalign((void **)&S.v, 64, (most ? most : 1) * (d ? d : 1) * sizeof *S.v))
        S.v = NULL;
    if (!rc)
        rc = alloc_result(&r, most, k, err);
    if (!rc && (!S.v || !filled))
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", most);
    for (size_t q0 = 0; !rc && q0 < n; q0 += chunk) {
        S.n = r.n = n - q0 < chunk ? n - q0 : chunk;
        rc = fetch(ctx, q0, S.n, S.v, err);
        if (!rc)
            rc = search_chunk(&sc, &S, q0, &r, filled, err);
        if (!rc)
            rc = take(ctx, q0, &r, err);
        if (!rc && o->progress)
            o->progress(o->progress_ctx, q0 + S.n, n);
    }
    if (sc.tree)
        kd_free(&sc.ix);
    else
        pann_blocks_free(&sc.blocks);
    pann_knn_result_free(&r);
    free(S.v);
    free(filled);
    return rc;
}

static int knn_tree(const pann_matrix *S, const pann_matrix *T, pann_matrix *owned,
                    const pann_metric *m, size_t k, size_t max_leaves,
                    const pann_engine_opts *o, pann_knn_result *r, pann_error *err)
{
    memset(r, 0, sizeof *r);
    pann_engine_opts tree = *o;
    tree.exact_method = PANN_EXACT_TREE;
    int rc = 0;
    if (m->d == 0 || m->d > 64)
        rc = pann_fail(err, PANN_EINPUT, "the tree search needs 1 to 64 columns, not %zu", m->d);
    else if (!pann_tree_suits(S, T, m, &tree))
        rc = pann_fail(err, PANN_EINPUT, "the tree search with cosine needs rows of non-zero norm");
    if (rc) {
        pann_release_rows(owned);
        return rc;
    }
    return knn_tree_or_brute(S, T, owned, m, k, max_leaves, &tree, r, err);
}

int pann_knn_tree(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                  size_t k, size_t max_leaves, const pann_engine_opts *o,
                  pann_knn_result *r, pann_error *err)
{
    return knn_tree(S, T, NULL, m, k, max_leaves, o, r, err);
}

int pann_knn_tree_consume(const pann_matrix *S, pann_matrix *T, const pann_metric *m,
                          size_t k, size_t max_leaves, const pann_engine_opts *o,
                          pann_knn_result *r, pann_error *err)
{
    return knn_tree(S, T, T, m, k, max_leaves, o, r, err);
}

/* ---- classification ------------------------------------------------------ */

int pann_knn_feature_columns(const pann_table *t, const char *columns, const char *label,
                             size_t *label_col, char **list, pann_error *err)
{
    const char *option = "--label";
    return pann_columns_except(t, columns, &label, &option, 1, label_col, list, err);
}

size_t pann_knn_query_label(const pann_table *train, size_t label_col, const pann_table *query)
{
    bool named = train->header_end > train->header_start;
    if (!named)
        return label_col < query->ncols ? label_col : SIZE_MAX;
    for (size_t j = 0; j < query->ncols; j++)
        if (strcmp(query->colnames[j], train->colnames[label_col]) == 0)
            return j;
    return SIZE_MAX;
}

static int cmp_string_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted distinct label texts of T's rows and S's labelled rows. */
static int collect_names(const pann_table *tt, const pann_matrix *T, size_t tcol,
                         const pann_table *qt, const pann_matrix *S, size_t qcol,
                         pann_labels *l, pann_error *err)
{
    size_t cap = T->n + (qt ? S->n : 0);
    char **all = malloc((cap ? cap : 1) * sizeof *all);
    if (!all)
        return pann_fail(err, PANN_ESYSTEM, "out of memory");
    size_t count = 0;
    for (size_t i = 0; i < T->n; i++) {
        const char *s = pann_cell(tt, T->row_id[i], tcol);
        if (pann_is_missing(s)) {
            free(all);
            return pann_fail(err, PANN_EINPUT, "%s:%zu:%zu: missing label", tt->display,
                             tt->row_line[T->row_id[i]], tcol + 1);
        }
        all[count++] = (char *)s;
    }
    for (size_t i = 0; qt && i < S->n; i++) {
        const char *s = pann_cell(qt, S->row_id[i], qcol);
        if (!pann_is_missing(s))
            all[count++] = (char *)s;
    }
    qsort(all, count, sizeof *all, cmp_string_ptr);
    size_t distinct = 0;
    for (size_t i = 0; i < count; i++)
        if (distinct == 0 || strcmp(all[distinct - 1], all[i]) != 0)
            all[distinct++] = all[i];
    l->names = calloc(distinct ? distinct : 1, sizeof *l->names);
    for (size_t i = 0; l->names && i < distinct; i++)
        if (!(l->names[l->nclasses++] = strdup(all[i]))) {
            free(all);
            return pann_fail(err, PANN_ESYSTEM, "out of memory");
        }
    free(all);
    return l->names ? 0 : pann_fail(err, PANN_ESYSTEM, "out of memory");
}

static uint32_t class_code(const pann_labels *l, const char *s)
{
    char **hit = bsearch(&s, l->names, l->nclasses, sizeof *l->names, cmp_string_ptr);
    return hit ? (uint32_t)(hit - l->names) : PANN_NONE;
}

int pann_labels_build(const pann_table *tt, const pann_matrix *T, size_t tcol,
                      const pann_table *qt, const pann_matrix *S, size_t qcol,
                      pann_labels *l, pann_error *err)
{
    memset(l, 0, sizeof *l);
    if (qcol == SIZE_MAX)
        qt = NULL;
    int rc = collect_names(tt, T, tcol, qt, S, qcol, l, err);
    l->train = malloc((T->n ? T->n : 1) * sizeof *l->train);
    l->query = malloc((S->n ? S->n : 1) * sizeof *l->query);
    if (!rc && (!l->train || !l->query))
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory");
    for (size_t i = 0; !rc && i < T->n; i++)
        l->train[i] = class_code(l, pann_cell(tt, T->row_id[i], tcol));
    for (size_t i = 0; !rc && i < S->n; i++) {
        const char *s = qt ? pann_cell(qt, S->row_id[i], qcol) : "";
        l->query[i] = pann_is_missing(s) ? PANN_NONE : class_code(l, s);
    }
    if (rc)
        pann_labels_free(l);
    return rc;
}

void pann_labels_free(pann_labels *l)
{
    for (size_t i = 0; l->names && i < l->nclasses; i++)
        free(l->names[i]);
    free(l->names);
    free(l->train);
    free(l->query);
    memset(l, 0, sizeof *l);
}

/* The vote of one query: classes in order of their nearest neighbour, so
 * the first class reaching the top weight is the nearest tied one. */
static uint32_t vote_one(const uint32_t *nn, const float *dist, size_t k,
                         const uint32_t *train_class, bool weighted, uint32_t *cls,
                         double *weight)
{
    size_t ncls = 0;
    for (size_t j = 0; j < k && nn[j] != PANN_NONE; j++) {
        uint32_t c = train_class[nn[j]];
        double w = weighted ? 1.0 / ((double)dist[j] + PANN_KNN_WEIGHT_EPS) : 1.0;
        size_t at = 0;
        while (at < ncls && cls[at] != c)
            at++;
        if (at == ncls) {
            cls[ncls] = c;
            weight[ncls++] = 0.0;
        }
        weight[at] += w;
    }
    size_t best = 0;
    for (size_t i = 1; i < ncls; i++)
        if (weight[i] > weight[best])
            best = i;
    return ncls ? cls[best] : PANN_NONE;
}

int pann_knn_vote(const pann_knn_result *r, const uint32_t *train_class, bool weighted,
                  uint32_t *pred, pann_error *err)
{
    uint32_t *cls = malloc((r->k ? r->k : 1) * sizeof *cls);
    double *weight = malloc((r->k ? r->k : 1) * sizeof *weight);
    if (!cls || !weight) {
        free(cls);
        free(weight);
        return pann_fail(err, PANN_ESYSTEM, "out of memory");
    }
    for (size_t q = 0; q < r->n; q++)
        pred[q] = vote_one(r->nn + q * r->k, r->dist + q * r->k, r->k, train_class,
                           weighted, cls, weight);
    free(cls);
    free(weight);
    return 0;
}

int pann_knn_confusion(const uint32_t *pred, const uint32_t *actual, size_t n,
                       size_t nclasses, uint64_t **counts, size_t *scored,
                       size_t *correct, pann_error *err)
{
    size_t cells = nclasses * nclasses;
    *counts = calloc(cells ? cells : 1, sizeof **counts);
    if (!*counts)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu classes)", nclasses);
    *scored = *correct = 0;
    for (size_t q = 0; q < n; q++) {
        if (actual[q] == PANN_NONE || pred[q] == PANN_NONE)
            continue;
        (*counts)[(size_t)actual[q] * nclasses + pred[q]]++;
        (*scored)++;
        *correct += actual[q] == pred[q];
    }
    return 0;
}

/* ---- clustering ---------------------------------------------------------- */

static uint32_t find_root(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];     /* path halving */
        x = parent[x];
    }
    return x;
}

static void unite(uint32_t *parent, uint32_t a, uint32_t b)
{
    a = find_root(parent, a);
    b = find_root(parent, b);
    if (a < b) parent[b] = a;              /* the root is the lowest row */
    else if (b < a) parent[a] = b;
}

static bool in_list(const pann_knn_result *r, uint32_t q, uint32_t row)
{
    const uint32_t *nn = r->nn + (size_t)q * r->k;
    for (size_t j = 0; j < r->k; j++)
        if (nn[j] == row)
            return true;
    return false;
}

int pann_knn_cluster(const pann_knn_result *r, bool mutual, uint32_t *cluster,
                     size_t *nclusters, pann_error *err)
{
    size_t n = r->n;
    for (size_t at = 0; at < n * r->k; at++)
        if (r->nn[at] != PANN_NONE && r->nn[at] >= n)
            return pann_fail(err, PANN_EINPUT, "clustering needs the K-NN graph of a table "
                             "with itself");
    uint32_t *parent = malloc((n ? n : 1) * sizeof *parent);
    if (!parent)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", n);
    for (size_t q = 0; q < n; q++)
        parent[q] = (uint32_t)q;
    for (size_t q = 0; q < n; q++)
        for (size_t j = 0; j < r->k; j++) {
            uint32_t nb = r->nn[q * r->k + j];
            if (nb != PANN_NONE && (!mutual || in_list(r, nb, (uint32_t)q)))
                unite(parent, (uint32_t)q, nb);
        }
    /* Roots are the lowest rows of their clusters: number them in row order. */
    size_t count = 0;
    for (size_t q = 0; q < n; q++) {
        uint32_t root = find_root(parent, (uint32_t)q);
        cluster[q] = root == q ? (uint32_t)count++ : cluster[root];
    }
    *nclusters = count;
    free(parent);
    return 0;
}

/* ---- one table per category ---------------------------------------------- */

typedef struct knn_batches {
    const pann_metric *m;
    const pann_groups *g;
    size_t k;
    bool exact;
    size_t tree_leaves;
    pann_knn_result *r;
} knn_batches;

/* K lists of one batch, written into the whole result. */
static int knn_batch(const pann_matrix *Sb, const pann_matrix *Tb, const pann_engine_opts *o,
                     void *ctx, pann_error *err)
{
    knn_batches *job = ctx;
    size_t k = job->k, candidates = Tb->n - (o->self_exclude && Tb->n > 0);
    if (candidates < k)
        return pann_fail(err, PANN_EINPUT, "--group: category '%s' has %zu candidate rows%s, "
                         "fewer than K = %zu", job->g->names[job->g->s_code[Sb->row_id[0]]],
                         candidates, o->self_exclude ? " besides a row itself" : "", k);
    pann_knn_result rb;
    int rc = job->exact ? pann_knn_exact(Sb, Tb, job->m, k, o, &rb, err)
           : job->tree_leaves ? pann_knn_tree(Sb, Tb, job->m, k, job->tree_leaves, o, &rb, err)
                              : pann_knn_anytime(Sb, Tb, job->m, k, o, &rb, err);
    if (rc)
        return rc;
    pann_knn_result *r = job->r;
    for (size_t i = 0; i < Sb->n; i++) {
        size_t q = Sb->row_id[i];
        for (size_t j = 0; j < k; j++) {
            r->nn[q * k + j] = (uint32_t)Tb->row_id[rb.nn[i * k + j]];
            r->dist[q * k + j] = rb.dist[i * k + j];
        }
        r->proven[q] = rb.proven[i];
    }
    r->nproven += rb.nproven;
    r->iterations += rb.iterations;
    r->steps += rb.steps;
    r->swaps += rb.swaps;
    r->seconds += rb.seconds;
    pann_knn_result_free(&rb);
    return 0;
}

int pann_knn_group(const pann_matrix *S, const pann_matrix *T, const pann_groups *g,
                   bool same, size_t batch, const pann_metric *m, size_t k, bool exact,
                   size_t tree_leaves, const pann_engine_opts *o, pann_knn_result *r,
                   pann_group_stats *st, pann_error *err)
{
    memset(r, 0, sizeof *r);
    int rc = alloc_result(r, S->n, k, err);
    if (!rc) {
        memset(r->proven, 0, S->n ? S->n : 1);
        for (size_t at = 0; at < S->n * k; at++) {
            r->nn[at] = PANN_NONE;
            r->dist[at] = NAN;
        }
        knn_batches job = { m, g, k, exact, tree_leaves, r };
        rc = pann_group_batches(S, T, g, same, batch, o, knn_batch, &job, st, err);
    }
    if (!rc && st->rows_without_reference)
        rc = pann_fail(err, PANN_EINPUT, "--group: %zu query rows have a category absent from "
                       "the training rows", st->rows_without_reference);
    if (rc)
        pann_knn_result_free(r);
    return rc;
}
