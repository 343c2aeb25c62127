/* test_brute_self.c — the exact brute force's self-match that consumes T
 * (pann_match_exact_consume and pann_knn_exact_consume with S = T): the
 * blocks take T's rows and the queries are read back from them.  Its
 * answers are compared with a brute force written here (a chain of fused
 * multiply-adds over the columns in order, as the kernels' contract
 * states; ties to the lower row, a row never its own neighbour) and, byte
 * for byte, with the search that copies T, on rows with ties, duplicate
 * rows and zero rows, cosine and L2, 5 and 256 columns (the tile kernel
 * and the matrix-product kernel), nearest and farthest, every kernel, one
 * and two threads.  Row counts leave a partial last block and last task. */
#include <criterion/criterion.h>
#include <string.h>
#include "testutil.h"
#include "kernels.h"
#include "pann_knn.h"

static const char *const kernels[3] = { "generic", "avx2", "avx512" };

/* n rows of `levels`-valued integers (0: Gaussian), unit rows for cosine;
 * rows 300 and 650 (when present) copy row 10. */
static pann_matrix rows_of(pann_metric_kind kind, size_t n, size_t d, unsigned long seed,
                           int levels)
{
    pann_matrix x = test_matrix(n, d, seed, 1.0, levels);
    for (size_t copy = 300; copy < n; copy += 350)
        memcpy(x.v + copy * d, x.v + 10 * d, d * sizeof *x.v);
    if (kind == PANN_COSINE)
        pann_normalise_rows(&x);
    return x;
}

/* The comparison value by its definition: a fused multiply-add chain from
 * zero, 1 - dot for cosine (unit rows). */
static float ref_cmp(pann_metric_kind kind, const float *a, const float *b, size_t d)
{
    float acc = 0.0f;
    for (size_t j = 0; j < d; j++)
        acc = kind == PANN_L2 ? fmaf(a[j] - b[j], a[j] - b[j], acc) : fmaf(a[j], b[j], acc);
    return kind == PANN_L2 ? acc : 1.0f - acc;
}

static float ref_dist(pann_metric_kind kind, float c)
{
    return kind == PANN_L2 ? (float)sqrt((double)c) : c;
}

/* Every value of the self-match: all[i * n + j]. */
static float *ref_all(const pann_matrix *T, pann_metric_kind kind)
{
    size_t n = T->n;
    float *all = malloc(n * n * sizeof *all);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            all[i * n + j] = ref_cmp(kind, pann_row(T, i), pann_row(T, j), T->d);
    return all;
}

/* Row i's k best others, best first, ties to the lower row. */
static void ref_list(const float *all, size_t n, size_t i, bool nearest, size_t k,
                     uint32_t *nn, float *cmp)
{
    size_t filled = 0;
    for (size_t j = 0; j < n; j++) {
        float c = all[i * n + j];
        if (j == i)
            continue;
        size_t at = filled;   /* after every entry at least as good */
        while (at > 0 && (nearest ? c < cmp[at - 1] : c > cmp[at - 1]))
            at--;
        if (at >= k)
            continue;
        for (size_t s = (filled < k ? filled : k - 1); s > at; s--) {
            nn[s] = nn[s - 1];
            cmp[s] = cmp[s - 1];
        }
        nn[at] = (uint32_t)j;
        cmp[at] = c;
        filled += filled < k;
    }
}

static pann_matrix matrix_copy(const pann_matrix *a)
{
    pann_matrix c;
    cr_assert_eq(pann_matrix_alloc(&c, a->n, a->d, NULL), 0);
    memcpy(c.v, a->v, a->n * a->d * sizeof *c.v);
    return c;
}

static pann_engine_opts brute_opts(pann_mode mode, int threads)
{
    pann_engine_opts o;
    pann_engine_opts_init(&o);
    o.mode = mode;
    o.self_exclude = true;
    o.threads = threads;
    o.exact_method = PANN_EXACT_BRUTE;
    return o;
}

/* pann_match_exact_consume(T, T) against the reference and, byte for byte,
 * against pann_match_exact(T, T), which copies T. */
static void expect_match(const pann_matrix *T, const pann_metric *m, const float *all,
                         pann_mode mode, int threads, const char *kernel)
{
    pann_engine_opts o = brute_opts(mode, threads);
    pann_matrix own = matrix_copy(T);
    pann_result got, copied;
    pann_error err = {0};
    cr_assert_eq(pann_match_exact_consume(&own, &own, m, &o, &got, &err), 0, "%s", err.msg);
    cr_assert_null(own.v);
    cr_assert_eq(pann_match_exact(T, T, m, &o, &copied, &err), 0, "%s", err.msg);
    for (size_t i = 0; i < T->n; i++) {
        uint32_t want;
        float c;
        ref_list(all, T->n, i, mode == PANN_MIN, 1, &want, &c);
        float dist = ref_dist(m->kind, c);
        cr_assert_eq(got.nn[i], want, "%s -j%d d %zu kind %d mode %d: row %zu: %u, reference %u",
                     kernel, threads, T->d, m->kind, mode, i, got.nn[i], want);
        cr_assert(memcmp(&got.dist[i], &dist, sizeof dist) == 0, "row %zu: %.9g, reference %.9g",
                  i, got.dist[i], dist);
        cr_assert(got.proven[i]);
    }
    cr_assert(memcmp(got.nn, copied.nn, T->n * sizeof *got.nn) == 0);
    cr_assert(memcmp(got.dist, copied.dist, T->n * sizeof *got.dist) == 0);
    pann_result_free(&got);
    pann_result_free(&copied);
    pann_matrix_free(&own);
}

/* pann_knn_exact_consume(T, T) against the reference lists and, byte for
 * byte, against pann_knn_exact(T, T). */
static void expect_lists(const pann_matrix *T, const pann_metric *m, const float *all,
                         size_t k, int threads, const char *kernel)
{
    pann_engine_opts o = brute_opts(PANN_MIN, threads);
    pann_matrix own = matrix_copy(T);
    pann_knn_result got, copied;
    pann_error err = {0};
    cr_assert_eq(pann_knn_exact_consume(&own, &own, m, k, &o, &got, &err), 0, "%s", err.msg);
    cr_assert_null(own.v);
    cr_assert_eq(pann_knn_exact(T, T, m, k, &o, &copied, &err), 0, "%s", err.msg);
    uint32_t want[8];
    float c[8];
    for (size_t i = 0; i < T->n; i++) {
        ref_list(all, T->n, i, true, k, want, c);
        for (size_t s = 0; s < k; s++) {
            float dist = ref_dist(m->kind, c[s]);
            cr_assert_eq(got.nn[i * k + s], want[s], "%s -j%d d %zu kind %d: row %zu, "
                         "neighbour %zu: %u, reference %u", kernel, threads, T->d, m->kind,
                         i, s, got.nn[i * k + s], want[s]);
            cr_assert(memcmp(&got.dist[i * k + s], &dist, sizeof dist) == 0);
        }
    }
    cr_assert(memcmp(got.nn, copied.nn, T->n * k * sizeof *got.nn) == 0);
    cr_assert(memcmp(got.dist, copied.dist, T->n * k * sizeof *got.dist) == 0);
    pann_knn_result_free(&got);
    pann_knn_result_free(&copied);
    pann_matrix_free(&own);
}

/* Every kernel and one or two threads on the rows of one law. */
static void expect_self(pann_metric_kind kind, size_t n, size_t d, unsigned long seed,
                        int levels)
{
    pann_matrix T = rows_of(kind, n, d, seed, levels);
    pann_metric m = { .kind = kind, .d = d };
    float *all = ref_all(&T, kind);
    int runs = 0;
    for (int kn = 0; kn < 3; kn++) {
        if (pann_kernel_select(kernels[kn]) != 0)
            continue;
        for (int threads = 1; threads <= 2; threads++, runs++) {
            expect_match(&T, &m, all, PANN_MIN, threads, kernels[kn]);
            expect_match(&T, &m, all, PANN_MAX, threads, kernels[kn]);
            expect_lists(&T, &m, all, 4, threads, kernels[kn]);
        }
    }
    cr_assert_geq(runs, 2);
    pann_kernel_select(NULL);
    free(all);
    pann_matrix_free(&T);
}

/* 337 rows: 21 blocks and one row, three tasks of 96 queries and 49. */
Test(brute_self, matrix_product_kernel_with_ties)
{
    expect_self(PANN_COSINE, 337, 256, 80, 3);
    expect_self(PANN_L2, 337, 256, 81, 3);
}

Test(brute_self, matrix_product_kernel_on_gaussian_rows)
{
    expect_self(PANN_COSINE, 337, 256, 82, 0);
    expect_self(PANN_L2, 337, 256, 83, 0);
}

/* 5 columns of three levels: 243 distinct rows among 701 (duplicates
 * everywhere, a few zero rows); 701 rows: 43 blocks and 13 rows, ten
 * tasks of 64 queries and 61. */
Test(brute_self, tile_kernel_with_duplicate_rows)
{
    expect_self(PANN_COSINE, 701, 5, 84, 3);
    expect_self(PANN_L2, 701, 5, 85, 3);
}
