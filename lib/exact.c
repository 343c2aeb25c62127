/* exact.c — exact nearest (or farthest) neighbours: the entry points.
 *
 * Two strategies give the same answer: the tree search (exact_tree.c)
 * wins in low and moderate dimension, the brute force (exact_brute.c) in
 * high dimension; pann_tree_suits chooses.  The tree search also serves
 * the anytime strategy with a budget of leaves per query (pann_match_tree,
 * pann_tree_knn; exact_budget.c), proving the rows it can.  Ties go to the
 * lowest row, as the definition of brute force used in the tests.
 */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "exact_internal.h"

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

/* T's rows once the search is done with them (see owned). */
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
 * exact_tree_search; the rows are released whatever the outcome. */
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
        rc = exact_tree_search(S, T, owned, m, o, max_leaves, 1, r->nn, best, NULL, r->proven,
                               &r->iterations, err);
    } else {
        rc = exact_brute_search(S, T, owned, m, o, r->nn, best, err);
        pann_release_rows(owned);   /* when the search has not freed them */
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

int pann_match_exact(const pann_matrix *S, const pann_matrix *T,
                     const pann_metric *m, const pann_engine_opts *o,
                     pann_result *r, pann_error *err)
{
    return run_search(S, T, NULL, m, o, pann_tree_suits(S, T, m, o), 0, r, err);
}

int pann_match_exact_consume(const pann_matrix *S, pann_matrix *T, const pann_metric *m,
                             const pann_engine_opts *o, pann_result *r, pann_error *err)
{
    return run_search(S, T, T, m, o, pann_tree_suits(S, T, m, o), 0, r, err);
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

int pann_match_tree(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                    const pann_engine_opts *o, size_t max_leaves, pann_result *r,
                    pann_error *err)
{
    return tree_run(S, T, NULL, m, o, max_leaves, r, err);
}

int pann_match_tree_consume(const pann_matrix *S, pann_matrix *T, const pann_metric *m,
                            const pann_engine_opts *o, size_t max_leaves, pann_result *r,
                            pann_error *err)
{
    return tree_run(S, T, T, m, o, max_leaves, r, err);
}

int pann_tree_knn(const pann_matrix *S, const pann_matrix *T, pann_matrix *owned,
                  const pann_metric *m, const pann_engine_opts *o, size_t k,
                  size_t max_leaves, uint32_t *nn, float *cmp, uint32_t *filled,
                  unsigned char *proven, uint64_t *evaluations, pann_error *err)
{
    pann_engine_opts min_mode = *o;
    min_mode.mode = PANN_MIN;
    min_mode.use_eps = false;
    return exact_tree_search(S, T, owned, m, &min_mode, max_leaves, k, nn, cmp, filled,
                             proven, evaluations, err);
}
