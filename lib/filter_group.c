/* filter_group.c — nogan-filter with one table per category (--group): each
 * category's synthetic rows decided against its real rows only, with its
 * own thresholds (pann_filter_run per batch), and the figures over all
 * categories. */
#include <config.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pann.h"
#include "filter_internal.h"


typedef struct grouped_job {
    const pann_metric *m;
    const pann_filter_opts *o;
    const pann_groups *g;
    pann_filter_result *r;
    pann_filter_group_stats *st;
    float *loo;                  /* every category's real LOO distances */
    size_t nloo;
} grouped_job;

/* One category: its synthetic rows decided against its real rows alone,
 * with its own thresholds; answers written back into the whole result. */
static int grouped_batch(const pann_matrix *Sb, const pann_matrix *Rb,
                         const pann_engine_opts *unused, void *ctx, pann_error *err)
{
    (void)unused;
    grouped_job *job = ctx;
    pann_filter_result rb;
    int rc = pann_filter_run(Rb, Sb, job->m, job->o, &rb, err);
    if (rc) {
        pann_error inner = *err;
        return pann_fail(err, rc, "--group: category '%s': %s",
                         job->g->names[job->g->s_code[Sb->row_id[0]]], inner.msg);
    }
    pann_filter_result *r = job->r;
    for (size_t i = 0; i < Sb->n; i++) {
        r->decision[Sb->row_id[i]] = rb.decision[i];
        r->dist[Sb->row_id[i]] = rb.dist[i];
    }
    r->kept += rb.kept;
    r->too_far += rb.too_far;
    r->near_copy += rb.near_copy;
    r->excess += rb.excess;
    r->settled_early += rb.settled_early;
    r->settled_full += rb.settled_full;
    r->evaluations += rb.evaluations;
    pann_filter_group_stats *st = job->st;
    if (!isnan(rb.max_dist)) {
        st->max_lo = fmin(st->max_lo, rb.max_dist);
        st->max_hi = fmax(st->max_hi, rb.max_dist);
    }
    if (!isnan(rb.min_dist)) {
        st->min_lo = fmin(st->min_lo, rb.min_dist);
        st->min_hi = fmax(st->min_hi, rb.min_dist);
    }
    if (rb.real_loo) {
        memcpy(job->loo + job->nloo, rb.real_loo, rb.nreal_loo * sizeof *job->loo);
        job->nloo += rb.nreal_loo;
    }
    pann_filter_result_free(&rb);
    return 0;
}

int pann_filter_group(const pann_matrix *R, const pann_matrix *S, const pann_groups *g,
                      size_t batch, const pann_metric *m, const pann_filter_opts *o,
                      pann_filter_result *r, pann_filter_group_stats *st, pann_error *err)
{
    memset(r, 0, sizeof *r);
    *st = (pann_filter_group_stats){ .max_lo = INFINITY, .max_hi = -INFINITY,
                                     .min_lo = INFINITY, .min_hi = -INFINITY };
    pann_filter_opts exact_dcr = *o;
    exact_dcr.exact = true;      /* every distance known, for medians over all
                                    categories: brute force within each */
    exact_dcr.dcr_sample = 0;
    exact_dcr.fidelity = false;  /* over all categories, at the end */
    int rc = filter_check_opts(R, S, m, o, err);
    if (!rc && o->min_rule == PANN_MIN_HOLDOUT_QUANTILE) {
        /* one threshold for every category: the holdout against all of REAL */
        rc = filter_holdout_threshold(R, m, NULL, &exact_dcr, r, err);
        exact_dcr.min_rule = PANN_MIN_DIST;
        exact_dcr.min_value = r->min_dist;
    }
    if (rc)
        return rc;
    size_t holdout_rows = r->holdout_rows;
    double holdout_median = r->holdout_median, holdout_min = r->min_dist;
    r->n = S->n;
    r->decision = malloc(S->n ? S->n : 1);
    r->dist = malloc((S->n ? S->n : 1) * sizeof *r->dist);
    float *loo = malloc((R->n ? R->n : 1) * sizeof *loo);
    if (!r->decision || !r->dist || !loo) {
        free(loo);
        pann_filter_result_free(r);
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", S->n);
    }
    for (size_t i = 0; i < S->n; i++) {   /* a category with no real row: too far */
        r->decision[i] = PANN_FILTER_TOO_FAR;
        r->dist[i] = INFINITY;
    }
    grouped_job job = { m, &exact_dcr, g, r, st, loo, 0 };
    pann_engine_opts unused;
    pann_engine_opts_init(&unused);
    rc = pann_group_batches(S, R, g, false, batch, &unused, grouped_batch, &job,
                                &st->batches, err);
    if (rc) {
        free(loo);
        pann_filter_result_free(r);
        return rc;
    }
    r->too_far += st->batches.rows_without_reference;
    r->settled_full += st->batches.rows_without_reference;
    r->max_dist = r->min_dist = NAN;   /* per category: see st */
    float *known = malloc((S->n ? S->n : 1) * sizeof *known);
    size_t nknown = 0;
    for (size_t i = 0; known && i < S->n; i++)
        if (isfinite(r->dist[i]))
            known[nknown++] = r->dist[i];
    if (known)
        qsort(known, nknown, sizeof *known, filter_cmp_float);
    qsort(loo, job.nloo, sizeof *loo, filter_cmp_float);
    r->median_synth = known && nknown ? pann_median_sorted(known, nknown) : NAN;
    r->median_synth_rows = nknown;
    r->median_real = job.nloo ? pann_median_sorted(loo, job.nloo) : NAN;
    r->real_loo = loo;
    r->nreal_loo = job.nloo;
    r->work_fraction = S->n && R->n ? (double)r->evaluations / ((double)S->n * R->n) : 0;
    r->holdout_rows = holdout_rows;
    r->holdout_median = holdout_median;
    if (o->min_rule == PANN_MIN_HOLDOUT_QUANTILE)
        r->min_dist = holdout_min;
    r->accept_constant = NAN;
    free(known);
    return o->fidelity ? pann_filter_fidelity(o->fidelity_ref ? o->fidelity_ref : R, S, m, o,
                                              r, err)
                       : 0;
}
