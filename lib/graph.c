/* graph.c — proposals from a neighbour graph of T: NN-descent's idea, the
 * anytime strategy beyond the article's uniform proposals.
 *
 * A neighbour of my neighbour is likely my neighbour.  The graph of T holds
 * K neighbours per row; it is seeded by the k-d tree with one leaf per group
 * (a cheap, rough answer), then improved in rounds: each row is proposed the
 * neighbours of its neighbours and of the rows that list it, and keeps the K
 * best (the article's accept rule: a candidate enters when closer).  Rounds
 * read the previous round's graph and write a new one, so the result does
 * not depend on which thread ran which row.  A query then walks the graph
 * best first from the tree's rough answers, keeping the `ef` best rows seen
 * and expanding each of them once; its nearest is the first of them.
 */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pann.h"
#include "internal.h"

void pann_graph_free(pann_graph *g)
{
    free(g->nn);
    free(g->cmp);
    free(g->filled);
    memset(g, 0, sizeof *g);
}

static int graph_alloc(pann_graph *g, size_t n, size_t k, pann_error *err)
{
    g->n = n;
    g->k = k;
    g->nn = malloc((n ? n : 1) * k * sizeof *g->nn);
    g->cmp = malloc((n ? n : 1) * k * sizeof *g->cmp);
    g->filled = calloc(n ? n : 1, sizeof *g->filled);
    if (!g->nn || !g->cmp || !g->filled) {
        pann_graph_free(g);
        return pann_fail(err, PANN_ESYSTEM, "out of memory (graph of %zu rows x %zu)", n, k);
    }
    return 0;
}

static bool listed(const uint32_t *nn, uint32_t filled, uint32_t row)
{
    for (uint32_t i = 0; i < filled; i++)
        if (nn[i] == row)
            return true;
    return false;
}

/* Up to k rows that list each row, in row order (built serially). */
static void reverse_lists(const pann_graph *g, uint32_t *rev, uint32_t *nrev)
{
    memset(nrev, 0, g->n * sizeof *nrev);
    for (size_t u = 0; u < g->n; u++)
        for (uint32_t i = 0; i < g->filled[u]; i++) {
            uint32_t v = g->nn[u * g->k + i];
            if (nrev[v] < g->k)
                rev[(size_t)v * g->k + nrev[v]++] = (uint32_t)u;
        }
}

/* Row u of the next round: its list, offered the neighbours of its
 * neighbours and of the rows listing it. */
static uint64_t improve_row(const pann_matrix *T, const pann_metric *m, const pann_graph *old,
                            const uint32_t *rev, const uint32_t *nrev, pann_graph *next,
                            size_t u, uint64_t *evaluations)
{
    size_t k = old->k;
    uint32_t *nn = next->nn + u * k;
    float *cmp = next->cmp + u * k;
    uint64_t updates = 0;
    const float *x = pann_row(T, u);
    for (uint32_t side = 0; side < 2; side++) {
        const uint32_t *via = side == 0 ? old->nn + u * k : rev + u * k;
        uint32_t nvia = side == 0 ? old->filled[u] : nrev[u];
        for (uint32_t i = 0; i < nvia; i++) {
            size_t v = via[i];
            for (uint32_t j = 0; j < old->filled[v]; j++) {
                uint32_t w = old->nn[v * k + j];
                if (w == u || listed(nn, next->filled[u], w))
                    continue;
                float c = pann_cmp(m, x, pann_row(T, w));
                (*evaluations)++;
                updates += pann_list_insert(cmp, nn, &next->filled[u], k, c, w);
            }
        }
    }
    return updates;
}

/* First, rough lists: the tree with one leaf per group of queries where it
 * applies, else the first candidates of each row's random permutation. */
static int seed_lists(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                      const pann_engine_opts *o, bool self, bool use_tree, size_t k,
                      uint32_t *nn, float *cmp, uint32_t *filled, uint64_t *evaluations,
                      pann_error *err)
{
    pann_engine_opts seed = *o;
    seed.self_exclude = self;
    seed.exact_method = PANN_EXACT_TREE;   /* "can the tree run here at all" */
    if (use_tree && pann_tree_suits(S, T, m, &seed))
        return pann_tree_knn(S, T, NULL, m, &seed, k, 1, nn, cmp, filled, NULL, evaluations, err);
    uint64_t evals = 0;
#pragma omp parallel for schedule(static) num_threads(pann_threads(o->threads)) reduction(+:evals)
    for (size_t q = 0; q < S->n; q++) {
        pann_perm perm;
        pann_perm_init(&perm, T->n, o->seed, q);
        for (uint64_t i = 0; i < T->n && filled[q] < k; i++) {
            uint32_t cand = (uint32_t)pann_perm_at(&perm, i);
            if (self && cand == q)
                continue;
            pann_list_insert(cmp + q * k, nn + q * k, &filled[q], k,
                             pann_cmp(m, pann_row(S, q), pann_row(T, cand)), cand);
            evals++;
        }
    }
    *evaluations += evals;
    return 0;
}

int pann_graph_build(const pann_matrix *T, const pann_metric *m, size_t k, size_t rounds,
                     const pann_engine_opts *o, pann_graph *g, uint64_t *evaluations,
                     pann_error *err)
{
    memset(g, 0, sizeof *g);
    if (k < 1 || k >= T->n)
        return pann_fail(err, PANN_EINPUT, "a graph of %zu neighbours needs more than %zu rows",
                         k, T->n);
    pann_graph next;
    int rc = graph_alloc(g, T->n, k, err);
    if (!rc && (rc = graph_alloc(&next, T->n, k, err)))
        pann_graph_free(g);
    if (rc)
        return rc;
    *evaluations = 0;
    /* random lists: a graph seeded by the tree would be cut along its leaves,
       and neighbours of neighbours would seldom leave a leaf */
    rc = seed_lists(T, T, m, o, true, false, k, g->nn, g->cmp, g->filled, evaluations, err);
    uint32_t *rev = malloc(T->n * k * sizeof *rev), *nrev = malloc(T->n * sizeof *nrev);
    if (!rc && (!rev || !nrev))
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory (graph of %zu rows)", T->n);
    for (size_t round = 0; !rc && round < rounds; round++) {
        reverse_lists(g, rev, nrev);
        memcpy(next.nn, g->nn, T->n * k * sizeof *g->nn);
        memcpy(next.cmp, g->cmp, T->n * k * sizeof *g->cmp);
        memcpy(next.filled, g->filled, T->n * sizeof *g->filled);
        uint64_t updates = 0, evals = 0;
#pragma omp parallel for schedule(dynamic, 256) num_threads(pann_threads(o->threads)) reduction(+:updates, evals)
        for (size_t u = 0; u < T->n; u++)
            updates += improve_row(T, m, g, rev, nrev, &next, u, &evals);
        *evaluations += evals;
        pann_graph swap = *g;
        *g = next;
        next = swap;
        if (updates * 1000 < (uint64_t)T->n * k)   /* settled: under 0.1 % changed */
            break;
    }
    free(rev);
    free(nrev);
    pann_graph_free(&next);
    if (rc)
        pann_graph_free(g);
    return rc;
}

/* ---- the search of one query ----------------------------------------------- */

typedef struct walker {
    uint32_t *seen;          /* per row of T: the stamp of the last query */
    uint32_t stamp;
    uint32_t *expanded;      /* per row of T: stamp when expanded */
} walker;

/* Best first from the seeds in list (ef entries, sorted): expand the best
 * row not yet expanded, offering its graph neighbours, until every row of
 * the list has been expanded. */
static uint64_t walk(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                     const pann_graph *g, bool self, size_t q, size_t ef, uint32_t *nn,
                     float *cmp, uint32_t *filled, walker *w)
{
    uint64_t evals = 0;
    uint32_t stamp = ++w->stamp;
    for (uint32_t i = 0; i < *filled; i++)
        w->seen[nn[i]] = stamp;
    const float *x = pann_row(S, q);
    for (;;) {
        uint32_t pick = 0;
        while (pick < *filled && w->expanded[nn[pick]] == stamp)
            pick++;
        if (pick == *filled)
            return evals;
        uint32_t row = nn[pick];
        w->expanded[row] = stamp;
        for (uint32_t j = 0; j < g->filled[row]; j++) {
            uint32_t cand = g->nn[(size_t)row * g->k + j];
            if (w->seen[cand] == stamp || (self && cand == q))
                continue;
            w->seen[cand] = stamp;
            pann_list_insert(cmp, nn, filled, ef, pann_cmp(m, x, pann_row(T, cand)), cand);
            evals++;
        }
    }
}

int pann_match_graph(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                     const pann_engine_opts *o, const pann_graph *g, size_t ef,
                     pann_result *r, pann_error *err)
{
    int rc = pann_check_search(S, T, m, err);
    if (rc)
        return rc;
    if (o->mode != PANN_MIN || o->use_eps)
        return pann_fail(err, PANN_EINPUT, "the graph strategy finds nearest rows only, "
                         "without --eps");
    if (g->n != T->n)
        return pann_fail(err, PANN_EINPUT, "the graph is not of the reference table");
    if (ef > T->n - o->self_exclude)
        ef = T->n - o->self_exclude;
    if (ef < 1)
        ef = 1;
    size_t n = S->n;
    uint32_t *nn = malloc((n ? n : 1) * ef * sizeof *nn), *filled = calloc(n ? n : 1, sizeof *filled);
    float *cmp = malloc((n ? n : 1) * ef * sizeof *cmp);
    uint64_t evals = 0;
    if (!nn || !filled || !cmp)
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows x %zu)", n, ef);
    if (!rc)
        rc = seed_lists(S, T, m, o, o->self_exclude, true, ef, nn, cmp, filled, &evals, err);
    if (!rc)
        rc = pann_result_alloc(r, n, err);
    int out_of_memory = 0;
    if (!rc) {
#pragma omp parallel num_threads(pann_threads(o->threads)) reduction(+:evals)
    {
        walker w = { calloc(T->n, sizeof *w.seen), 0, calloc(T->n, sizeof *w.expanded) };
        if (!w.seen || !w.expanded) {
#pragma omp atomic write
            out_of_memory = 1;
        }
#pragma omp for schedule(dynamic, 64)
        for (size_t q = 0; q < n; q++) {
            if (!w.seen || !w.expanded)
                continue;
            evals += walk(S, T, m, g, o->self_exclude, q, ef, nn + q * ef, cmp + q * ef,
                          &filled[q], &w);
            if (filled[q]) {
                r->nn[q] = nn[q * ef];
                r->dist[q] = (float)pann_cmp_to_dist(m, cmp[q * ef]);
            }
        }
        free(w.seen);
        free(w.expanded);
    }
    }
    if (!rc && out_of_memory)
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory (graph search)");
    free(nn);
    free(cmp);
    free(filled);
    if (rc) {
        pann_result_free(r);
        return rc;
    }
    r->iterations = r->steps = evals;
    return 0;
}
