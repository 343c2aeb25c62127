/* filter_ratio.c — the density-ratio selection of nogan-filter: keep each
 * synthetic row with a probability that makes the kept rows follow the real
 * distribution.
 *
 * The estimate.  Among the K nearest rows of a synthetic row s in
 * REAL u SYNTH (s itself left out), c are real.  With n_r real rows and
 * n_s - 1 other synthetic ones, c / K estimates
 * pi(s) = n_r p_r(s) / (n_r p_r(s) + (n_s - 1) p_s(s)), so the density
 * ratio is w(s) = p_r / p_s = pi / (1 - pi) * (n_s - 1) / n_r.  The raw
 * count is noisy (binomial), and rejecting rows on noise only thins the
 * sample, so c is shrunk towards the value it has when both distributions
 * are equal, pi0 = n_r / (n_r + n_s - 1): pi = (c + beta pi0) / (K + beta).
 * beta comes from the data (empirical Bayes, beta-binomial): the counts'
 * variance over the rows is K pi0 (1 - pi0) (1 + (K - 1) rho), and
 * beta = 1 / rho - 1.  Counts no more spread than a binomial give rho = 0,
 * beta infinite, w = 1 everywhere: a synthetic set that already matches is
 * left alone.
 *
 * The draw.  As in rejection sampling (Azadi et al., "Discriminator
 * Rejection Sampling", ICLR 2019, with the neighbour ratio in place of a
 * discriminator), row i is kept when u_i < min(1, w_i / M), M the given
 * quantile of the ratios; u_i = pann_uniform3(seed, tag, i) depends on the
 * row's index only, so the kept rows do not depend on the thread count.
 * A fixed number of rows (--keep, --quantile) is drawn without
 * replacement with weights w_i (Efraimidis-Spirakis keys log(u_i) / w_i).
 *
 * The synthetic side.  With many more synthetic than real rows, a seeded
 * sample of PANN_RATIO_POOL_FACTOR times the real rows stands for SYNTH in
 * the counts (n_s - 1 above is then the sample's size, less the row itself
 * when it is in the sample): the estimate needs both densities at the same
 * resolution, not every synthetic row, and the search costs about twice
 * that of the real side instead of n_s / n_r times.
 *
 * Neighbours are exact (k-d tree searched until proven, or brute force
 * for cosine and more than 64 columns); a tie at the K-th distance counts
 * its real rows in proportion. */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pann.h"
#include "internal.h"

#define ACCEPT_TAG 0x7a71e5c0ffee0001ULL
#define RATIO_BATCH_ROWS 65536

/* K nearest of every row of S among T, exact; self: S is T. */
static int exact_lists(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                       size_t k, bool self, int threads, pann_knn_result *r,
                       pann_error *err)
{
    pann_engine_opts eo;
    pann_engine_opts_init(&eo);
    eo.self_exclude = self;
    eo.threads = threads;
    if (m->kind != PANN_COSINE && S->d >= 1 && S->d <= 64)
        return pann_knn_tree(S, T, m, k, 0, &eo, r, err);
    return pann_knn_exact(S, T, m, k, &eo, r, err);
}

/* Real rows among the K nearest of the merged sorted lists dr[0..kr) and
 * ds[0..ks); a group tied at the K-th distance counts in proportion. */
double pann_ratio_real_count(const float *dr, size_t kr, const float *ds, size_t ks,
                             size_t K)
{
    size_t i = 0, j = 0, taken = 0;
    double c = 0;
    while (taken < K && (i < kr || j < ks)) {
        float d = j >= ks || (i < kr && dr[i] <= ds[j]) ? dr[i] : ds[j];
        size_t a = 0, b = 0;
        while (i < kr && dr[i] == d)
            a++, i++;
        while (j < ks && ds[j] == d)
            b++, j++;
        size_t room = K - taken;
        if (a + b <= room) {
            c += (double)a;
            taken += a + b;
        } else {
            c += (double)room * (double)a / (double)(a + b);
            taken = K;
        }
    }
    return c;
}

/* The synthetic side of the neighbour counts: every row of S, or, when S
 * has more than PANN_RATIO_POOL_FACTOR times R's rows, a seeded Bernoulli
 * sample of about that many (in_pool[i] says which; NULL = all). */
typedef struct ratio_pool {
    pann_matrix P;               /* the sample's rows (unused when all) */
    unsigned char *in_pool;
    size_t n;                    /* rows in the pool */
} ratio_pool;

static int make_pool(const pann_matrix *R, const pann_matrix *S, uint64_t seed,
                     ratio_pool *pool, pann_error *err)
{
    memset(pool, 0, sizeof *pool);
    double cap = PANN_RATIO_POOL_FACTOR * (double)R->n;
    if ((double)S->n <= cap) {
        pool->n = S->n;
        return 0;
    }
    double share = cap / (double)S->n;
    if (!(pool->in_pool = malloc(S->n)))
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", S->n);
    for (size_t i = 0; i < S->n; i++)
        pool->n += pool->in_pool[i] = pann_uniform3(seed, PANN_RATIO_POOL_TAG, i) < share;
    int rc = pann_matrix_alloc(&pool->P, pool->n, S->d, err);
    for (size_t i = 0, k = 0; !rc && i < S->n; i++)
        if (pool->in_pool[i])
            memcpy(pool->P.v + k++ * S->d, pann_row(S, i), S->d * sizeof *S->v);
    return rc;
}

static void free_pool(ratio_pool *pool)
{
    pann_matrix_free(&pool->P);
    free(pool->in_pool);
}

/* Synthetic candidates of row i: the pool less the row itself. */
static size_t pool_candidates(const ratio_pool *pool, size_t i)
{
    return pool->n - (pool->in_pool ? pool->in_pool[i] : 1);
}

/* Counts of rows S[lo..hi) from their lists among R (lr, kr per row) and
 * the pool (ls, ks per row; self: the pool is S, searched with the row
 * itself left out). */
static void counts_from_lists(const ratio_pool *pool, size_t lo, size_t hi, size_t K,
                              const pann_knn_result *lr, size_t kr,
                              const pann_knn_result *ls, size_t ks,
                              double *counts, float *nn_real)
{
    for (size_t i = lo; i < hi; i++) {
        const float *dr = lr->dist + (i - lo) * kr;
        const float *ds = ks ? ls->dist + (i - lo) * ks : NULL;
        size_t n = ks;
        if (pool->in_pool && pool->in_pool[i]) {   /* itself: first, at 0 */
            ds++;
            n--;
        } else if (pool->in_pool && n > K) {
            n = K;
        }
        counts[i] = pann_ratio_real_count(dr, kr, ds, n, K);
        nn_real[i] = dr[0];
    }
}

/* With every synthetic row in the pool: S against R and against itself,
 * whole (a row is left out of its own list by index). */
static int counts_whole(const pann_matrix *R, const pann_matrix *S, const pann_metric *m,
                        const ratio_pool *pool, size_t K, int threads, double *counts,
                        float *nn_real, uint64_t *evaluations, pann_error *err)
{
    size_t kr = K < R->n ? K : R->n, ks = K < S->n - 1 ? K : S->n - 1;
    pann_knn_result lr = { 0 }, ls = { 0 };
    int rc = exact_lists(S, R, m, kr, false, threads, &lr, err);
    if (!rc && ks)
        rc = exact_lists(S, S, m, ks, true, threads, &ls, err);
    if (!rc)
        counts_from_lists(pool, 0, S->n, K, &lr, kr, &ls, ks, counts, nn_real);
    *evaluations += lr.iterations + ls.iterations;
    pann_knn_result_free(&lr);
    pann_knn_result_free(&ls);
    return rc;
}

/* With a sampled pool: S in batches of RATIO_BATCH_ROWS rows against R and
 * the pool, so the neighbour lists held are those of one batch. */
static int counts_batched(const pann_matrix *R, const pann_matrix *S, const pann_metric *m,
                          const ratio_pool *pool, size_t K, int threads, double *counts,
                          float *nn_real, uint64_t *evaluations, pann_error *err)
{
    size_t kr = K < R->n ? K : R->n, ks = K + 1 < pool->n ? K + 1 : pool->n;
    int rc = 0;
    for (size_t lo = 0; !rc && lo < S->n; lo += RATIO_BATCH_ROWS) {
        size_t hi = lo + RATIO_BATCH_ROWS < S->n ? lo + RATIO_BATCH_ROWS : S->n;
        pann_matrix Sb;
        pann_knn_result lr = { 0 }, ls = { 0 };
        rc = pann_matrix_alloc(&Sb, hi - lo, S->d, err);
        if (rc)
            break;
        memcpy(Sb.v, pann_row(S, lo), (hi - lo) * S->d * sizeof *S->v);
        rc = exact_lists(&Sb, R, m, kr, false, threads, &lr, err);
        if (!rc && ks)
            rc = exact_lists(&Sb, &pool->P, m, ks, false, threads, &ls, err);
        if (!rc)
            counts_from_lists(pool, lo, hi, K, &lr, kr, &ls, ks, counts, nn_real);
        *evaluations += lr.iterations + ls.iterations;
        pann_knn_result_free(&lr);
        pann_knn_result_free(&ls);
        pann_matrix_free(&Sb);
    }
    return rc;
}

/* counts[i] for every row of S, and its distance to the nearest real row. */
static int real_counts(const pann_matrix *R, const pann_matrix *S, const pann_metric *m,
                       const ratio_pool *pool, size_t K, int threads, double *counts,
                       float *nn_real, uint64_t *evaluations, pann_error *err)
{
    return pool->in_pool
           ? counts_batched(R, S, m, pool, K, threads, counts, nn_real, evaluations, err)
           : counts_whole(R, S, m, pool, K, threads, counts, nn_real, evaluations, err);
}

/* rho of the counts (beta-binomial overdispersion), in [0, 0.999]. */
double pann_ratio_overdispersion(const double *counts, size_t n, size_t K, double pi0)
{
    if (n < 2 || K < 2 || !(pi0 > 0 && pi0 < 1))
        return 0;
    double mean = 0, var = 0;
    for (size_t i = 0; i < n; i++)
        mean += counts[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++)
        var += (counts[i] - mean) * (counts[i] - mean);
    var /= (double)(n - 1);
    double rho = (var / ((double)K * pi0 * (1 - pi0)) - 1) / (double)(K - 1);
    return rho < 0 ? 0 : rho > 0.999 ? 0.999 : rho;
}

/* The ratios from the counts (see the top of the file). */
static void ratios_from_counts(const double *counts, size_t n, size_t K, size_t nr,
                               const ratio_pool *pool, double shrink, pann_filter_result *r)
{
    size_t ns = pool->n;
    double pi0 = (double)nr / (double)(nr + ns - 1);
    r->overdispersion = pann_ratio_overdispersion(counts, n, K, pi0);
    double beta = shrink >= 0 ? shrink
                : r->overdispersion > 0 ? 1 / r->overdispersion - 1 : INFINITY;
    r->shrink = beta;
    for (size_t i = 0; i < n; i++) {
        if (isinf(beta) || ns < 2) {
            r->ratio[i] = 1;
            continue;
        }
        double cs = (double)pool_candidates(pool, i);
        double pi0_i = (double)nr / ((double)nr + cs);
        double pi = (counts[i] + beta * pi0_i) / ((double)K + beta);
        r->ratio[i] = pi >= 1 ? INFINITY : (float)(pi / (1 - pi) * cs / (double)nr);
    }
}

typedef struct keyed {
    double key;
    size_t row;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* --keep / --quantile: a weighted draw without replacement of `want` of
 * the rows not yet dropped; the others become excess. */
static int draw_fixed(const pann_filter_opts *o, pann_filter_result *r, size_t eligible,
                      pann_error *err)
{
    keyed *v = malloc((eligible ? eligible : 1) * sizeof *v);
    if (!v)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", r->n);
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        if (r->decision[i] == PANN_FILTER_KEEP) {
            double u = pann_uniform3(o->seed, ACCEPT_TAG, i) + 0x1p-60;
            double w = r->ratio[i];
            v[n++] = (keyed){ w > 0 ? log(u) / w : -INFINITY, i };
        }
    size_t want = o->max_rule == PANN_MAX_KEEP ? o->keep
                  : (size_t)ceil(o->max_value * (double)n);
    if (want > n)
        want = n;
    qsort(v, n, sizeof *v, cmp_keyed);
    for (size_t i = want; i < n; i++)
        r->decision[v[i].row] = PANN_FILTER_EXCESS;
    free(v);
    return 0;
}

/* The acceptance constant: the quantile of the eligible rows' ratios. */
static int accept_constant(const pann_filter_opts *o, pann_filter_result *r, size_t eligible,
                           pann_error *err)
{
    float *v = malloc((eligible ? eligible : 1) * sizeof *v);
    if (!v)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", r->n);
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        if (r->decision[i] == PANN_FILTER_KEEP)
            v[n++] = r->ratio[i];
    r->accept_constant = pann_quantile_sorted(v, n, o->accept_quantile);
    free(v);
    return 0;
}

static void draw_accept(const pann_filter_opts *o, pann_filter_result *r)
{
    double M = r->accept_constant;
    for (size_t i = 0; i < r->n; i++) {
        if (r->decision[i] != PANN_FILTER_KEEP)
            continue;
        double w = r->ratio[i];
        double p = isinf(w) || !(M > 0) || isinf(M) ? (w >= M ? 1 : 0) : fmin(1, w / M);
        if (!(pann_uniform3(o->seed, ACCEPT_TAG, i) < p))
            r->decision[i] = PANN_FILTER_EXCESS;
    }
}

int pann_filter_ratio_decide(const pann_matrix *R, const pann_matrix *S,
                             const pann_metric *m, const pann_filter_opts *o,
                             pann_filter_result *r, pann_error *err)
{
    size_t n = S->n, K = o->ratio_k;
    ratio_pool pool;
    int rc = make_pool(R, S, o->seed, &pool, err);
    if (K > R->n + (pool.n ? pool.n - 1 : 0))
        K = R->n + (pool.n ? pool.n - 1 : 0);
    r->ratio_k = K;
    r->ratio_pool = pool.n;
    r->ratio = malloc((n ? n : 1) * sizeof *r->ratio);
    double *counts = calloc(n ? n : 1, sizeof *counts);
    if (!rc && (!r->ratio || !counts))
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", n);
    if (!rc && n)
        rc = real_counts(R, S, m, &pool, K, o->threads, counts, r->dist, &r->evaluations, err);
    if (!rc) {
        ratios_from_counts(counts, n, K, R->n, &pool, o->shrink, r);
        size_t eligible = 0;
        for (size_t i = 0; i < n; i++) {
            bool copy = (!isnan(r->min_dist) && r->dist[i] < r->min_dist)
                        || (o->drop_copies && r->dist[i] == 0.0f);
            r->decision[i] = copy ? PANN_FILTER_NEAR_COPY : PANN_FILTER_KEEP;
            eligible += !copy;
        }
        if (o->max_rule == PANN_MAX_KEEP || o->max_rule == PANN_MAX_SYNTH_QUANTILE) {
            r->accept_constant = NAN;
            rc = draw_fixed(o, r, eligible, err);
        } else {
            rc = accept_constant(o, r, eligible, err);
            if (!rc)
                draw_accept(o, r);
        }
    }
    free(counts);
    free_pool(&pool);
    return rc;
}
