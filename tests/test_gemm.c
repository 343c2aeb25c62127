/* test_gemm.c — the matrix-product kernel of the brute force
 * (lib/kernels_gemm.c): every micro-kernel's values are pann_cmp's bit for
 * bit (query counts that leave remainders, odd block counts, more columns
 * than one chunk), pann_gemm_filter passes exactly the values within the
 * bounds, and the exact search through it finds the rows of an independent
 * brute force (ties to the lower row, self excluded, nearest and farthest),
 * at distances a double computation confirms, whatever the kernel and the
 * thread count. */
#include <criterion/criterion.h>
#include <string.h>
#include "testutil.h"
#include "kernels.h"

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
    cr_assert_eq(pann_exact_run(S, T, m, &o, r, &err), 0, "%s", err.msg);
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
