/* test_exact.c — the exact searches (lib/exact*.c, lib/kdtree.c) and the
 * budgeted tree strategy against the brute force of testutil.h, ties
 * included; the consuming variants against the copying ones. */
#include "search_util.h"

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


/* The tree strategy: without a budget it is exact; with one, every row it
 * calls proven equals brute force, and more leaves never lose a proof. */
Test(tree, tree_strategy_budget_and_proofs)
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


/* The budgeted tree search on a tree of many leaves, with each kernel (the
 * leaf bounds follow it) and each metric: the leaves within a radius of
 * each query's first answer find most exact neighbours with a few leaves
 * (64 leaves: the radius is 1/3 of that answer; 90 % right, as the former
 * ranking of the group's candidates did with 8), proven rows are exact, no
 * answer beats brute force, and a budget of every leaf proves every row. */
Test(tree, tree_budget_ranks_leaves_per_query)
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
Test(tree, tree_budget_self_match_offers_both_ways)
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
Test(tree, self_match_kernels_agree)
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

