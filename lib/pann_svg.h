/* pann_svg.h — a small SVG plotting module (see lib/svg.c): a plot area
 * with axes, nice ticks, grid, labels, a title and a legend; points,
 * polylines, segments and bars in data coordinates.  No dependency beyond
 * stdio.  Included at the end of pann.h; uses its types. */
#ifndef PANN_SVG_H
#define PANN_SVG_H

#ifdef __cplusplus
extern "C" {
#endif

/* Up to this many ticks per axis. */
#define PANN_PLOT_MAX_TICKS 16

typedef struct pann_plot {
    FILE *fp;
    double width, height;            /* the picture, in px */
    double left, top, right, bottom; /* the plot area, in px (y grows down) */
    double xmin, xmax, ymin, ymax;   /* the data range shown */
    size_t nxticks, nyticks;
    double xticks[PANN_PLOT_MAX_TICKS], yticks[PANN_PLOT_MAX_TICKS];
    size_t nlegend;                  /* entries drawn so far */
} pann_plot;

/* Ticks at multiples of 1, 2 or 5 times a power of ten: the step is the
 * smallest such value giving at most `target` intervals over [lo, hi];
 * ticks[0] <= lo and ticks[n-1] >= hi (the range rounded out to the step).
 * lo == hi is widened by one unit around the value.  Returns n (<= max);
 * *step receives the step. */
size_t pann_nice_ticks(double lo, double hi, size_t target, double *ticks, size_t max,
                       double *step);

/* A plot of width x height px writing to fp; the data range becomes
 * [xmin, xmax] x [ymin, ymax] rounded out to nice ticks (NAN bounds are
 * replaced by 0 and 1). */
void pann_plot_init(pann_plot *p, FILE *fp, double width, double height,
                    double xmin, double xmax, double ymin, double ymax);
/* The same but the range is kept as given (e.g. [0, 1] for ECDFs). */
void pann_plot_init_exact(pann_plot *p, FILE *fp, double width, double height,
                          double xmin, double xmax, double ymin, double ymax);

/* Data -> picture coordinates. */
double pann_plot_px(const pann_plot *p, double x);
double pann_plot_py(const pann_plot *p, double y);

/* The SVG header, background, plot area (a rect of class plot-area), grid,
 * ticks with their values, axis labels and title.  Call once, first. */
void pann_plot_begin(pann_plot *p, const char *title, const char *xlabel,
                     const char *ylabel);

/* A group of class cls of n circles (radius r px) at finite points; points
 * with a NAN coordinate are skipped.  Returns the circles drawn. */
size_t pann_plot_points(pann_plot *p, const double *x, const double *y, size_t n,
                        double r, const char *color, const char *cls);
/* A polyline through the finite points, dash NULL for solid. */
void pann_plot_line(pann_plot *p, const double *x, const double *y, size_t n,
                    const char *color, double width, const char *dash, const char *cls);
/* n segments (x0[i], y0[i]) - (x1[i], y1[i]) in one group of class cls. */
size_t pann_plot_segments(pann_plot *p, const double *x0, const double *y0,
                          const double *x1, const double *y1, size_t n,
                          const char *color, double width, const char *cls);
/* n bars: bar i spans [edges[i], edges[i+1]] from 0 up to heights[i]. */
void pann_plot_bars(pann_plot *p, const double *edges, const double *heights, size_t n,
                    const char *color, const char *cls);
/* A legend entry (a swatch and its text) at the plot area's top right;
 * entries stack downwards. */
void pann_plot_legend(pann_plot *p, const char *label, const char *color);
/* Free text in picture coordinates (anchor start, middle or end). */
void pann_plot_text(pann_plot *p, double px, double py, const char *anchor,
                    const char *text);
/* Close the SVG; error when writing failed. */
int pann_plot_end(pann_plot *p, pann_error *err);

/* Write s with XML's special characters escaped. */
void pann_svg_escape(FILE *fp, const char *s);

/* Histogram of the finite values of v in nbins equal bins over [lo, hi]
 * (a value equal to hi goes in the last bin; values outside are not
 * counted).  Returns the values counted. */
size_t pann_histogram(const double *v, size_t n, double lo, double hi, size_t nbins,
                      double *counts);

#ifdef __cplusplus
}
#endif

#endif
