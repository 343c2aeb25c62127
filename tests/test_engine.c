/* test_engine.c — distances, random permutations, exact search, the PANN
 * engine and the estimator, each against an independent computation:
 * hand-computed values, a plain brute-force loop (testutil.h), counting. */
#include <criterion/criterion.h>
#include <string.h>
#include "testutil.h"
#include "internal.h"

static pann_metric metric_of(pann_metric_kind kind, size_t d, const unsigned char *cat)
{
    pann_metric m = { kind, d, cat };
    return m;
}

static void normalise_rows(pann_matrix *m)
{
    for (size_t i = 0; i < m->n; i++) {
        double s = 0;
        for (size_t j = 0; j < m->d; j++) s += (double)m->v[i * m->d + j] * m->v[i * m->d + j];
        for (size_t j = 0; j < m->d && s > 0; j++) m->v[i * m->d + j] /= (float)sqrt(s);
    }
}

Test(rng, permutation_is_a_bijection)
{
    const uint64_t sizes[] = { 1, 2, 3, 4, 5, 7, 16, 17, 100, 1000, 4097, 65537 };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint64_t m = sizes[s];
        unsigned char *seen = calloc(m, 1);
        pann_perm p;
        pann_perm_init(&p, m, 42, s);
        for (uint64_t i = 0; i < m; i++) {
            uint64_t x = pann_perm_at(&p, i);
            cr_assert_lt(x, m);
            cr_assert_eq(seen[x], 0, "m=%llu: %llu drawn twice", (unsigned long long)m,
                         (unsigned long long)x);
            seen[x] = 1;
        }
        free(seen);
    }
}

Test(rng, streams_differ_and_repeat)
{
    pann_perm a, b, a2;
    pann_perm_init(&a, 1000, 7, 1);
    pann_perm_init(&b, 1000, 7, 2);
    pann_perm_init(&a2, 1000, 7, 1);
    int same = 0;
    for (int i = 0; i < 100; i++) {
        same += pann_perm_at(&a, i) == pann_perm_at(&b, i);
        cr_assert_eq(pann_perm_at(&a, i), pann_perm_at(&a2, i));
    }
    cr_assert_lt(same, 10);
    double u = pann_uniform3(1, 2, 3);
    cr_assert(u >= 0 && u < 1);
}

Test(distance, hand_computed_values)
{
    float a[3] = { 1, 2, 3 }, b[3] = { 4, 0, 3 };
    pann_metric l1 = metric_of(PANN_L1, 3, NULL), l2 = metric_of(PANN_L2, 3, NULL);
    cr_assert_float_eq(pann_cmp(&l1, a, b), 5.0f, 1e-6);
    cr_assert_float_eq(pann_cmp_to_dist(&l2, pann_cmp(&l2, a, b)), sqrt(13.0), 1e-6);
    unsigned char cat[3] = { 0, 1, 0 };   /* column 2 is categorical: 2 != 0 -> 1 */
    pann_metric l1c = metric_of(PANN_L1, 3, cat), l2c = metric_of(PANN_L2, 3, cat);
    cr_assert_float_eq(pann_cmp(&l1c, a, b), 4.0f, 1e-6);
    cr_assert_float_eq(pann_cmp(&l2c, a, b), 10.0f, 1e-6);
    float u[2] = { 0.6f, 0.8f }, v[2] = { 1, 0 };
    pann_metric cs = metric_of(PANN_COSINE, 2, NULL);
    cr_assert_float_eq(pann_cmp(&cs, u, v), 0.4f, 1e-6);
}

Test(distance, block_kernel_matches_pair_kernel_bitwise)
{
    pann_matrix T = test_matrix(53, 7, 1, 1.0, 0), Q = test_matrix(5, 7, 2, 1.0, 0);
    unsigned char cat[7] = { 0, 0, 1, 0, 0, 0, 1 };
    pann_blocks b;
    cr_assert_eq(pann_blocks_build(&b, &T, NULL), 0);
    float out[5 * 4 * PANN_LANES];
    const float *queries[5];
    for (int q = 0; q < 5; q++) queries[q] = pann_row(&Q, q);
    for (int kind = 0; kind < 3; kind++) {
        pann_metric m = metric_of(kind, 7, kind == PANN_COSINE ? NULL : cat);
        pann_block_cmp(&m, &b, 0, 4, queries, 5, out);
        for (int q = 0; q < 5; q++)
            for (int i = 0; i < 4 * PANN_LANES; i++) {
                float got = out[q * 4 * PANN_LANES + i];
                if (i >= 53) { cr_assert(isinf(got)); continue; }
                float want = pann_cmp(&m, queries[q], pann_row(&T, i));
                cr_assert(memcmp(&got, &want, sizeof got) == 0, "kind %d q %d row %d", kind, q, i);
            }
    }
    pann_blocks_free(&b);
    pann_matrix_free(&T);
    pann_matrix_free(&Q);
}

Test(distance, float_kernel_close_to_double)
{
    pann_matrix A = test_matrix(20, 9, 3, 2.0, 0), B = test_matrix(20, 9, 4, 2.0, 0);
    for (int kind = 0; kind < 3; kind++) {
        pann_metric m = metric_of(kind, 9, NULL);
        for (size_t i = 0; i < 20; i++) {
            float c = pann_cmp(&m, pann_row(&A, i), pann_row(&B, i));
            if (kind == PANN_COSINE) continue;   /* needs unit rows; checked below */
            cr_assert_float_eq(pann_cmp_to_dist(&m, c),
                               test_dist_double(kind, pann_row(&A, i), pann_row(&B, i), 9), 1e-4);
        }
    }
    normalise_rows(&A);
    normalise_rows(&B);
    pann_metric cs = metric_of(PANN_COSINE, 9, NULL);
    for (size_t i = 0; i < 20; i++)
        cr_assert_float_eq(pann_cmp(&cs, pann_row(&A, i), pann_row(&B, i)),
                           test_dist_double(PANN_COSINE, pann_row(&A, i), pann_row(&B, i), 9), 1e-5);
    pann_matrix_free(&A);
    pann_matrix_free(&B);
}

/* Run exact or exhausted anytime search and compare with brute force. */
static int exact_method = PANN_EXACT_AUTO;
static const unsigned char *categorical_flags = NULL;

static void check_against_brute(const pann_matrix *S, const pann_matrix *T, pann_metric_kind kind,
                                pann_mode mode, bool self, bool use_eps, double eps,
                                bool anytime, int threads, double decay, double top)
{
    pann_metric m = metric_of(kind, S->d, kind == PANN_COSINE ? NULL : categorical_flags);
    pann_engine_opts o;
    pann_engine_opts_init(&o);
    o.mode = mode; o.self_exclude = self; o.use_eps = use_eps; o.eps = eps;
    o.threads = threads; o.decay = decay; o.top_fraction = top; o.seed = 99;
    o.max_iterations = 0;   /* anytime: until every candidate is tried */
    o.exact_method = exact_method;
    pann_result r;
    pann_error err = {0};
    int rc = anytime ? pann_match_anytime(S, T, &m, &o, &r, &err)
                     : pann_match_exact(S, T, &m, &o, &r, &err);
    cr_assert_eq(rc, 0, "%s", err.msg);
    uint32_t *nn = malloc(S->n * sizeof *nn);
    float *dist = malloc(S->n * sizeof *dist);
    test_brute(S, T, &m, mode, self, use_eps, eps, nn, dist);
    for (size_t k = 0; k < S->n; k++) {
        cr_assert_eq(r.nn[k], nn[k], "row %zu: %u vs brute %u (kind %d mode %d anytime %d)",
                     k, r.nn[k], nn[k], kind, mode, anytime);
        if (nn[k] != PANN_NONE)
            cr_assert(memcmp(&r.dist[k], &dist[k], sizeof(float)) == 0);
        cr_assert_eq(r.proven[k], 1);
    }
    cr_assert_eq(r.nproven, S->n);
    if (anytime)   /* each row drew each candidate exactly once */
        cr_assert_eq(r.steps, (uint64_t)S->n * T->n);
    free(nn);
    free(dist);
    pann_result_free(&r);
}

Test(exact, equals_brute_force_all_metrics_and_modes)
{
    pann_matrix S = test_matrix(77, 5, 10, 1.0, 4), T = test_matrix(150, 5, 11, 1.0, 4);
    for (int kind = 0; kind < 2; kind++)
        for (int mode = 0; mode < 2; mode++) {
            check_against_brute(&S, &T, kind, mode, false, false, 0, false, 2, 0, 0.5);
            check_against_brute(&T, &T, kind, mode, true, false, 0, false, 1, 0, 0.5);
        }
    check_against_brute(&S, &T, PANN_L1, PANN_MIN, false, true, 1.5, false, 2, 0, 0.5);
    normalise_rows(&S);
    normalise_rows(&T);
    check_against_brute(&S, &T, PANN_COSINE, PANN_MIN, false, false, 0, false, 2, 0, 0.5);
    pann_matrix_free(&S);
    pann_matrix_free(&T);
}

Test(engine, exhaustion_equals_brute_force)
{
    pann_matrix S = test_matrix(60, 4, 20, 1.0, 3), T = test_matrix(90, 4, 21, 1.0, 3);
    pann_matrix G = test_matrix(70, 3, 22, 1.0, 0);
    for (int mode = 0; mode < 2; mode++) {
        check_against_brute(&S, &T, PANN_L1, mode, false, false, 0, true, 2, 0, 0.5);
        check_against_brute(&G, &G, PANN_L2, mode, true, false, 0, true, 1, 0, 0.3);
    }
    /* a temperature changes the path, never the exhausted answer */
    check_against_brute(&S, &T, PANN_L1, PANN_MIN, false, false, 0, true, 2, 0.5, 0.5);
    check_against_brute(&S, &T, PANN_L1, PANN_MIN, false, false, 0, true, 2, -0.3, 1.0);
    check_against_brute(&S, &T, PANN_L1, PANN_MIN, false, true, 1.0, true, 2, 0, 0.5);
    pann_matrix_free(&S);
    pann_matrix_free(&T);
    pann_matrix_free(&G);
}

static pann_result run_engine(const pann_matrix *S, const pann_matrix *T, pann_metric *m,
                              pann_mode mode, double decay, uint64_t iters, int threads,
                              uint64_t every)
{
    pann_engine_opts o;
    pann_engine_opts_init(&o);
    o.mode = mode; o.decay = decay; o.max_iterations = iters; o.threads = threads;
    o.history_every = every; o.seed = 57; o.self_exclude = S == T;
    pann_result r;
    pann_error err = {0};
    cr_assert_eq(pann_match_anytime(S, T, m, &o, &r, &err), 0, "%s", err.msg);
    return r;
}

Test(engine, loss_never_rises_without_temperature)
{
    pann_matrix S = test_matrix(300, 3, 30, 1.0, 0), T = test_matrix(400, 3, 31, 1.0, 0);
    pann_metric m = metric_of(PANN_L1, 3, NULL);
    for (int mode = 0; mode < 2; mode++) {
        pann_result r = run_engine(&S, &T, &m, mode, 0.0, 30000, 2, 50);
        cr_assert_gt(r.nhistory, 100);
        cr_assert_eq(r.history[0].iteration, S.n);   /* after every row's first candidate */
        for (size_t i = 1; i < r.nhistory; i++) {
            const pann_history_rec *a = &r.history[i - 1], *b = &r.history[i];
            if (mode == PANN_MIN) cr_assert_leq(b->mean_current, a->mean_current + 1e-9);
            else cr_assert_geq(b->mean_current, a->mean_current - 1e-9);
            cr_assert_eq(b->mean_current, b->mean_best);   /* decay 0: current is best */
            cr_assert_geq(b->iteration, a->iteration);
        }
        cr_assert_eq(r.iterations, 30000);
        pann_result_free(&r);
    }
    /* with a negative temperature the current loss goes up and down but the
     * best never rises */
    pann_result r = run_engine(&S, &T, &m, PANN_MIN, -0.5, 30000, 2, 50);
    int rises = 0;
    for (size_t i = 1; i < r.nhistory; i++) {
        rises += r.history[i].mean_current > r.history[i - 1].mean_current;
        cr_assert_leq(r.history[i].mean_best, r.history[i - 1].mean_best + 1e-9);
        cr_assert_leq(r.history[i].mean_best, r.history[i].mean_current + 1e-9);
    }
    cr_assert_gt(rises, 0);
    pann_result_free(&r);
    pann_matrix_free(&S);
    pann_matrix_free(&T);
}

/* A table of 569 rows and 30 columns on scales from 1 to 1000, split in
 * halves: the history starts once every row holds a candidate (those draws
 * counted as proposals), never rises in min mode without temperature, and
 * its last line is the mean of the answers. */
Test(engine, history_never_rises_from_its_first_line)
{
    pann_matrix X = test_matrix(569, 30, 77, 1.0, 0);
    for (size_t i = 0; i < X.n; i++)
        for (size_t j = 0; j < X.d; j++)
            X.v[i * X.d + j] = X.v[i * X.d + j] * (float)pow(10.0, (double)(j % 4)) + 5.0f;
    pann_matrix S, T;
    cr_assert_eq(pann_matrix_alloc(&S, 285, 30, NULL), 0);
    cr_assert_eq(pann_matrix_alloc(&T, 284, 30, NULL), 0);
    memcpy(S.v, X.v, S.n * 30 * sizeof *S.v);
    memcpy(T.v, X.v + S.n * 30, T.n * 30 * sizeof *T.v);
    pann_metric m = metric_of(PANN_L1, 30, NULL);
    pann_result r = run_engine(&S, &T, &m, PANN_MIN, 0.0, 50 * S.n, 2, 143);
    cr_assert_eq(r.history[0].iteration, S.n);
    cr_assert_geq(r.history[0].step, S.n);
    cr_assert_eq(r.history[0].swaps, 0);
    for (size_t i = 1; i < r.nhistory; i++) {
        const pann_history_rec *a = &r.history[i - 1], *b = &r.history[i];
        cr_assert_leq(b->mean_current, a->mean_current, "line %zu: %.9g after %.9g",
                      i + 1, b->mean_current, a->mean_current);
        if (i + 1 < r.nhistory)   /* the last line is at the end of the budget */
            cr_assert_eq(b->iteration - a->iteration, 143);
    }
    const pann_history_rec *last = &r.history[r.nhistory - 1];
    cr_assert_eq(last->iteration, 50 * S.n);
    cr_assert_eq(last->step, r.steps);
    double sum = 0;
    for (size_t k = 0; k < S.n; k++) sum += r.dist[k];
    cr_assert_float_eq(last->mean_best, sum / S.n, 1e-4 * sum / S.n);
    pann_result one = run_engine(&S, &T, &m, PANN_MIN, 0.0, 50 * S.n, 1, 143);
    cr_assert_eq(one.nhistory, r.nhistory);
    cr_assert(memcmp(one.history, r.history, r.nhistory * sizeof *r.history) == 0);
    pann_result_free(&one);
    pann_result_free(&r);
    pann_matrix_free(&X);
    pann_matrix_free(&S);
    pann_matrix_free(&T);
}

Test(engine, same_seed_same_answer_whatever_the_threads)
{
    pann_matrix S = test_matrix(5000, 6, 40, 1.0, 0), T = test_matrix(3000, 6, 41, 1.0, 0);
    pann_metric m = metric_of(PANN_L1, 6, NULL);
    pann_result a = run_engine(&S, &T, &m, PANN_MIN, 0.2, 200000, 1, 1000);
    pann_result b = run_engine(&S, &T, &m, PANN_MIN, 0.2, 200000, 2, 1000);
    cr_assert(memcmp(a.nn, b.nn, S.n * sizeof *a.nn) == 0);
    cr_assert(memcmp(a.dist, b.dist, S.n * sizeof *a.dist) == 0);
    cr_assert_eq(a.nhistory, b.nhistory);
    cr_assert(memcmp(a.history, b.history, a.nhistory * sizeof *a.history) == 0);
    pann_result_free(&a);
    pann_result_free(&b);
    pann_matrix_free(&S);
    pann_matrix_free(&T);
}

/* The article's section 3 example: N = M = 200, 2-D Gaussian, covariance
 * 0.1 I, 10,000 iterations, K = N/2; our own points. */
Test(engine, article_example_and_estimator)
{
    double sd = sqrt(0.1);
    pann_matrix S = test_matrix(200, 2, 57, sd, 0), T = test_matrix(200, 2, 58, sd, 0);
    pann_metric m = metric_of(PANN_L1, 2, NULL);
    uint32_t nn[200];
    float dist[200];
    test_brute(&S, &T, &m, PANN_MIN, false, false, 0, nn, dist);
    double exact = 0;
    for (int k = 0; k < 200; k++) exact += dist[k];
    exact /= 200;
    cr_assert(exact > 0.04 && exact < 0.1, "exact mean %g", exact);

    pann_result r = run_engine(&S, &T, &m, PANN_MIN, 0.0, 10000, 2, 100);
    double first = r.history[0].mean_best, last = r.history[r.nhistory - 1].mean_best;
    cr_assert_lt(last, first / 2);
    cr_assert_geq(last, exact - 1e-9);      /* never below the exact mean */

    /* the fit of the convergence curve stays within the article's bounds */
    double t[200], y[200];
    size_t count = 0;
    for (size_t i = 5; i < r.nhistory; i++, count++) {
        t[count] = (double)r.history[i].iteration;
        y[count] = r.history[i].mean_current;
    }
    pann_fit fit;
    cr_assert_eq(pann_fit_power(t, y, count, PANN_MIN, &fit, NULL), 0);
    cr_assert(fit.c >= -1 && fit.c <= 0 && fit.a >= 0 && fit.b >= 0);

    /* the estimator's interval covers the exact mean for most seeds: count
     * coverage over 40 independent samples (95 % nominal) */
    int covered = 0;
    double sum_est = 0;
    pann_engine_opts o;
    pann_engine_opts_init(&o);
    for (int s = 0; s < 40; s++) {
        o.seed = 1000 + s;
        pann_estimate est;
        cr_assert_eq(pann_estimate_mean(&S, &T, &m, &o, &r, 30, &est, NULL), 0);
        covered += est.lo <= exact && exact <= est.hi;
        sum_est += est.mean;
        cr_assert_float_eq(est.work_fraction, 30.0 / 200.0, 1e-12);
    }
    cr_assert_geq(covered, 32, "interval covered the exact mean %d times of 40", covered);
    cr_assert_float_eq(sum_est / 40, exact, 0.05 * exact);
    pann_result_free(&r);
    pann_matrix_free(&S);
    pann_matrix_free(&T);
}

Test(engine, budget_and_top_fraction_are_honoured)
{
    pann_matrix S = test_matrix(100, 2, 60, 1.0, 0);
    pann_metric m = metric_of(PANN_L1, 2, NULL);
    pann_result r = run_engine(&S, &S, &m, PANN_MIN, 0.0, 1234, 2, 0);
    cr_assert_eq(r.iterations, 1234);
    cr_assert_eq(r.nhistory, 0);
    for (size_t k = 0; k < S.n; k++) cr_assert_neq(r.nn[k], k);   /* never itself */
    pann_result_free(&r);
    /* a budget below one pass still gives every row a neighbour */
    r = run_engine(&S, &S, &m, PANN_MIN, 0.0, 10, 1, 0);
    cr_assert_eq(r.iterations, 100);
    for (size_t k = 0; k < S.n; k++) cr_assert_neq(r.nn[k], PANN_NONE);
    pann_result_free(&r);
    pann_matrix_free(&S);
}

Test(engine, rejects_bad_input)
{
    pann_matrix S = test_matrix(10, 2, 70, 1.0, 0), T = test_matrix(10, 3, 71, 1.0, 0);
    pann_metric m = metric_of(PANN_L1, 2, NULL);
    pann_engine_opts o;
    pann_engine_opts_init(&o);
    pann_result r;
    pann_error err = {0};
    cr_assert_eq(pann_match_anytime(&S, &T, &m, &o, &r, &err), PANN_EINPUT);
    o.top_fraction = 1.5;
    cr_assert_eq(pann_match_anytime(&S, &S, &m, &o, &r, &err), PANN_EINPUT);
    cr_assert(strstr(err.msg, "top fraction") != NULL);
    pann_matrix_free(&S);
    pann_matrix_free(&T);
}

/* The tree search must give the brute force's answer, ties included: data
 * with few levels (many ties and duplicates) and continuous data. */
Test(exact, tree_search_equals_brute_force)
{
    exact_method = PANN_EXACT_TREE;
    pann_matrix S = test_matrix(700, 4, 80, 1.0, 5), T = test_matrix(3000, 4, 81, 1.0, 5);
    pann_matrix G = test_matrix(2500, 6, 82, 3.0, 0);
    for (int kind = 0; kind < 2; kind++)
        for (int mode = 0; mode < 2; mode++) {
            check_against_brute(&S, &T, kind, mode, false, false, 0, false, 2, 0, 0.5);
            check_against_brute(&G, &G, kind, mode, true, false, 0, false, 2, 0, 0.5);
        }
    check_against_brute(&S, &T, PANN_L1, PANN_MIN, false, true, 2.0, false, 2, 0, 0.5);
    unsigned char cat[4] = { 0, 1, 0, 1 };
    categorical_flags = cat;
    check_against_brute(&S, &T, PANN_L1, PANN_MIN, false, false, 0, false, 2, 0, 0.5);
    check_against_brute(&S, &T, PANN_L2, PANN_MAX, false, false, 0, false, 2, 0, 0.5);
    categorical_flags = NULL;
    normalise_rows(&G);
    check_against_brute(&G, &G, PANN_COSINE, PANN_MIN, true, false, 0, false, 2, 0, 0.5);
    check_against_brute(&G, &G, PANN_COSINE, PANN_MAX, true, false, 0, false, 2, 0, 0.5);
    exact_method = PANN_EXACT_AUTO;
    pann_matrix_free(&S);
    pann_matrix_free(&T);
    pann_matrix_free(&G);
}

/* Every kernel version the CPU has gives pann_cmp's values to the bit, and
 * passes exactly the values within the bounds. */
Test(distance, filter_kernels_match_pair_kernel)
{
    const char *names[] = { "generic", "avx2", "avx512" };
    pann_matrix T = test_matrix(301, 11, 90, 1.0, 0), Q = test_matrix(8, 11, 91, 1.0, 0);
    unsigned char cat[11] = { 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0 };
    pann_blocks b;
    cr_assert_eq(pann_blocks_build(&b, &T, NULL), 0);
    const float *queries[8];
    for (int q = 0; q < 8; q++) queries[q] = pann_row(&Q, q);
    pann_hit *hits = malloc(8 * b.nblocks * PANN_LANES * sizeof *hits);
    int tested = 0;
    for (int k = 0; k < 3; k++) {
        if (pann_kernel_select(names[k]) != 0)
            continue;
        tested++;
        for (int kind = 0; kind < 3; kind++)
            for (int mode = 0; mode < 4; mode++)   /* mode & 2: no categorical column */
                for (size_t nq = 1; nq <= 8; nq++) {
                    bool with_cat = mode < 2 && kind != PANN_COSINE;
                    pann_metric m = metric_of(kind, 11, with_cat ? cat : NULL);
                    float bound[8];
                    for (size_t q = 0; q < nq; q++)   /* a bound in the middle of the values */
                        bound[q] = pann_cmp(&m, queries[q], pann_row(&T, 7 * q));
                    size_t nh = pann_block_filter(&m, &b, 0, b.nblocks, queries, nq, bound,
                                                  (pann_mode)(mode & 1), hits);
                    size_t expected = 0;
                    for (size_t q = 0; q < nq; q++)
                        for (size_t i = 0; i < T.n; i++) {
                            float c = pann_cmp(&m, queries[q], pann_row(&T, i));
                            expected += (mode & 1) == PANN_MIN ? c <= bound[q] : c >= bound[q];
                        }
                    cr_assert_eq(nh, expected, "%s kind %d mode %d nq %zu", names[k], kind, mode, nq);
                    for (size_t h = 0; h < nh; h++) {
                        float want = pann_cmp(&m, queries[hits[h].query], pann_row(&T, hits[h].slot));
                        cr_assert(memcmp(&want, &hits[h].value, sizeof want) == 0, "%s", names[k]);
                    }
                }
    }
    cr_assert_geq(tested, 1);
    pann_kernel_select(NULL);
    free(hits);
    pann_blocks_free(&b);
    pann_matrix_free(&T);
    pann_matrix_free(&Q);
}

/* The tree strategy: without a budget it is exact; with one, every row it
 * calls proven equals brute force, and more leaves never lose a proof. */
Test(engine, tree_strategy_budget_and_proofs)
{
    pann_matrix S = test_matrix(3000, 3, 100, 1.0, 0), T = test_matrix(5000, 3, 101, 1.0, 0);
    pann_metric m = metric_of(PANN_L1, 3, NULL);
    pann_engine_opts o;
    pann_engine_opts_init(&o);
    uint32_t *nn = malloc(S.n * sizeof *nn);
    float *dist = malloc(S.n * sizeof *dist);
    test_brute(&S, &T, &m, PANN_MIN, false, false, 0, nn, dist);
    size_t previous_proven = 0;
    size_t budgets[] = { 1, 4, 16, 0 };
    for (int b = 0; b < 4; b++) {
        pann_result r;
        cr_assert_eq(pann_match_tree(&S, &T, &m, &o, budgets[b], &r, NULL), 0);
        size_t proven = 0, right = 0;
        for (size_t k = 0; k < S.n; k++) {
            right += r.nn[k] == nn[k];
            if (r.proven[k]) {
                proven++;
                cr_assert_eq(r.nn[k], nn[k], "row %zu proven but wrong", k);
            }
            cr_assert_geq(r.dist[k], dist[k]);
        }
        cr_assert_geq(proven, previous_proven);
        previous_proven = proven;
        if (budgets[b] == 0)
            cr_assert_eq(right, S.n);
        cr_assert_eq(r.nproven, proven);
        pann_result_free(&r);
    }
    cr_assert_eq(previous_proven, S.n);
    free(nn);
    free(dist);
    pann_matrix_free(&S);
    pann_matrix_free(&T);
}

/* Rows scaled to unit length, as the encoder does for cosine. */
static void unit_rows(pann_matrix *a)
{
    for (size_t i = 0; i < a->n; i++) {
        double norm = 0;
        for (size_t j = 0; j < a->d; j++)
            norm += (double)a->v[i * a->d + j] * a->v[i * a->d + j];
        for (size_t j = 0; j < a->d; j++)
            a->v[i * a->d + j] = (float)(a->v[i * a->d + j] / sqrt(norm));
    }
}

/* The budgeted tree search on a tree of many leaves, with each kernel (the
 * leaf bounds follow it) and each metric: the leaves within a radius of
 * each query's first answer find most exact neighbours with a few leaves
 * (64 leaves: the radius is 1/3 of that answer; 90 % right, as the former
 * ranking of the group's candidates did with 8), proven rows are exact, no
 * answer beats brute force, and a budget of every leaf proves every row. */
Test(engine, tree_budget_ranks_leaves_per_query)
{
    pann_metric_kind kinds[] = { PANN_L1, PANN_L2, PANN_COSINE };
    for (int kind = 0; kind < 3; kind++) {
        pann_matrix S = test_matrix(3000, 6, 102, 1.0, 0), T = test_matrix(20000, 6, 103, 1.0, 0);
        if (kinds[kind] == PANN_COSINE) {
            unit_rows(&S);
            unit_rows(&T);
        }
        pann_metric m = metric_of(kinds[kind], 6, NULL);
        pann_engine_opts o;
        pann_engine_opts_init(&o);
        uint32_t *nn = malloc(S.n * sizeof *nn);
        float *dist = malloc(S.n * sizeof *dist);
        test_brute(&S, &T, &m, PANN_MIN, false, false, 0, nn, dist);
        const char *kernels[] = { "generic", NULL };
        for (int k = 0; k < 2; k++) {
            cr_assert_eq(pann_kernel_select(kernels[k]), 0);
            size_t budgets[] = { 64, 20000 };
            for (int b = 0; b < 2; b++) {
                pann_result r;
                cr_assert_eq(pann_match_tree(&S, &T, &m, &o, budgets[b], &r, NULL), 0);
                size_t right = 0;
                for (size_t q = 0; q < S.n; q++) {
                    right += r.nn[q] == nn[q];
                    cr_assert(!r.proven[q] || r.nn[q] == nn[q], "metric %d: row %zu proven but wrong",
                              kind, q);
                    cr_assert_geq(r.dist[q], dist[q]);
                }
                if (b == 0) {
                    cr_assert_gt(right, S.n * 9 / 10, "metric %d: %zu of %zu exact with 64 leaves",
                                 kind, right, S.n);
                    cr_assert_lt(r.iterations, (uint64_t)S.n * T.n / 10);
                } else {
                    cr_assert_eq(r.nproven, S.n, "metric %d", kind);
                    cr_assert_eq(right, S.n, "metric %d", kind);
                }
                pann_result_free(&r);
            }
        }
        pann_kernel_select(NULL);
        free(nn);
        free(dist);
        pann_matrix_free(&S);
        pann_matrix_free(&T);
    }
}

/* A self-match on a budget offers every distance computed to both of its
 * rows, with the plain C kernel and the default one: the same
 * answers whatever the threads, proven rows exact, never better than brute
 * force, more exact rows than the same budget without the offers (the two
 * files holding the same rows), and every row proven with every leaf. */
Test(engine, tree_budget_self_match_offers_both_ways)
{
    pann_metric_kind kinds[] = { PANN_L1, PANN_L2 };
    for (int kind = 0; kind < 2; kind++) {
        pann_matrix S = test_matrix(20000, 6, 104, 1.0, 0);
        pann_metric m = metric_of(kinds[kind], 6, NULL);
        uint32_t *nn = malloc(S.n * sizeof *nn);
        float *dist = malloc(S.n * sizeof *dist);
        test_brute(&S, &S, &m, PANN_MIN, true, false, 0, nn, dist);
        const char *kernels[] = { "generic", NULL };
        for (int kn = 0; kn < 2; kn++) {
            cr_assert_eq(pann_kernel_select(kernels[kn]), 0);
            size_t budgets[] = { 4, 16, 20000 };
            for (int b = 0; b < 3; b++) {
                pann_result r[2];
                for (int t = 0; t < 2; t++) {
                    pann_engine_opts o;
                    pann_engine_opts_init(&o);
                    o.self_exclude = true;
                    o.threads = t + 1;
                    cr_assert_eq(pann_match_tree(&S, &S, &m, &o, budgets[b], &r[t], NULL), 0);
                }
                cr_assert(memcmp(r[0].nn, r[1].nn, S.n * sizeof *r[0].nn) == 0);
                cr_assert(memcmp(r[0].dist, r[1].dist, S.n * sizeof *r[0].dist) == 0);
                cr_assert(memcmp(r[0].proven, r[1].proven, S.n) == 0);
                size_t right = 0;
                for (size_t q = 0; q < S.n; q++) {
                    right += r[0].nn[q] == nn[q];
                    cr_assert_neq(r[0].nn[q], (uint32_t)q);
                    cr_assert(!r[0].proven[q] || r[0].nn[q] == nn[q], "row %zu proven but wrong", q);
                    cr_assert_geq(r[0].dist[q], dist[q]);
                }
                if (budgets[b] == 20000) {
                    cr_assert_eq(r[0].nproven, S.n);
                    cr_assert_eq(right, S.n);
                } else {
                    /* the same rows in another matrix: no offers */
                    pann_matrix T = test_matrix(20000, 6, 104, 1.0, 0);
                    pann_engine_opts o;
                    pann_engine_opts_init(&o);
                    o.self_exclude = true;
                    T.v[0] = nextafterf(T.v[0], INFINITY);     /* not the same matrix */
                    pann_result one;
                    cr_assert_eq(pann_match_tree(&S, &T, &m, &o, budgets[b], &one, NULL), 0);
                    size_t right_one = 0;
                    for (size_t q = 1; q < S.n; q++)
                        right_one += one.nn[q] == nn[q];
                    cr_assert_gt(right, right_one, "metric %d, %zu leaves: %zu vs %zu", kind,
                                 budgets[b], right, right_one);
                    pann_result_free(&one);
                    pann_matrix_free(&T);
                }
                pann_result_free(&r[0]);
                pann_result_free(&r[1]);
            }
        }
        pann_kernel_select(NULL);
        free(nn);
        free(dist);
        pann_matrix_free(&S);
    }
}

/* The self-match kernel of every instruction set the CPU has (AVX-512,
 * AVX2 with FMA) answers as the plain C one, to the bit: the offers and
 * hits may go in another order, never to another least. */
Test(engine, self_match_kernels_agree)
{
    const char *kernels[] = { "generic", "avx2", "avx512" };
    pann_matrix S = test_matrix(12000, 7, 105, 1.0, 0), ties = test_matrix(6000, 3, 106, 0, 4);
    const pann_matrix *data[2] = { &S, &ties };
    int tested = 0;
    for (int set = 0; set < 2; set++)
        for (int kind = 0; kind < 2; kind++) {
            pann_metric m = metric_of(kind == 0 ? PANN_L1 : PANN_L2, data[set]->d, NULL);
            pann_engine_opts o;
            pann_engine_opts_init(&o);
            o.self_exclude = true;
            pann_result plain = { 0 };
            for (int k = 0; k < 3; k++) {
                if (pann_kernel_select(kernels[k]) != 0)
                    continue;
                pann_result r;
                cr_assert_eq(pann_match_tree(data[set], data[set], &m, &o, 6, &r, NULL), 0);
                if (k == 0) {
                    plain = r;
                    continue;
                }
                tested++;
                cr_assert(memcmp(r.nn, plain.nn, r.n * sizeof *r.nn) == 0, "%s", kernels[k]);
                cr_assert(memcmp(r.dist, plain.dist, r.n * sizeof *r.dist) == 0, "%s",
                          kernels[k]);
                cr_assert(memcmp(r.proven, plain.proven, r.n) == 0, "%s", kernels[k]);
                pann_result_free(&r);
            }
            pann_result_free(&plain);
        }
    pann_kernel_select(NULL);
    cr_assert_geq(tested, 1);
    pann_matrix_free(&S);
    pann_matrix_free(&ties);
}

/* The graph strategy: its graph converges towards the exact K lists, its
 * answers are never below the exact distances, mostly equal to them, and
 * do not depend on the thread count. */
Test(engine, graph_strategy)
{
    pann_matrix T = test_matrix(3000, 3, 110, 1.0, 0), S = test_matrix(500, 3, 111, 1.0, 0);
    pann_metric m = metric_of(PANN_L1, 3, NULL);
    pann_engine_opts o;
    pann_engine_opts_init(&o);
    o.self_exclude = true;
    pann_knn_result exact_lists;
    cr_assert_eq(pann_knn_exact(&T, &T, &m, 8, &o, &exact_lists, NULL), 0);
    double previous = -1;
    for (size_t rounds = 0; rounds <= 8; rounds += 4) {
        pann_graph g;
        uint64_t evals;
        cr_assert_eq(pann_graph_build(&T, &m, 8, rounds, &o, &g, &evals, NULL), 0);
        size_t hits = 0;
        for (size_t u = 0; u < T.n; u++)
            for (size_t i = 0; i < g.filled[u]; i++) {
                cr_assert_neq(g.nn[u * 8 + i], u);
                for (size_t j = 0; j < 8; j++)
                    hits += g.nn[u * 8 + i] == exact_lists.nn[u * 8 + j];
            }
        double recall = (double)hits / (T.n * 8);
        cr_assert_gt(recall, previous, "rounds %zu: recall %g", rounds, recall);
        previous = recall;
        pann_graph_free(&g);
    }
    cr_assert_gt(previous, 0.9, "graph recall@8 after 8 rounds: %g", previous);
    pann_knn_result_free(&exact_lists);

    pann_graph g;
    uint64_t evals;
    o.self_exclude = false;
    cr_assert_eq(pann_graph_build(&T, &m, 8, 8, &o, &g, &evals, NULL), 0);
    uint32_t *nn = malloc(S.n * sizeof *nn);
    float *dist = malloc(S.n * sizeof *dist);
    test_brute(&S, &T, &m, PANN_MIN, false, false, 0, nn, dist);
    pann_result a, b;
    o.threads = 1;
    cr_assert_eq(pann_match_graph(&S, &T, &m, &o, &g, 16, &a, NULL), 0);
    o.threads = 2;
    cr_assert_eq(pann_match_graph(&S, &T, &m, &o, &g, 16, &b, NULL), 0);
    cr_assert(memcmp(a.nn, b.nn, S.n * sizeof *a.nn) == 0);
    size_t right = 0;
    for (size_t k = 0; k < S.n; k++) {
        cr_assert_geq(a.dist[k], dist[k]);
        right += a.nn[k] == nn[k];
    }
    cr_assert_gt(right, S.n * 95 / 100, "graph recall@1 %zu of %zu", right, S.n);
    pann_result_free(&a);
    pann_result_free(&b);
    pann_graph_free(&g);
    free(nn);
    free(dist);
    pann_matrix_free(&S);
    pann_matrix_free(&T);
}

/* A copy of a matrix, for the self variants that consume theirs. */
static pann_matrix matrix_copy(const pann_matrix *a)
{
    pann_matrix c;
    if (pann_matrix_alloc(&c, a->n, a->d, NULL) != 0)
        abort();
    memcpy(c.v, a->v, a->n * a->d * sizeof *c.v);
    return c;
}

static void expect_same_result(const pann_result *a, const pann_result *b, const char *what)
{
    cr_assert_eq(a->n, b->n, "%s", what);
    cr_assert_eq(a->nproven, b->nproven, "%s", what);
    cr_assert_eq(a->iterations, b->iterations, "%s", what);
    cr_assert(memcmp(a->nn, b->nn, a->n * sizeof *a->nn) == 0, "%s: neighbours differ", what);
    cr_assert(memcmp(a->dist, b->dist, a->n * sizeof *a->dist) == 0, "%s: distances differ", what);
    cr_assert(memcmp(a->proven, b->proven, a->n) == 0, "%s: proofs differ", what);
}

static void expect_same_lists(const pann_knn_result *a, const pann_knn_result *b, const char *what)
{
    size_t entries = a->n * a->k;
    cr_assert_eq(a->nproven, b->nproven, "%s", what);
    cr_assert(memcmp(a->nn, b->nn, entries * sizeof *a->nn) == 0, "%s: lists differ", what);
    cr_assert(memcmp(a->dist, b->dist, entries * sizeof *a->dist) == 0, "%s: distances differ",
              what);
    cr_assert(memcmp(a->proven, b->proven, a->n) == 0, "%s: proofs differ", what);
}

/* The consuming variants build the tree in T's own memory and, in a
 * self-match, read the queries back from the tree's blocks: they must
 * answer exactly as the variants that copy (ties, proofs and counts
 * included), consume the rows whatever happens, and the exact one must
 * equal the blocked brute force (no tree at all) on data large enough for
 * the layout to release pages. */
Test(exact, consuming_variants_answer_as_the_copying_ones)
{
    pann_matrix big = test_matrix(40000, 8, 110, 1.0, 0), ties = test_matrix(6000, 4, 111, 0, 5);
    pann_metric m8 = metric_of(PANN_L1, 8, NULL), m4 = metric_of(PANN_L2, 4, NULL);
    const pann_matrix *data[2] = { &big, &ties };
    const pann_metric *metric[2] = { &m8, &m4 };
    for (int set = 0; set < 2; set++)
        for (int threads = 1; threads <= 3; threads += 2) {
            pann_engine_opts o;
            pann_engine_opts_init(&o);
            o.self_exclude = true;
            o.threads = threads;
            pann_result want, got;
            pann_matrix own = matrix_copy(data[set]);
            cr_assert_eq(pann_match_exact(data[set], data[set], metric[set], &o, &want, NULL), 0);
            cr_assert_eq(pann_match_exact_consume(&own, &own, metric[set], &o, &got, NULL), 0);
            cr_assert_null(own.v);
            pann_matrix_free(&own);
            expect_same_result(&want, &got, "exact");
            if (set == 0 && threads == 1) {   /* and the brute force, which has no tree */
                pann_result brute;
                o.exact_method = PANN_EXACT_BRUTE;
                cr_assert_eq(pann_match_exact(&big, &big, &m8, &o, &brute, NULL), 0);
                o.exact_method = PANN_EXACT_AUTO;
                cr_assert(memcmp(brute.nn, got.nn, big.n * sizeof *got.nn) == 0);
                cr_assert(memcmp(brute.dist, got.dist, big.n * sizeof *got.dist) == 0);
                pann_result_free(&brute);
            }
            pann_result_free(&want);
            pann_result_free(&got);
            own = matrix_copy(data[set]);
            cr_assert_eq(pann_match_tree(data[set], data[set], metric[set], &o, 4, &want, NULL), 0);
            cr_assert_eq(pann_match_tree_consume(&own, &own, metric[set], &o, 4, &got, NULL), 0);
            cr_assert_null(own.v);
            pann_matrix_free(&own);
            cr_assert_lt(got.nproven, got.n);   /* the budget did cut some searches */
            expect_same_result(&want, &got, "tree, 4 leaves");
            pann_result_free(&want);
            pann_result_free(&got);
            size_t budgets[2] = { 0, 3 };
            for (int b = 0; b < 2; b++) {
                pann_knn_result lists_want, lists_got;
                own = matrix_copy(data[set]);
                int rc_want = b ? pann_knn_tree(data[set], data[set], metric[set], 6, budgets[b],
                                                &o, &lists_want, NULL)
                                : pann_knn_exact(data[set], data[set], metric[set], 6, &o,
                                                 &lists_want, NULL);
                int rc_got = b ? pann_knn_tree_consume(&own, &own, metric[set], 6, budgets[b], &o,
                                                       &lists_got, NULL)
                               : pann_knn_exact_consume(&own, &own, metric[set], 6, &o,
                                                        &lists_got, NULL);
                cr_assert_eq(rc_want, 0);
                cr_assert_eq(rc_got, 0);
                cr_assert_null(own.v);
            pann_matrix_free(&own);
                expect_same_lists(&lists_want, &lists_got, b ? "knn tree" : "knn exact");
                pann_knn_result_free(&lists_want);
                pann_knn_result_free(&lists_got);
            }
        }
    /* T consumed, S another matrix: the queries come from S as usual */
    pann_matrix queries = test_matrix(3000, 8, 113, 1.0, 0);
    for (int b = 0; b < 2; b++) {
        pann_engine_opts o;
        pann_engine_opts_init(&o);
        pann_result want, got;
        pann_matrix own = matrix_copy(&big);
        cr_assert_eq(b ? pann_match_tree(&queries, &big, &m8, &o, 4, &want, NULL)
                       : pann_match_exact(&queries, &big, &m8, &o, &want, NULL), 0);
        cr_assert_eq(b ? pann_match_tree_consume(&queries, &own, &m8, &o, 4, &got, NULL)
                       : pann_match_exact_consume(&queries, &own, &m8, &o, &got, NULL), 0);
        cr_assert_null(own.v);
        pann_matrix_free(&own);
        expect_same_result(&want, &got, b ? "tree, another S" : "exact, another S");
        pann_result_free(&want);
        pann_result_free(&got);
        pann_knn_result lists_want, lists_got;
        own = matrix_copy(&big);
        cr_assert_eq(pann_knn_exact(&queries, &big, &m8, 5, &o, &lists_want, NULL), 0);
        cr_assert_eq(pann_knn_exact_consume(&queries, &own, &m8, 5, &o, &lists_got, NULL), 0);
        cr_assert_null(own.v);
        pann_matrix_free(&own);
        expect_same_lists(&lists_want, &lists_got, "knn exact, another S");
        pann_knn_result_free(&lists_want);
        pann_knn_result_free(&lists_got);
    }
    pann_matrix_free(&queries);
    /* the rows are consumed on the paths without a tree and on errors too */
    pann_engine_opts o;
    pann_engine_opts_init(&o);
    o.self_exclude = true;
    o.exact_method = PANN_EXACT_BRUTE;
    pann_matrix own = matrix_copy(&ties);
    pann_result want, got;
    cr_assert_eq(pann_match_exact(&ties, &ties, &m4, &o, &want, NULL), 0);
    cr_assert_eq(pann_match_exact_consume(&own, &own, &m4, &o, &got, NULL), 0);
    cr_assert_null(own.v);
    pann_matrix_free(&own);
    expect_same_result(&want, &got, "brute force");
    pann_result_free(&want);
    pann_result_free(&got);
    pann_matrix zero = test_matrix(3000, 4, 112, 1.0, 0);
    memset(zero.v, 0, 4 * sizeof *zero.v);
    pann_metric cosine = metric_of(PANN_COSINE, 4, NULL);
    pann_error err = {0};
    cr_assert_eq(pann_match_tree_consume(&zero, &zero, &cosine, &o, 4, &got, &err), PANN_EINPUT);
    cr_assert_null(zero.v);
    cr_assert(strstr(err.msg, "non-zero norm") != NULL);
    pann_matrix_free(&zero);
    pann_matrix_free(&big);
    pann_matrix_free(&ties);
}

/* The result lines' number formatting equals printf's "%.7g" and "%zu":
 * on every 211th float from 1e-6 to 3e7 (the fast range 1e-4 to 1e7 and
 * either side of it), the floats just below and above each power of ten
 * and each rounding edge x.xxxxxx5, exact ties (half-integers that round to
 * even), and the special values. */
static void expect_as_printf(float v)
{
    char want[64], got[PANN_FLOAT_CHARS];
    snprintf(want, sizeof want, "%.7g", (double)v);
    size_t n = pann_format_float(got, v);
    cr_assert_str_eq(got, want, "%a", (double)v);
    cr_assert_eq(n, strlen(want));
}

Test(format, floats_as_printf_g7)
{
    uint32_t lo, hi;
    float from = 1e-6f, to = 3e7f;
    memcpy(&lo, &from, sizeof lo);
    memcpy(&hi, &to, sizeof hi);
    for (uint32_t bits = lo; bits < hi; bits += 211) {
        float v;
        memcpy(&v, &bits, sizeof v);
        expect_as_printf(v);
    }
    for (int e = -6; e <= 8; e++) {
        float p = (float)pow(10.0, e);
        expect_as_printf(p);
        expect_as_printf(nextafterf(p, 0));
        expect_as_printf(nextafterf(p, INFINITY));
        for (int k = 1; k < 10; k++) {   /* around k.5 in the 7th digit */
            float edge = (float)((1 + k * 0.1234567 + 5e-7) * pow(10.0, e));
            expect_as_printf(edge);
            expect_as_printf(nextafterf(edge, 0));
            expect_as_printf(nextafterf(edge, INFINITY));
        }
    }
    for (float t = 1000000.5f; t < 1000100.0f; t += 1.0f)   /* exact ties */
        expect_as_printf(t);
    const float special[] = { 0.0f, -0.0f, -1.5f, -1234.5678f, INFINITY, -INFINITY, NAN,
                              1e-45f, 3.4e38f, 9999999.5f, 9999999.0f, 0.0001f, 0.00009999f };
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        expect_as_printf(special[i]);
}

Test(format, indices_as_printf)
{
    const size_t values[] = { 0, 1, 9, 10, 99, 100, 12345, 4294967295u, 4294967296u, SIZE_MAX };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char want[32], got[32];
        snprintf(want, sizeof want, "%zu", values[i]);
        cr_assert_eq(pann_format_index(got, values[i]), strlen(want));
        cr_assert_str_eq(got, want);
    }
}
