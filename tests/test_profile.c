/* test_profile.c — summary statistics, correlations and autocorrelations
 * against values worked out by hand and a textbook double loop written
 * here; the feature tables of whole files (names, layout, matching columns
 * by name, missing values, located errors). */
#include <criterion/criterion.h>
#include "tmpdir.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"

#define EPS 1e-12

Test(stats, hand_computed)
{
    /* x = 1 2 3 4 10: mean 4, squares of deviations 9 4 1 0 36 (sum 50),
     * sd = sqrt(50/4); m2 = 10, m3 = (-27-8-1+0+216)/5 = 36,
     * m4 = (81+16+1+0+1296)/5 = 278.8; quartiles at h = 1, 2, 3. */
    const double x[] = { 10, 2, 4, 1, 3 };
    double s[PANN_PROFILE_NSTATS];
    pann_error err = {0};
    cr_assert_eq(pann_profile_stats(x, 5, s, &err), 0);
    const double want[] = { 4, sqrt(12.5), 1, 2, 3, 4, 10, 36 / pow(10, 1.5), 2.788 - 3 };
    for (int i = 0; i < PANN_PROFILE_NSTATS; i++)
        cr_assert_float_eq(s[i], want[i], EPS, "%s: %.17g, want %.17g",
                           pann_profile_stat_names[i], s[i], want[i]);
    cr_assert_eq(x[0], 10, "input untouched");
    /* interpolated quartiles: 1 2 3 4 -> h = 0.75, 1.5, 2.25 */
    const double y[] = { 4, 3, 2, 1 };
    cr_assert_eq(pann_profile_stats(y, 4, s, &err), 0);
    cr_assert_float_eq(s[3], 1.75, EPS);
    cr_assert_float_eq(s[4], 2.5, EPS);
    cr_assert_float_eq(s[5], 3.25, EPS);
    cr_assert_float_eq(s[7], 0.0, EPS, "symmetric: no skewness");
    /* 1 2 3 4: m2 = 1.25, m4 = (5.0625*2 + 0.0625*2)/4 = 2.5625 */
    cr_assert_float_eq(s[8], 2.5625 / (1.25 * 1.25) - 3, EPS);
    const double c[] = { 7, 7, 7 };
    cr_assert_eq(pann_profile_stats(c, 3, s, &err), 0);
    cr_assert_eq(s[1], 0);
    cr_assert_eq(s[7], 0, "constant: skewness 0, not NaN");
    cr_assert_eq(s[8], 0);
    cr_assert_eq(pann_profile_stats(c, 1, s, &err), PANN_EINPUT);
}

Test(acf, hand_computed_and_textbook_loop)
{
    /* 1..5: mean 3, denominator 10; lag 1: 2+0+0+2 = 4; lag 2: 0-1+0 = -1 */
    const double x[] = { 1, 2, 3, 4, 5 };
    double r[4];
    pann_profile_acf(x, 5, 4, r);
    cr_assert_float_eq(r[0], 0.4, EPS);
    cr_assert_float_eq(r[1], -0.1, EPS);
    cr_assert_float_eq(r[2], -0.4, EPS);    /* (-2)(1) + (-1)(2) = -4 */
    cr_assert_float_eq(r[3], -0.4, EPS);    /* (-2)(2) = -4 */
    /* a long AR(1) series: the textbook formula written out here, and
     * r_1 close to phi */
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 3);
    size_t n = 20000;
    double *s = malloc(n * sizeof *s), v = 0, got[12];
    for (size_t t = 0; t < n; t++)
        s[t] = v = 0.7 * v + gsl_ran_gaussian(rng, 1.0);
    gsl_rng_free(rng);
    pann_profile_acf(s, n, 12, got);
    double mean = 0, den = 0;
    for (size_t t = 0; t < n; t++) mean += s[t] / n;
    for (size_t t = 0; t < n; t++) den += (s[t] - mean) * (s[t] - mean);
    for (size_t k = 1; k <= 12; k++) {
        double num = 0;
        for (size_t t = k; t < n; t++) num += (s[t] - mean) * (s[t - k] - mean);
        cr_assert_float_eq(got[k - 1], num / den, 1e-9, "lag %zu", k);
        cr_assert(fabs(got[k - 1] - pow(0.7, (double)k)) < 0.05, "lag %zu: %g vs 0.7^k", k,
                  got[k - 1]);
    }
    free(s);
    const double c[] = { 2, 2, 2, 2 };
    pann_profile_acf(c, 4, 2, r);
    cr_assert(r[0] == 0 && r[1] == 0, "constant series: 0, not NaN");
}

Test(corr, hand_computed)
{
    /* x = 1 2 3, y = 2 4 7: deviations -1 0 1 and -7/3 -1/3 8/3:
     * sxy = 5, sxx = 2, syy = (49 + 1 + 64)/9 = 114/9 */
    const double x[] = { 1, 2, 3 }, y[] = { 2, 4, 7 }, z[] = { 6, 4, 2 }, c[] = { 1, 1, 1 };
    cr_assert_float_eq(pann_profile_corr(x, y, 3), 5 / sqrt(2 * 114.0 / 9), EPS);
    cr_assert_float_eq(pann_profile_corr(x, z, 3), -1.0, EPS);
    cr_assert_eq(pann_profile_corr(x, c, 3), 0.0);
}

static void table_of(pann_table *t, const char *name, const char *text)
{
    char path[TEST_PATH_MAX], base[256];
    snprintf(base, sizeof base, "test-profile-%d-%s", (int)getpid(), name);
    test_tmp_path(path, base);
    FILE *fp = fopen(path, "w");
    cr_assert(fp);
    fputs(text, fp);
    fclose(fp);
    pann_read_opts o;
    pann_read_opts_init(&o);
    pann_error err = {0};
    cr_assert_eq(pann_table_read(t, path, &o, &err), 0, "%s", err.msg);
    unlink(path);
}

static size_t col(const pann_profile *p, const char *name)
{
    for (size_t j = 0; j < p->ncols; j++)
        if (strcmp(p->col_names[j], name) == 0)
            return j;
    cr_assert_fail("no feature %s", name);
    return 0;
}

Test(build, per_table_layout_and_values)
{
    pann_table a, b;
    table_of(&a, "a.csv", "x,y,label\n1,2,p\n2,4,q\n3,7,r\n");
    table_of(&b, "b.csv", "y,x\n6,1\n4,2\n2,3\n");       /* other column order */
    const pann_table *ts[] = { &a, &b };
    pann_profile_opts o;
    pann_profile_opts_init(&o);
    o.columns = "x,y";
    o.lags = 1;
    pann_profile p;
    pann_error err = {0};
    cr_assert_eq(pann_profile_build(ts, 2, &o, &p, &err), 0, "%s", err.msg);
    cr_assert_eq(p.nrows, 2);
    cr_assert_eq(p.ncols, 2 * (PANN_PROFILE_NSTATS + 1) + 1);
    cr_assert_str_eq(p.col_names[0], "x_mean");
    cr_assert_str_eq(p.col_names[PANN_PROFILE_NSTATS], "x_acf_1");
    cr_assert_str_eq(p.col_names[p.ncols - 1], "corr_x_y");
    cr_assert(strstr(p.row_names[1], "b.csv"));
    cr_assert_float_eq(p.v[col(&p, "y_mean")], 13 / 3.0, EPS);
    cr_assert_float_eq(p.v[col(&p, "corr_x_y")], 5 / sqrt(2 * 114.0 / 9), EPS);
    cr_assert_float_eq(p.v[p.ncols + col(&p, "corr_x_y")], -1.0, EPS, "matched by name");
    cr_assert_float_eq(p.v[p.ncols + col(&p, "y_max")], 6.0, EPS);
    /* x = 1 2 3: lag 1 = ((-1)(0) + (0)(1)) / 2 = 0 */
    cr_assert_float_eq(p.v[col(&p, "x_acf_1")], 0.0, EPS);
    pann_profile_free(&p);
    o.columns = "label";
    cr_assert_eq(pann_profile_build(ts, 1, &o, &p, &err), PANN_EINPUT);
    cr_assert(strstr(err.msg, ":2:3: 'p' is not a number"), "%s", err.msg);
    o.columns = "x,y";
    o.lags = 3;
    cr_assert_eq(pann_profile_build(ts, 1, &o, &p, &err), PANN_EINPUT);
    cr_assert(strstr(err.msg, "column 'x' has 3 values; --lags must be below"), "%s", err.msg);
    pann_table_free(&a);
    pann_table_free(&b);
}

Test(build, series_rows_and_missing_values)
{
    pann_table a;
    table_of(&a, "s.csv", "u,v\n1,5\n2,\n3,3\nNA,2\n5,1\n");
    const pann_table *ts[] = { &a, &a };
    pann_profile_opts o;
    pann_profile_opts_init(&o);
    o.series = true;
    o.stats = false;
    o.lags = 2;
    pann_profile p;
    pann_error err = {0};
    cr_assert_eq(pann_profile_build(ts, 1, &o, &p, &err), PANN_EINPUT);
    cr_assert(strstr(err.msg, ":5:1: missing value in column 'u'"), "%s", err.msg);
    o.skip_missing = true;
    cr_assert_eq(pann_profile_build(ts, 1, &o, &p, &err), 0, "%s", err.msg);
    cr_assert_eq(p.nrows, 2);
    cr_assert_eq(p.ncols, 2);
    cr_assert_str_eq(p.row_names[0], "u");
    cr_assert_str_eq(p.col_names[1], "acf_2");
    double u[] = { 1, 2, 3, 5 }, v[] = { 5, 3, 2, 1 }, r[2];
    pann_profile_acf(u, 4, 2, r);
    cr_assert_eq(p.v[0], r[0]);
    cr_assert_eq(p.v[1], r[1]);
    pann_profile_acf(v, 4, 2, r);
    cr_assert_eq(p.v[2], r[0]);
    pann_profile_free(&p);
    cr_assert_eq(pann_profile_build(ts, 2, &o, &p, &err), 0);
    cr_assert_eq(p.nrows, 4);
    cr_assert(strstr(p.row_names[3], "s.csv:v"), "%s", p.row_names[3]);
    pann_profile_free(&p);
    o.lags = 0;
    cr_assert_eq(pann_profile_build(ts, 1, &o, &p, &err), PANN_EINPUT);
    cr_assert(strstr(err.msg, "no features"), "%s", err.msg);
    pann_table_free(&a);
}
