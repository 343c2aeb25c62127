/* test_ivf.c — the IVF strategy (lib/ivf.c, lib/ivf_build.c) against the
 * independent brute force of testutil.h: every cell scanned is exact (ties
 * to the lower row, self excluded), a row proven before that is exact, more
 * probes never give a worse answer, the index (centroids, cells, members,
 * radii) and the answers do not depend on the thread count nor on the
 * kernel (matrix-product or blocked, plain C or vector), and a few probes
 * find most neighbours of clustered data. */
#include <criterion/criterion.h>
#include "tmpdir.h"
#include <string.h>
#include "testutil.h"
#include "ivf_internal.h"

static const char *const kernel_sets[3] = { "generic", "avx2", "avx512" };

/* n rows around `clusters` centres (Gaussian, sd 10; the same centres for
 * any seed), `spread` the sd within. */
static pann_matrix clustered(size_t n, size_t d, size_t clusters, double spread,
                             unsigned long seed)
{
    pann_matrix centres = test_matrix(clusters, d, 1000 + clusters, 10.0, 0);
    pann_matrix x = test_matrix(n, d, seed + 1, spread, 0);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            x.v[i * d + j] += centres.v[(i * 7919 % clusters) * d + j];
    pann_matrix_free(&centres);
    return x;
}

static void metric_of(pann_metric *m, pann_metric_kind kind, size_t d)
{
    *m = (pann_metric){ .kind = kind, .d = d };
}

static void run_ivf(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                    bool self, size_t cells, size_t probes, int threads, pann_result *r)
{
    pann_engine_opts o;
    pann_engine_opts_init(&o);
    o.self_exclude = self;
    o.threads = threads;
    o.seed = 7;
    pann_ivf_opts io;
    pann_ivf_opts_init(&io);
    io.cells = cells;
    io.probes = probes;
    pann_error err = {0};
    cr_assert_eq(pann_match_ivf(S, T, m, &o, &io, r, &err), 0, "%s", err.msg);
}

static void expect_exhausted_exact(pann_matrix *S, pann_matrix *T, pann_metric_kind kind,
                                   bool self)
{
    pann_metric m;
    metric_of(&m, kind, T->d);
    if (kind == PANN_COSINE) {
        pann_normalise_rows(S);
        pann_normalise_rows(T);
    }
    uint32_t *nn = malloc(S->n * sizeof *nn);
    float *dist = malloc(S->n * sizeof *dist);
    test_brute(S, T, &m, PANN_MIN, self, false, 0, nn, dist);
    pann_result r;
    run_ivf(S, T, &m, self, 9, 0, 2, &r);
    for (size_t q = 0; q < S->n; q++) {
        cr_assert_eq(r.nn[q], nn[q], "row %zu: %u, brute force %u", q, r.nn[q], nn[q]);
        cr_assert_eq(r.dist[q], dist[q], "row %zu", q);
        cr_assert(r.proven[q]);
    }
    cr_assert_eq(r.nproven, S->n);
    pann_result_free(&r);
    free(nn);
    free(dist);
}

Test(ivf, every_cell_scanned_is_brute_force)
{
    pann_metric_kind kinds[3] = { PANN_L1, PANN_L2, PANN_COSINE };
    for (int k = 0; k < 3; k++) {
        pann_matrix S = test_matrix(150, 13, 1 + k, 1.0, 0);
        pann_matrix T = clustered(700, 13, 6, 1.0, 5 + k);
        expect_exhausted_exact(&S, &T, kinds[k], false);
        expect_exhausted_exact(&T, &T, kinds[k], true);
        pann_matrix_free(&S);
        pann_matrix_free(&T);
    }
}

/* From GEMM_MIN_COLUMNS columns on, cosine and L2 build and scan through
 * the matrix-product kernel: every kernel set is brute force there too. */
Test(ivf, every_cell_scanned_is_brute_force_in_high_dimension)
{
    pann_metric_kind kinds[2] = { PANN_L2, PANN_COSINE };
    int tested = 0;
    for (int ks = 0; ks < 3; ks++) {
        if (pann_kernel_select(kernel_sets[ks]) != 0)
            continue;
        tested++;
        for (int k = 0; k < 2; k++) {
            pann_matrix S = test_matrix(130, GEMM_MIN_COLUMNS + 8, 61 + k, 1.0, 0);
            pann_matrix T = clustered(900, GEMM_MIN_COLUMNS + 8, 7, 1.0, 65 + k);
            expect_exhausted_exact(&S, &T, kinds[k], false);
            expect_exhausted_exact(&T, &T, kinds[k], true);
            pann_matrix_free(&S);
            pann_matrix_free(&T);
        }
    }
    pann_kernel_select(NULL);
    cr_assert_geq(tested, 1);
}

static void expect_same_index(const ivf_index *a, const ivf_index *b)
{
    cr_assert_eq(a->ncells, b->ncells);
    size_t k = a->ncells, slots = a->rows.nblocks * PANN_LANES;
    cr_assert_eq(a->rows.nblocks, b->rows.nblocks);
    cr_assert_eq(memcmp(a->centroids.v, b->centroids.v, k * a->d * sizeof(float)), 0);
    cr_assert_eq(memcmp(a->cell_block, b->cell_block, (k + 1) * sizeof *a->cell_block), 0);
    cr_assert_eq(memcmp(a->cell_size, b->cell_size, k * sizeof *a->cell_size), 0);
    cr_assert_eq(memcmp(a->radius, b->radius, k * sizeof *a->radius), 0);
    cr_assert_eq(memcmp(a->slot_row, b->slot_row, slots * sizeof *a->slot_row), 0);
    cr_assert_eq(memcmp(a->rows.v, b->rows.v, slots * a->d * sizeof(float)), 0);
    cr_assert_eq(a->evaluations, b->evaluations);
}

/* The index of 1 and 2 threads under every kernel set, in low dimension
 * (blocked kernel) and high (matrix-product kernel for L2 and cosine):
 * always the first one built. */
Test(ivf, same_index_for_any_thread_count_and_kernel)
{
    const size_t dims[2] = { 9, 70 };
    pann_metric_kind kinds[3] = { PANN_L1, PANN_L2, PANN_COSINE };
    for (int di = 0; di < 2; di++)
        for (int k = 0; k < 3; k++) {
            pann_matrix T = clustered(3000, dims[di], 40, 1.5, 71 + k);
            if (kinds[k] == PANN_COSINE)
                pann_normalise_rows(&T);
            pann_metric m;
            metric_of(&m, kinds[k], T.d);
            ivf_index first, other;
            pann_error err = {0};
            pann_kernel_select(NULL);
            cr_assert_eq(ivf_build(&first, &T, &m, 37, 0, 5, 3, 1, &err), 0, "%s", err.msg);
            for (int ks = 0; ks < 3; ks++)
                for (int threads = 1; threads <= 2; threads++) {
                    if (pann_kernel_select(kernel_sets[ks]) != 0)
                        continue;
                    cr_assert_eq(ivf_build(&other, &T, &m, 37, 0, 5, 3, threads, &err), 0);
                    expect_same_index(&first, &other);
                    ivf_free(&other);
                }
            pann_kernel_select(NULL);
            ivf_free(&first);
            pann_matrix_free(&T);
        }
}

Test(ivf, ties_go_to_the_lower_row)
{
    pann_matrix S = test_matrix(120, 5, 3, 0, 3);     /* values 0..2: ties everywhere */
    pann_matrix T = test_matrix(500, 5, 4, 0, 3);
    expect_exhausted_exact(&S, &T, PANN_L1, false);
    expect_exhausted_exact(&T, &T, PANN_L2, true);
    pann_matrix_free(&S);
    pann_matrix_free(&T);
}

/* Tight clusters (most rows are proven after a probe or two), and plain
 * Gaussian rows in 3 dimensions, whose neighbours often lie in the next
 * cell: a bound that claimed too much would prove wrong answers there;
 * and tight clusters in 48 columns, built by the matrix-product kernel. */
static void expect_proofs_exact(pann_matrix S, pann_matrix T, size_t cells, size_t min_proven)
{
    pann_metric_kind kinds[3] = { PANN_L1, PANN_L2, PANN_COSINE };
    for (int k = 0; k < 3; k++) {
        pann_metric m;
        metric_of(&m, kinds[k], T.d);
        if (kinds[k] == PANN_COSINE) {
            pann_normalise_rows(&S);
            pann_normalise_rows(&T);
        }
        uint32_t *nn = malloc(S.n * sizeof *nn);
        float *dist = malloc(S.n * sizeof *dist);
        test_brute(&S, &T, &m, PANN_MIN, false, false, 0, nn, dist);
        pann_result few, more;
        run_ivf(&S, &T, &m, false, cells, 2, 2, &few);
        run_ivf(&S, &T, &m, false, cells, 6, 2, &more);
        cr_assert_geq(few.nproven, min_proven, "metric %d: %zu of %zu proven", k, few.nproven,
                      S.n);
        for (size_t q = 0; q < S.n; q++) {
            if (few.proven[q]) {
                cr_assert_eq(few.nn[q], nn[q], "metric %d row %zu proven, not exact", k, q);
                cr_assert_eq(few.dist[q], dist[q]);
            }
            cr_assert_leq(more.dist[q], few.dist[q], "row %zu", q);
            cr_assert_geq(few.dist[q], dist[q]);
        }
        pann_result_free(&few);
        pann_result_free(&more);
        free(nn);
        free(dist);
    }
    pann_matrix_free(&S);
    pann_matrix_free(&T);
}

Test(ivf, proven_rows_are_exact_and_more_probes_never_worse)
{
    expect_proofs_exact(clustered(400, 24, 30, 0.05, 13), clustered(3000, 24, 30, 0.05, 11),
                        30, 200);
    expect_proofs_exact(test_matrix(400, 3, 41, 1.0, 0), test_matrix(3000, 3, 43, 1.0, 0),
                        60, 1);
    expect_proofs_exact(clustered(300, 48, 25, 0.05, 17), clustered(2500, 48, 25, 0.05, 19),
                        25, 150);   /* the matrix-product kernel's cells and radii */
}

Test(ivf, same_answers_for_any_thread_count)
{
    pann_matrix T = clustered(4000, 40, 50, 1.5, 21);
    pann_metric m;
    metric_of(&m, PANN_L2, T.d);
    pann_result one, two;
    run_ivf(&T, &T, &m, true, 40, 3, 1, &one);
    run_ivf(&T, &T, &m, true, 40, 3, 2, &two);
    cr_assert_eq(memcmp(one.nn, two.nn, T.n * sizeof *one.nn), 0);
    cr_assert_eq(memcmp(one.dist, two.dist, T.n * sizeof *one.dist), 0);
    cr_assert_eq(one.iterations, two.iterations);
    cr_assert_eq(one.swaps, two.swaps);
    for (size_t q = 0; q < T.n; q++)
        cr_assert_neq(one.nn[q], (uint32_t)q, "row %zu is its own neighbour", q);
    pann_result_free(&one);
    pann_result_free(&two);
    pann_matrix_free(&T);
}

Test(ivf, recall_on_clustered_data)
{
    pann_matrix T = clustered(8000, 64, 80, 2.0, 31);
    pann_matrix S = clustered(500, 64, 80, 2.0, 33);
    pann_metric m;
    metric_of(&m, PANN_L2, T.d);
    uint32_t *nn = malloc(S.n * sizeof *nn);
    float *dist = malloc(S.n * sizeof *dist);
    test_brute(&S, &T, &m, PANN_MIN, false, false, 0, nn, dist);
    pann_result r;
    run_ivf(&S, &T, &m, false, 80, 4, 2, &r);
    size_t hit = 0;
    for (size_t q = 0; q < S.n; q++)
        hit += r.nn[q] == nn[q];
    cr_assert_geq(hit, S.n * 95 / 100, "recall@1 %zu of %zu with 4 of 80 cells", hit, S.n);
    cr_assert_lt(r.iterations, (uint64_t)S.n * T.n / 2, "%llu distances",
                 (unsigned long long)r.iterations);
    pann_result_free(&r);
    free(nn);
    free(dist);
    pann_matrix_free(&S);
    pann_matrix_free(&T);
}

Test(ivf, refuses_what_it_does_not_search)
{
    pann_matrix T = test_matrix(50, 3, 1, 1.0, 0);
    unsigned char cat[3] = { 0, 1, 0 };
    pann_metric m = { .kind = PANN_L1, .d = 3, .is_cat = cat };
    pann_engine_opts o;
    pann_engine_opts_init(&o);
    pann_ivf_opts io;
    pann_ivf_opts_init(&io);
    pann_result r;
    pann_error err = {0};
    cr_assert_eq(pann_match_ivf(&T, &T, &m, &o, &io, &r, &err), PANN_EINPUT);
    cr_assert(strstr(err.msg, "numeric columns"), "%s", err.msg);
    m.is_cat = NULL;
    o.mode = PANN_MAX;
    cr_assert_eq(pann_match_ivf(&T, &T, &m, &o, &io, &r, &err), PANN_EINPUT);
    pann_matrix_free(&T);
}
