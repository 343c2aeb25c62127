/* test_gemm.c — the matrix-product kernel of the brute force
 * (lib/kernels_gemm.c): every micro-kernel's values are pann_cmp's bit for
 * bit (query counts that leave remainders, odd block counts, more columns
 * than one chunk), pann_gemm_filter passes exactly the values within the
 * bounds, and the exact search through it finds the rows of an independent
 * brute force (ties to the lower row, self excluded, nearest and farthest),
 * at distances a double computation confirms, whatever the kernel and the
 * thread count.  Blocks built from the reference's own rows, which give
 * their pages back as they go, hold the same values as the copy, and the
 * searches that consume the reference answer as the brute force. */
#include <criterion/criterion.h>
#include <string.h>
#include "testutil.h"
#include "kernels.h"
#include "pann_knn.h"

static const char *const kernels[3] = { "generic", "avx2", "avx512" };

static pann_metric metric_of(pann_metric_kind kind, size_t d)
{
    return (pann_metric){ .kind = kind, .d = d };
}

/* The rows of `levels`-valued small integers (ties everywhere) or
 * Gaussian values, unit rows for cosine. */
static pann_matrix rows_for(pann_metric_kind kind, size_t n, size_t d, unsigned long seed,
                            int levels)
{
    pann_matrix x = test_matrix(n, d, seed, 1.0, levels);
    if (kind == PANN_COSINE)
        pann_normalise_rows(&x);
    return x;
}

Test(gemm, values_are_pann_cmp_bit_for_bit)
{
    const size_t dims[3] = { 33, 256, 300 };   /* 300: two chunks of columns */
    int tested = 0;
    for (int k = 0; k < 3; k++) {
        if (pann_kernel_select(kernels[k]) != 0)
            continue;
        tested++;
        for (int di = 0; di < 3; di++) {
            size_t d = dims[di];
            pann_matrix T = test_matrix(5 * PANN_LANES - 3, d, 10 + di, 1.0, 0);
            pann_matrix Q = test_matrix(GEMM_MAX_QUERIES, d, 20 + di, 1.0, 0);
            pann_blocks b;
            cr_assert_eq(pann_blocks_build(&b, &T, NULL), 0);
            const float *queries[GEMM_MAX_QUERIES];
            for (size_t q = 0; q < Q.n; q++)
                queries[q] = pann_row(&Q, q);
            float *out = malloc(GEMM_MAX_QUERIES * b.nblocks * PANN_LANES * sizeof *out);
            pann_metric_kind kinds[2] = { PANN_COSINE, PANN_L2 };
            const size_t counts[5] = { 1, 5, 13, 25, GEMM_MAX_QUERIES };
            for (int ki = 0; ki < 2; ki++)
                for (int ci = 0; ci < 5; ci++) {
                    size_t nq = counts[ci], stride = b.nblocks * PANN_LANES;
                    pann_metric m = metric_of(kinds[ki], d);
                    pann_kernels()->gemm(b.v, b.nblocks, d, kinds[ki], queries, nq, out);
                    for (size_t q = 0; q < nq; q++)
                        for (size_t i = 0; i < T.n; i++) {
                            float want = pann_cmp(&m, queries[q], pann_row(&T, i));
                            float got = out[q * stride + i];
                            if (kinds[ki] == PANN_COSINE)
                                got = 1.0f - got;
                            cr_assert(memcmp(&want, &got, sizeof want) == 0,
                                      "%s d %zu kind %d nq %zu: query %zu row %zu: %.9g, "
                                      "pann_cmp %.9g", kernels[k], d, kinds[ki], nq, q, i,
                                      got, want);
                        }
                }
            free(out);
            pann_blocks_free(&b);
            pann_matrix_free(&T);
            pann_matrix_free(&Q);
        }
    }
    cr_assert_geq(tested, 1);
    pann_kernel_select(NULL);
}

Test(gemm, filter_passes_exactly_the_values_within_bounds)
{
    size_t d = 40, nq = 17;
    pann_matrix T = rows_for(PANN_COSINE, 3 * PANN_LANES + 5, d, 30, 0);
    pann_matrix Q = rows_for(PANN_COSINE, nq, d, 31, 0);
    pann_blocks b;
    cr_assert_eq(pann_blocks_build(&b, &T, NULL), 0);
    const float *queries[17];
    for (size_t q = 0; q < nq; q++)
        queries[q] = pann_row(&Q, q);
    size_t cap = nq * b.nblocks * PANN_LANES;
    float *values = malloc(cap * sizeof *values);
    pann_hit *hits = malloc(cap * sizeof *hits);
    for (int mode = 0; mode < 2; mode++) {
        pann_metric m = metric_of(PANN_COSINE, d);
        float bound[17];
        for (size_t q = 0; q < nq; q++)   /* a bound in the middle of the values */
            bound[q] = pann_cmp(&m, queries[q], pann_row(&T, 3 * q));
        size_t nh = pann_gemm_filter(&m, &b, 0, b.nblocks, queries, nq, bound,
                                     (pann_mode)mode, values, hits);
        size_t expected = 0, h = 0;
        for (size_t q = 0; q < nq; q++)
            for (size_t i = 0; i < T.n; i++) {
                float c = pann_cmp(&m, queries[q], pann_row(&T, i));
                if (mode == PANN_MIN ? c > bound[q] : c < bound[q])
                    continue;
                expected++;
                cr_assert_lt(h, nh);
                cr_assert_eq(hits[h].query, q);
                cr_assert_eq(hits[h].slot, i);
                cr_assert(memcmp(&hits[h].value, &c, sizeof c) == 0);
                h++;
            }
        cr_assert_eq(nh, expected, "mode %d", mode);
    }
    free(values);
    free(hits);
    pann_blocks_free(&b);
    pann_matrix_free(&T);
    pann_matrix_free(&Q);
}

static void exact(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                  pann_mode mode, bool self, int threads, pann_result *r)
{
    pann_engine_opts o;
    pann_engine_opts_init(&o);
    o.mode = mode;
    o.self_exclude = self;
    o.threads = threads;
    o.exact_method = PANN_EXACT_BRUTE;
    pann_error err = {0};
    cr_assert_eq(pann_match_exact(S, T, m, &o, r, &err), 0, "%s", err.msg);
}

/* The exact search against testutil.h's brute force, with every kernel and
 * one or two threads; the answers of all runs identical. */
static void expect_brute(const pann_matrix *S, const pann_matrix *T, pann_metric_kind kind,
                         pann_mode mode, bool self)
{
    pann_metric m = metric_of(kind, T->d);
    cr_assert(pann_gemm_suits(&m));
    uint32_t *nn = malloc(S->n * sizeof *nn);
    float *dist = malloc(S->n * sizeof *dist);
    test_brute(S, T, &m, mode, self, false, 0, nn, dist);
    pann_result first = {0};
    int runs = 0;
    for (int k = 0; k < 3; k++) {
        if (pann_kernel_select(kernels[k]) != 0)
            continue;
        for (int threads = 1; threads <= 2; threads++) {
            pann_result r;
            exact(S, T, &m, mode, self, threads, &r);
            for (size_t q = 0; q < S->n; q++) {
                cr_assert_eq(r.nn[q], nn[q], "%s -j%d kind %d mode %d self %d: row %zu: %u, "
                             "brute force %u", kernels[k], threads, kind, mode, self, q,
                             r.nn[q], nn[q]);
                double want = test_dist_double(kind, pann_row(S, q), pann_row(T, nn[q]), T->d);
                cr_assert_float_eq(r.dist[q], want, 1e-4, "row %zu", q);
                cr_assert(r.proven[q]);
            }
            if (runs++ == 0) {
                first = r;
                continue;
            }
            cr_assert(memcmp(r.nn, first.nn, S->n * sizeof *r.nn) == 0);
            cr_assert(memcmp(r.dist, first.dist, S->n * sizeof *r.dist) == 0);
            pann_result_free(&r);
        }
    }
    cr_assert_geq(runs, 2);
    pann_result_free(&first);
    pann_kernel_select(NULL);
    free(nn);
    free(dist);
}

Test(gemm, exact_search_is_brute_force_with_ties)
{
    pann_metric_kind kinds[2] = { PANN_COSINE, PANN_L2 };
    for (int k = 0; k < 2; k++) {
        /* three levels in 40 columns: many equal distances, duplicate rows
         * once the queries are copies of reference rows */
        pann_matrix T = rows_for(kinds[k], 1500, 40, 40 + k, 3);
        pann_matrix S = rows_for(kinds[k], 230, 40, 50 + k, 3);
        memcpy(S.v, T.v + 77 * 40, 40 * sizeof *S.v);   /* a query equal to row 77 */
        memcpy(T.v + 900 * 40, T.v + 77 * 40, 40 * sizeof *T.v);   /* tie: 77 wins */
        for (int mode = 0; mode < 2; mode++)
            expect_brute(&S, &T, kinds[k], (pann_mode)mode, false);
        expect_brute(&T, &T, kinds[k], PANN_MIN, true);
        pann_matrix_free(&S);
        pann_matrix_free(&T);
    }
}

Test(gemm, exact_search_is_brute_force_on_gaussian_rows)
{
    pann_matrix T = rows_for(PANN_COSINE, 1000, 290, 60, 0);   /* 290: two chunks */
    pann_matrix S = rows_for(PANN_COSINE, 200, 290, 61, 0);
    expect_brute(&S, &T, PANN_COSINE, PANN_MIN, false);
    expect_brute(&T, &T, PANN_COSINE, PANN_MIN, true);
    pann_matrix_free(&S);
    pann_matrix_free(&T);
}

static pann_matrix matrix_copy(const pann_matrix *a)
{
    pann_matrix c;
    cr_assert_eq(pann_matrix_alloc(&c, a->n, a->d, NULL), 0);
    memcpy(c.v, a->v, a->n * a->d * sizeof *c.v);
    return c;
}

/* 20,003 rows of 64 columns: 5 MB, so pages are given back several times
 * over, and a last block with three rows. */
Test(gemm, consumed_blocks_hold_the_copied_values)
{
    pann_matrix T = rows_for(PANN_COSINE, 20003, 64, 70, 0), own = matrix_copy(&T);
    pann_blocks want, got;
    cr_assert_eq(pann_blocks_build(&want, &T, NULL), 0);
    cr_assert_eq(pann_blocks_consume(&got, &own, NULL), 0);
    cr_assert_null(own.v);
    cr_assert_eq(got.n, T.n);
    cr_assert_eq(got.d, T.d);
    cr_assert_eq(got.nblocks, (T.n + PANN_LANES - 1) / PANN_LANES);
    cr_assert(memcmp(got.v, want.v, got.nblocks * T.d * PANN_LANES * sizeof *got.v) == 0);
    for (size_t i = 0; i < T.n; i += 997)   /* the layout itself: row i, column j */
        for (size_t j = 0; j < T.d; j++)
            cr_assert_eq(got.v[(i / PANN_LANES * T.d + j) * PANN_LANES + i % PANN_LANES],
                         T.v[i * T.d + j]);
    pann_blocks_free(&want);
    pann_blocks_free(&got);
    pann_matrix_free(&own);
    pann_matrix_free(&T);
}

/* The first n rows of a. */
static pann_matrix matrix_head(const pann_matrix *a, size_t n)
{
    pann_matrix c;
    cr_assert_eq(pann_matrix_alloc(&c, n, a->d, NULL), 0);
    memcpy(c.v, a->v, n * a->d * sizeof *c.v);
    return c;
}

/* The searches that consume T, with another S and with S = T (5,003
 * rows, 1.3 MB: the queries read back from the blocks built from T's own
 * rows), against testutil.h's brute force on the first rows; T's rows are
 * gone afterwards either way. */
Test(gemm, consuming_searches_are_brute_force)
{
    pann_matrix S = rows_for(PANN_COSINE, 300, 64, 72, 0);
    for (int self = 0; self < 2; self++) {
        pann_matrix T = rows_for(PANN_COSINE, self ? 5003 : 20003, 64, 71, 0);
        pann_matrix Q = self ? matrix_head(&T, 300) : matrix_copy(&S);
        pann_metric m = metric_of(PANN_COSINE, T.d);
        uint32_t *nn = malloc(Q.n * sizeof *nn);
        float *dist = malloc(Q.n * sizeof *dist);
        test_brute(&Q, &T, &m, PANN_MIN, self, false, 0, nn, dist);
        pann_engine_opts o;
        pann_engine_opts_init(&o);
        o.self_exclude = self;
        o.threads = 2;
        pann_matrix own = matrix_copy(&T);
        pann_result r;
        pann_error err = {0};
        cr_assert_eq(pann_match_exact_consume(self ? &own : &S, &own, &m, &o, &r, &err), 0, "%s",
                     err.msg);
        cr_assert_null(own.v);
        for (size_t q = 0; q < Q.n; q++) {
            cr_assert_eq(r.nn[q], nn[q], "self %d row %zu: %u, brute force %u", self, q,
                         r.nn[q], nn[q]);
            double want = test_dist_double(PANN_COSINE, pann_row(&Q, q), pann_row(&T, nn[q]),
                                           T.d);
            cr_assert_float_eq(r.dist[q], want, 1e-4, "row %zu", q);
        }
        pann_result_free(&r);
        pann_matrix_free(&own);
        own = matrix_copy(&T);
        pann_knn_result lists;
        cr_assert_eq(pann_knn_exact_consume(self ? &own : &S, &own, &m, 1, &o, &lists, &err),
                     0, "%s", err.msg);
        cr_assert_null(own.v);
        for (size_t q = 0; q < Q.n; q++)
            cr_assert_eq(lists.nn[q], nn[q], "knn, self %d row %zu", self, q);
        pann_knn_result_free(&lists);
        pann_matrix_free(&own);
        pann_matrix_free(&Q);
        pann_matrix_free(&T);
        free(nn);
        free(dist);
    }
    pann_matrix_free(&S);
}

Test(gemm, suits_only_cosine_and_l2_from_enough_numeric_columns)
{
    pann_metric m = metric_of(PANN_COSINE, GEMM_MIN_COLUMNS);
    cr_assert(pann_gemm_suits(&m));
    m.d = GEMM_MIN_COLUMNS - 1;
    cr_assert_not(pann_gemm_suits(&m));
    m = metric_of(PANN_L1, 64);
    cr_assert_not(pann_gemm_suits(&m));
    unsigned char cat[64] = { 0 };
    cat[63] = 1;
    m = metric_of(PANN_L2, 64);
    m.is_cat = cat;
    cr_assert_not(pann_gemm_suits(&m));
}
