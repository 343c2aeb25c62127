/* estimate.c — an estimate of the exact mean NN distance that holds up.
 *
 * The article reads the exact mean off the asymptote a of a power-law fit
 * to the convergence curve; on its own example that is off by half (see
 * README).  Here the anytime answers serve as a control variate instead:
 * take a uniform random sample of rows, compute their exact distance by
 * brute force, and subtract the sample's mean gap (anytime - exact) from the
 * mean of all anytime distances.  This difference estimator is unbiased at
 * any stage of the search, its standard error comes from the sample, and
 * the better the anytime answers the smaller the gaps and the error.  The
 * cost is sample/n of a brute-force pass, less for rows already proven.
 */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pann.h"
#include "internal.h"

/* Brute-force best comparison value of S row k over all of T. */
static float exact_cmp_of_row(const pann_matrix *S, const pann_matrix *T,
                              const pann_metric *m, const pann_engine_opts *o,
                              size_t k, float eps_cmp)
{
    float best = o->mode == PANN_MIN ? INFINITY : -INFINITY;
    const float *x = pann_row(S, k);
    for (size_t j = 0; j < T->n; j++) {
        if (o->self_exclude && j == k)
            continue;
        float c = pann_cmp(m, x, pann_row(T, j));
        if (o->use_eps && c < eps_cmp)
            continue;
        if (o->mode == PANN_MIN ? c < best : c > best)
            best = c;
    }
    return best;
}

static size_t assigned_rows(const pann_result *r, uint32_t *rows, double *sum)
{
    size_t count = 0;
    *sum = 0.0;
    for (size_t k = 0; k < r->n; k++)
        if (r->nn[k] != PANN_NONE) {
            rows[count++] = (uint32_t)k;
            *sum += r->dist[k];
        }
    return count;
}

int pann_estimate_mean(const pann_matrix *S, const pann_matrix *T,
                       const pann_metric *m, const pann_engine_opts *o,
                       const pann_result *r, size_t sample,
                       pann_estimate *out, pann_error *err)
{
    memset(out, 0, sizeof *out);
    uint32_t *rows = malloc((r->n ? r->n : 1) * sizeof *rows);
    if (!rows)
        return pann_fail(err, PANN_ESYSTEM, "out of memory");
    double sum_all;
    size_t population = assigned_rows(r, rows, &sum_all);
    if (population == 0) {
        free(rows);
        return pann_fail(err, PANN_EINPUT, "no row has a neighbour to estimate from");
    }
    if (sample == 0)
        sample = (size_t)ceil(sqrt((double)population));
    if (sample > population)
        sample = population;
    double *gap = malloc(sample * sizeof *gap);
    if (!gap) {
        free(rows);
        return pann_fail(err, PANN_ESYSTEM, "out of memory");
    }
    pann_perm pick;
    pann_perm_init(&pick, population, o->seed, 0xe571a7e5ULL);
    float eps_cmp = pann_dist_to_cmp(m, o->eps);
    size_t computed = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(pann_threads(o->threads)) reduction(+:computed)
    for (size_t i = 0; i < sample; i++) {
        size_t k = rows[pann_perm_at(&pick, i)];
        if (r->proven[k]) {
            gap[i] = 0.0;
            continue;
        }
        float exact = exact_cmp_of_row(S, T, m, o, k, eps_cmp);
        gap[i] = (double)r->dist[k] - pann_cmp_to_dist(m, exact);
        computed++;
    }
    double mean_gap = 0.0, var_gap = 0.0;
    for (size_t i = 0; i < sample; i++)
        mean_gap += gap[i];
    mean_gap /= (double)sample;
    for (size_t i = 0; i < sample; i++)
        var_gap += (gap[i] - mean_gap) * (gap[i] - mean_gap);
    var_gap = sample > 1 ? var_gap / (double)(sample - 1) : 0.0;
    double finite_pop = 1.0 - (double)sample / (double)population;
    out->mean = sum_all / (double)population - mean_gap;
    out->se = sqrt(var_gap / (double)sample * finite_pop);
    out->lo = out->mean - 1.96 * out->se;
    out->hi = out->mean + 1.96 * out->se;
    out->sample = sample;
    out->work_fraction = (double)computed / (double)(r->n ? r->n : 1);
    free(gap);
    free(rows);
    return 0;
}
