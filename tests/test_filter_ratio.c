/* test_filter_ratio.c — the density-ratio selection against independent
 * computations: the neighbour count of every row against a brute-force
 * count over REAL u SYNTH in double, the ratio against the formula applied
 * to those counts, the tie rule on hand-made lists, the overdispersion of
 * binomial-like counts, thread-count independence of the kept rows, and a
 * far block dropped while the real-like rows are kept. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "internal.h"

typedef struct labelled {
    double d;
    int real;
} labelled;

static int cmp_labelled(const void *a, const void *b)
{
    const labelled *x = a, *y = b;
    return (x->d > y->d) - (x->d < y->d);
}

/* Real rows among the K nearest of row s of S in R u P \ {s}, P the rows
 * of S with pool[j] (all when pool is NULL), brute force in double, ties at
 * the K-th distance in proportion. */
static double brute_count(const pann_matrix *R, const pann_matrix *S, const unsigned char *pool,
                          size_t s, size_t K)
{
    size_t n = R->n + S->n, k = 0;
    labelled *v = malloc(n * sizeof *v);
    for (size_t j = 0; j < R->n; j++)
        v[k++] = (labelled){ test_dist_double(PANN_L1, pann_row(S, s), pann_row(R, j), S->d), 1 };
    for (size_t j = 0; j < S->n; j++)
        if (j != s && (!pool || pool[j]))
            v[k++] = (labelled){ test_dist_double(PANN_L1, pann_row(S, s), pann_row(S, j), S->d), 0 };
    n = k;
    qsort(v, n, sizeof *v, cmp_labelled);
    double dK = v[K - 1].d, c = 0;
    size_t below = 0, tied = 0, tied_real = 0;
    for (size_t j = 0; j < n; j++) {
        if (v[j].d < dK) {
            below++;
            c += v[j].real;
        } else if (v[j].d == dK) {
            tied++;
            tied_real += v[j].real;
        }
    }
    c += (double)(K - below) * (double)tied_real / (double)tied;
    free(v);
    return c;
}

Test(filter_ratio, tie_rule_on_hand_lists)
{
    float dr[] = { 1, 2, 2 }, ds[] = { 2, 3 };
    /* nearest: 1 (real); then three rows tied at 2 (2 real) share 2 slots */
    cr_expect_float_eq(pann_ratio_real_count(dr, 3, ds, 2, 3), 1 + 2 * 2.0 / 3, 1e-12);
    cr_expect_float_eq(pann_ratio_real_count(dr, 3, ds, 2, 1), 1, 1e-12);
    cr_expect_float_eq(pann_ratio_real_count(dr, 3, ds, 2, 5), 3, 1e-12);
    cr_expect_float_eq(pann_ratio_real_count(dr, 0, ds, 2, 2), 0, 1e-12);
}

Test(filter_ratio, overdispersion_of_binomial_and_spread_counts)
{
    /* counts exactly at the mean: less spread than a binomial, rho = 0 */
    double flat[100];
    for (int i = 0; i < 100; i++)
        flat[i] = 5;
    cr_expect_eq(pann_ratio_overdispersion(flat, 100, 10, 0.5), 0);
    /* all or nothing: variance K^2/4 = K pi(1-pi) (1 + (K-1) rho) gives rho 1,
     * clamped */
    double extreme[100];
    for (int i = 0; i < 100; i++)
        extreme[i] = i % 2 ? 10 : 0;
    double rho = pann_ratio_overdispersion(extreme, 100, 10, 0.5);
    cr_expect_float_eq(rho, 0.999, 1e-12);
}

/* Counts and ratios of pann_filter_run against brute force: with every
 * synthetic row on the counts' side (nr >= ns), and with the seeded pool
 * (ns > nr), its rows found here from PANN_RATIO_POOL_TAG. */
static void check_ratio(size_t nr, size_t ns)
{
    pann_matrix R = test_matrix(nr, 3, 11, 1.0, 0), S = test_matrix(ns, 3, 12, 1.5, 0);
    pann_metric m = { PANN_L1, 3, NULL };
    pann_filter_opts o;
    pann_filter_opts_init(&o);
    o.ratio_k = 10;
    pann_filter_result r;
    pann_error err;
    cr_assert_eq(pann_filter_run(&R, &S, &m, &o, &r, &err), 0, "%s", err.msg);
    unsigned char *pool = NULL;
    size_t npool = ns;
    if (ns > nr) {
        pool = malloc(ns);
        npool = 0;
        for (size_t i = 0; i < ns; i++)
            npool += pool[i] = pann_uniform3(o.seed, PANN_RATIO_POOL_TAG, i)
                               < PANN_RATIO_POOL_FACTOR * (double)nr / (double)ns;
    }
    cr_expect_eq(r.ratio_pool, npool);
    size_t K = 10;
    double *c = malloc(ns * sizeof *c), mean = 0, var = 0;
    for (size_t i = 0; i < ns; i++)
        mean += (c[i] = brute_count(&R, &S, pool, i, K));
    mean /= (double)ns;
    for (size_t i = 0; i < ns; i++)
        var += (c[i] - mean) * (c[i] - mean);
    var /= (double)(ns - 1);
    double pi0 = (double)nr / (double)(nr + npool - 1);
    double rho = (var / (K * pi0 * (1 - pi0)) - 1) / (K - 1);
    cr_assert(rho > 0, "the wider synthetic rows must give overdispersed counts");
    cr_expect_float_eq(r.overdispersion, rho, 1e-9);
    double beta = 1 / rho - 1;
    for (size_t i = 0; i < ns; i++) {
        double cs = (double)npool - (pool ? pool[i] : 1);
        double p0 = (double)nr / ((double)nr + cs);
        double pi = (c[i] + beta * p0) / (K + beta);
        double w = pi / (1 - pi) * cs / (double)nr;
        cr_expect_float_eq(r.ratio[i], w, 1e-5 * w, "row %zu: %g vs %g", i, r.ratio[i], w);
    }
    size_t kept = 0;
    for (size_t i = 0; i < ns; i++)
        kept += r.decision[i] == PANN_FILTER_KEEP;
    cr_expect_eq(kept, r.kept);
    cr_expect_eq(r.kept + r.excess, ns);
    free(c);
    free(pool);
    pann_filter_result_free(&r);
    pann_matrix_free(&R);
    pann_matrix_free(&S);
}

Test(filter_ratio, ratio_matches_brute_force)
{
    check_ratio(200, 150);
}

Test(filter_ratio, ratio_with_a_synthetic_sample_matches_brute_force)
{
    check_ratio(100, 400);
}

/* More synthetic rows than one search batch (65536): the rows on both
 * sides of the batch boundary against brute force. */
Test(filter_ratio, counts_across_search_batches)
{
    size_t nr = 3000, ns = 70000, K = 10;
    pann_matrix R = test_matrix(nr, 2, 41, 1.0, 0), S = test_matrix(ns, 2, 42, 1.4, 0);
    pann_metric m = { PANN_L1, 2, NULL };
    pann_filter_opts o;
    pann_filter_opts_init(&o);
    o.ratio_k = K;
    pann_filter_result r;
    pann_error err;
    cr_assert_eq(pann_filter_run(&R, &S, &m, &o, &r, &err), 0, "%s", err.msg);
    unsigned char *pool = malloc(ns);
    size_t npool = 0;
    for (size_t i = 0; i < ns; i++)
        npool += pool[i] = pann_uniform3(o.seed, PANN_RATIO_POOL_TAG, i)
                           < PANN_RATIO_POOL_FACTOR * (double)nr / (double)ns;
    double beta = r.shrink;
    cr_assert(isfinite(beta) && beta > 0);
    for (size_t i = 65530; i < 65542; i++) {
        double c = brute_count(&R, &S, pool, i, K);
        double cs = (double)npool - pool[i], p0 = (double)nr / ((double)nr + cs);
        double pi = (c + beta * p0) / (K + beta), w = pi / (1 - pi) * cs / (double)nr;
        cr_expect_float_eq(r.ratio[i], w, 1e-5 * w, "row %zu: %g vs %g", i, r.ratio[i], w);
    }
    free(pool);
    pann_filter_result_free(&r);
    pann_matrix_free(&R);
    pann_matrix_free(&S);
}

Test(filter_ratio, same_rows_for_any_thread_count)
{
    pann_matrix R = test_matrix(300, 4, 21, 1.0, 0), S = test_matrix(500, 4, 22, 1.3, 0);
    pann_metric m = { PANN_L1, 4, NULL };
    pann_filter_result r[2];
    pann_error err;
    for (int t = 0; t < 2; t++) {
        pann_filter_opts o;
        pann_filter_opts_init(&o);
        o.threads = t + 1;
        cr_assert_eq(pann_filter_run(&R, &S, &m, &o, &r[t], &err), 0, "%s", err.msg);
    }
    cr_expect_eq(memcmp(r[0].decision, r[1].decision, S.n), 0);
    cr_expect_eq(memcmp(r[0].ratio, r[1].ratio, S.n * sizeof *r[0].ratio), 0);
    for (int t = 0; t < 2; t++)
        pann_filter_result_free(&r[t]);
    pann_matrix_free(&R);
    pann_matrix_free(&S);
}

/* 400 real-like rows and a block of 100 from a far distribution: in the
 * real-like region w = p_r / p_s = 1 / 0.8, in the far block w = 0.  No far
 * row is kept; the real-like rows' mean ratio is near 1.25, and they are
 * kept at the rate their acceptance probabilities min(1, w/M) give (within
 * four binomial standard deviations). */
Test(filter_ratio, far_block_dropped_real_like_kept)
{
    pann_matrix R = test_matrix(400, 3, 31, 1.0, 0), S = test_matrix(500, 3, 32, 1.0, 0);
    for (size_t i = 400; i < 500; i++)
        for (size_t j = 0; j < 3; j++)
            S.v[i * 3 + j] += 8;
    pann_metric m = { PANN_L1, 3, NULL };
    pann_filter_opts o;
    pann_filter_opts_init(&o);
    pann_filter_result r;
    pann_error err;
    cr_assert_eq(pann_filter_run(&R, &S, &m, &o, &r, &err), 0, "%s", err.msg);
    size_t near = 0, far = 0;
    double mean_w = 0, expect = 0, var = 0;
    for (size_t i = 0; i < 500; i++) {
        if (r.decision[i] == PANN_FILTER_KEEP)
            *(i < 400 ? &near : &far) += 1;
        if (i < 400) {
            double p = fmin(1, r.ratio[i] / r.accept_constant);
            mean_w += r.ratio[i] / 400;
            expect += p;
            var += p * (1 - p);
        }
    }
    cr_expect_eq(far, 0, "far rows kept: %zu", far);
    cr_expect(mean_w > 1.1 && mean_w < 1.4, "mean real-like ratio %g (want about 1.25)", mean_w);
    cr_expect(fabs((double)near - expect) <= 4 * sqrt(var) + 1,
              "real-like rows kept: %zu, expected %g", near, expect);
    pann_filter_result_free(&r);
    pann_matrix_free(&R);
    pann_matrix_free(&S);
}

/* The holdout rule: near copy when closer to REAL than the q-quantile of
 * the holdout rows' NN distances, computed here by hand. */
Test(filter_ratio, holdout_threshold_by_hand)
{
    pann_matrix R, H, S;
    pann_error err;
    float rv[] = { 0, 10, 20, 30, 40 }, hv[] = { 1, 12, 25, 33, 41.5 },
          sv[] = { 0.5, 11.9, 22, 35, 18.05 };
    cr_assert_eq(pann_matrix_alloc(&R, 5, 1, &err), 0);
    cr_assert_eq(pann_matrix_alloc(&H, 5, 1, &err), 0);
    cr_assert_eq(pann_matrix_alloc(&S, 5, 1, &err), 0);
    memcpy(R.v, rv, sizeof rv);
    memcpy(H.v, hv, sizeof hv);
    memcpy(S.v, sv, sizeof sv);
    pann_metric m = { PANN_L1, 1, NULL };
    for (int sel = 0; sel < 2; sel++) {
        pann_filter_opts o;
        pann_filter_opts_init(&o);
        o.select = sel ? PANN_SELECT_DISTANCE : PANN_SELECT_RATIO;
        o.max_rule = PANN_MAX_DIST;
        o.max_value = 100;
        o.holdout = &H;
        o.min_rule = PANN_MIN_HOLDOUT_QUANTILE;
        o.min_value = 0.5;   /* distances 1, 2, 5, 3, 1.5: ceil(2.5) = 3rd = 2 */
        pann_filter_result r;
        cr_assert_eq(pann_filter_run(&R, &S, &m, &o, &r, &err), 0, "%s", err.msg);
        cr_expect_float_eq(r.min_dist, 2, 1e-6);
        cr_expect_float_eq(r.holdout_median, 2, 1e-6);
        cr_expect_eq(r.holdout_rows, 5);
        /* 0.5 and 11.9 are nearer than 2; 22 is at 2 exactly: not a copy;
         * 18.05 is at 1.95 */
        int want[] = { 1, 1, 0, 0, 1 };
        for (int i = 0; i < 5; i++)
            cr_expect_eq(r.decision[i] == PANN_FILTER_NEAR_COPY, want[i], "row %d", i);
        pann_filter_result_free(&r);
    }
    pann_matrix_free(&R);
    pann_matrix_free(&H);
    pann_matrix_free(&S);
}
