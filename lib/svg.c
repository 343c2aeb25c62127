/* svg.c — the SVG plots of pann-plot (pann_svg.h).
 *
 * This module owns the layout of a plot (margins, plot area, nice ticks,
 * grid, labels, title, legend) and writes its marks as plain SVG elements,
 * one group per series with a class name, so that a figure can be styled
 * by CSS and checked by a script (count the circles of a class, read their
 * coordinates).  Coordinates are written with two decimals: a 0.01 px
 * rounding is invisible and keeps files of thousands of points small.
 */
#include <config.h>
#include <math.h>
#include <string.h>
#include "pann.h"

static const double MARGIN_LEFT = 72, MARGIN_RIGHT = 24, MARGIN_TOP = 44, MARGIN_BOTTOM = 56;

size_t pann_nice_ticks(double lo, double hi, size_t target, double *ticks, size_t max,
                       double *step)
{
    if (!(hi > lo)) {                    /* one value (or none): a unit around it */
        double c = isfinite(lo) ? lo : 0.0, u = c != 0 ? pow(10, floor(log10(fabs(c)))) : 1;
        lo = c - u;
        hi = c + u;
    }
    if (target < 1)
        target = 1;
    double raw = (hi - lo) / (double)target, mag = pow(10, floor(log10(raw)));
    static const double mult[] = { 1, 2, 5, 10 };
    double s = 10 * mag;
    for (int i = 0; i < 4; i++)
        if (mult[i] * mag * (double)target >= hi - lo - 1e-12 * (hi - lo)) {
            s = mult[i] * mag;
            break;
        }
    double first = floor(lo / s + 1e-9), last = ceil(hi / s - 1e-9);
    while (last - first + 1 > (double)max) {   /* never more than max */
        s *= 2;
        first = floor(lo / s + 1e-9);
        last = ceil(hi / s - 1e-9);
    }
    size_t n = 0;
    for (double k = first; k <= last && n < max; k++) {
        double t = k * s;
        ticks[n++] = fabs(t) < 1e-12 * s ? 0.0 : t;
    }
    if (step)
        *step = s;
    return n;
}

static void set_ticks(pann_plot *p)
{
    double xs, ys;
    p->nxticks = pann_nice_ticks(p->xmin, p->xmax, 8, p->xticks, PANN_PLOT_MAX_TICKS, &xs);
    p->nyticks = pann_nice_ticks(p->ymin, p->ymax, 6, p->yticks, PANN_PLOT_MAX_TICKS, &ys);
}

static void layout(pann_plot *p, FILE *fp, double width, double height)
{
    memset(p, 0, sizeof *p);
    p->fp = fp;
    p->width = width;
    p->height = height;
    p->left = MARGIN_LEFT;
    p->top = MARGIN_TOP;
    p->right = width - MARGIN_RIGHT;
    p->bottom = height - MARGIN_BOTTOM;
}

static double or_default(double v, double d)
{
    return isfinite(v) ? v : d;
}

void pann_plot_init(pann_plot *p, FILE *fp, double width, double height,
                    double xmin, double xmax, double ymin, double ymax)
{
    layout(p, fp, width, height);
    p->xmin = or_default(xmin, 0);
    p->xmax = or_default(xmax, 1);
    p->ymin = or_default(ymin, 0);
    p->ymax = or_default(ymax, 1);
    set_ticks(p);
    p->xmin = p->xticks[0];
    p->xmax = p->xticks[p->nxticks - 1];
    p->ymin = p->yticks[0];
    p->ymax = p->yticks[p->nyticks - 1];
}

void pann_plot_init_exact(pann_plot *p, FILE *fp, double width, double height,
                          double xmin, double xmax, double ymin, double ymax)
{
    layout(p, fp, width, height);
    p->xmin = xmin;
    p->xmax = xmax > xmin ? xmax : xmin + 1;
    p->ymin = ymin;
    p->ymax = ymax > ymin ? ymax : ymin + 1;
    set_ticks(p);
    /* keep only the ticks inside the range */
    size_t n = 0;
    for (size_t i = 0; i < p->nxticks; i++)
        if (p->xticks[i] >= p->xmin - 1e-12 && p->xticks[i] <= p->xmax + 1e-12)
            p->xticks[n++] = p->xticks[i];
    p->nxticks = n;
    n = 0;
    for (size_t i = 0; i < p->nyticks; i++)
        if (p->yticks[i] >= p->ymin - 1e-12 && p->yticks[i] <= p->ymax + 1e-12)
            p->yticks[n++] = p->yticks[i];
    p->nyticks = n;
}

double pann_plot_px(const pann_plot *p, double x)
{
    return p->left + (x - p->xmin) / (p->xmax - p->xmin) * (p->right - p->left);
}

double pann_plot_py(const pann_plot *p, double y)
{
    return p->bottom - (y - p->ymin) / (p->ymax - p->ymin) * (p->bottom - p->top);
}

void pann_svg_escape(FILE *fp, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", fp); break;
        case '>': fputs("&gt;", fp); break;
        case '&': fputs("&amp;", fp); break;
        case '"': fputs("&quot;", fp); break;
        default:
            /* control characters are not allowed in XML 1.0 */
            if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n')
                fputc(*s, fp);
        }
    }
}

void pann_plot_text(pann_plot *p, double px, double py, const char *anchor, const char *text)
{
    fprintf(p->fp, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"%s\">", px, py, anchor);
    pann_svg_escape(p->fp, text);
    fputs("</text>\n", p->fp);
}

/* A tick's value with no more digits than the step needs. */
static void tick_label(char *buf, size_t size, double v, double step)
{
    int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (fabs(v) >= 1e6 || (v != 0 && fabs(v) < 1e-4))
        snprintf(buf, size, "%g", v);
    else
        snprintf(buf, size, "%.*f", decimals > 10 ? 10 : decimals, v);
}

static void draw_axes(pann_plot *p)
{
    FILE *f = p->fp;
    double xstep = p->nxticks > 1 ? p->xticks[1] - p->xticks[0] : 1;
    double ystep = p->nyticks > 1 ? p->yticks[1] - p->yticks[0] : 1;
    char buf[64];
    fputs("<g class=\"grid\" stroke=\"#e0e0e0\" stroke-width=\"1\">\n", f);
    for (size_t i = 0; i < p->nxticks; i++) {
        double x = pann_plot_px(p, p->xticks[i]);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", x, p->top, x, p->bottom);
    }
    for (size_t i = 0; i < p->nyticks; i++) {
        double y = pann_plot_py(p, p->yticks[i]);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", p->left, y, p->right, y);
    }
    fputs("</g>\n<g class=\"axes\" stroke=\"#333\" stroke-width=\"1\">\n", f);
    fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", p->left, p->bottom, p->right, p->bottom);
    fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", p->left, p->top, p->left, p->bottom);
    for (size_t i = 0; i < p->nxticks; i++) {
        double x = pann_plot_px(p, p->xticks[i]);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", x, p->bottom, x, p->bottom + 5);
    }
    for (size_t i = 0; i < p->nyticks; i++) {
        double y = pann_plot_py(p, p->yticks[i]);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", p->left - 5, y, p->left, y);
    }
    fputs("</g>\n<g class=\"tick-labels\" font-size=\"12\" fill=\"#333\">\n", f);
    for (size_t i = 0; i < p->nxticks; i++) {
        tick_label(buf, sizeof buf, p->xticks[i], xstep);
        pann_plot_text(p, pann_plot_px(p, p->xticks[i]), p->bottom + 19, "middle", buf);
    }
    for (size_t i = 0; i < p->nyticks; i++) {
        tick_label(buf, sizeof buf, p->yticks[i], ystep);
        pann_plot_text(p, p->left - 8, pann_plot_py(p, p->yticks[i]) + 4, "end", buf);
    }
    fputs("</g>\n", f);
}

void pann_plot_begin(pann_plot *p, const char *title, const char *xlabel, const char *ylabel)
{
    FILE *f = p->fp;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\">\n",
            p->width, p->height, p->width, p->height);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<rect class=\"plot-area\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
            "fill=\"none\" stroke=\"none\"/>\n", p->left, p->top, p->right - p->left,
            p->bottom - p->top);
    draw_axes(p);
    fputs("<g class=\"labels\" fill=\"#111\">\n", f);
    fputs("<g font-size=\"16\" font-weight=\"bold\">", f);
    pann_plot_text(p, p->width / 2, 26, "middle", title ? title : "");
    fputs("</g>\n<g font-size=\"13\">", f);
    pann_plot_text(p, (p->left + p->right) / 2, p->height - 14, "middle", xlabel ? xlabel : "");
    fprintf(f, "<g transform=\"translate(18 %.2f) rotate(-90)\">", (p->top + p->bottom) / 2);
    fputs("<text x=\"0\" y=\"0\" text-anchor=\"middle\">", f);
    pann_svg_escape(f, ylabel ? ylabel : "");
    fputs("</text></g></g>\n</g>\n", f);
}

size_t pann_plot_points(pann_plot *p, const double *x, const double *y, size_t n,
                        double r, const char *color, const char *cls)
{
    size_t drawn = 0;
    fprintf(p->fp, "<g class=\"%s\" fill=\"%s\">\n", cls, color);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            continue;
        fprintf(p->fp, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.1f\"/>\n", pann_plot_px(p, x[i]),
                pann_plot_py(p, y[i]), r);
        drawn++;
    }
    fputs("</g>\n", p->fp);
    return drawn;
}

void pann_plot_line(pann_plot *p, const double *x, const double *y, size_t n,
                    const char *color, double width, const char *dash, const char *cls)
{
    fprintf(p->fp, "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\"%s%s%s "
            "points=\"", cls, color, width, dash ? " stroke-dasharray=\"" : "", dash ? dash : "",
            dash ? "\"" : "");
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]) && isfinite(y[i]))
            fprintf(p->fp, "%s%.2f,%.2f", i ? " " : "", pann_plot_px(p, x[i]), pann_plot_py(p, y[i]));
    fputs("\"/>\n", p->fp);
}

size_t pann_plot_segments(pann_plot *p, const double *x0, const double *y0,
                          const double *x1, const double *y1, size_t n,
                          const char *color, double width, const char *cls)
{
    size_t drawn = 0;
    fprintf(p->fp, "<g class=\"%s\" stroke=\"%s\" stroke-width=\"%.1f\">\n", cls, color, width);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x0[i]) || !isfinite(y0[i]) || !isfinite(x1[i]) || !isfinite(y1[i]))
            continue;
        fprintf(p->fp, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n",
                pann_plot_px(p, x0[i]), pann_plot_py(p, y0[i]), pann_plot_px(p, x1[i]),
                pann_plot_py(p, y1[i]));
        drawn++;
    }
    fputs("</g>\n", p->fp);
    return drawn;
}

void pann_plot_bars(pann_plot *p, const double *edges, const double *heights, size_t n,
                    const char *color, const char *cls)
{
    fprintf(p->fp, "<g class=\"%s\" fill=\"%s\" stroke=\"white\" stroke-width=\"0.5\">\n", cls, color);
    double y0 = pann_plot_py(p, 0 > p->ymin ? 0 : p->ymin);
    for (size_t i = 0; i < n; i++) {
        double xa = pann_plot_px(p, edges[i]), xb = pann_plot_px(p, edges[i + 1]);
        double yh = pann_plot_py(p, heights[i]);
        fprintf(p->fp, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>\n",
                xa, yh, xb - xa, y0 - yh);
    }
    fputs("</g>\n", p->fp);
}

void pann_plot_legend(pann_plot *p, const char *label, const char *color)
{
    double x = p->right - 190, y = p->top + 10 + 18 * (double)p->nlegend++;
    /* a pale backing keeps the text readable over the data */
    fprintf(p->fp, "<g class=\"legend\" font-size=\"12\"><rect x=\"%.2f\" y=\"%.2f\" width=\"186\" "
            "height=\"18\" fill=\"white\" fill-opacity=\"0.8\"/><rect x=\"%.2f\" y=\"%.2f\" "
            "width=\"12\" height=\"12\" fill=\"%s\"/>", x - 3, y - 3, x, y, color);
    pann_plot_text(p, x + 18, y + 10, "start", label);
    fputs("</g>\n", p->fp);
}

int pann_plot_end(pann_plot *p, pann_error *err)
{
    fputs("</svg>\n", p->fp);
    if (ferror(p->fp))
        return pann_fail(err, PANN_ESYSTEM, "error writing the SVG");
    return 0;
}

size_t pann_histogram(const double *v, size_t n, double lo, double hi, size_t nbins,
                      double *counts)
{
    size_t counted = 0;
    for (size_t b = 0; b < nbins; b++)
        counts[b] = 0;
    if (nbins == 0 || !(hi >= lo))
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]) || v[i] < lo || v[i] > hi)
            continue;
        size_t b = hi > lo ? (size_t)((v[i] - lo) / (hi - lo) * (double)nbins) : 0;
        if (b >= nbins)
            b = nbins - 1;
        counts[b]++;
        counted++;
    }
    return counted;
}
