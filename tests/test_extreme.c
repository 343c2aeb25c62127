/* test_extreme.c — extreme points and outliers (lib/extreme.c) against
 * computations written here: a plain double loop for every row's farthest
 * row and the counts, a sort of all distances for the K-th neighbour, and
 * Andrew's monotone chain for the convex hull in 2-D (every farthest row of
 * a norm is a hull vertex, since a distance to a fixed point is convex). */
#include <criterion/criterion.h>
#include <string.h>
#include "testutil.h"

static pann_metric metric_of(pann_metric_kind kind, size_t d)
{
    pann_metric m = { kind, d, NULL };
    return m;
}

static pann_engine_opts opts_with(int threads, uint64_t iterations)
{
    pann_engine_opts o;
    pann_engine_opts_init(&o);
    o.threads = threads;
    o.max_iterations = iterations;
    o.seed = 7;
    return o;
}

/* Brute-force envelope: counts[j] = rows whose farthest other row is j
 * (ties to the lowest row). */
static void brute_counts(const pann_matrix *X, const pann_metric *m, size_t *counts)
{
    memset(counts, 0, X->n * sizeof *counts);
    for (size_t k = 0; k < X->n; k++) {
        size_t best = SIZE_MAX;
        float far = 0;
        for (size_t j = 0; j < X->n; j++) {
            if (j == k)
                continue;
            float c = pann_cmp(m, pann_row(X, k), pann_row(X, j));
            if (best == SIZE_MAX || c > far) {
                far = c;
                best = j;
            }
        }
        if (best != SIZE_MAX)
            counts[best]++;
    }
}

/* The library's ranking must list exactly the rows with counts, with those
 * counts, by count descending then row. */
static void assert_envelope_is(const pann_scored_row *pts, size_t npts, const size_t *counts,
                               size_t n)
{
    size_t expected = 0, pos = 0;
    for (size_t j = 0; j < n; j++)
        expected += counts[j] > 0;
    cr_assert_eq(npts, expected, "%zu extreme points, brute force %zu", npts, expected);
    for (size_t c = n; c >= 1; c--)          /* walk counts high to low, rows low to high */
        for (size_t j = 0; j < n; j++)
            if (counts[j] == c) {
                cr_assert_eq(pts[pos].row, j, "position %zu: row %zu, expected %zu", pos,
                             pts[pos].row, j);
                cr_assert_eq(pts[pos].score, (double)c);
                pos++;
            }
}

static void check_exact_envelope(pann_metric_kind kind, size_t n, size_t d, int levels,
                                 unsigned long seed)
{
    pann_matrix X = test_matrix(n, d, seed, 1.0, levels);
    pann_metric m = metric_of(kind, d);
    pann_engine_opts o = opts_with(2, 0);
    pann_result r;
    pann_scored_row *pts;
    size_t npts;
    cr_assert_eq(pann_extreme_envelope(&X, &m, &o, true, &r, &pts, &npts, NULL), 0);
    size_t *counts = malloc(n * sizeof *counts);
    brute_counts(&X, &m, counts);
    assert_envelope_is(pts, npts, counts, n);
    cr_assert_eq(r.nproven, n);
    free(counts);
    free(pts);
    pann_result_free(&r);
    pann_matrix_free(&X);
}

Test(envelope, exact_equals_brute_force)
{
    check_exact_envelope(PANN_L1, 300, 2, 0, 1);
    check_exact_envelope(PANN_L2, 300, 2, 0, 2);
    check_exact_envelope(PANN_L1, 1100, 5, 0, 3);    /* more than one tile */
    check_exact_envelope(PANN_L2, 211, 3, 4, 4);     /* many ties and duplicates */
    check_exact_envelope(PANN_COSINE, 97, 4, 0, 5);
}

/* Andrew's monotone chain: which rows are strict hull vertices (collinear
 * points left out), in double from the float coordinates. */
typedef struct point {
    double x, y;
    size_t row;
} point;

static int by_xy(const void *pa, const void *pb)
{
    const point *a = pa, *b = pb;
    if (a->x != b->x) return a->x < b->x ? -1 : 1;
    if (a->y != b->y) return a->y < b->y ? -1 : 1;
    return 0;
}

static double cross(const point *o, const point *a, const point *b)
{
    return (a->x - o->x) * (b->y - o->y) - (a->y - o->y) * (b->x - o->x);
}

static size_t hull_vertices(const pann_matrix *X, unsigned char *is_vertex)
{
    size_t n = X->n, k = 0;
    point *p = malloc(n * sizeof *p), *h = malloc(2 * n * sizeof *h);
    for (size_t i = 0; i < n; i++)
        p[i] = (point){ X->v[2 * i], X->v[2 * i + 1], i };
    qsort(p, n, sizeof *p, by_xy);
    for (size_t i = 0; i < n; i++) {               /* lower chain */
        while (k >= 2 && cross(&h[k - 2], &h[k - 1], &p[i]) <= 0) k--;
        h[k++] = p[i];
    }
    for (size_t i = n - 1, lower = k + 1; i-- > 0;) {   /* upper chain */
        while (k >= lower && cross(&h[k - 2], &h[k - 1], &p[i]) <= 0) k--;
        h[k++] = p[i];
    }
    memset(is_vertex, 0, n);
    for (size_t i = 0; i + 1 < k; i++)
        is_vertex[h[i].row] = 1;
    free(p);
    free(h);
    return k - 1;
}

static void check_on_hull(pann_metric_kind kind, size_t n, unsigned long seed)
{
    pann_matrix X = test_matrix(n, 2, seed, 1.0, 0);
    pann_metric m = metric_of(kind, 2);
    pann_engine_opts o = opts_with(0, 0);
    pann_result r;
    pann_scored_row *pts;
    size_t npts;
    unsigned char *vertex = malloc(n);
    size_t nvertices = hull_vertices(&X, vertex);
    cr_assert_gt(nvertices, 2);
    cr_assert_eq(pann_extreme_envelope(&X, &m, &o, true, &r, &pts, &npts, NULL), 0);
    cr_assert_gt(npts, 1);
    for (size_t i = 0; i < npts; i++)
        cr_assert(vertex[pts[i].row], "%s: extreme row %zu (%g, %g) is not a hull vertex",
                  pann_metric_name(kind), pts[i].row, X.v[2 * pts[i].row],
                  X.v[2 * pts[i].row + 1]);
    cr_assert_leq(npts, nvertices);
    free(vertex);
    free(pts);
    pann_result_free(&r);
    pann_matrix_free(&X);
}

Test(envelope, extreme_points_are_hull_vertices_in_2d)
{
    for (unsigned long seed = 10; seed < 14; seed++) {
        check_on_hull(PANN_L1, 500 + 37 * seed, seed);
        check_on_hull(PANN_L2, 500 + 37 * seed, seed);
    }
}

static void envelope(const pann_matrix *X, const pann_metric *m, const pann_engine_opts *o,
                     bool exact, pann_result *r, pann_scored_row **pts, size_t *npts)
{
    cr_assert_eq(pann_extreme_envelope(X, m, o, exact, r, pts, npts, NULL), 0);
}

Test(envelope, anytime_with_exhausting_budget_equals_exact)
{
    pann_matrix X = test_matrix(400, 3, 21, 1.0, 0);
    pann_metric m = metric_of(PANN_L1, 3);
    pann_engine_opts full = opts_with(2, 0);     /* 0 = until every candidate is tried */
    pann_result ra, re;
    pann_scored_row *pa, *pe;
    size_t na, ne;
    envelope(&X, &m, &full, false, &ra, &pa, &na);
    envelope(&X, &m, &full, true, &re, &pe, &ne);
    cr_assert_eq(ra.nproven, X.n);
    cr_assert_eq(na, ne);
    for (size_t i = 0; i < na; i++) {
        cr_assert_eq(pa[i].row, pe[i].row);
        cr_assert_eq(pa[i].score, pe[i].score);
    }
    free(pa); free(pe);
    pann_result_free(&ra); pann_result_free(&re);
    pann_matrix_free(&X);
}

Test(envelope, anytime_scores_add_up_and_do_not_depend_on_threads)
{
    pann_matrix X = test_matrix(3000, 2, 22, 1.0, 0);
    pann_metric m = metric_of(PANN_L2, 2);
    pann_engine_opts o1 = opts_with(1, 20 * 3000), o2 = opts_with(2, 20 * 3000);
    pann_result r1, r2;
    pann_scored_row *p1, *p2;
    size_t n1, n2;
    envelope(&X, &m, &o1, false, &r1, &p1, &n1);
    envelope(&X, &m, &o2, false, &r2, &p2, &n2);
    cr_assert_lt(r1.nproven, X.n, "a partial budget proves not every row");
    double total = 0;
    cr_assert_eq(n1, n2);
    for (size_t i = 0; i < n1; i++) {
        cr_assert_eq(p1[i].row, p2[i].row);
        cr_assert_eq(p1[i].score, p2[i].score);
        cr_assert(i == 0 || p1[i - 1].score > p1[i].score
                  || (p1[i - 1].score == p1[i].score && p1[i - 1].row < p1[i].row));
        total += p1[i].score;
    }
    cr_assert_eq(total, (double)X.n, "every row chose one row");
    free(p1); free(p2);
    pann_result_free(&r1); pann_result_free(&r2);
    pann_matrix_free(&X);
}

Test(envelope, counting_by_hand_and_a_lone_row)
{
    uint32_t nn[5] = { 2, 2, 0, PANN_NONE, 2 };
    pann_result r = { .n = 5, .nn = nn };
    pann_scored_row *pts;
    size_t npts;
    cr_assert_eq(pann_extreme_count(&r, &pts, &npts, NULL), 0);
    cr_assert_eq(npts, 2);
    cr_assert_eq(pts[0].row, 2); cr_assert_eq(pts[0].score, 3.0);
    cr_assert_eq(pts[1].row, 0); cr_assert_eq(pts[1].score, 1.0);
    free(pts);

    pann_matrix X = test_matrix(1, 2, 1, 1.0, 0);   /* no other row to choose */
    pann_metric m = metric_of(PANN_L1, 2);
    pann_engine_opts o = opts_with(1, 0);
    pann_result r1;
    envelope(&X, &m, &o, true, &r1, &pts, &npts);
    cr_assert_eq(npts, 0);
    free(pts);
    pann_result_free(&r1);
    pann_matrix_free(&X);
}

/* ---- outliers ----------------------------------------------------------- */

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void brute_kth(const pann_matrix *X, const pann_metric *m, size_t k, double *dist)
{
    float *all = malloc(X->n * sizeof *all);
    for (size_t q = 0; q < X->n; q++) {
        size_t count = 0;
        for (size_t j = 0; j < X->n; j++)
            if (j != q)
                all[count++] = pann_cmp(m, pann_row(X, q), pann_row(X, j));
        qsort(all, count, sizeof *all, cmp_float);
        dist[q] = pann_cmp_to_dist(m, all[k - 1]);
    }
    free(all);
}

static void check_outliers(pann_metric_kind kind, size_t n, size_t d, int levels, size_t k,
                           int threads)
{
    pann_matrix X = test_matrix(n, d, 100 + n + k, 1.0, levels);
    pann_metric m = metric_of(kind, d);
    double *want = malloc(n * sizeof *want);
    brute_kth(&X, &m, k, want);
    pann_scored_row *ranked;
    cr_assert_eq(pann_extreme_outliers(&X, &m, k, threads, &ranked, NULL), 0);
    unsigned char *seen = calloc(n, 1);
    for (size_t i = 0; i < n; i++) {
        size_t row = ranked[i].row;
        cr_assert_lt(row, n);
        cr_assert_eq(seen[row], 0);
        seen[row] = 1;
        cr_assert_eq(ranked[i].score, want[row], "k=%zu row %zu: %.9g, brute force %.9g",
                     k, row, ranked[i].score, want[row]);
        if (i > 0)   /* most isolated first, ties by row */
            cr_assert(want[ranked[i - 1].row] > want[row]
                      || (want[ranked[i - 1].row] == want[row] && ranked[i - 1].row < row));
    }
    free(seen);
    free(ranked);
    free(want);
    pann_matrix_free(&X);
}

Test(outliers, kth_distance_and_ranking_equal_brute_force)
{
    check_outliers(PANN_L1, 300, 2, 0, 1, 2);
    check_outliers(PANN_L2, 300, 2, 0, 4, 1);
    check_outliers(PANN_L1, 1500, 3, 0, 7, 2);     /* several tiles, ragged end */
    check_outliers(PANN_L1, 200, 2, 3, 5, 2);      /* duplicates: distance 0 */
    check_outliers(PANN_L2, 61, 4, 0, 60, 2);      /* k = n - 1: the farthest */
    check_outliers(PANN_COSINE, 90, 3, 0, 2, 2);
}

Test(outliers, threads_give_identical_rankings)
{
    pann_matrix X = test_matrix(2500, 4, 31, 1.0, 5);
    pann_metric m = metric_of(PANN_L1, 4);
    pann_scored_row *a, *b;
    cr_assert_eq(pann_extreme_outliers(&X, &m, 3, 1, &a, NULL), 0);
    cr_assert_eq(pann_extreme_outliers(&X, &m, 3, 2, &b, NULL), 0);
    cr_assert_eq(memcmp(a, b, X.n * sizeof *a), 0);
    free(a);
    free(b);
    pann_matrix_free(&X);
}

Test(outliers, k_out_of_range_is_an_input_error)
{
    pann_matrix X = test_matrix(5, 2, 1, 1.0, 0);
    pann_metric m = metric_of(PANN_L1, 2);
    pann_error err = {0};
    double dist[5];
    cr_assert_eq(pann_kth_distance(&X, &m, 5, 1, dist, &err), PANN_EINPUT);
    cr_assert(strstr(err.msg, "k = 5"), "%s", err.msg);
    cr_assert_eq(pann_kth_distance(&X, &m, 0, 1, dist, &err), PANN_EINPUT);
    cr_assert_eq(pann_kth_distance(&X, &m, 4, 1, dist, &err), 0);
    pann_matrix_free(&X);
}
