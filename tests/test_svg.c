/* test_svg.c — the SVG plot module: nice ticks against a brute-force search
 * of the 1-2-5 steps, the data-to-picture mapping at the corners, XML
 * escaping, one circle per finite point, histogram counts against a plain
 * loop. */
#include <criterion/criterion.h>
#include <string.h>
#include "testutil.h"

static bool is_nice_step(double s)
{
    double mag = pow(10, floor(log10(s)));
    double m = s / mag;
    return fabs(m - 1) < 1e-9 || fabs(m - 2) < 1e-9 || fabs(m - 5) < 1e-9;
}

/* The smallest 1-2-5 step with at most target intervals, by trying all
 * steps from 1e-12 upwards. */
static double brute_step(double lo, double hi, size_t target)
{
    for (int e = -12; e <= 12; e++)
        for (int k = 0; k < 3; k++) {
            double s = (k == 0 ? 1 : k == 1 ? 2 : 5) * pow(10, e);
            if (s * (double)target >= (hi - lo) * (1 - 1e-12))
                return s;
        }
    return NAN;
}

Test(svg, nice_ticks_against_brute_force)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 3);
    for (int trial = 0; trial < 2000; trial++) {
        double scale = pow(10, (double)gsl_rng_uniform_int(rng, 12) - 6);
        double lo = (gsl_rng_uniform(rng) - 0.5) * 10 * scale;
        double hi = lo + gsl_rng_uniform_pos(rng) * 10 * scale;
        size_t target = 2 + gsl_rng_uniform_int(rng, 8);
        double ticks[64], step;
        size_t n = pann_nice_ticks(lo, hi, target, ticks, 64, &step);
        cr_assert(is_nice_step(step), "step %g", step);
        cr_assert_float_eq(step, brute_step(lo, hi, target), 1e-9 * step,
                           "[%g, %g] target %zu: step %g", lo, hi, target, step);
        cr_assert_leq(ticks[0], lo);
        cr_assert_geq(ticks[n - 1], hi);
        cr_assert_lt(ticks[0], lo + step * (1 + 1e-9));
        cr_assert_gt(ticks[n - 1], hi - step * (1 + 1e-9));
        for (size_t i = 1; i < n; i++)
            cr_assert_float_eq(ticks[i] - ticks[i - 1], step, 1e-6 * step);
    }
    gsl_rng_free(rng);
}

Test(svg, nice_ticks_degenerate_and_capped)
{
    double t[16], step;
    size_t n = pann_nice_ticks(5, 5, 5, t, 16, &step);
    cr_assert(n >= 2 && t[0] <= 4 && t[n - 1] >= 6);
    n = pann_nice_ticks(0, 1000, 200, t, 16, &step);
    cr_assert_leq(n, 16);
    cr_assert(t[0] <= 0 && t[n - 1] >= 1000);
    n = pann_nice_ticks(0, 1, 5, t, 16, &step);
    cr_assert_eq(n, 6);
    cr_assert_float_eq(step, 0.2, 1e-12);
    cr_assert_eq(t[0], 0.0);
}

static char *plot_text(void (*draw)(pann_plot *p))
{
    char *buf;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    pann_plot p;
    pann_plot_init(&p, f, 640, 480, -3.3, 7.1, 0.02, 0.97);
    pann_plot_begin(&p, "A & B <title>", "x \"quoted\"", "y");
    draw(&p);
    pann_error err;
    cr_assert_eq(pann_plot_end(&p, &err), 0);
    fclose(f);
    return buf;
}

static size_t count(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, what)); p++)
        n++;
    return n;
}

Test(svg, mapping_puts_the_range_on_the_plot_area)
{
    pann_plot p;
    pann_plot_init(&p, stdout, 640, 480, -3.3, 7.1, 0.02, 0.97);
    cr_assert_leq(p.xmin, -3.3);
    cr_assert_geq(p.xmax, 7.1);
    cr_assert_float_eq(pann_plot_px(&p, p.xmin), p.left, 1e-9);
    cr_assert_float_eq(pann_plot_px(&p, p.xmax), p.right, 1e-9);
    cr_assert_float_eq(pann_plot_py(&p, p.ymin), p.bottom, 1e-9);
    cr_assert_float_eq(pann_plot_py(&p, p.ymax), p.top, 1e-9);
    cr_assert(p.left > 0 && p.right < 640 && p.top > 0 && p.bottom < 480);
    double mid = 0.5 * (p.xmin + p.xmax);
    cr_assert_float_eq(pann_plot_px(&p, mid), 0.5 * (p.left + p.right), 1e-9);
    pann_plot_init_exact(&p, stdout, 640, 480, 0, 1, 0, 1);
    cr_assert(p.xmin == 0 && p.xmax == 1 && p.nxticks >= 2);
}

static void draw_points(pann_plot *p)
{
    double x[5] = { -3.3, 0, NAN, 7.1, 2 }, y[5] = { 0.02, 0.5, 0.5, 0.97, NAN };
    size_t n = pann_plot_points(p, x, y, 5, 2, "red", "pts");
    cr_assert_eq(n, 3);
}

Test(svg, points_escaping_and_structure)
{
    char *s = plot_text(draw_points);
    cr_assert_eq(count(s, "<circle"), 3);
    cr_assert_eq(count(s, "<g class=\"pts\""), 1);
    cr_assert_neq(count(s, "A &amp; B &lt;title&gt;"), 0);
    cr_assert_neq(count(s, "x &quot;quoted&quot;"), 0);
    cr_assert_eq(count(s, "<svg"), 1);
    cr_assert_eq(count(s, "</svg>"), 1);
    cr_assert_eq(count(s, "<g"), count(s, "</g>"));
    free(s);
}

Test(svg, histogram_against_a_plain_loop)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 5);
    enum { N = 5000, B = 17 };
    double v[N], counts[B], ref[B] = { 0 };
    for (int i = 0; i < N; i++)
        v[i] = i % 97 == 0 ? NAN : gsl_ran_gaussian(rng, 1.0);
    v[1] = 2.5;                                   /* == hi: last bin */
    double lo = -2.5, hi = 2.5, w = (hi - lo) / B;
    size_t inside = 0;
    for (int i = 0; i < N; i++) {
        if (!(v[i] >= lo && v[i] <= hi))
            continue;
        inside++;
        for (int b = 0; b < B; b++)
            if (v[i] >= lo + b * w && (v[i] < lo + (b + 1) * w || b == B - 1)) {
                ref[b]++;
                break;
            }
    }
    cr_assert_eq(pann_histogram(v, N, lo, hi, B, counts), inside);
    for (int b = 0; b < B; b++)
        cr_assert_float_eq(counts[b], ref[b], 0.5, "bin %d: %g vs %g", b, counts[b], ref[b]);
    gsl_rng_free(rng);
}
