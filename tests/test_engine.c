/* test_engine.c — the article's anytime search (lib/engine.c) and the graph
 * strategy (lib/graph.c) against the brute force, the article's example and
 * its estimator, counting. */
#include "search_util.h"

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

