/* test_filter.c — the filter module against independent computations: the
 * projection-pruned NN search against a plain brute-force loop
 * (testutil.h), every decision of pann_filter_run against a classification
 * written here from brute-force distances, quantiles against their
 * definition, and thread-count independence. */
#include <criterion/criterion.h>
#include <string.h>
#include "testutil.h"

static int cmp_f(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Real rows: Gaussian numeric columns and, with ncat > 0, a categorical last
 * column.  Synthetic rows: like them, plus far rows (every 17th), exact
 * copies (every 19th) and near copies (every 23rd). */
static void make_data(pann_matrix *R, pann_matrix *S, size_t m, size_t n, size_t d,
                      int ncat, unsigned long seed)
{
    *R = test_matrix(m, d, seed, 1.0, 0);
    *S = test_matrix(n, d, seed + 1, 1.0, 0);
    for (size_t i = 0; i < m && ncat; i++)
        R->v[i * d + d - 1] = (float)(i % (size_t)ncat);
    for (size_t k = 0; k < n; k++) {
        float *x = S->v + k * d;
        if (ncat)
            x[d - 1] = (float)(k % (size_t)ncat);
        if (k % 17 == 3)
            x[0] += 8.0f;
        else if (k % 19 == 5)
            memcpy(x, pann_row(R, (k * 7) % m), d * sizeof *x);
        else if (k % 23 == 7) {
            memcpy(x, pann_row(R, (k * 11) % m), d * sizeof *x);
            x[0] += 0.001f;
        }
    }
}

static void check_nn(pann_metric_kind kind, size_t d, int ncat, bool self, unsigned long seed)
{
    pann_matrix R, S;
    make_data(&R, &S, 700, 500, d, ncat, seed);
    unsigned char cat[16] = { 0 };
    if (ncat)
        cat[d - 1] = 1;
    pann_metric m = { kind, d, ncat ? cat : NULL };
    const pann_matrix *Q = self ? &R : &S;
    uint32_t *nn = malloc(Q->n * sizeof *nn);
    float *want = malloc(Q->n * sizeof *want), *got = malloc(Q->n * sizeof *got);
    test_brute(Q, &R, &m, PANN_MIN, self, false, 0, nn, want);
    pann_filter_index *ix;
    pann_error err;
    cr_assert_eq(pann_filter_index_build(&ix, &R, &m, &err), 0, "%s", err.msg);
    uint64_t evals = 0;
    cr_assert_eq(pann_filter_nn(ix, Q, NULL, 0, self, -1.0, 2, got, NULL, &evals, &err), 0);
    for (size_t k = 0; k < Q->n; k++)
        cr_assert_eq(got[k], want[k], "metric %d row %zu: %.9g, brute force %.9g",
                     kind, k, got[k], want[k]);
    cr_assert_leq(evals, (uint64_t)Q->n * R.n);
    pann_filter_index_free(ix);
    free(nn); free(want); free(got);
    pann_matrix_free(&R);
    pann_matrix_free(&S);
}

Test(filter_nn, l1_equals_brute_force) { check_nn(PANN_L1, 5, 0, false, 11); }
Test(filter_nn, l1_categorical_equals_brute_force) { check_nn(PANN_L1, 4, 3, false, 12); }
Test(filter_nn, l2_equals_brute_force) { check_nn(PANN_L2, 3, 2, false, 13); }
Test(filter_nn, leave_one_out_equals_brute_force) { check_nn(PANN_L1, 6, 0, true, 14); }
Test(filter_nn, cosine_equals_brute_force) { check_nn(PANN_COSINE, 4, 0, false, 15); }

Test(filter, quantile_and_median_by_definition)
{
    float v[] = { 5, 1, 4, 2, 3 };
    cr_assert_eq(pann_quantile_sorted(v, 5, 0.0), 1);
    cr_assert_eq(pann_quantile_sorted(v, 5, 0.2), 1);   /* ceil(1) = 1st */
    cr_assert_eq(pann_quantile_sorted(v, 5, 0.21), 2);  /* ceil(1.05) = 2nd */
    cr_assert_eq(pann_quantile_sorted(v, 5, 0.95), 5);
    cr_assert_eq(pann_quantile_sorted(v, 5, 1.0), 5);
    cr_assert_eq(pann_median_sorted(v, 5), 3);
    cr_assert_eq(pann_median_sorted(v, 4), 2.5);
    cr_assert(isnan(pann_quantile_sorted(v, 0, 0.5)));
}

/* Expected decision from brute-force distances and the thresholds. */
static int expected(float d, double lo, bool copies, double hi)
{
    if ((!isnan(lo) && d < lo) || (copies && d == 0.0f))
        return PANN_FILTER_NEAR_COPY;
    return d > hi ? PANN_FILTER_TOO_FAR : PANN_FILTER_KEEP;
}

static void check_run(pann_filter_opts *o, pann_metric_kind kind)
{
    pann_matrix R, S;
    size_t d = 4;
    make_data(&R, &S, 600, 900, d, 3, 21);
    unsigned char cat[4] = { 0, 0, 0, 1 };
    pann_metric m = { kind, d, cat };
    uint32_t *nn = malloc(900 * sizeof *nn);
    float *sd = malloc(900 * sizeof *sd), *loo = malloc(600 * sizeof *loo);
    test_brute(&S, &R, &m, PANN_MIN, false, false, 0, nn, sd);
    test_brute(&R, &R, &m, PANN_MIN, true, false, 0, nn, loo);
    qsort(loo, 600, sizeof *loo, cmp_f);
    double hi = o->max_rule == PANN_MAX_DIST ? o->max_value
                : loo[(size_t)ceil(o->max_value * 600) - 1];
    double lo = o->min_rule == PANN_MIN_DIST ? o->min_value
                : o->min_rule == PANN_MIN_REAL_QUANTILE
                ? loo[(size_t)ceil(o->min_value * 600) - 1] : NAN;
    pann_filter_result r[2];
    pann_error err;
    for (int t = 0; t < 2; t++) {
        o->threads = t + 1;
        cr_assert_eq(pann_filter_run(&R, &S, &m, o, &r[t], &err), 0, "%s", err.msg);
    }
    cr_assert_eq(r[0].max_dist, hi);
    size_t counts[3] = { 0 };
    for (size_t k = 0; k < 900; k++) {
        int want = expected(sd[k], lo, o->drop_copies, hi);
        cr_assert_eq(r[0].decision[k], want, "row %zu: decision %d, brute force %d (d=%g)",
                     k, r[0].decision[k], want, sd[k]);
        cr_assert_eq(r[1].decision[k], r[0].decision[k], "row %zu differs with -j2", k);
        if (want != PANN_FILTER_KEEP || !isnan(r[0].dist[k]))
            cr_assert_eq(r[0].dist[k], sd[k], "row %zu distance", k);
        counts[want]++;
    }
    cr_assert_eq(r[0].kept, counts[0]);
    cr_assert_eq(r[0].too_far, counts[1]);
    cr_assert_eq(r[0].near_copy, counts[2]);
    cr_assert_gt(counts[1], 40, "the injected far rows are dropped");
    cr_assert_eq(r[0].median_real, pann_median_sorted(loo, 600));
    cr_assert_eq(r[0].evaluations, r[1].evaluations);
    for (int t = 0; t < 2; t++)
        pann_filter_result_free(&r[t]);
    free(nn); free(sd); free(loo);
    pann_matrix_free(&R);
    pann_matrix_free(&S);
}

Test(filter_run, default_threshold_matches_brute_force)
{
    pann_filter_opts o;
    pann_filter_opts_init(&o);
    o.select = PANN_SELECT_DISTANCE;
    check_run(&o, PANN_L1);
}

Test(filter_run, exact_mode_matches_brute_force)
{
    pann_filter_opts o;
    pann_filter_opts_init(&o);
    o.select = PANN_SELECT_DISTANCE;
    o.exact = true;
    o.drop_copies = true;
    check_run(&o, PANN_L2);
}

Test(filter_run, near_copies_by_quantile_and_copies)
{
    pann_filter_opts o;
    pann_filter_opts_init(&o);
    o.select = PANN_SELECT_DISTANCE;
    o.drop_copies = true;
    o.min_rule = PANN_MIN_REAL_QUANTILE;
    o.min_value = 0.02;
    o.max_rule = PANN_MAX_DIST;
    o.max_value = 1.5;
    check_run(&o, PANN_L1);
}

Test(filter_run, exact_copies_are_found)
{
    pann_filter_opts o;
    pann_filter_opts_init(&o);
    o.select = PANN_SELECT_DISTANCE;
    o.drop_copies = true;
    pann_matrix R, S;
    make_data(&R, &S, 600, 900, 4, 0, 31);
    pann_metric m = { PANN_L1, 4, NULL };
    pann_filter_result r;
    pann_error err;
    cr_assert_eq(pann_filter_run(&R, &S, &m, &o, &r, &err), 0, "%s", err.msg);
    for (size_t k = 0; k < 900; k++)
        if (k % 17 != 3 && k % 19 == 5)
            cr_assert_eq(r.decision[k], PANN_FILTER_NEAR_COPY, "copy row %zu", k);
    pann_filter_result_free(&r);
    pann_matrix_free(&R);
    pann_matrix_free(&S);
}

/* --keep and --quantile: exactly N rows, the nearest (ties by row). */
Test(filter_run, keep_n_and_quantile)
{
    pann_matrix R, S;
    make_data(&R, &S, 400, 500, 3, 0, 41);
    pann_metric m = { PANN_L1, 3, NULL };
    uint32_t *nn = malloc(500 * sizeof *nn);
    float *sd = malloc(500 * sizeof *sd), *sorted = malloc(500 * sizeof *sorted);
    test_brute(&S, &R, &m, PANN_MIN, false, false, 0, nn, sd);
    memcpy(sorted, sd, 500 * sizeof *sd);
    qsort(sorted, 500, sizeof *sorted, cmp_f);
    pann_filter_opts o;
    pann_filter_opts_init(&o);
    o.select = PANN_SELECT_DISTANCE;
    o.max_rule = PANN_MAX_KEEP;
    o.keep = 123;
    pann_filter_result r;
    pann_error err;
    cr_assert_eq(pann_filter_run(&R, &S, &m, &o, &r, &err), 0, "%s", err.msg);
    cr_assert_eq(r.kept, 123);
    cr_assert_eq(r.max_dist, sorted[122]);
    for (size_t k = 0; k < 500; k++)
        if (sd[k] < sorted[122])
            cr_assert_eq(r.decision[k], PANN_FILTER_KEEP, "row %zu", k);
    cr_assert_eq(r.median_synth, pann_median_sorted(sorted, 500));
    pann_filter_result_free(&r);
    o.max_rule = PANN_MAX_SYNTH_QUANTILE;
    o.max_value = 0.3;
    cr_assert_eq(pann_filter_run(&R, &S, &m, &o, &r, &err), 0, "%s", err.msg);
    cr_assert_eq(r.max_dist, sorted[149]);
    for (size_t k = 0; k < 500; k++)
        cr_assert_eq(r.decision[k], sd[k] <= sorted[149] ? PANN_FILTER_KEEP
                                                         : PANN_FILTER_TOO_FAR);
    pann_filter_result_free(&r);
    free(nn); free(sd); free(sorted);
    pann_matrix_free(&R);
    pann_matrix_free(&S);
}

Test(filter_run, errors)
{
    pann_matrix R, S;
    make_data(&R, &S, 1, 5, 2, 0, 51);
    pann_metric m = { PANN_L1, 2, NULL };
    pann_filter_opts o;
    pann_filter_opts_init(&o);
    o.select = PANN_SELECT_DISTANCE;
    pann_filter_result r;
    pann_error err;
    cr_assert_eq(pann_filter_run(&R, &S, &m, &o, &r, &err), PANN_EINPUT);
    cr_assert(strstr(err.msg, "at least 2 real rows"), "%s", err.msg);
    o.max_rule = PANN_MAX_DIST;
    o.max_value = 1.0;
    cr_assert_eq(pann_filter_run(&R, &S, &m, &o, &r, &err), 0, "%s", err.msg);
    cr_assert(isnan(r.median_real));
    pann_filter_result_free(&r);
    pann_matrix_free(&R);
    pann_matrix_free(&S);
}
