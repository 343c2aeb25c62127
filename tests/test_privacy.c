/* test_privacy.c — the figures of lib/privacy.c against a brute force
 * written here from the definitions: every pair of rows compared in double,
 * lists sorted by hand, quantiles by numpy's rule, AUC and dcr_share counted
 * pair by pair, Pearson and Cramer's V from their textbook formulas.  Tables
 * mix numeric columns of few levels (so ties and duplicates are common)
 * with categorical codes; values are small integers and halves, exact in
 * float, so the float kernels and the double brute force agree exactly. */
#include <criterion/criterion.h>
#include <string.h>
#include "testutil.h"
#include "pann_privacy.h"

#define D 4
static const unsigned char CAT[D] = { 0, 1, 0, 1 };

static pann_metric mixed_metric(void)
{
    return (pann_metric){ PANN_L1, D, CAT };
}

/* n rows: numeric columns in halves 0..levels/2, categorical codes < 3. */
static pann_matrix mixed(size_t n, unsigned long seed, int levels)
{
    pann_matrix m = test_matrix(n, D, seed, 1.0, levels);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < D; j++)
            m.v[i * D + j] = CAT[j] ? (float)((int)m.v[i * D + j] % 3) : m.v[i * D + j] / 2;
    return m;
}

static double dist(const pann_matrix *A, size_t i, const pann_matrix *B, size_t k)
{
    double s = 0;
    for (size_t j = 0; j < D; j++) {
        double a = A->v[i * D + j], b = B->v[k * D + j];
        s += CAT[j] ? (a != b) : fabs(a - b);
    }
    return s;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* numpy's default quantile of n unsorted values (sorted in place). */
static double quantile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, by_value);
    double h = q * (n - 1);
    size_t lo = (size_t)h;
    return lo + 1 < n ? v[lo] + (h - lo) * (v[lo + 1] - v[lo]) : v[n - 1];
}

/* d1[i], d2[i]: the two smallest distances of Q's row i to R's rows. */
static void two_smallest(const pann_matrix *Q, const pann_matrix *R, double *d1, double *d2)
{
    for (size_t i = 0; i < Q->n; i++) {
        d1[i] = d2[i] = INFINITY;
        for (size_t k = 0; k < R->n; k++) {
            double d = dist(Q, i, R, k);
            if (d < d1[i]) {
                d2[i] = d1[i];
                d1[i] = d;
            } else if (d < d2[i]) {
                d2[i] = d;
            }
        }
    }
}

typedef struct brute {
    double dcr, exact, hexact, nndr, hnndr, auc, q05, q50, hq05, hq50;
} brute;

static void nn_figures(const pann_matrix *Q, const pann_matrix *T, double *exact, double *nndr,
                       double *q05, double *q50, double *d1)
{
    double *d2 = malloc(Q->n * sizeof *d2), *r = malloc(Q->n * sizeof *r);
    two_smallest(Q, T, d1, d2);
    size_t zero = 0;
    for (size_t i = 0; i < Q->n; i++) {
        zero += d1[i] == 0;
        r[i] = d1[i] == 0 ? 0 : d1[i] / d2[i];
    }
    *exact = (double)zero / Q->n;
    *nndr = quantile(r, Q->n, 0.5);
    memcpy(r, d1, Q->n * sizeof *r);
    *q05 = quantile(r, Q->n, 0.05);
    *q50 = quantile(r, Q->n, 0.5);
    free(d2);
    free(r);
}

static brute brute_force(const pann_matrix *T, const pann_matrix *S, const pann_matrix *H)
{
    brute b;
    double *st = malloc(S->n * sizeof *st), *ht = malloc(H->n * sizeof *ht);
    double *sh = malloc(S->n * sizeof *sh), *sh2 = malloc(S->n * sizeof *sh2);
    nn_figures(S, T, &b.exact, &b.nndr, &b.q05, &b.q50, st);
    nn_figures(H, T, &b.hexact, &b.hnndr, &b.hq05, &b.hq50, ht);
    two_smallest(S, H, sh, sh2);
    double nearer = 0;
    for (size_t i = 0; i < S->n; i++)
        nearer += st[i] < sh[i] ? 1 : st[i] == sh[i] ? 0.5 : 0;
    b.dcr = nearer / S->n;
    /* every (TRAIN row, HOLDOUT row) pair by distance to SYNTH */
    double *ts = malloc(T->n * sizeof *ts), *hs = malloc(H->n * sizeof *hs);
    double *tmp = malloc((T->n > H->n ? T->n : H->n) * sizeof *tmp);
    two_smallest(T, S, ts, tmp);
    two_smallest(H, S, hs, tmp);
    double wins = 0;
    for (size_t i = 0; i < T->n; i++)
        for (size_t k = 0; k < H->n; k++)
            wins += ts[i] < hs[k] ? 1 : ts[i] == hs[k] ? 0.5 : 0;
    b.auc = wins / ((double)T->n * H->n);
    free(st), free(ht), free(sh), free(sh2), free(ts), free(hs), free(tmp);
    return b;
}

static pann_privacy run(const pann_matrix *T, const pann_matrix *S, const pann_matrix *H,
                        size_t k, int threads)
{
    pann_metric m = mixed_metric();
    pann_engine_opts o;
    pann_engine_opts_init(&o);
    o.threads = threads;
    o.seed = 7;
    pann_privacy p;
    pann_error err = {0};
    cr_assert_eq(pann_privacy_run(T, S, H, &m, k, &o, &p, &err), 0, "%s", err.msg);
    return p;
}

static void expect_brute(const pann_privacy *p, const brute *b)
{
    cr_expect_eq(p->dcr_share, b->dcr, "dcr_share %g, brute force %g", p->dcr_share, b->dcr);
    cr_expect_eq(p->exact_match_share, b->exact);
    cr_expect_eq(p->holdout_exact_match_share, b->hexact);
    cr_expect_float_eq(p->nndr_median, b->nndr, 1e-6, "nndr %g vs %g", p->nndr_median, b->nndr);
    cr_expect_float_eq(p->holdout_nndr_median, b->hnndr, 1e-6);
    cr_expect_eq(p->mia_auc, b->auc, "mia_auc %g, brute force %g", p->mia_auc, b->auc);
    cr_expect_float_eq(p->synth_q05, b->q05, 1e-9);
    cr_expect_float_eq(p->synth_q50, b->q50, 1e-9);
    cr_expect_float_eq(p->holdout_q05, b->hq05, 1e-9);
    cr_expect_float_eq(p->holdout_q50, b->hq50, 1e-9);
}

Test(privacy, every_figure_equals_brute_force_with_ties)
{
    for (unsigned long seed = 1; seed <= 4; seed++) {
        pann_matrix T = mixed(180, seed, 6), S = mixed(150, seed + 10, 6),
                    H = mixed(90, seed + 20, 6);
        /* duplicates and copies: two TRAIN rows repeated, SYNTH copying TRAIN */
        memcpy(T.v + 5 * D, T.v + 4 * D, D * sizeof *T.v);
        memcpy(S.v, T.v + 7 * D, D * sizeof *S.v);
        memcpy(H.v, T.v + 9 * D, D * sizeof *H.v);
        brute b = brute_force(&T, &S, &H);
        pann_privacy p = run(&T, &S, &H, 5, 1);
        expect_brute(&p, &b);
        cr_expect(b.exact > 0 && b.q05 == 0, "the tables hold the ties they are meant to");
        pann_matrix_free(&T), pann_matrix_free(&S), pann_matrix_free(&H);
    }
}

/* One SYNTH row equidistant from TRAIN and HOLDOUT counts one half; a
 * TRAIN and a HOLDOUT row equally near SYNTH count one half in the AUC. */
Test(privacy, hand_made_ties)
{
    pann_matrix T, S, H;
    pann_error err;
    cr_assert_eq(pann_matrix_alloc(&T, 2, D, &err), 0);
    cr_assert_eq(pann_matrix_alloc(&S, 1, D, &err), 0);
    cr_assert_eq(pann_matrix_alloc(&H, 1, D, &err), 0);
    float t[2][D] = { { 0, 0, 0, 0 }, { 4, 1, 0, 0 } }, s[D] = { 1, 0, 0, 0 },
          h[D] = { 2, 0, 0, 0 };
    memcpy(T.v, t, sizeof t);
    memcpy(S.v, s, sizeof s);
    memcpy(H.v, h, sizeof h);
    pann_privacy p = run(&T, &S, &H, 0, 1);
    cr_expect_eq(p.dcr_share, 0.5, "S is 1 from TRAIN row 1 and 1 from HOLDOUT: %g",
                 p.dcr_share);
    /* TRAIN rows at 1 and 4 from S, HOLDOUT at 1: pairs 1 = 1 (half), 4 > 1 (0) */
    cr_expect_eq(p.mia_auc, 0.25, "%g", p.mia_auc);
    cr_expect_eq(p.nndr_median, 1.0 / 4.0, "d1 = 1, d2 = |1-4| + 1 (category) = 4: %g",
                 p.nndr_median);
    cr_expect_eq(p.exact_match_share, 0);
    cr_expect(isnan(p.detection));
    pann_matrix_free(&T), pann_matrix_free(&S), pann_matrix_free(&H);
}

Test(privacy, copies_of_train)
{
    pann_matrix T = mixed(300, 3, 1000), H = mixed(300, 4, 1000), S = mixed(300, 3, 1000);
    pann_privacy p = run(&T, &S, &H, 5, 2);
    brute b = brute_force(&T, &S, &H);
    expect_brute(&p, &b);
    cr_expect_gt(p.dcr_share, 0.99, "copies: dcr_share %g", p.dcr_share);
    cr_expect_eq(p.exact_match_share, 1.0);
    cr_expect_eq(p.nndr_median, 0.0);
    cr_expect_gt(p.mia_auc, 0.9, "copies: mia_auc %g", p.mia_auc);
    cr_expect_eq(p.synth_q50, 0.0);
    pann_matrix_free(&T), pann_matrix_free(&S), pann_matrix_free(&H);
}

Test(privacy, independent_draw_is_near_the_ideals)
{
    pann_matrix T = mixed(2000, 11, 200), H = mixed(2000, 12, 200), S = mixed(2000, 13, 200);
    pann_privacy p = run(&T, &S, &H, 5, 2);
    cr_expect_float_eq(p.dcr_share, p.dcr_share_ideal, 0.04, "dcr_share %g", p.dcr_share);
    cr_expect_float_eq(p.mia_auc, 0.5, 0.03, "mia_auc %g", p.mia_auc);
    cr_expect_float_eq(p.detection, 0.5, 0.04, "detection %g", p.detection);
    cr_expect_float_eq(p.nndr_median, p.holdout_nndr_median, 0.05);
    cr_expect_float_eq(p.synth_q50, p.holdout_q50, 0.1 * p.holdout_q50 + 1e-9);
    cr_expect_lt(p.dependence.all, 0.05, "dependence_diff %g", p.dependence.all);
    pann_matrix_free(&T), pann_matrix_free(&S), pann_matrix_free(&H);
}

Test(privacy, same_figures_for_any_thread_count)
{
    pann_matrix T = mixed(700, 5, 9), H = mixed(400, 6, 9), S = mixed(900, 7, 9);
    pann_privacy a = run(&T, &S, &H, 5, 1), b = run(&T, &S, &H, 5, 2);
    cr_expect_eq(memcmp(&a, &b, sizeof a), 0, "-j 1 and -j 2 differ");
    pann_matrix_free(&T), pann_matrix_free(&S), pann_matrix_free(&H);
}

/* ---- detection and dependence -------------------------------------------- */

/* Leave-one-out majority vote of the K nearest (ties to the lower row,
 * vote ties to the nearest tied class) over H then S, every row taken. */
static double brute_detection(const pann_matrix *S, const pann_matrix *H, size_t k)
{
    size_t n = H->n + S->n, correct = 0;
    for (size_t i = 0; i < n; i++) {
        const pann_matrix *A = i < H->n ? H : S;
        size_t ai = i < H->n ? i : i - H->n;
        size_t best[16];
        double bd[16];
        size_t have = 0;
        for (size_t j = 0; j < n; j++) {
            if (j == i)
                continue;
            double d = dist(A, ai, j < H->n ? H : S, j < H->n ? j : j - H->n);
            size_t at = have < k ? have++ : k;
            if (at == k && !(d < bd[k - 1]))
                continue;
            if (at == k)
                at = k - 1;
            while (at > 0 && bd[at - 1] > d) {
                bd[at] = bd[at - 1];
                best[at] = best[at - 1];
                at--;
            }
            bd[at] = d;
            best[at] = j;
        }
        size_t votes[2] = { 0, 0 };
        for (size_t r = 0; r < k; r++)
            votes[best[r] >= H->n]++;
        size_t pred = votes[1] > votes[0] ? 1 : votes[0] > votes[1] ? 0 : best[0] >= H->n;
        correct += pred == (i >= H->n);
    }
    return (double)correct / n;
}

Test(privacy, detection_equals_brute_force)
{
    for (size_t k = 1; k <= 6; k++) {
        pann_matrix T = mixed(50, 1, 8), H = mixed(120, 2, 8), S = mixed(120, 3, 5);
        pann_privacy p = run(&T, &S, &H, k, 2);
        double b = brute_detection(&S, &H, k);
        cr_expect_eq(p.detection, b, "K = %zu: %g, brute force %g", k, p.detection, b);
        cr_expect_eq(p.detection_rows, 120);
        pann_matrix_free(&T), pann_matrix_free(&S), pann_matrix_free(&H);
    }
}

static double brute_pearson(const pann_matrix *M, size_t a, size_t b)
{
    double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, n = M->n;
    for (size_t i = 0; i < M->n; i++) {
        double x = M->v[i * D + a], y = M->v[i * D + b];
        sa += x, sb += y, saa += x * x, sbb += y * y, sab += x * y;
    }
    double cov = sab - sa * sb / n, va = saa - sa * sa / n, vb = sbb - sb * sb / n;
    return va > 1e-12 && vb > 1e-12 ? cov / sqrt(va * vb) : 0;
}

/* Cramer's V from the full contingency table of codes < 3. */
static double brute_cramer(const pann_matrix *M, size_t a, size_t b)
{
    double n[3][3] = { { 0 } }, ra[3] = { 0 }, cb[3] = { 0 }, chi2 = 0;
    for (size_t i = 0; i < M->n; i++) {
        int x = (int)M->v[i * D + a], y = (int)M->v[i * D + b];
        n[x][y]++, ra[x]++, cb[y]++;
    }
    int r = 0, c = 0;
    for (int x = 0; x < 3; x++)
        r += ra[x] > 0, c += cb[x] > 0;
    for (int x = 0; x < 3; x++)
        for (int y = 0; y < 3; y++)
            if (ra[x] > 0 && cb[y] > 0) {
                double e = ra[x] * cb[y] / M->n;
                chi2 += (n[x][y] - e) * (n[x][y] - e) / e;
            }
    int levels = r < c ? r : c;
    return levels < 2 ? 0 : sqrt(chi2 / (M->n * (levels - 1.0)));
}

Test(privacy, dependence_equals_textbook_formulas)
{
    pann_matrix A = mixed(400, 8, 7), B = mixed(300, 9, 7);
    for (size_t i = 0; i < B.n; i++)   /* dependence in B: column 2 follows 0, 3 follows 1 */
        B.v[i * D + 2] = B.v[i * D + 0] + (i % 3 == 0), B.v[i * D + 3] = B.v[i * D + 1];
    pann_metric m = mixed_metric();
    pann_dependence d;
    pann_error err;
    cr_assert_eq(pann_dependence_diff(&A, &B, &m, &d, &err), 0);
    double corr = fabs(brute_pearson(&A, 0, 2) - brute_pearson(&B, 0, 2));
    double cram = fabs(brute_cramer(&A, 1, 3) - brute_cramer(&B, 1, 3));
    cr_expect_eq(d.numeric_pairs, 1);
    cr_expect_eq(d.categorical_pairs, 1);
    cr_expect_float_eq(d.correlation, corr, 1e-9, "%g vs %g", d.correlation, corr);
    cr_expect_float_eq(d.cramers_v, cram, 1e-9, "%g vs %g", d.cramers_v, cram);
    cr_expect_float_eq(d.all, (corr + cram) / 2, 1e-9);
    cr_expect_gt(cram, 0.5, "B's categorical columns are equal: V = 1 there");
    pann_matrix_free(&A), pann_matrix_free(&B);
}

Test(privacy, quantile_and_auc_helpers)
{
    double v[5] = { 1, 2, 4, 8, 16 };
    cr_expect_eq(pann_quantile_linear(v, 5, 0.5), 4);
    cr_expect_float_eq(pann_quantile_linear(v, 5, 0.05), 1.2, 1e-12);
    cr_expect_eq(pann_quantile_linear(v, 5, 1.0), 16);
    cr_expect(isnan(pann_quantile_linear(v, 0, 0.5)));
    float a[3] = { 1, 2, 2 }, b[3] = { 2, 2, 3 };
    /* a=1: 3 wins; a=2: 1 win + 2 halves, twice: (3 + 2 + 2) / 9 */
    cr_expect_float_eq(pann_auc_sorted(a, 3, b, 3), 7.0 / 9.0, 1e-12);
}

Test(privacy, too_few_rows_is_an_error)
{
    pann_matrix T = mixed(1, 1, 4), S = mixed(3, 2, 4), H = mixed(3, 3, 4);
    pann_metric m = mixed_metric();
    pann_engine_opts o;
    pann_engine_opts_init(&o);
    pann_privacy p;
    pann_error err = {0};
    cr_expect_eq(pann_privacy_run(&T, &S, &H, &m, 0, &o, &p, &err), PANN_EINPUT);
    cr_expect(strstr(err.msg, "TRAIN has 1 row") != NULL, "%s", err.msg);
    pann_matrix_free(&T);
    T = mixed(5, 1, 4);
    cr_expect_eq(pann_privacy_run(&T, &S, &H, &m, 6, &o, &p, &err), PANN_EINPUT, "K 6 > 5 rows");
    pann_matrix_free(&T), pann_matrix_free(&S), pann_matrix_free(&H);
}
