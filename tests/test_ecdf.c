/* test_ecdf.c — unit tests of the ecdf module (lib/ecdf.c).
 *
 * Every count and statistic is checked against computations written here
 * independently of the library: a triple-loop dominance count and the
 * textbook two-sample KS of sorted samples (Numerical Recipes' kstwo with
 * ties).  Data are integer-valued with few distinct values and copied rows,
 * so ties and duplicates are the rule, and sizes go past one bitset slice
 * (512 rows) with small checkpoint blocks so every code path runs.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pann.h"
#include "internal.h"

/* ---- independent helpers ------------------------------------------------ */

static uint64_t rng_state;

static uint32_t next_u32(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 32);
}

/* n rows of d integer values in [0, levels), a quarter of them copies of
 * earlier rows; scaled by 0.5 so values are exact floats with ties. */
static pann_matrix make_data(size_t n, size_t d, uint32_t levels, uint64_t seed)
{
    pann_matrix m;
    pann_error err;
    rng_state = seed * 2654435761u + 88172645463325252ull;
    cr_assert_eq(pann_matrix_alloc(&m, n, d, &err), 0);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++) {
            bool copy = i > 0 && next_u32() % 4 == 0;
            m.v[i * d + j] = copy ? m.v[(next_u32() % i) * d + j]
                                  : 0.5f * (float)(next_u32() % levels);
        }
    for (size_t i = 1; i < n; i += 7) /* whole duplicate rows */
        memcpy(m.v + i * d, m.v + (i / 2) * d, d * sizeof(float));
    return m;
}

static uint32_t naive_count(const pann_matrix *P, const float *z)
{
    uint32_t c = 0;
    for (size_t i = 0; i < P->n; i++) {
        bool in = true;
        for (size_t j = 0; j < P->d; j++)
            if (!(P->v[i * P->d + j] <= z[j]))
                in = false;
        c += in;
    }
    return c;
}

static int cmp_f(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Numerical Recipes kstwo, with the runs of ties consumed together. */
static double classic_ks(const float *a0, size_t n1, const float *b0, size_t n2)
{
    float *a = malloc(n1 * sizeof *a), *b = malloc(n2 * sizeof *b);
    memcpy(a, a0, n1 * sizeof *a);
    memcpy(b, b0, n2 * sizeof *b);
    qsort(a, n1, sizeof *a, cmp_f);
    qsort(b, n2, sizeof *b, cmp_f);
    size_t j1 = 0, j2 = 0;
    double fn1 = 0, fn2 = 0, dmax = 0;
    while (j1 < n1 && j2 < n2) {
        float d1 = a[j1], d2 = b[j2];
        if (d1 <= d2)
            do fn1 = (double)++j1 / n1; while (j1 < n1 && a[j1] == d1);
        if (d2 <= d1)
            do fn2 = (double)++j2 / n2; while (j2 < n2 && b[j2] == d2);
        if (fabs(fn2 - fn1) > dmax)
            dmax = fabs(fn2 - fn1);
    }
    free(a);
    free(b);
    return dmax;
}

/* Nodes: rows of both sets plus values below, between and above. */
static pann_matrix make_nodes(const pann_matrix *a, const pann_matrix *b,
                              size_t extra, uint32_t levels)
{
    pann_matrix z;
    pann_error err;
    size_t d = a->d, k = a->n + b->n + extra;
    cr_assert_eq(pann_matrix_alloc(&z, k, d, &err), 0);
    memcpy(z.v, a->v, a->n * d * sizeof(float));
    memcpy(z.v + a->n * d, b->v, b->n * d * sizeof(float));
    for (size_t i = a->n + b->n; i < k; i++)
        for (size_t j = 0; j < d; j++)
            z.v[i * d + j] = 0.25f * (float)(next_u32() % (2 * levels + 4)) - 0.5f;
    return z;
}

static void check_counts(const pann_matrix *P, const pann_matrix *Z,
                         const pann_ecdf_opts *o)
{
    pann_error err;
    uint32_t *fast = malloc(Z->n * sizeof *fast + 1);
    uint32_t *brute = malloc(Z->n * sizeof *brute + 1);
    cr_assert_eq(pann_ecdf_count(P, Z, o, fast, &err), 0, "%s", err.msg);
    cr_assert_eq(pann_ecdf_count_brute(P, Z, 0, brute, &err), 0);
    for (size_t i = 0; i < Z->n; i++) {
        uint32_t want = naive_count(P, pann_row(Z, i));
        cr_assert_eq(fast[i], want, "d=%zu node %zu: %u != %u (block %zu)",
                     P->d, i, fast[i], want, o ? o->block : 0);
        cr_assert_eq(brute[i], want, "brute d=%zu node %zu", P->d, i);
    }
    free(fast);
    free(brute);
}

/* ---- counting ----------------------------------------------------------- */

Test(ecdf_count, matches_naive_all_dims_with_ties)
{
    for (size_t d = 1; d <= 8; d++) {
        pann_matrix P = make_data(700 + 37 * d, d, 6, d);
        pann_matrix Q = make_data(300, d, 7, 100 + d);
        pann_matrix Z = make_nodes(&P, &Q, 200, 6);
        check_counts(&P, &Z, NULL);
        check_counts(&Q, &Z, NULL);
        pann_matrix_free(&P);
        pann_matrix_free(&Q);
        pann_matrix_free(&Z);
    }
}

Test(ecdf_count, small_and_odd_blocks_exercise_fixups)
{
    size_t blocks[] = { 1, 3, 5, 64, 100000 };
    for (size_t b = 0; b < sizeof blocks / sizeof *blocks; b++)
        for (size_t d = 2; d <= 5; d += 3) {
            pann_ecdf_opts o;
            pann_ecdf_opts_init(&o);
            o.block = blocks[b];
            pann_matrix P = make_data(1100, d, 20, 7 * d + b);
            pann_matrix Z = make_nodes(&P, &P, 300, 20);
            check_counts(&P, &Z, &o);
            pann_matrix_free(&P);
            pann_matrix_free(&Z);
        }
}

Test(ecdf_count, tight_memory_budget_and_one_thread)
{
    pann_ecdf_opts o;
    pann_ecdf_opts_init(&o);
    o.max_bytes = 1;       /* forces the block to grow past n */
    o.threads = 1;
    pann_matrix P = make_data(1500, 4, 30, 5);
    pann_matrix Z = make_nodes(&P, &P, 100, 30);
    check_counts(&P, &Z, &o);
    pann_matrix_free(&P);
    pann_matrix_free(&Z);
}

Test(ecdf_count, continuous_values_without_ties)
{
    pann_error err;
    pann_matrix P;
    cr_assert_eq(pann_matrix_alloc(&P, 2000, 3, &err), 0);
    rng_state = 12345;
    for (size_t i = 0; i < P.n * P.d; i++)
        P.v[i] = (float)next_u32() / 4294967296.0f;
    pann_matrix Z = make_nodes(&P, &P, 50, 2);
    check_counts(&P, &Z, NULL);
    pann_matrix_free(&P);
    pann_matrix_free(&Z);
}

Test(ecdf_count, empty_point_set_counts_zero)
{
    pann_error err;
    pann_matrix P, Z;
    cr_assert_eq(pann_matrix_alloc(&P, 0, 2, &err), 0);
    cr_assert_eq(pann_matrix_alloc(&Z, 3, 2, &err), 0);
    uint32_t c[3] = { 9, 9, 9 };
    cr_assert_eq(pann_ecdf_count(&P, &Z, NULL, c, &err), 0);
    cr_assert(c[0] == 0 && c[1] == 0 && c[2] == 0);
    pann_matrix_free(&P);
    pann_matrix_free(&Z);
}

/* ---- KS ----------------------------------------------------------------- */

static void check_ks_direction(const pann_matrix *R, const pann_matrix *S)
{
    pann_error err;
    pann_matrix Z;
    cr_assert_eq(pann_ecdf_nodes_all(R, S, &Z, &err), 0);
    cr_assert_eq(Z.n, R->n + S->n);
    double *fr = malloc(Z.n * sizeof *fr), *fs = malloc(Z.n * sizeof *fs);
    pann_ecdf_ks_result res;
    cr_assert_eq(pann_ecdf_ks(R, S, &Z, NULL, &res, fr, fs, &err), 0, "%s",
                 err.msg);
    double best = -1;
    size_t arg = 0;
    for (size_t i = 0; i < Z.n; i++) {
        double want_r = (double)naive_count(R, pann_row(&Z, i)) / R->n;
        double want_s = (double)naive_count(S, pann_row(&Z, i)) / S->n;
        cr_assert_float_eq(fr[i], want_r, 1e-15);
        cr_assert_float_eq(fs[i], want_s, 1e-15);
        if (fabs(want_s - want_r) > best + 1e-12) {
            best = fabs(want_s - want_r);
            arg = i;
        }
    }
    cr_assert_float_eq(res.ks, best, 1e-12);
    cr_assert_eq(res.argmax, arg);
    cr_assert_eq(res.npoints, Z.n);
    cr_assert_float_eq(res.f_real, fr[arg], 1e-15);
    cr_assert_float_eq(res.f_synth, fs[arg], 1e-15);
    free(fr);
    free(fs);
    pann_matrix_free(&Z);
}

Test(ecdf_ks, matches_naive_both_directions)
{
    for (size_t d = 1; d <= 8; d += 1) {
        pann_matrix R = make_data(600, d, 5, 31 * d);
        pann_matrix S = make_data(450, d, 6, 17 * d + 3);
        check_ks_direction(&R, &S);
        check_ks_direction(&S, &R);
        pann_matrix_free(&R);
        pann_matrix_free(&S);
    }
}

Test(ecdf_ks, d1_equals_classical_two_sample_ks)
{
    for (uint64_t seed = 1; seed <= 6; seed++) {
        pann_error err;
        pann_matrix R = make_data(500 + 50 * seed, 1, 4 + seed * 3, seed);
        pann_matrix S = make_data(400, 1, 5 + seed * 2, seed + 50);
        pann_matrix Z;
        cr_assert_eq(pann_ecdf_nodes_all(&R, &S, &Z, &err), 0);
        pann_ecdf_ks_result res;
        cr_assert_eq(pann_ecdf_ks(&R, &S, &Z, NULL, &res, NULL, NULL, &err), 0);
        double want = classic_ks(R.v, R.n, S.v, S.n);
        cr_assert_float_eq(res.ks, want, 1e-12, "seed %d: %g vs %g",
                           (int)seed, res.ks, want);
        cr_assert_float_eq(pann_ecdf_marginal_ks(&R, &S, 0), want, 1e-12);
        cr_assert_float_eq(pann_ecdf_marginal_ks(&S, &R, 0), want, 1e-12);
        pann_matrix_free(&R);
        pann_matrix_free(&S);
        pann_matrix_free(&Z);
    }
}

Test(ecdf_ks, marginals_per_column_equal_classical)
{
    pann_matrix R = make_data(800, 5, 9, 77), S = make_data(650, 5, 8, 78);
    float *a = malloc(R.n * sizeof *a), *b = malloc(S.n * sizeof *b);
    for (size_t j = 0; j < 5; j++) {
        for (size_t i = 0; i < R.n; i++)
            a[i] = R.v[i * 5 + j];
        for (size_t i = 0; i < S.n; i++)
            b[i] = S.v[i * 5 + j];
        cr_assert_float_eq(pann_ecdf_marginal_ks(&R, &S, j),
                           classic_ks(a, R.n, b, S.n), 1e-12);
    }
    cr_assert(isnan(pann_ecdf_marginal_ks(&R, &S, 5)));
    free(a);
    free(b);
    pann_matrix_free(&R);
    pann_matrix_free(&S);
}

Test(ecdf_ks, argmax_ties_give_lowest_node)
{
    pann_error err;
    pann_matrix R, S, Z;
    cr_assert_eq(pann_matrix_alloc(&R, 2, 1, &err), 0);
    cr_assert_eq(pann_matrix_alloc(&S, 2, 1, &err), 0);
    cr_assert_eq(pann_matrix_alloc(&Z, 4, 1, &err), 0);
    R.v[0] = 0; R.v[1] = 1;          /* F_real(0) = .5 */
    S.v[0] = 5; S.v[1] = 6;          /* F_synth(<5) = 0 */
    Z.v[0] = -1; Z.v[1] = 0.5f; Z.v[2] = 0; Z.v[3] = 0.5f;
    pann_ecdf_ks_result res;
    cr_assert_eq(pann_ecdf_ks(&R, &S, &Z, NULL, &res, NULL, NULL, &err), 0);
    cr_assert_float_eq(res.ks, 0.5, 1e-15);
    cr_assert_eq(res.argmax, 1);
    cr_assert_eq(res.count_real, 1);
    cr_assert_eq(res.count_synth, 0);
    pann_matrix_free(&R);
    pann_matrix_free(&S);
    pann_matrix_free(&Z);
}

Test(ecdf_ks, one_row_and_identical_rows)
{
    pann_error err;
    pann_matrix R = make_data(1, 3, 4, 1), S, Z;
    cr_assert_eq(pann_matrix_alloc(&S, 300, 3, &err), 0);
    for (size_t i = 0; i < S.n; i++)
        memcpy(S.v + i * 3, R.v, 3 * sizeof(float));
    pann_ecdf_ks_result res;
    cr_assert_eq(pann_ecdf_nodes_all(&R, &S, &Z, &err), 0);
    double *fr = malloc(Z.n * sizeof *fr), *fs = malloc(Z.n * sizeof *fs);
    cr_assert_eq(pann_ecdf_ks(&R, &S, &Z, NULL, &res, fr, fs, &err), 0);
    cr_assert_eq(res.ks, 0.0);
    cr_assert_eq(res.argmax, 0);
    for (size_t i = 0; i < Z.n; i++)
        cr_assert(fr[i] == 1.0 && fs[i] == 1.0);
    S.v[0] += 1;                      /* one synth row now above the node */
    cr_assert_eq(pann_ecdf_ks(&R, &S, &Z, NULL, &res, NULL, NULL, &err), 0);
    cr_assert_float_eq(res.ks, 1.0 / 300, 1e-15);
    free(fr);
    free(fs);
    pann_matrix_free(&R);
    pann_matrix_free(&S);
    pann_matrix_free(&Z);
}

Test(ecdf_ks, same_sample_gives_zero)
{
    pann_error err;
    pann_matrix R = make_data(900, 6, 3, 9), Z;
    cr_assert_eq(pann_ecdf_nodes_all(&R, &R, &Z, &err), 0);
    pann_ecdf_ks_result res;
    cr_assert_eq(pann_ecdf_ks(&R, &R, &Z, NULL, &res, NULL, NULL, &err), 0);
    cr_assert_eq(res.ks, 0.0);
    pann_matrix_free(&R);
    pann_matrix_free(&Z);
}

Test(ecdf_ks, errors)
{
    pann_error err;
    pann_matrix R = make_data(10, 2, 3, 1), S = make_data(10, 3, 3, 2), E, Z0;
    pann_ecdf_ks_result res;
    uint32_t c[10];
    cr_assert_eq(pann_ecdf_ks(&R, &S, &R, NULL, &res, NULL, NULL, &err),
                 PANN_EINPUT);
    cr_assert(strstr(err.msg, "columns"));
    cr_assert_eq(pann_ecdf_nodes_all(&R, &S, &Z0, &err), PANN_EINPUT);
    cr_assert_eq(pann_ecdf_count(&R, &S, NULL, c, &err), PANN_EINPUT);
    cr_assert_eq(pann_ecdf_count_brute(&R, &S, 0, c, &err), PANN_EINPUT);
    cr_assert_eq(pann_matrix_alloc(&E, 0, 2, &err), 0);
    cr_assert_eq(pann_ecdf_ks(&E, &R, &R, NULL, &res, NULL, NULL, &err),
                 PANN_EINPUT);
    cr_assert(strstr(err.msg, "real has no rows"));
    cr_assert_eq(pann_ecdf_ks(&R, &E, &R, NULL, &res, NULL, NULL, &err),
                 PANN_EINPUT);
    cr_assert_eq(pann_ecdf_ks(&R, &R, &E, NULL, &res, NULL, NULL, &err),
                 PANN_EINPUT);
    cr_assert(strstr(err.msg, "no evaluation points"));
    size_t dropped;
    cr_assert_eq(pann_ecdf_nodes_random(&E, 5, 1, NULL, &Z0, &dropped, &err),
                 PANN_EINPUT);
    size_t bad[] = { 0, 2 };
    cr_assert_eq(pann_ecdf_select_columns(&R, bad, 2, &Z0, &err), PANN_EINPUT);
    cr_assert(strstr(err.msg, "column 3"));
    cr_assert(isnan(pann_ecdf_marginal_ks(&E, &R, 0)));
    cr_assert(isnan(pann_ecdf_marginal_tv(&R, &E, 0)));
    pann_matrix_free(&R);
    pann_matrix_free(&S);
    pann_matrix_free(&E);
}

/* ---- node sets and columns ----------------------------------------------- */

static double numpy_linear(const float *col, size_t n, double q)
{
    float *x = malloc(n * sizeof *x);
    memcpy(x, col, n * sizeof *x);
    qsort(x, n, sizeof *x, cmp_f);
    double h = (n - 1) * q, lo = floor(h);
    size_t i = (size_t)lo, k = i + 1 < n ? i + 1 : i;
    double v = x[i] + (h - lo) * ((double)x[k] - x[i]);
    free(x);
    return v;
}

Test(ecdf_nodes, random_nodes_reproducible_and_dominating)
{
    pann_error err;
    pann_matrix R = make_data(400, 4, 10, 3), Z1, Z2, Z3;
    size_t drop1, drop2, drop3;
    cr_assert_eq(pann_ecdf_nodes_random(&R, 500, 42, NULL, &Z1, &drop1, &err), 0);
    cr_assert_eq(pann_ecdf_nodes_random(&R, 500, 42, NULL, &Z2, &drop2, &err), 0);
    cr_assert_eq(pann_ecdf_nodes_random(&R, 500, 43, NULL, &Z3, &drop3, &err), 0);
    cr_assert_eq(Z1.n + drop1, 500);
    cr_assert_eq(Z1.n, Z2.n);
    cr_assert_eq(drop1, drop2);
    cr_assert_eq(memcmp(Z1.v, Z2.v, Z1.n * 4 * sizeof(float)), 0);
    cr_assert(Z1.n != Z3.n ||
              memcmp(Z1.v, Z3.v, Z1.n * 4 * sizeof(float)) != 0);
    cr_assert_gt(Z1.n, 0);
    for (size_t i = 0; i < Z1.n; i++)
        cr_assert_gt(naive_count(&R, pann_row(&Z1, i)), 0, "node %zu", i);
    pann_matrix_free(&Z1);
    pann_matrix_free(&Z2);
    pann_matrix_free(&Z3);
    pann_matrix_free(&R);
}

Test(ecdf_nodes, random_nodes_are_linear_quantiles)
{
    pann_error err;
    size_t d = 2, dropped;
    pann_matrix R = make_data(57, d, 12, 8), Z;
    cr_assert_eq(pann_ecdf_nodes_random(&R, 40, 7, NULL, &Z, &dropped, &err), 0);
    float *col = malloc(R.n * sizeof *col);
    for (size_t i = 0; i < Z.n; i++) {
        size_t src = Z.row_id[i];     /* index of the node before dropping */
        for (size_t j = 0; j < d; j++) {
            for (size_t r = 0; r < R.n; r++)
                col[r] = R.v[r * d + j];
            double level = pow(pann_uniform3(7, src, j), 1.0 / d);
            cr_assert_float_eq(Z.v[i * d + j],
                               (float)numpy_linear(col, R.n, level), 1e-6);
        }
    }
    free(col);
    pann_matrix_free(&R);
    pann_matrix_free(&Z);
}

Test(ecdf_nodes, one_row_real_gives_that_row)
{
    pann_error err;
    size_t dropped;
    pann_matrix R = make_data(1, 3, 5, 4), Z;
    cr_assert_eq(pann_ecdf_nodes_random(&R, 10, 1, NULL, &Z, &dropped, &err), 0);
    cr_assert_eq(Z.n, 10);
    cr_assert_eq(dropped, 0);
    for (size_t i = 0; i < Z.n; i++)
        cr_assert_eq(memcmp(pann_row(&Z, i), R.v, 3 * sizeof(float)), 0);
    pann_matrix_free(&R);
    pann_matrix_free(&Z);
}

Test(ecdf_nodes, select_columns_keeps_order)
{
    pann_error err;
    pann_matrix R = make_data(20, 4, 9, 6), C;
    size_t cols[] = { 3, 1 };
    cr_assert_eq(pann_ecdf_select_columns(&R, cols, 2, &C, &err), 0);
    cr_assert_eq(C.n, 20);
    cr_assert_eq(C.d, 2);
    for (size_t i = 0; i < 20; i++) {
        cr_assert_eq(C.v[i * 2], R.v[i * 4 + 3]);
        cr_assert_eq(C.v[i * 2 + 1], R.v[i * 4 + 1]);
    }
    pann_matrix_free(&R);
    pann_matrix_free(&C);
}

Test(ecdf_marginal, total_variation_of_codes)
{
    pann_error err;
    pann_matrix R, S;
    cr_assert_eq(pann_matrix_alloc(&R, 4, 1, &err), 0);
    cr_assert_eq(pann_matrix_alloc(&S, 4, 1, &err), 0);
    float r[] = { 0, 0, 1, 1 }, s[] = { 2, 1, 0, 1 };
    memcpy(R.v, r, sizeof r);
    memcpy(S.v, s, sizeof s);
    /* real .5 .5 0, synth .25 .5 .25: TV = (.25 + 0 + .25) / 2 */
    cr_assert_float_eq(pann_ecdf_marginal_tv(&R, &S, 0), 0.25, 1e-15);
    cr_assert_float_eq(pann_ecdf_marginal_tv(&S, &R, 0), 0.25, 1e-15);
    cr_assert_float_eq(pann_ecdf_marginal_tv(&R, &R, 0), 0.0, 1e-15);
    s[0] = s[1] = s[2] = s[3] = 7;
    memcpy(S.v, s, sizeof s);
    cr_assert_float_eq(pann_ecdf_marginal_tv(&R, &S, 0), 1.0, 1e-15);
    pann_matrix_free(&R);
    pann_matrix_free(&S);
}
