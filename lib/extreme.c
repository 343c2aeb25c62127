/* extreme.c — extreme points and outliers of one data set (article,
 * sections 1 and 2.3, Figure 3).
 *
 * The envelope: with S = T and the loss maximised, every row's neighbour is
 * its farthest row, which for any norm lies on the convex hull (a distance
 * to a fixed point is convex, so its maximum over a polytope is at a
 * vertex).  The search itself is the engine's or exact.c's; this module
 * only counts how often each row was chosen and ranks the chosen ones.
 *
 * Outliers: the distance from each row to its K-th nearest other row, the
 * last entry of the exact K lists of knn.c (the k-d tree in low dimension,
 * the blocked kernels otherwise).  The K-th smallest value does not depend
 * on how ties are broken, nor on which thread ran which query.
 */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pann.h"

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
    int rc = exact ? pann_match_exact(X, X, m, &farthest, r, err)
                   : pann_match_anytime(X, X, m, &farthest, r, err);
    if (rc)
        return rc;
    rc = pann_extreme_count(r, points, npoints, err);
    if (rc)
        pann_result_free(r);
    return rc;
}

/* ---- K-th nearest neighbour distance ------------------------------------ */

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
    pann_engine_opts o;
    pann_engine_opts_init(&o);
    o.self_exclude = true;
    o.threads = threads;
    pann_knn_result lists;   /* exact K lists: the last entry is the K-th */
    int rc = pann_knn_exact(X, X, m, k, &o, &lists, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {   /* in double, as reported elsewhere */
        uint32_t kth = lists.nn[i * k + k - 1];
        dist[i] = pann_cmp_to_dist(m, pann_cmp(m, pann_row(X, i), pann_row(X, kth)));
    }
    pann_knn_result_free(&lists);
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
