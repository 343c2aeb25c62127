/* test_knn.c — K-neighbour lists, vote and clustering (lib/knn.c) against
 * independent computations written here: a brute force that sorts every
 * (distance, row) pair of a query, a majority vote counted from it, and
 * connected components by repeated label propagation. */
#include <criterion/criterion.h>
#include "tmpdir.h"
#include <string.h>
#include <unistd.h>
#include "testutil.h"
#include "internal.h"

typedef struct pair {
    float c;
    uint32_t row;
} pair;

static int pair_order(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    if (x->c != y->c)
        return x->c < y->c ? -1 : 1;
    return x->row < y->row ? -1 : (x->row > y->row);
}

/* nn[q*k + j], cmp values: the K smallest (value, row) pairs, by sorting. */
static void brute_knn(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                      size_t k, bool self, uint32_t *nn, float *c)
{
    pair *all = malloc(T->n * sizeof *all);
    for (size_t q = 0; q < S->n; q++) {
        size_t cnt = 0;
        for (size_t j = 0; j < T->n; j++)
            if (!(self && j == q))
                all[cnt++] = (pair){ pann_cmp(m, pann_row(S, q), pann_row(T, j)), (uint32_t)j };
        qsort(all, cnt, sizeof *all, pair_order);
        for (size_t j = 0; j < k; j++) {
            nn[q * k + j] = all[j].row;
            c[q * k + j] = all[j].c;
        }
    }
    free(all);
}

static pann_engine_opts opts(bool self, int threads)
{
    pann_engine_opts o;
    pann_engine_opts_init(&o);
    o.self_exclude = self;
    o.threads = threads;
    return o;
}

static void expect_brute(const pann_knn_result *r, const pann_matrix *S, const pann_matrix *T,
                         const pann_metric *m, size_t k, bool self)
{
    uint32_t *nn = malloc(S->n * k * sizeof *nn);
    float *c = malloc(S->n * k * sizeof *c);
    brute_knn(S, T, m, k, self, nn, c);
    cr_assert_eq(r->n, S->n);
    cr_assert_eq(r->k, k);
    for (size_t at = 0; at < S->n * k; at++) {
        cr_assert_eq(r->nn[at], nn[at], "query %zu rank %zu: row %u, brute force %u",
                     at / k, at % k + 1, r->nn[at], nn[at]);
        cr_assert_eq(r->dist[at], (float)pann_cmp_to_dist(m, c[at]));
    }
    free(nn);
    free(c);
}

Test(knn_exact, equals_brute_force_with_ties)
{
    /* Values from 3 levels in 4 columns: many rows at equal distances and
     * duplicates, so the tie rule (the lower row) is exercised. */
    pann_matrix T = test_matrix(300, 4, 11, 0, 3), S = test_matrix(70, 4, 12, 0, 3);
    unsigned char cat[4] = { 0, 1, 0, 0 };
    const pann_metric metrics[] = { { PANN_L1, 4, NULL }, { PANN_L2, 4, NULL },
                                    { PANN_L1, 4, cat } };
    const size_t ks[] = { 1, 2, 5, 17, 100 };
    for (size_t mi = 0; mi < 3; mi++)
        for (size_t ki = 0; ki < 5; ki++)
            for (int threads = 1; threads <= 2; threads++) {
                pann_knn_result r;
                pann_engine_opts o = opts(false, threads);
                cr_assert_eq(pann_knn_exact(&S, &T, &metrics[mi], ks[ki], &o, &r, NULL), 0);
                expect_brute(&r, &S, &T, &metrics[mi], ks[ki], false);
                cr_assert_eq(r.nproven, S.n);
                pann_knn_result_free(&r);
                o = opts(true, threads);
                cr_assert_eq(pann_knn_exact(&T, &T, &metrics[mi], ks[ki], &o, &r, NULL), 0);
                expect_brute(&r, &T, &T, &metrics[mi], ks[ki], true);
                pann_knn_result_free(&r);
            }
    pann_matrix_free(&T);
    pann_matrix_free(&S);
}

/* pann_knn_exact_self_chunks: the queries fetched back from a copy of T,
 * the lists gathered into one result as they come, chunk by chunk. */
typedef struct chunk_run {
    const pann_matrix *T;
    pann_knn_result all;
    size_t next, chunks;
} chunk_run;

static int fetch_copy(void *ctx, size_t q0, size_t n, float *rows, pann_error *err)
{
    (void)err;
    const chunk_run *c = ctx;
    memcpy(rows, pann_row(c->T, q0), n * c->T->d * sizeof *rows);
    return 0;
}

static int gather(void *ctx, size_t q0, const pann_knn_result *r, pann_error *err)
{
    (void)err;
    chunk_run *c = ctx;
    cr_assert_eq(q0, c->next, "chunks come in order");
    size_t k = c->all.k;
    memcpy(c->all.nn + q0 * k, r->nn, r->n * k * sizeof *r->nn);
    memcpy(c->all.dist + q0 * k, r->dist, r->n * k * sizeof *r->dist);
    c->next += r->n;
    c->chunks++;
    return 0;
}

static void check_self_chunks(size_t n, size_t d, size_t levels, const pann_metric *m)
{
    pann_matrix T = test_matrix(n, d, 31, 1.0, levels);
    const size_t ks[] = { 1, 3, 10 }, chunks[] = { 1, 7, 1000, 100000 };
    for (size_t ki = 0; ki < 3; ki++)
        for (size_t ci = 0; ci < 4; ci++) {
            pann_matrix U = test_matrix(n, d, 31, 1.0, levels);   /* the index takes it */
            size_t k = ks[ki], chunk = chunks[ci];
            chunk_run c = { &T, { .n = n, .k = k, .nn = malloc(n * k * sizeof(uint32_t)),
                                  .dist = malloc(n * k * sizeof(float)) }, 0, 0 };
            pann_engine_opts o = opts(true, 1 + (int)(ci % 2));
            cr_assert_eq(pann_knn_exact_self_chunks(&U, m, k, &o, chunk, fetch_copy, gather,
                                                    &c, NULL), 0);
            cr_assert_null(U.v, "T's rows went to the index");
            cr_assert_eq(c.next, n);
            cr_assert_eq(c.chunks, (n + chunk - 1) / chunk);
            expect_brute(&c.all, &T, &T, m, k, true);
            pann_knn_result_free(&c.all);
            pann_matrix_free(&U);
        }
    pann_matrix_free(&T);
}

Test(knn_exact, self_match_in_chunks_equals_brute_force)
{
    /* 2,600 rows of 4 columns of 3 levels take the tree, with ties and
     * duplicates; 300 rows of 30 columns the blocked brute force. */
    unsigned char cat[4] = { 0, 1, 0, 0 };
    const pann_metric tree[] = { { PANN_L1, 4, NULL }, { PANN_L2, 4, NULL }, { PANN_L1, 4, cat } };
    for (size_t mi = 0; mi < 3; mi++)
        check_self_chunks(2600, 4, 3, &tree[mi]);
    pann_metric brute = { PANN_L1, 30, NULL };
    check_self_chunks(300, 30, 0, &brute);
}

Test(knn_exact, continuous_data_and_all_candidates)
{
    pann_matrix T = test_matrix(1100, 7, 21, 1.0, 0);   /* more than one tile */
    pann_metric m = { PANN_L1, 7, NULL };
    pann_engine_opts o = opts(true, 2);
    pann_knn_result r;
    cr_assert_eq(pann_knn_exact(&T, &T, &m, 10, &o, &r, NULL), 0);
    expect_brute(&r, &T, &T, &m, 10, true);
    pann_knn_result_free(&r);
    pann_matrix small = test_matrix(9, 2, 22, 1.0, 0);  /* K = every candidate */
    cr_assert_eq(pann_knn_exact(&small, &small, &m, 8, &o, &r, NULL), 1);  /* d mismatch */
    pann_metric m2 = { PANN_L1, 2, NULL };
    cr_assert_eq(pann_knn_exact(&small, &small, &m2, 8, &o, &r, NULL), 0);
    expect_brute(&r, &small, &small, &m2, 8, true);
    pann_knn_result_free(&r);
    pann_matrix_free(&small);
    pann_matrix_free(&T);
}

Test(knn_exact, k_out_of_range_is_an_error)
{
    pann_matrix T = test_matrix(10, 2, 1, 1.0, 0);
    pann_metric m = { PANN_L1, 2, NULL };
    pann_knn_result r;
    pann_error err;
    pann_engine_opts self = opts(true, 1), other = opts(false, 1);
    cr_assert_eq(pann_knn_exact(&T, &T, &m, 10, &self, &r, &err), PANN_EINPUT);
    cr_assert(strstr(err.msg, "only 9 candidate rows"), "%s", err.msg);
    cr_assert_eq(pann_knn_anytime(&T, &T, &m, 10, &self, &r, &err), PANN_EINPUT);
    cr_assert_eq(pann_knn_exact(&T, &T, &m, 11, &other, &r, &err), PANN_EINPUT);
    cr_assert_eq(pann_knn_exact(&T, &T, &m, 0, &other, &r, &err), PANN_EINPUT);
    cr_assert_eq(pann_knn_exact(&T, &T, &m, 10, &other, &r, &err), 0);
    pann_knn_result_free(&r);
    pann_matrix_free(&T);
}

Test(knn_anytime, exhausting_budget_equals_exact)
{
    pann_matrix T = test_matrix(257, 3, 31, 0, 4), S = test_matrix(40, 3, 32, 0, 4);
    pann_metric m = { PANN_L1, 3, NULL };
    const size_t ks[] = { 1, 3, 10 };
    for (size_t ki = 0; ki < 3; ki++) {
        pann_knn_result r;
        pann_engine_opts o = opts(true, 2);
        o.max_iterations = 0;                    /* until exhausted */
        cr_assert_eq(pann_knn_anytime(&T, &T, &m, ks[ki], &o, &r, NULL), 0);
        expect_brute(&r, &T, &T, &m, ks[ki], true);
        cr_assert_eq(r.nproven, T.n);
        cr_assert_eq(r.iterations, (uint64_t)T.n * (T.n - 1));
        pann_knn_result_free(&r);
        o = opts(false, 1);
        o.max_iterations = (uint64_t)S.n * T.n;  /* exactly enough */
        o.top_fraction = 0.3;
        cr_assert_eq(pann_knn_anytime(&S, &T, &m, ks[ki], &o, &r, NULL), 0);
        expect_brute(&r, &S, &T, &m, ks[ki], false);
        pann_knn_result_free(&r);
    }
    pann_matrix_free(&T);
    pann_matrix_free(&S);
}

/* A partial search: every list holds K distinct rows, never the query
 * itself, sorted, with the true distances; the same for 1 and 2 threads. */
Test(knn_anytime, partial_lists_are_valid_and_deterministic)
{
    pann_matrix T = test_matrix(3000, 5, 41, 1.0, 0);
    pann_metric m = { PANN_L1, 5, NULL };
    const size_t k = 6;
    pann_knn_result r1, r2;
    pann_engine_opts o = opts(true, 1);
    o.max_iterations = 40 * T.n;
    o.seed = 9;
    cr_assert_eq(pann_knn_anytime(&T, &T, &m, k, &o, &r1, NULL), 0);
    o.threads = 2;
    cr_assert_eq(pann_knn_anytime(&T, &T, &m, k, &o, &r2, NULL), 0);
    cr_assert_eq(memcmp(r1.nn, r2.nn, T.n * k * sizeof *r1.nn), 0);
    cr_assert_eq(memcmp(r1.dist, r2.dist, T.n * k * sizeof *r1.dist), 0);
    cr_assert_eq(r1.iterations, o.max_iterations);
    cr_assert_lt(r1.nproven, T.n);
    for (size_t q = 0; q < T.n; q++)
        for (size_t j = 0; j < k; j++) {
            uint32_t row = r1.nn[q * k + j];
            cr_assert_neq(row, q);
            cr_assert_lt(row, T.n);
            for (size_t i = 0; i < j; i++)
                cr_assert_neq(r1.nn[q * k + i], row);
            float c = pann_cmp(&m, pann_row(&T, q), pann_row(&T, row));
            cr_assert_eq(r1.dist[q * k + j], (float)c);
            if (j)
                cr_assert_leq(r1.dist[q * k + j - 1], r1.dist[q * k + j]);
        }
    /* A larger budget never makes the K-th distance worse on average. */
    pann_knn_result r3;
    o.max_iterations = 400 * T.n;
    cr_assert_eq(pann_knn_anytime(&T, &T, &m, k, &o, &r3, NULL), 0);
    double sum1 = 0, sum3 = 0;
    for (size_t q = 0; q < T.n; q++) {
        sum1 += r1.dist[q * k + k - 1];
        sum3 += r3.dist[q * k + k - 1];
        cr_assert_leq(r3.dist[q * k + k - 1], r1.dist[q * k + k - 1]);
    }
    cr_assert_lt(sum3, sum1);
    pann_knn_result_free(&r1);
    pann_knn_result_free(&r2);
    pann_knn_result_free(&r3);
    pann_matrix_free(&T);
}

/* ---- vote ---------------------------------------------------------------- */

/* The vote counted independently: per class, count (or weight) over the K
 * brute-force neighbours; the winner is the class with the most, ties to
 * the class whose nearest member comes first in the list. */
static uint32_t brute_vote(const uint32_t *nn, const float *dist, size_t k,
                           const uint32_t *cls, size_t ncls, bool weighted)
{
    double *w = calloc(ncls, sizeof *w);
    size_t *first = malloc(ncls * sizeof *first);
    for (size_t c = 0; c < ncls; c++)
        first[c] = SIZE_MAX;
    for (size_t j = 0; j < k; j++) {
        uint32_t c = cls[nn[j]];
        w[c] += weighted ? 1.0 / ((double)dist[j] + 1e-9) : 1.0;
        if (first[c] == SIZE_MAX)
            first[c] = j;
    }
    uint32_t best = 0;
    for (uint32_t c = 1; c < ncls; c++)
        if (w[c] > w[best] || (w[c] == w[best] && first[c] < first[best]))
            best = c;
    free(w);
    free(first);
    return best;
}

static void check_loo(size_t k, bool weighted)
{
    /* Integer features: many tied votes and tied distances. */
    pann_matrix T = test_matrix(400, 3, 51, 0, 4);
    pann_metric m = { PANN_L1, 3, NULL };
    const size_t ncls = 3;
    uint32_t *cls = malloc(T.n * sizeof *cls);
    for (size_t i = 0; i < T.n; i++)          /* class mostly from column 0 */
        cls[i] = (uint32_t)((size_t)T.v[i * 3] + (i % 7 == 0)) % ncls;
    pann_knn_result r;
    pann_engine_opts o = opts(true, 2);
    cr_assert_eq(pann_knn_exact(&T, &T, &m, k, &o, &r, NULL), 0);
    uint32_t *pred = malloc(T.n * sizeof *pred);
    cr_assert_eq(pann_knn_vote(&r, cls, weighted, pred, NULL), 0);
    uint32_t *nn = malloc(T.n * k * sizeof *nn);
    float *c = malloc(T.n * k * sizeof *c), *dist = malloc(T.n * k * sizeof *dist);
    brute_knn(&T, &T, &m, k, true, nn, c);
    size_t correct = 0, brute_correct = 0;
    for (size_t at = 0; at < T.n * k; at++)
        dist[at] = (float)pann_cmp_to_dist(&m, c[at]);
    for (size_t q = 0; q < T.n; q++) {
        uint32_t want = brute_vote(nn + q * k, dist + q * k, k, cls, ncls, weighted);
        cr_assert_eq(pred[q], want, "row %zu: %u, brute force %u", q, pred[q], want);
        correct += pred[q] == cls[q];
        brute_correct += want == cls[q];
    }
    uint64_t *counts;
    size_t scored, right;
    cr_assert_eq(pann_knn_confusion(pred, cls, T.n, ncls, &counts, &scored, &right, NULL), 0);
    cr_assert_eq(scored, T.n);
    cr_assert_eq(right, brute_correct);            /* leave-one-out accuracy */
    cr_assert_eq(counts[0] + counts[4] + counts[8], correct);
    cr_assert_gt(right, T.n / 2, "the features carry the class: %zu of %zu", right, T.n);
    free(counts);
    free(nn);
    free(c);
    free(dist);
    free(pred);
    free(cls);
    pann_knn_result_free(&r);
    pann_matrix_free(&T);
}

Test(knn_vote, leave_one_out_equals_brute_force) { check_loo(1, false); check_loo(4, false); check_loo(9, false); }
Test(knn_vote, distance_weights_equal_brute_force) { check_loo(4, true); check_loo(10, true); }

Test(knn_vote, ties_go_to_the_nearest_class)
{
    /* Hand-built lists: K = 4, classes of the neighbours b a a b -> tie 2:2,
     * b holds rank 1; weights 1/d favour a when it is nearer on the whole. */
    uint32_t nn[4] = { 0, 1, 2, 3 }, cls[4] = { 1, 0, 0, 1 }, pred;
    float dist[4] = { 1.0f, 1.0f, 1.0f, 2.0f };
    unsigned char proven = 1;
    pann_knn_result r = { .n = 1, .k = 4, .nn = nn, .dist = dist, .proven = &proven };
    cr_assert_eq(pann_knn_vote(&r, cls, false, &pred, NULL), 0);
    cr_assert_eq(pred, 1);
    cr_assert_eq(pann_knn_vote(&r, cls, true, &pred, NULL), 0);
    cr_assert_eq(pred, 0);                  /* 1 + 1 against 1 + 1/2 */
}

/* ---- clustering ------------------------------------------------------------ */

/* Components by label propagation: every row takes the smallest label of
 * its neighbours until nothing changes; labels are then lowest rows. */
static void brute_components(const uint32_t *nn, size_t n, size_t k, bool mutual,
                             uint32_t *label)
{
    for (size_t i = 0; i < n; i++)
        label[i] = (uint32_t)i;
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < k; j++) {
                uint32_t b = nn[i * k + j];
                bool back = false;
                for (size_t t = 0; t < k; t++)
                    back |= nn[(size_t)b * k + t] == i;
                if (mutual && !back)
                    continue;
                uint32_t low = label[i] < label[b] ? label[i] : label[b];
                if (label[i] != low || label[b] != low) {
                    label[i] = label[b] = low;
                    changed = true;
                }
            }
    }
}

static void check_components(const pann_matrix *T, size_t k, bool mutual)
{
    pann_metric m = { PANN_L1, T->d, NULL };
    pann_knn_result r;
    pann_engine_opts o = opts(true, 2);
    cr_assert_eq(pann_knn_exact(T, T, &m, k, &o, &r, NULL), 0);
    uint32_t *cl = malloc(T->n * sizeof *cl), *label = malloc(T->n * sizeof *label);
    size_t ncl;
    cr_assert_eq(pann_knn_cluster(&r, mutual, cl, &ncl, NULL), 0);
    brute_components(r.nn, T->n, k, mutual, label);
    /* Same partition, clusters numbered 0, 1, ... in order of their lowest row. */
    size_t next = 0;
    for (size_t i = 0; i < T->n; i++) {
        if (label[i] == i)
            cr_assert_eq(cl[i], next++, "row %zu starts cluster %zu", i, next - 1);
        else
            cr_assert_eq(cl[i], cl[label[i]]);
    }
    cr_assert_eq(ncl, next);
    free(cl);
    free(label);
    pann_knn_result_free(&r);
}

Test(knn_cluster, components_equal_label_propagation)
{
    pann_matrix T = test_matrix(500, 2, 61, 1.0, 0);
    check_components(&T, 1, false);
    check_components(&T, 2, false);
    check_components(&T, 2, true);
    check_components(&T, 5, true);
    pann_matrix_free(&T);
}

Test(knn_cluster, recovers_well_separated_blobs)
{
    /* Four blobs of 150 rows, centres 100 apart, sd 1, rows interleaved. */
    const size_t nblob = 4, per = 150;
    pann_matrix T = test_matrix(nblob * per, 3, 71, 1.0, 0);
    for (size_t i = 0; i < T.n; i++)
        T.v[i * 3 + (i % nblob) % 3] += 100.0f * (float)(1 + i % nblob);
    pann_metric m = { PANN_L1, 3, NULL };
    pann_knn_result r;
    pann_engine_opts o = opts(true, 2);
    cr_assert_eq(pann_knn_exact(&T, &T, &m, 10, &o, &r, NULL), 0);
    uint32_t *cl = malloc(T.n * sizeof *cl);
    size_t ncl;
    /* The default graph (an edge when either row lists the other): exactly
     * the blobs, numbered by their first rows 0, 1, 2, 3. */
    cr_assert_eq(pann_knn_cluster(&r, false, cl, &ncl, NULL), 0);
    cr_assert_eq(ncl, nblob, "%zu clusters", ncl);
    for (size_t i = 0; i < T.n; i++)
        cr_assert_eq(cl[i], i % nblob);
    /* The mutual graph splits off rows no neighbour lists back, but never
     * joins two blobs: each cluster lies inside one blob. */
    cr_assert_eq(pann_knn_cluster(&r, true, cl, &ncl, NULL), 0);
    cr_assert_geq(ncl, nblob);
    uint32_t *blob_of = malloc(ncl * sizeof *blob_of);
    for (size_t c = 0; c < ncl; c++)
        blob_of[c] = UINT32_MAX;
    for (size_t i = 0; i < T.n; i++) {
        if (blob_of[cl[i]] == UINT32_MAX)
            blob_of[cl[i]] = (uint32_t)(i % nblob);
        cr_assert_eq(blob_of[cl[i]], i % nblob, "row %zu joins two blobs", i);
    }
    free(blob_of);
    free(cl);
    pann_knn_result_free(&r);
    pann_matrix_free(&T);
}

/* ---- the label column ------------------------------------------------------ */

static pann_table table_of(const char *text)
{
    char path[TEST_PATH_MAX];
    test_tmp_path(path, "test_knn.XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    pann_table t;
    pann_read_opts ro;
    pann_read_opts_init(&ro);
    cr_assert_eq(pann_table_read(&t, path, &ro, NULL), 0);
    unlink(path);
    return t;
}

Test(knn_label, label_column_leaves_the_distance)
{
    pann_table t = table_of("x,class,y,z\n1,a,2,3\n4,b,5,6\n");
    size_t col;
    char *list;
    pann_error err;
    cr_assert_eq(pann_knn_feature_columns(&t, NULL, "class", &col, &list, &err), 0);
    cr_assert_eq(col, 1);
    cr_assert_str_eq(list, "x,y,z");
    free(list);
    cr_assert_eq(pann_knn_feature_columns(&t, "3-4", "2", &col, &list, &err), 0);
    cr_assert_str_eq(list, "y,z");
    free(list);
    cr_assert_eq(pann_knn_feature_columns(&t, "x,class", "class", &col, &list, &err), 1);
    cr_assert(strstr(err.msg, "includes the label column 'class'"), "%s", err.msg);
    cr_assert_eq(pann_knn_feature_columns(&t, NULL, "nope", &col, &list, &err), 1);
    cr_assert_eq(pann_knn_feature_columns(&t, NULL, "x-y", &col, &list, &err), 1);
    pann_table q = table_of("z,y,x\n1,2,3\n");
    cr_assert_eq(pann_knn_query_label(&t, 1, &q), SIZE_MAX);
    pann_table q2 = table_of("class,z,y,x\nb,1,2,3\n");
    cr_assert_eq(pann_knn_query_label(&t, 1, &q2), 0);
    pann_table_free(&t);
    pann_table_free(&q);
    pann_table_free(&q2);
}
