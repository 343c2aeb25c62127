/* filter.c — the decisions of nogan-filter on rows held in memory: the
 * options' defaults and checks, the thresholds from the real rows (their
 * leave-one-out distances) and from the holdout rows, the distance rule's
 * decisions (kept, too far, near copy; article, section 2.2) and the
 * dispatch to the ratio selection (filter_ratio.c).  The search is in
 * filter_index.c, streaming in filter_stream.c, categories in
 * filter_group.c.
 *
 * Determinism: each query's answer is the minimum of the same float values
 * whatever the order or thread, and counts are integer sums. */
#include <config.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pann.h"
#include "internal.h"
#include "filter_internal.h"

void pann_filter_opts_init(pann_filter_opts *o)
{
    memset(o, 0, sizeof *o);
    o->select = PANN_SELECT_RATIO;
    o->ratio_k = PANN_RATIO_K;
    o->accept_quantile = PANN_RATIO_ACCEPT_QUANTILE;
    o->shrink = PANN_RATIO_SHRINK_AUTO;
    o->max_rule = PANN_MAX_REAL_QUANTILE;
    o->max_value = 0.95;
    o->min_rule = PANN_MIN_NONE;
    o->dcr_sample = 10000;
    o->seed = 1;
}

void pann_filter_result_free(pann_filter_result *r)
{
    free(r->decision);
    free(r->dist);
    free(r->real_loo);
    free(r->ratio);
    memset(r, 0, sizeof *r);
}

int filter_cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

double pann_quantile_sorted(float *v, size_t n, double q)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, filter_cmp_float);
    size_t k = (size_t)ceil(q * (double)n);
    return v[k ? k - 1 : 0];
}

double pann_median_sorted(const float *v, size_t n)
{
    if (n == 0)
        return NAN;
    return n % 2 ? v[n / 2] : 0.5 * ((double)v[n / 2 - 1] + (double)v[n / 2]);
}

/* ---- the decisions ------------------------------------------------------ */

/* Exact NN distances by brute force (pann_match_exact): the --exact path. */
int filter_brute_nn(const pann_matrix *S, const pann_matrix *R, const pann_metric *m,
                    bool self_exclude, int threads, float *dist, uint64_t *evaluations,
                    pann_error *err)
{
    pann_engine_opts eo;
    pann_engine_opts_init(&eo);
    eo.self_exclude = self_exclude;
    eo.threads = threads;
    /* every pair, as documented: the auto choice may take a tree search,
     * whose evaluation filter_count would depend on how the rows are batched */
    eo.exact_method = PANN_EXACT_BRUTE;
    pann_result r;
    int rc = pann_match_exact(S, R, m, &eo, &r, err);
    if (rc)
        return rc;
    memcpy(dist, r.dist, S->n * sizeof *dist);
    *evaluations += r.iterations;
    pann_result_free(&r);
    return 0;
}

/* The near-copy threshold from the holdout: the quantile of the holdout
 * rows' exact NN distances to the real rows. */
int filter_holdout_threshold(const pann_matrix *R, const pann_metric *m,
                             const pann_filter_index *ix, const pann_filter_opts *o,
                             pann_filter_result *r, pann_error *err)
{
    const pann_matrix *H = o->holdout;
    float *d = malloc((H->n ? H->n : 1) * sizeof *d);
    if (!d)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", H->n);
    int rc = o->exact || !ix
             ? filter_brute_nn(H, R, m, false, o->threads, d, &r->evaluations, err)
             : pann_filter_nn(ix, H, NULL, 0, false, -1.0, o->threads, d, NULL,
                              &r->evaluations, err);
    if (!rc) {
        r->min_dist = pann_quantile_sorted(d, H->n, o->min_value);
        r->holdout_median = pann_median_sorted(d, H->n);
        r->holdout_rows = H->n;
    }
    free(d);
    return rc;
}

/* Real rows' leave-one-out NN distances, sorted; median and thresholds. */
int filter_real_thresholds(const pann_matrix *R, const pann_metric *m,
                           const pann_filter_index *ix, const pann_filter_opts *o,
                           pann_filter_result *r, pann_error *err)
{
    r->median_real = NAN;
    r->holdout_median = NAN;
    if (o->min_rule == PANN_MIN_HOLDOUT_QUANTILE) {
        int rc = filter_holdout_threshold(R, m, ix, o, r, err);
        if (rc)
            return rc;
    }
    if (R->n < 2)
        return 0;
    float *loo = malloc(R->n * sizeof *loo);
    if (!loo)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", R->n);
    int rc = o->exact ? filter_brute_nn(R, R, m, true, o->threads, loo, &r->evaluations, err)
                      : pann_filter_nn(ix, R, NULL, 0, true, -1.0, o->threads, loo, NULL,
                                       &r->evaluations, err);
    if (!rc) {
        if (o->select == PANN_SELECT_DISTANCE && o->max_rule == PANN_MAX_REAL_QUANTILE)
            r->max_dist = pann_quantile_sorted(loo, R->n, o->max_value);
        if (o->min_rule == PANN_MIN_REAL_QUANTILE)
            r->min_dist = pann_quantile_sorted(loo, R->n, o->min_value);
        qsort(loo, R->n, sizeof *loo, filter_cmp_float);
        r->median_real = pann_median_sorted(loo, R->n);
        free(r->real_loo);      /* kept (sorted) for medians over groups */
        r->real_loo = loo;
        r->nreal_loo = R->n;
    } else {
        free(loo);
    }
    return rc;
}

static bool near_copy(const pann_filter_opts *o, const pann_filter_result *r, float d)
{
    return (!isnan(r->min_dist) && d < r->min_dist) || (o->drop_copies && d == 0.0f);
}

typedef struct ranked {
    float dist;
    size_t row;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->dist != y->dist)
        return x->dist < y->dist ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* --quantile and --keep: the threshold comes from the exact distances of
 * the rows that are not near copies; --keep breaks ties by row order. */
int filter_synth_threshold(const pann_filter_opts *o, pann_filter_result *r, pann_error *err)
{
    ranked *v = malloc((r->n ? r->n : 1) * sizeof *v);
    if (!v)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", r->n);
    size_t filter_count = 0;
    for (size_t k = 0; k < r->n; k++)
        if (r->decision[k] != PANN_FILTER_NEAR_COPY)
            v[filter_count++] = (ranked){ r->dist[k], k };
    qsort(v, filter_count, sizeof *v, cmp_ranked);
    if (o->max_rule == PANN_MAX_KEEP) {
        size_t keep = o->keep < filter_count ? o->keep : filter_count;
        r->max_dist = keep ? v[keep - 1].dist : NAN;
        for (size_t i = keep; i < filter_count; i++)
            r->decision[v[i].row] = PANN_FILTER_TOO_FAR;
    } else {
        size_t k = (size_t)ceil(o->max_value * (double)filter_count);
        r->max_dist = filter_count ? v[k ? k - 1 : 0].dist : NAN;
        for (size_t i = 0; i < filter_count; i++)
            if (v[i].dist > r->max_dist)
                r->decision[v[i].row] = PANN_FILTER_TOO_FAR;
    }
    free(v);
    return 0;
}

/* The DCR sample: pick[0..k) are k of the n rows, chosen by seed. */
void filter_dcr_pick(size_t *pick, size_t n, size_t k, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        pick[i] = i;
    for (size_t i = 0; i < k && k < n; i++) {   /* partial Fisher-Yates */
        size_t j = i + (size_t)(pann_uniform3(seed, 0xdc5a3b1eULL, i) * (double)(n - i));
        size_t tmp = pick[i]; pick[i] = pick[j]; pick[j] = tmp;
    }
}

/* Median synthetic NN distance: over every row when all are exact, else
 * over a seeded uniform sample whose early-kept rows are searched fully. */
int filter_synth_median(const pann_matrix *S, const pann_filter_index *ix,
                        const pann_filter_opts *o, pann_filter_result *r, pann_error *err)
{
    size_t n = S->n, k = o->dcr_sample && o->dcr_sample < n ? o->dcr_sample : n;
    size_t *pick = malloc((n ? n : 1) * sizeof *pick);
    float *d = malloc((n ? n : 1) * sizeof *d);
    int rc = 0;
    if (!pick || !d) {
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", n);
        goto done;
    }
    filter_dcr_pick(pick, n, k, o->seed);
    size_t missing = 0;
    for (size_t i = 0; i < k; i++)
        if (isnan(r->dist[pick[i]])) {   /* early-kept: distance unknown */
            size_t tmp = pick[missing]; pick[missing] = pick[i]; pick[i] = tmp;
            missing++;
        }
    if (missing)
        rc = pann_filter_nn(ix, S, pick, missing, false, -1.0, o->threads, d, NULL,
                            &r->evaluations, err);
    /* rebuild the sample's distances: searched ones first, then the rest */
    if (!rc) {
        size_t filled = missing;
        for (size_t i = missing; i < k; i++)
            d[filled++] = r->dist[pick[i]];
        qsort(d, k, sizeof *d, filter_cmp_float);
        r->median_synth = pann_median_sorted(d, k);
        r->median_synth_rows = k;
    }
done:
    free(pick);
    free(d);
    return rc;
}

int filter_check_opts(const pann_matrix *R, const pann_matrix *S, const pann_metric *m,
                      const pann_filter_opts *o, pann_error *err)
{
    if (R->n == 0)
        return pann_fail(err, PANN_EINPUT, "the real table has no rows");
    if (S->d != R->d || R->d != m->d)
        return pann_fail(err, PANN_EINPUT, "the two tables have %zu and %zu columns",
                         R->d, S->d);
    if (R->n >= PANN_NONE)
        return pann_fail(err, PANN_EINPUT, "the real table has too many rows (%zu)", R->n);
    bool max_q = o->max_rule == PANN_MAX_REAL_QUANTILE || o->max_rule == PANN_MAX_SYNTH_QUANTILE;
    if ((max_q && !(o->max_value >= 0 && o->max_value <= 1))
        || (o->min_rule == PANN_MIN_REAL_QUANTILE && !(o->min_value >= 0 && o->min_value <= 1)))
        return pann_fail(err, PANN_EINPUT, "a quantile must be between 0 and 1");
    bool distance = o->select == PANN_SELECT_DISTANCE;
    if (!distance && (o->ratio_k < 1 || !(o->accept_quantile > 0 && o->accept_quantile <= 1)))
        return pann_fail(err, PANN_EINPUT, "the ratio selection needs K >= 1 and an "
                         "acceptance quantile in (0, 1]");
    if (o->min_rule == PANN_MIN_HOLDOUT_QUANTILE
        && (!o->holdout || o->holdout->n == 0 || o->holdout->d != R->d
            || !(o->min_value >= 0 && o->min_value <= 1)))
        return pann_fail(err, PANN_EINPUT, "the holdout near-copy rule needs holdout rows "
                         "with the real table's columns and a quantile in [0, 1]");
    if (((distance && o->max_rule == PANN_MAX_REAL_QUANTILE)
         || o->min_rule == PANN_MIN_REAL_QUANTILE) && R->n < 2)
        return pann_fail(err, PANN_EINPUT, "a threshold from the real rows' leave-one-out "
                         "distances needs at least 2 real rows (give a distance instead)");
    return 0;
}

/* Decisions from the distances: near copies first, then too far. */
void filter_decide(const pann_filter_opts *o, pann_filter_result *r, const unsigned char *early)
{
    bool deferred = o->max_rule == PANN_MAX_SYNTH_QUANTILE || o->max_rule == PANN_MAX_KEEP;
    for (size_t k = 0; k < r->n; k++) {
        if (early && early[k]) {
            r->decision[k] = PANN_FILTER_KEEP;
            r->dist[k] = NAN;          /* only an upper bound is known */
        } else if (near_copy(o, r, r->dist[k]))
            r->decision[k] = PANN_FILTER_NEAR_COPY;
        else if (!deferred && r->dist[k] > r->max_dist)
            r->decision[k] = PANN_FILTER_TOO_FAR;
        else
            r->decision[k] = PANN_FILTER_KEEP;
    }
}

void filter_count(pann_filter_result *r, const unsigned char *early, const pann_matrix *R)
{
    for (size_t k = 0; k < r->n; k++) {
        r->kept += r->decision[k] == PANN_FILTER_KEEP;
        r->too_far += r->decision[k] == PANN_FILTER_TOO_FAR;
        r->near_copy += r->decision[k] == PANN_FILTER_NEAR_COPY;
        r->excess += r->decision[k] == PANN_FILTER_EXCESS;
        r->settled_early += early && early[k];
    }
    r->settled_full = r->n - r->settled_early;
    /* the ratio selection searches SYNTH too */
    double brute = (double)r->n * (double)(R->n + (r->ratio ? r->n : 0));
    r->work_fraction = brute > 0 ? (double)r->evaluations / brute : 0.0;
}

/* The distance rule on rows held in memory. */
static int run_distance(const pann_matrix *R, const pann_matrix *S, const pann_metric *m,
                        const pann_filter_opts *o, pann_filter_result *r, pann_error *err)
{
    unsigned char *early = NULL;
    pann_filter_index *ix = NULL;
    bool all_exact = o->exact || o->max_rule == PANN_MAX_SYNTH_QUANTILE
                     || o->max_rule == PANN_MAX_KEEP;
    int rc = o->exact ? 0 : pann_filter_index_build(&ix, R, m, err);
    if (!rc)
        rc = filter_real_thresholds(R, m, ix, o, r, err);
    /* a row may stop at the first real row within max_dist only when that
     * settles it: no near-copy test and a threshold known in advance */
    bool early_keep = !all_exact && o->min_rule == PANN_MIN_NONE && !o->drop_copies;
    if (!rc && early_keep && !(early = calloc(r->n ? r->n : 1, 1)))
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", r->n);
    if (!rc)
        rc = o->exact ? filter_brute_nn(S, R, m, false, o->threads, r->dist, &r->evaluations, err)
                      : pann_filter_nn(ix, S, NULL, 0, false, early_keep ? r->max_dist : -1.0,
                                       o->threads, r->dist, early, &r->evaluations, err);
    if (!rc) {
        filter_decide(o, r, early);
        if (o->max_rule == PANN_MAX_SYNTH_QUANTILE || o->max_rule == PANN_MAX_KEEP)
            rc = filter_synth_threshold(o, r, err);
    }
    if (!rc)
        rc = filter_synth_median(S, ix, all_exact ? (&(pann_filter_opts){ .dcr_sample = 0 }) : o,
                          r, err);
    if (!rc)
        filter_count(r, early, R);
    free(early);
    pann_filter_index_free(ix);
    return rc;
}

/* The ratio selection on rows held in memory: every distance is exact. */
static int run_ratio(const pann_matrix *R, const pann_matrix *S, const pann_metric *m,
                     const pann_filter_opts *o, pann_filter_result *r, pann_error *err)
{
    pann_filter_index *ix = NULL;
    int rc = o->exact ? 0 : pann_filter_index_build(&ix, R, m, err);
    if (!rc)
        rc = filter_real_thresholds(R, m, ix, o, r, err);
    pann_filter_index_free(ix);
    if (!rc)
        rc = pann_filter_ratio_decide(R, S, m, o, r, err);
    if (!rc)
        rc = filter_synth_median(S, NULL, &(pann_filter_opts){ .dcr_sample = 0 }, r, err);
    if (!rc)
        filter_count(r, NULL, R);
    return rc;
}

int pann_filter_run(const pann_matrix *R, const pann_matrix *S,
                    const pann_metric *m, const pann_filter_opts *o,
                    pann_filter_result *r, pann_error *err)
{
    memset(r, 0, sizeof *r);
    int rc = filter_check_opts(R, S, m, o, err);
    if (rc)
        return rc;
    r->n = S->n;
    r->min_dist = o->min_rule == PANN_MIN_DIST ? o->min_value : NAN;
    r->max_dist = o->select == PANN_SELECT_DISTANCE && o->max_rule == PANN_MAX_DIST
                  ? o->max_value : NAN;
    r->accept_constant = NAN;
    r->decision = malloc(r->n ? r->n : 1);
    r->dist = malloc((r->n ? r->n : 1) * sizeof *r->dist);
    if (!r->decision || !r->dist)
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", r->n);
    if (!rc)
        rc = o->select == PANN_SELECT_RATIO ? run_ratio(R, S, m, o, r, err)
                                            : run_distance(R, S, m, o, r, err);
    if (!rc && o->fidelity)
        rc = pann_filter_fidelity(o->fidelity_ref ? o->fidelity_ref : R, S, m, o, r, err);
    if (rc)
        pann_filter_result_free(r);
    return rc;
}
