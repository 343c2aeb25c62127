/* test_fit.c — unit tests of the power-law fit (lib/fit.c).
 *
 * Recovers known parameters of generated curves, with and without
 * deterministic noise, checks that bounds are honoured and reported, checks
 * the residual against an independent brute-force grid over (a, b, c), and
 * covers the input errors.
 */
#include <math.h>
#include <string.h>

#include <criterion/criterion.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "pann.h"

#define NPTS 100

/* t = 100, 200, ..., 10000 as in the article; y = a + b t^c + noise. */
static void make_curve(double *t, double *y, size_t n, double t0, double dt,
                       double a, double b, double c, double noise_sd)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    cr_assert_not_null(r);
    gsl_rng_set(r, 12345);
    for (size_t i = 0; i < n; i++) {
        t[i] = t0 + dt * (double)i;
        y[i] = a + b * pow(t[i], c);
        if (noise_sd > 0.0)
            y[i] += gsl_ran_gaussian(r, noise_sd);
    }
    gsl_rng_free(r);
}

static double rss_of(const double *t, const double *y, size_t n, double a,
                     double b, double c)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = a + b * pow(t[i], c) - y[i];
        s += e * e;
    }
    return s;
}

static pann_fit fit_ok(const double *t, const double *y, size_t n,
                       pann_mode mode)
{
    pann_fit f;
    pann_error err = { 0 };
    int st = pann_fit_power(t, y, n, mode, &f, &err);
    cr_assert_eq(st, 0, "fit failed: %s", err.msg);
    cr_assert_eq(f.npoints, n);
    return f;
}

static void assert_within_se(double est, double truth, double se,
                             const char *name)
{
    cr_assert(isfinite(se) && se > 0.0, "%s: SE %g not positive finite",
              name, se);
    cr_assert(fabs(est - truth) <= 4.0 * se,
              "%s: %.9g is %.2f SE from the true %.9g (SE %g)", name, est,
              fabs(est - truth) / se, truth, se);
}

Test(fit, exact_curve_recovered)
{
    double t[NPTS], y[NPTS];
    make_curve(t, y, NPTS, 100, 100, 0.067, 0.5, -0.5, 0.0);
    pann_fit f = fit_ok(t, y, NPTS, PANN_MIN);
    cr_expect_float_eq(f.a, 0.067, 1e-7);
    cr_expect_float_eq(f.b, 0.5, 1e-6);
    cr_expect_float_eq(f.c, -0.5, 1e-6);
    cr_expect_lt(f.rss, 1e-20);
    cr_expect_not(f.at_bound);
    cr_expect(isfinite(f.se_a) && isfinite(f.se_b) && isfinite(f.se_c));
}

Test(fit, noisy_curve_within_standard_errors)
{
    double t[NPTS], y[NPTS];
    make_curve(t, y, NPTS, 100, 100, 0.067, 0.5, -0.5, 1e-3);
    pann_fit f = fit_ok(t, y, NPTS, PANN_MIN);
    cr_expect_not(f.at_bound);
    assert_within_se(f.a, 0.067, f.se_a, "a");
    assert_within_se(f.b, 0.5, f.se_b, "b");
    assert_within_se(f.c, -0.5, f.se_c, "c");
    cr_expect_float_eq(f.rss, rss_of(t, y, NPTS, f.a, f.b, f.c),
                       1e-12 * f.rss);
}

Test(fit, exponent_beyond_bound_stops_at_minus_one)
{
    double t[NPTS], y[NPTS];
    make_curve(t, y, NPTS, 100, 100, 0.067, 0.5, -1.5, 0.0);
    pann_fit f = fit_ok(t, y, NPTS, PANN_MIN);
    cr_expect_eq(f.c, -1.0);
    cr_expect(f.at_bound);
    cr_expect(isnan(f.se_c), "SE of a parameter on a bound must be NAN");
    cr_expect(f.a >= 0.0 && f.b >= 0.0);
}

Test(fit, negative_offset_stops_at_a_zero)
{
    double t[NPTS], y[NPTS];
    make_curve(t, y, NPTS, 100, 100, -0.02, 0.5, -0.5, 0.0);
    pann_fit f = fit_ok(t, y, NPTS, PANN_MIN);
    cr_expect_eq(f.a, 0.0);
    cr_expect(f.at_bound);
    cr_expect(isnan(f.se_a));
    cr_expect(f.c >= -1.0 && f.c <= 0.0);
}

Test(fit, max_mode_exponent_in_unit_interval)
{
    double t[NPTS], y[NPTS];
    make_curve(t, y, NPTS, 1, 2, 1.0, 0.2, 0.3, 1e-3);
    pann_fit f = fit_ok(t, y, NPTS, PANN_MAX);
    cr_expect(f.c > 0.0 && f.c < 1.0);
    cr_expect_not(f.at_bound);
    assert_within_se(f.a, 1.0, f.se_a, "a");
    assert_within_se(f.b, 0.2, f.se_b, "b");
    assert_within_se(f.c, 0.3, f.se_c, "c");
}

Test(fit, three_points_fit_without_standard_errors)
{
    double t[3] = { 1, 4, 16 }, y[3];
    for (int i = 0; i < 3; i++)
        y[i] = 0.1 + 2.0 / sqrt(t[i]);
    pann_fit f = fit_ok(t, y, 3, PANN_MIN);
    cr_expect_float_eq(f.c, -0.5, 1e-6);
    cr_expect(isnan(f.se_a) && isnan(f.se_b) && isnan(f.se_c));
}

/* ---- against an independent brute-force search ------------------------ */

/* Best residual over a grid of (a, b, c); for each c the range of b is
 * chosen so that b t^c spans the data's scale. */
static double brute_force_rss(const double *t, const double *y, size_t n,
                              double clo, double chi)
{
    const int na = 80, nb = 80, nc = 101;
    double ymax = 0.0;
    for (size_t i = 0; i < n; i++)
        ymax = fmax(ymax, fabs(y[i]));
    double best = INFINITY;
    for (int k = 0; k < nc; k++) {
        double c = clo + (chi - clo) * k / (nc - 1);
        double x[n], xmin = INFINITY;
        for (size_t i = 0; i < n; i++)
            xmin = fmin(xmin, x[i] = pow(t[i], c));
        double bmax = 2.0 * ymax / xmin;
        for (int ia = 0; ia < na; ia++)
            for (int ib = 0; ib < nb; ib++) {
                double a = 2.0 * ymax * ia / (na - 1);
                double b = bmax * ib / (nb - 1), s = 0.0;
                for (size_t i = 0; i < n; i++)
                    s += (a + b * x[i] - y[i]) * (a + b * x[i] - y[i]);
                best = fmin(best, s);
            }
    }
    return best;
}

static void check_against_grid(const double *t, const double *y, size_t n,
                               pann_mode mode)
{
    double clo = mode == PANN_MAX ? 0.0 : -1.0, chi = clo + 1.0;
    pann_fit f = fit_ok(t, y, n, mode);
    cr_assert(f.a >= 0.0 && f.b >= 0.0 && f.c >= clo && f.c <= chi);
    double grid = brute_force_rss(t, y, n, clo, chi);
    cr_expect_leq(f.rss, grid * (1.0 + 1e-9),
                  "fit rss %.17g worse than grid %.17g", f.rss, grid);
}

Test(fit, no_worse_than_brute_force_grid)
{
    double t[NPTS], y[NPTS];
    make_curve(t, y, NPTS, 100, 100, 0.067, 0.5, -0.5, 1e-2);
    check_against_grid(t, y, NPTS, PANN_MIN);
    make_curve(t, y, NPTS, 100, 100, 0.067, 0.5, -1.5, 1e-4);
    check_against_grid(t, y, NPTS, PANN_MIN);
    make_curve(t, y, NPTS, 100, 100, -0.02, 0.5, -0.5, 1e-3);
    check_against_grid(t, y, NPTS, PANN_MIN);
    /* Increasing data in min mode: only constants are admissible. */
    make_curve(t, y, NPTS, 1, 1, 1.0, 0.1, 0.5, 1e-2);
    check_against_grid(t, y, NPTS, PANN_MIN);
    make_curve(t, y, NPTS, 1, 2, 1.0, 0.2, 0.3, 5e-2);
    check_against_grid(t, y, NPTS, PANN_MAX);
}

Test(fit, increasing_data_in_min_mode_is_constant)
{
    double t[NPTS], y[NPTS], mean = 0.0, ss = 0.0;
    make_curve(t, y, NPTS, 1, 1, 1.0, 0.1, 0.5, 0.0);
    for (int i = 0; i < NPTS; i++)
        mean += y[i] / NPTS;
    for (int i = 0; i < NPTS; i++)
        ss += (y[i] - mean) * (y[i] - mean);
    pann_fit f = fit_ok(t, y, NPTS, PANN_MIN);
    cr_expect(f.at_bound);
    cr_expect_float_eq(f.rss, ss, 1e-9 * ss);
}

/* ---- errors --------------------------------------------------------------- */

static void expect_input_error(const double *t, const double *y, size_t n,
                               const char *needle)
{
    pann_fit f;
    pann_error err = { 0 };
    cr_expect_eq(pann_fit_power(t, y, n, PANN_MIN, &f, &err), PANN_EINPUT);
    cr_expect_eq(err.status, PANN_EINPUT);
    cr_expect(strstr(err.msg, needle) != NULL, "message '%s' lacks '%s'",
              err.msg, needle);
}

Test(fit, too_few_points)
{
    double t[2] = { 1, 2 }, y[2] = { 1, 0.5 };
    expect_input_error(t, y, 2, "at least 3");
    expect_input_error(t, y, 0, "at least 3");
}

Test(fit, bad_values)
{
    double t[4] = { 1, 2, 3, 4 }, y[4] = { 1, 0.7, 0.6, 0.5 };
    t[2] = 0.0;
    expect_input_error(t, y, 4, "point 3");
    t[2] = -1.0;
    expect_input_error(t, y, 4, "point 3");
    t[2] = NAN;
    expect_input_error(t, y, 4, "point 3");
    t[2] = INFINITY;
    expect_input_error(t, y, 4, "point 3");
    t[2] = 3.0;
    y[3] = NAN;
    expect_input_error(t, y, 4, "point 4");
    y[3] = -INFINITY;
    expect_input_error(t, y, 4, "point 4");
}

static void sentinel_handler(const char *reason, const char *file, int line,
                             int gsl_errno)
{
    (void)reason, (void)file, (void)line, (void)gsl_errno;
}

Test(fit, gsl_error_handler_restored)
{
    double t[NPTS], y[NPTS];
    make_curve(t, y, NPTS, 100, 100, 0.067, 0.5, -1.5, 1e-3);
    gsl_error_handler_t *prev = gsl_set_error_handler(sentinel_handler);
    fit_ok(t, y, NPTS, PANN_MIN);
    gsl_error_handler_t *now = gsl_set_error_handler(prev);
    cr_expect(now == sentinel_handler);
}
