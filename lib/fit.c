/* fit.c — the power-law fit of the convergence curve, y = a + b * t^c.
 *
 * Owns pann_fit_power: least squares with the article's bounds (a >= 0,
 * b >= 0, c in [-1, 0] in min mode or [0, 1] in max mode), as scipy's
 * curve_fit does in the reference script.  GSL's nonlinear least squares has
 * no bound constraints, so the fit is done in two stages:
 *   1. variable projection: for a fixed c the model is linear in (a, b), and
 *      the bounded 2-variable problem is solved exactly; the profile residual
 *      is then minimised over c by a fine grid and golden-section refinement;
 *   2. a polish with gsl_multifit_nlinear (trust region, analytic Jacobian)
 *      started from that point, kept only when it stays inside the bounds and
 *      lowers the residual.
 * Standard errors come from s^2 (J^T J)^-1 at the final parameters.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>

#include "pann.h"

/* Grid over c: 1001 points put neighbours 0.001 apart, far finer than any
 * feature of the profile residual of a convergence curve. */
#define FIT_GRID 1001
#define GOLDEN_TOL 1e-12
#define POLISH_MAXITER 200
/* Scaled Jacobian with a condition number above 1/SING_TOL counts as
 * singular: its covariance would be mostly rounding noise. */
#define SING_TOL 1e-10

typedef struct fit_data {
    const double *t, *y, *lnt;
    double *x;               /* scratch: t^c for the c being projected */
    size_t n;
} fit_data;

/* A candidate solution of the projected problem for one value of c. */
typedef struct fit_point {
    double a, b, c, rss;
} fit_point;

static double rss_at(const fit_data *d, double a, double b, double c)
{
    double s = 0.0;
    for (size_t i = 0; i < d->n; i++) {
        double r = a + b * exp(c * d->lnt[i]) - d->y[i];
        s += r * r;
    }
    return s;
}

/* Residual of (a, b) with d->x already holding t^c. */
static double rss_x(const fit_data *d, double a, double b)
{
    double s = 0.0;
    for (size_t i = 0; i < d->n; i++) {
        double r = a + b * d->x[i] - d->y[i];
        s += r * r;
    }
    return s;
}

/* Keep (a, b) in *best when it is feasible and lowers the residual. */
static void try_ab(const fit_data *d, double c, double a, double b,
                   fit_point *best)
{
    if (!(a >= 0.0 && b >= 0.0))
        return;
    double rss = rss_x(d, a, b);
    if (rss < best->rss)
        *best = (fit_point){ a, b, c, rss };
}

/* Exact minimum of sum (a + b x_i - y_i)^2 over a >= 0, b >= 0 with
 * x_i = t_i^c.  The problem is a convex quadratic in two variables, so the
 * optimum is the unconstrained one when feasible and otherwise lies on a
 * face (a = 0 or b = 0) or at the corner; the best feasible of these is the
 * answer.  Sums are centred for accuracy. */
static fit_point project(const fit_data *d, double c)
{
    size_t n = d->n;
    double xbar = 0.0, ybar = 0.0, sxx0 = 0.0, sxy0 = 0.0;
    for (size_t i = 0; i < n; i++) {
        double x = d->x[i] = exp(c * d->lnt[i]);
        xbar += x;
        ybar += d->y[i];
        sxx0 += x * x;
        sxy0 += x * d->y[i];
    }
    xbar /= (double)n;
    ybar /= (double)n;
    double sxx = 0.0, sxy = 0.0;
    for (size_t i = 0; i < n; i++) {
        double dx = d->x[i] - xbar;
        sxx += dx * dx;
        sxy += dx * (d->y[i] - ybar);
    }

    fit_point best = { 0.0, 0.0, c, rss_x(d, 0.0, 0.0) };
    /* When x is (nearly) constant, as at c = 0, a and b are confounded and
     * the faces below already reach the minimum. */
    if (sxx > 1e-14 * sxx0) {
        double b = sxy / sxx;
        try_ab(d, c, ybar - b * xbar, b, &best);
    }
    try_ab(d, c, 0.0, sxx0 > 0.0 ? fmax(sxy0 / sxx0, 0.0) : 0.0, &best);
    try_ab(d, c, fmax(ybar, 0.0), 0.0, &best);
    return best;
}

/* Golden-section search of the profile residual on [lo, hi]. */
static fit_point golden(const fit_data *d, double lo, double hi)
{
    const double g = 0.5 * (sqrt(5.0) - 1.0);
    double x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo);
    fit_point p1 = project(d, x1), p2 = project(d, x2);
    while (hi - lo > GOLDEN_TOL) {
        if (p1.rss <= p2.rss) {
            hi = x2;
            x2 = x1, p2 = p1;
            x1 = hi - g * (hi - lo);
            p1 = project(d, x1);
        } else {
            lo = x1;
            x1 = x2, p1 = p2;
            x2 = lo + g * (hi - lo);
            p2 = project(d, x2);
        }
    }
    return p1.rss <= p2.rss ? p1 : p2;
}

/* Stage 1: the best projected solution over c in [clo, chi]. */
static fit_point fit_projected(const fit_data *d, double clo, double chi)
{
    double h = (chi - clo) / (FIT_GRID - 1);
    fit_point best = project(d, clo);
    size_t kbest = 0;
    for (size_t k = 1; k < FIT_GRID; k++) {
        double c = k == FIT_GRID - 1 ? chi : clo + (double)k * h;
        fit_point p = project(d, c);
        if (p.rss < best.rss)
            best = p, kbest = k;
    }
    /* Refine between the grid neighbours; the grid point itself (possibly
     * exactly on a bound) stays the answer unless the refinement beats it. */
    double lo = kbest == 0 ? clo : best.c - h;
    double hi = kbest == FIT_GRID - 1 ? chi : best.c + h;
    fit_point g = golden(d, lo, hi);
    return g.rss < best.rss ? g : best;
}

/* ---- stage 2: GSL polish ------------------------------------------------ */

static int model_f(const gsl_vector *p, void *ctx, gsl_vector *f)
{
    const fit_data *d = ctx;
    double a = gsl_vector_get(p, 0), b = gsl_vector_get(p, 1),
           c = gsl_vector_get(p, 2);
    for (size_t i = 0; i < d->n; i++) {
        double r = a + b * exp(c * d->lnt[i]) - d->y[i];
        if (!isfinite(r))
            return GSL_EDOM;
        gsl_vector_set(f, i, r);
    }
    return GSL_SUCCESS;
}

/* Jacobian rows [1, t^c, b t^c ln t]. */
static void jacobian_rows(const fit_data *d, double b, double c,
                          gsl_matrix *J)
{
    for (size_t i = 0; i < d->n; i++) {
        double x = exp(c * d->lnt[i]);
        gsl_matrix_set(J, i, 0, 1.0);
        gsl_matrix_set(J, i, 1, x);
        gsl_matrix_set(J, i, 2, b * x * d->lnt[i]);
    }
}

static int model_df(const gsl_vector *p, void *ctx, gsl_matrix *J)
{
    jacobian_rows(ctx, gsl_vector_get(p, 1), gsl_vector_get(p, 2), J);
    return GSL_SUCCESS;
}

/* Run the trust-region solver from *start; on success *out holds its end
 * point (which the caller still has to check against the bounds). */
static int polish(fit_data *d, const fit_point *start, fit_point *out)
{
    gsl_multifit_nlinear_parameters par =
        gsl_multifit_nlinear_default_parameters();
    gsl_multifit_nlinear_workspace *w =
        gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, d->n, 3);
    if (!w)
        return -1;
    gsl_multifit_nlinear_fdf fdf = {
        .f = model_f, .df = model_df, .fvv = NULL,
        .n = d->n, .p = 3, .params = d,
    };
    double x0[3] = { start->a, start->b, start->c };
    gsl_vector_view xv = gsl_vector_view_array(x0, 3);
    int info = 0;
    int status = gsl_multifit_nlinear_init(&xv.vector, &fdf, w);
    if (status == GSL_SUCCESS)
        status = gsl_multifit_nlinear_driver(POLISH_MAXITER, 1e-14, 1e-14,
                                             0.0, NULL, NULL, &info, w);
    /* Running out of iterations still leaves a usable point to compare. */
    if (status == GSL_SUCCESS || status == GSL_EMAXITER) {
        const gsl_vector *x = gsl_multifit_nlinear_position(w);
        out->a = gsl_vector_get(x, 0);
        out->b = gsl_vector_get(x, 1);
        out->c = gsl_vector_get(x, 2);
        out->rss = rss_at(d, out->a, out->b, out->c);
        status = isfinite(out->rss) ? 0 : -1;
    } else {
        status = -1;
    }
    gsl_multifit_nlinear_free(w);
    return status;
}

/* ---- standard errors ---------------------------------------------------- */

/* SEs from s^2 (J^T J)^-1, computed by an SVD of J with unit-norm columns
 * (the raw columns differ by orders of magnitude, and forming J^T J would
 * square the condition number).  All NAN when n <= 3 or J is singular. */
static void standard_errors(const fit_data *d, const fit_point *p,
                            double se[3])
{
    se[0] = se[1] = se[2] = NAN;
    if (d->n <= 3)
        return;
    gsl_matrix *J = gsl_matrix_alloc(d->n, 3);
    gsl_matrix *V = gsl_matrix_alloc(3, 3);
    gsl_vector *s = gsl_vector_alloc(3), *work = gsl_vector_alloc(3);
    if (!J || !V || !s || !work)
        goto done;
    jacobian_rows(d, p->b, p->c, J);
    double norm[3];
    for (size_t j = 0; j < 3; j++) {
        gsl_vector_view col = gsl_matrix_column(J, j);
        norm[j] = gsl_blas_dnrm2(&col.vector);
        if (!(norm[j] > 0.0))
            goto done;
        gsl_vector_scale(&col.vector, 1.0 / norm[j]);
    }
    if (gsl_linalg_SV_decomp(J, V, s, work) != GSL_SUCCESS)
        goto done;
    double smax = gsl_vector_get(s, 0), smin = gsl_vector_get(s, 2);
    if (!(smin > SING_TOL * smax))
        goto done;
    double s2 = p->rss / (double)(d->n - 3);
    for (size_t j = 0; j < 3; j++) {
        /* Diagonal of V S^-2 V^T, then undo the column scaling. */
        double v = 0.0;
        for (size_t k = 0; k < 3; k++) {
            double q = gsl_matrix_get(V, j, k) / gsl_vector_get(s, k);
            v += q * q;
        }
        se[j] = sqrt(s2 * v) / norm[j];
    }
done:
    gsl_vector_free(work);
    gsl_vector_free(s);
    gsl_matrix_free(V);
    gsl_matrix_free(J);
}

/* ---- entry point -------------------------------------------------------- */

static int check_input(const double *t, const double *y, size_t n,
                       pann_error *err)
{
    if (n < 3)
        return pann_fail(err, PANN_EINPUT,
                         "power-law fit needs at least 3 points, got %zu", n);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(t[i]) || !(t[i] > 0.0))
            return pann_fail(err, PANN_EINPUT,
                             "power-law fit: point %zu: t = %g, must be a "
                             "finite number > 0", i + 1, t[i]);
        if (!isfinite(y[i]))
            return pann_fail(err, PANN_EINPUT,
                             "power-law fit: point %zu: y = %g is not finite",
                             i + 1, y[i]);
    }
    return PANN_OK;
}

static bool inside(const fit_point *p, double clo, double chi)
{
    return p->a >= 0.0 && p->b >= 0.0 && p->c >= clo && p->c <= chi;
}

int pann_fit_power(const double *t, const double *y, size_t n, pann_mode mode,
                   pann_fit *out, pann_error *err)
{
    int status = check_input(t, y, n, err);
    if (status != PANN_OK)
        return status;
    double *lnt = malloc(2 * n * sizeof *lnt);
    if (!lnt)
        return pann_fail(err, PANN_ESYSTEM, "power-law fit: out of memory");
    for (size_t i = 0; i < n; i++)
        lnt[i] = log(t[i]);

    /* GSL's default handler aborts the program; its errors are status
     * codes here.  The handler is process-wide, so it is put back. */
    gsl_error_handler_t *prev = gsl_set_error_handler_off();

    double clo = mode == PANN_MAX ? 0.0 : -1.0;
    double chi = mode == PANN_MAX ? 1.0 : 0.0;
    fit_data d = { t, y, lnt, lnt + n, n };
    fit_point best = fit_projected(&d, clo, chi);
    fit_point pol;
    if (polish(&d, &best, &pol) == 0 && inside(&pol, clo, chi) &&
        pol.rss < best.rss)
        best = pol;

    double se[3];
    standard_errors(&d, &best, se);
    /* A parameter held on a bound is not at a stationary point of the
     * residual, so the quadratic approximation behind its SE does not hold:
     * its SE is reported as NAN. */
    bool on_bound[3] = { best.a == 0.0, best.b == 0.0,
                         best.c == clo || best.c == chi };
    for (int j = 0; j < 3; j++)
        if (on_bound[j])
            se[j] = NAN;

    *out = (pann_fit){
        .a = best.a, .b = best.b, .c = best.c,
        .se_a = se[0], .se_b = se[1], .se_c = se[2],
        .rss = best.rss, .npoints = n,
        .at_bound = on_bound[0] || on_bound[1] || on_bound[2],
    };
    gsl_set_error_handler(prev);
    free(lnt);
    return PANN_OK;
}
