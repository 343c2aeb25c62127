/* pann-plot — SVG figures of what the article draws: the convergence curve
 * with its fitted a + b t^c (Figure 1), each row's match (Figure 2, and its
 * frames as the search goes on), the extreme points (Figure 3), F_real
 * against F_synth from ecdf-ks --dump, and the histogram of NN distances
 * with the filter's threshold.  Reading the programs' CSV outputs and
 * choosing what to draw is here; the drawing is in lib/svg.c. */
#include <config.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"

enum {
    OPT_X = CLI_OPT_FIRST_PROGRAM, OPT_Y, OPT_TITLE, OPT_WIDTH, OPT_HEIGHT, OPT_COLUMN,
    OPT_THRESHOLD, OPT_BINS, OPT_FIT_SKIP, OPT_MODE, OPT_FRAMES, OPT_ITERATIONS,
    OPT_HISTORY_EVERY,
};

static const char program_help[] =
"Draw an SVG figure of KIND on stdout (or -o FILE):\n"
"  convergence HISTORY      mean_current and mean_best against iteration from\n"
"                           pann-match --history, with the fitted a + b*t^c\n"
"  matches S [T] MATCHES    points of S and T in two columns and a segment\n"
"                           from each S row to its neighbour (pann-match output)\n"
"  matches --frames=DIR S [T]  run the search and write DIR/frame-00001.svg,\n"
"                           ... after every history record; the last state\n"
"                           goes to stdout\n"
"  extremes DATA EXTREMES   DATA's points, the rows of pann-extreme's output\n"
"                           highlighted\n"
"  ecdf DUMP                F_real against F_synth at every node of\n"
"                           ecdf-ks --dump (columns f_real, f_synth), diagonal\n"
"  histogram FILE           histogram of a column (default distance) with\n"
"                           threshold lines\n"
"\n"
"Plot options:\n"
"      --x=COL, --y=COL     the columns drawn (matches, extremes; default the\n"
"                           first two columns of -c, or of the file)\n"
"      --title=TEXT         the title (each kind has a default)\n"
"      --width=PX, --height=PX   picture size (default 720 x 540)\n"
"      --column=COL         histogram: the column (default distance)\n"
"      --threshold=D        histogram: a vertical line at D (up to 2 times)\n"
"      --bins=N             histogram: bins (default ceil(sqrt(n)), 5 to 60)\n"
"      --fit-skip=N         convergence: history points left out of the fit\n"
"                           (default 5, as pann-match)\n"
"      --mode=min|max       convergence: the fit's bounds (default min)\n"
"Frames (matches --frames): the search options of pann-match:\n"
"      --iterations=N       proposals in all (default 50 per row of S)\n"
"      --history-every=N    a frame every N proposals (default: S rows / 2)\n"
"  and -c, --metric, --scale, --seed: the distance and the search.\n";

typedef struct plot_args {
    const char *kind;
    const char *x, *y, *title, *column, *frames;
    double width, height;
    double threshold[2];
    size_t nthreshold, bins, fit_skip;
    pann_mode mode;
    uint64_t iterations, history_every;
    bool iterations_given;
} plot_args;

static void parse_args(int argc, char **argv, cli *c, plot_args *a)
{
    static const struct option longopts[] = {
        CLI_LONG_OPTIONS,
        { "x", required_argument, NULL, OPT_X },
        { "y", required_argument, NULL, OPT_Y },
        { "title", required_argument, NULL, OPT_TITLE },
        { "width", required_argument, NULL, OPT_WIDTH },
        { "height", required_argument, NULL, OPT_HEIGHT },
        { "column", required_argument, NULL, OPT_COLUMN },
        { "threshold", required_argument, NULL, OPT_THRESHOLD },
        { "bins", required_argument, NULL, OPT_BINS },
        { "fit-skip", required_argument, NULL, OPT_FIT_SKIP },
        { "mode", required_argument, NULL, OPT_MODE },
        { "frames", required_argument, NULL, OPT_FRAMES },
        { "iterations", required_argument, NULL, OPT_ITERATIONS },
        { "history-every", required_argument, NULL, OPT_HISTORY_EVERY },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = getopt_long(argc, argv, CLI_SHORT_OPTIONS, longopts, NULL)) != -1) {
        if (cli_option(c, opt, optarg, program_help))
            continue;
        switch (opt) {
        case OPT_X: a->x = optarg; break;
        case OPT_Y: a->y = optarg; break;
        case OPT_TITLE: a->title = optarg; break;
        case OPT_WIDTH: a->width = cli_parse_real(c, "--width", optarg, 200, 10000); break;
        case OPT_HEIGHT: a->height = cli_parse_real(c, "--height", optarg, 150, 10000); break;
        case OPT_COLUMN: a->column = optarg; break;
        case OPT_THRESHOLD:
            if (a->nthreshold == 2)
                cli_usage_error(c, "--threshold: at most two lines");
            a->threshold[a->nthreshold++] = cli_parse_real(c, "--threshold", optarg, -HUGE_VAL, HUGE_VAL);
            break;
        case OPT_BINS: a->bins = cli_parse_count(c, "--bins", optarg, 1, 100000); break;
        case OPT_FIT_SKIP: a->fit_skip = cli_parse_count(c, "--fit-skip", optarg, 0, 1000000); break;
        case OPT_MODE:
            if (strcmp(optarg, "min") == 0) a->mode = PANN_MIN;
            else if (strcmp(optarg, "max") == 0) a->mode = PANN_MAX;
            else cli_usage_error(c, "--mode: '%s' is not min or max", optarg);
            break;
        case OPT_FRAMES: a->frames = optarg; break;
        case OPT_ITERATIONS:
            a->iterations = cli_parse_count(c, "--iterations", optarg, 1, UINT64_MAX);
            a->iterations_given = true;
            break;
        case OPT_HISTORY_EVERY:
            a->history_every = cli_parse_count(c, "--history-every", optarg, 1, UINT64_MAX);
            break;
        default:
            cli_usage_error(c, "unexpected option");
        }
    }
    if (optind >= argc)
        cli_usage_error(c, "expected KIND: convergence, matches, extremes, ecdf or histogram");
    a->kind = argv[optind++];
    if (a->frames && strcmp(a->kind, "matches") != 0)
        cli_usage_error(c, "--frames is for the matches kind");
}

static void *xmalloc(const cli *c, size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        pann_error err = { PANN_ESYSTEM, "out of memory" };
        cli_die(c, &err);
    }
    return p;
}

static void expect_files(const cli *c, const char *kind, int nfiles, int min, int max)
{
    if (nfiles < min || nfiles > max)
        cli_usage_error(c, "%s: expected %d%s file%s, got %d", kind, min,
                        max > min ? " or more" : "", max > 1 ? "s" : "", nfiles);
}

static void read_table(const cli *c, const char *path, pann_table *t)
{
    pann_error err = {0};
    if (pann_tables_read(t, &path, 1, &c->read, c->threads, &err) != 0)
        cli_die(c, &err);
}

/* The column NAME (or 1-based index) of t. */
static size_t column_of(const cli *c, const pann_table *t, const char *name)
{
    size_t *idx, n;
    pann_error err = {0};
    if (pann_columns_parse(t, name, &idx, &n, &err) != 0)
        cli_die(c, &err);
    if (n != 1)
        cli_usage_error(c, "%s: '%s' is not one column", t->display, name);
    size_t col = idx[0];
    free(idx);
    return col;
}

/* Column col as numbers; missing cells are NAN (counted), text is an error. */
static double *column_values(const cli *c, const pann_table *t, size_t col, size_t *missing)
{
    double *v = xmalloc(c, t->nrows * sizeof *v);
    size_t n;
    pann_error err;
    if (pann_column_numbers(t, col, PANN_CELLS_NAN, NULL, v, &n, &err)) {
        free(v);
        cli_die(c, &err);
    }
    for (size_t i = 0; i < n; i++)
        *missing += isnan(v[i]);
    return v;
}

static void finite_range(const double *v, size_t n, double *lo, double *hi)
{
    *lo = HUGE_VAL;
    *hi = -HUGE_VAL;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            *lo = v[i] < *lo ? v[i] : *lo;
            *hi = v[i] > *hi ? v[i] : *hi;
        }
    if (*lo > *hi)
        *lo = *hi = NAN;
}

/* 1-based row numbers of column col of t, checked against nrows (0 when
 * the cell is empty). */
static size_t *row_numbers(const cli *c, const pann_table *t, size_t col, size_t nrows)
{
    size_t *r = xmalloc(c, t->nrows * sizeof *r);
    for (size_t i = 0; i < t->nrows; i++) {
        const char *s = pann_cell(t, i, col);
        double v;
        if (pann_is_missing(s)) {
            r[i] = 0;
            continue;
        }
        if (!pann_parse_number(s, &v) || v < 1 || v > (double)nrows || v != floor(v)) {
            pann_error err;
            pann_fail(&err, PANN_EINPUT, "%s:%zu:%zu: '%s' is not a row number from 1 to %zu",
                      t->display, t->row_line[i], col + 1, s, nrows);
            cli_die(c, &err);
        }
        r[i] = (size_t)v;
    }
    return r;
}

static void finish(const cli *c, pann_plot *p, pann_output *out)
{
    pann_error err = {0};
    if (pann_plot_end(p, &err) != 0) {
        pann_output_abort(out);
        cli_die(c, &err);
    }
    cli_output_commit(c, out);
}

/* ---- convergence (Figure 1) -------------------------------------------- */

/* The fit of pann-match --fit: a + b t^c on mean_current against iteration,
 * the first fit_skip points left out.  Draws the curve; false when no fit. */
static bool draw_fit(const cli *c, pann_plot *p, const plot_args *a, const double *t,
                     const double *y, size_t n, pann_fit *fit)
{
    size_t skip = a->fit_skip, m = 0;
    double *ft = xmalloc(c, n * sizeof *ft), *fy = xmalloc(c, n * sizeof *fy);
    for (size_t i = skip; i < n; i++)
        if (t[i] > 0 && isfinite(y[i])) {
            ft[m] = t[i];
            fy[m++] = y[i];
        }
    pann_error err = {0};
    bool ok = pann_fit_power(ft, fy, m, a->mode, fit, &err) == 0;
    if (!ok)
        cli_note(c, "no fit drawn: %s (%zu points after --fit-skip=%zu)", err.msg, m, skip);
    if (ok) {
        enum { STEPS = 200 };
        double cx[STEPS], cy[STEPS], t0 = ft[0], t1 = ft[m - 1];
        for (int i = 0; i < STEPS; i++) {
            cx[i] = t0 + (t1 - t0) * i / (STEPS - 1);
            cy[i] = fit->a + fit->b * pow(cx[i], fit->c);
        }
        pann_plot_line(p, cx, cy, STEPS, "#000000", 1.5, "6 4", "fit");
        double ax[2] = { p->xmin, p->xmax }, ay[2] = { fit->a, fit->a };
        if (fit->a >= p->ymin && fit->a <= p->ymax)
            pann_plot_line(p, ax, ay, 2, "#777777", 1, "2 3", "asymptote");
    }
    free(ft);
    free(fy);
    return ok;
}

static void plot_convergence(const cli *c, const plot_args *a, int nfiles, char **files)
{
    expect_files(c, "convergence", nfiles, 1, 1);
    pann_table t;
    read_table(c, files[0], &t);
    size_t missing = 0;
    double *it = column_values(c, &t, column_of(c, &t, "iteration"), &missing);
    double *cur = column_values(c, &t, column_of(c, &t, "mean_current"), &missing);
    double *best = column_values(c, &t, column_of(c, &t, "mean_best"), &missing);
    double xlo, xhi, ylo, yhi, blo, bhi;
    finite_range(it, t.nrows, &xlo, &xhi);
    finite_range(cur, t.nrows, &ylo, &yhi);
    finite_range(best, t.nrows, &blo, &bhi);
    pann_output out;
    cli_output_open(c, &out);
    pann_plot p;
    pann_plot_init(&p, out.fp, a->width, a->height, 0, xhi, fmin(ylo, blo), fmax(yhi, bhi));
    pann_plot_begin(&p, a->title ? a->title : "Convergence of the PANN search",
                    "iteration (proposals evaluated)", "mean NN distance");
    pann_plot_line(&p, it, cur, t.nrows, "#d62728", 2, NULL, "mean-current");
    pann_plot_line(&p, it, best, t.nrows, "#1f77b4", 1.5, NULL, "mean-best");
    pann_plot_legend(&p, "mean current distance", "#d62728");
    pann_plot_legend(&p, "mean best distance", "#1f77b4");
    pann_fit fit;
    if (draw_fit(c, &p, a, it, cur, t.nrows, &fit)) {
        char label[160];
        snprintf(label, sizeof label, "fit %.4g + %.4g t^%.3g", fit.a, fit.b, fit.c);
        pann_plot_legend(&p, label, "#000000");
        cli_note(c, "fit a = %.6g, b = %.6g, c = %.4g on %zu points", fit.a, fit.b, fit.c,
                 fit.npoints);
    }
    finish(c, &p, &out);
    cli_note(c, "%zu history points drawn", t.nrows);
    free(it);
    free(cur);
    free(best);
    pann_table_free(&t);
}

/* ---- two columns of S and T (Figure 2, Figure 3) ------------------------- */

typedef struct xy {
    double *x, *y;
    size_t n;
} xy;

/* The names of the plotted columns: --x/--y, else the first two of -c,
 * else the first two columns of t. */
static void xy_names(const cli *c, const plot_args *a, const pann_table *t, size_t *cx,
                     size_t *cy)
{
    size_t *idx = NULL, n = 0;
    pann_error err = {0};
    if ((!a->x || !a->y)
        && pann_columns_parse(t, c->encode.columns, &idx, &n, &err) != 0)
        cli_die(c, &err);
    if ((!a->x || !a->y) && n < 2)
        cli_usage_error(c, "%s: two columns are needed to draw (--x, --y)", t->display);
    *cx = a->x ? column_of(c, t, a->x) : idx[0];
    *cy = a->y ? column_of(c, t, a->y) : idx[1];
    free(idx);
}

/* Columns cx, cy of other: the same names as in ref. */
static void xy_read(const cli *c, const pann_table *t, size_t cx, size_t cy, xy *p)
{
    size_t missing = 0;
    p->x = column_values(c, t, cx, &missing);
    p->y = column_values(c, t, cy, &missing);
    p->n = t->nrows;
    if (missing)
        cli_note(c, "%s: %zu missing values not drawn", t->display, missing);
}

static void xy_same_columns(const cli *c, const pann_table *ref, size_t cx, size_t cy,
                            const pann_table *other, size_t *ox, size_t *oy)
{
    size_t want[2] = { cx, cy }, got[2];
    pann_error err = {0};
    if (pann_columns_match(ref, want, 2, other, got, &err) != 0)
        cli_die(c, &err);
    *ox = got[0];
    *oy = got[1];
}

static void xy_range(const xy *a, const xy *b, double r[4])
{
    double lo, hi;
    finite_range(a->x, a->n, &r[0], &r[1]);
    finite_range(a->y, a->n, &r[2], &r[3]);
    if (b) {
        finite_range(b->x, b->n, &lo, &hi);
        r[0] = fmin(r[0], lo);
        r[1] = fmax(r[1], hi);
        finite_range(b->y, b->n, &lo, &hi);
        r[2] = fmin(r[2], lo);
        r[3] = fmax(r[3], hi);
    }
}

static void xy_free(xy *p)
{
    free(p->x);
    free(p->y);
}

/* One picture of Figure 2: T, S, and a segment from S row k to T row
 * nn[k] (0-based rows of the tables; SIZE_MAX for none). */
static void draw_matches(const cli *c, pann_plot *p, const xy *S, const xy *T,
                         const size_t *nn, const char *title, const char *xname,
                         const char *yname, size_t *nsegments)
{
    double *x1 = xmalloc(c, S->n * sizeof *x1), *y1 = xmalloc(c, S->n * sizeof *y1);
    for (size_t k = 0; k < S->n; k++) {
        x1[k] = nn[k] == SIZE_MAX ? NAN : T->x[nn[k]];
        y1[k] = nn[k] == SIZE_MAX ? NAN : T->y[nn[k]];
    }
    pann_plot_begin(p, title, xname, yname);
    *nsegments = pann_plot_segments(p, S->x, S->y, x1, y1, S->n, "#8c8c8c", 1, "match");
    pann_plot_points(p, T->x, T->y, T->n, 3, "#1f77b4", "t-point");
    pann_plot_points(p, S->x, S->y, S->n, 3, "#d62728", "s-point");
    pann_plot_legend(p, "S (query rows)", "#d62728");
    pann_plot_legend(p, "T (reference rows)", "#1f77b4");
    pann_plot_legend(p, "S row to its neighbour", "#8c8c8c");
    free(x1);
    free(y1);
}

/* Figure 2 from a pann-match output: S [T] MATCHES. */
static void plot_matches_file(const cli *c, const plot_args *a, int nfiles, char **files)
{
    expect_files(c, "matches", nfiles, 2, 3);
    pann_table st, tt, mt;
    read_table(c, files[0], &st);
    if (nfiles == 3)
        read_table(c, files[1], &tt);
    read_table(c, files[nfiles - 1], &mt);
    const pann_table *T = nfiles == 3 ? &tt : &st;
    size_t cx, cy, tx, ty;
    xy_names(c, a, &st, &cx, &cy);
    xy_same_columns(c, &st, cx, cy, T, &tx, &ty);
    xy S, Tp;
    xy_read(c, &st, cx, cy, &S);
    xy_read(c, T, tx, ty, &Tp);
    size_t *q = row_numbers(c, &mt, column_of(c, &mt, "query"), st.nrows);
    size_t *nb = row_numbers(c, &mt, column_of(c, &mt, "neighbor"), T->nrows);
    size_t *nn = xmalloc(c, st.nrows * sizeof *nn);
    for (size_t k = 0; k < st.nrows; k++)
        nn[k] = SIZE_MAX;
    for (size_t i = 0; i < mt.nrows; i++)
        if (q[i] && nb[i])
            nn[q[i] - 1] = nb[i] - 1;
    double r[4];
    xy_range(&S, &Tp, r);
    pann_output out;
    cli_output_open(c, &out);
    pann_plot p;
    pann_plot_init(&p, out.fp, a->width, a->height, r[0], r[1], r[2], r[3]);
    size_t nseg;
    draw_matches(c, &p, &S, &Tp, nn, a->title ? a->title : "Nearest neighbours of S in T",
                 st.colnames[cx], st.colnames[cy], &nseg);
    finish(c, &p, &out);
    cli_note(c, "%zu S points, %zu T points, %zu segments drawn", S.n, Tp.n, nseg);
    free(q);
    free(nb);
    free(nn);
    xy_free(&S);
    xy_free(&Tp);
    if (nfiles == 3)
        pann_table_free(&tt);
    pann_table_free(&st);
    pann_table_free(&mt);
}

/* ---- frames: Figure 2 as the search goes on (the article's video) -------- */

typedef struct frames_ctx {
    const cli *c;
    const plot_args *a;
    const xy *S, *T;
    const pann_matrix *Sm, *Tm;
    const char *xname, *yname;
    double range[4];
    size_t *nn;               /* by table row of S: table row of T */
    size_t frame;
    bool failed;
    pann_error err;
} frames_ctx;

/* nn by table rows from the engine's matrix rows. */
static void map_neighbours(frames_ctx *f, const uint32_t *nn_rows, size_t n)
{
    for (size_t k = 0; k < f->S->n; k++)
        f->nn[k] = SIZE_MAX;
    for (size_t k = 0; k < n; k++)
        if (nn_rows[k] != PANN_NONE)
            f->nn[f->Sm->row_id[k]] = f->Tm->row_id[nn_rows[k]];
}

static void write_frame(void *ctx, const pann_history_rec *rec, const uint32_t *current_nn,
                        const uint32_t *best_nn, size_t n)
{
    frames_ctx *f = ctx;
    (void)best_nn;
    if (f->failed)
        return;
    map_neighbours(f, current_nn, n);
    char path[4096], title[200];
    snprintf(path, sizeof path, "%s/frame-%05zu.svg", f->a->frames, ++f->frame);
    snprintf(title, sizeof title, "PANN search: %llu proposals, mean distance %.4g",
             (unsigned long long)rec->iteration, rec->mean_current);
    pann_output out;
    if (pann_output_open(&out, path, &f->err) != 0) {
        f->failed = true;
        return;
    }
    pann_plot p;
    size_t nseg;
    pann_plot_init(&p, out.fp, f->a->width, f->a->height, f->range[0], f->range[1],
                   f->range[2], f->range[3]);
    draw_matches(f->c, &p, f->S, f->T, f->nn, title, f->xname, f->yname, &nseg);
    if (pann_plot_end(&p, &f->err) != 0 || pann_output_commit(&out, &f->err) != 0)
        f->failed = true;
}

static void plot_frames(const cli *c, const plot_args *a, int nfiles, char **files)
{
    expect_files(c, "matches --frames", nfiles, 1, 2);
    if (mkdir(a->frames, 0777) != 0 && errno != EEXIST) {
        pann_error err;
        pann_fail(&err, PANN_ESYSTEM, "%s: %s", a->frames, strerror(errno));
        cli_die(c, &err);
    }
    const char *load[2] = { files[nfiles - 1], files[0] };   /* T scales */
    cli_data data;
    cli_load(c, load, (size_t)nfiles, &data);
    const pann_table *tt = &data.tables[0], *st = nfiles == 2 ? &data.tables[1] : tt;
    const pann_matrix *Tm = &data.mats[0], *Sm = nfiles == 2 ? &data.mats[1] : Tm;
    size_t cx, cy, tx, ty;
    xy_names(c, a, st, &cx, &cy);
    xy_same_columns(c, st, cx, cy, tt, &tx, &ty);
    xy S, T;
    xy_read(c, st, cx, cy, &S);
    xy_read(c, tt, tx, ty, &T);
    frames_ctx f = { .c = c, .a = a, .S = &S, .T = &T, .Sm = Sm, .Tm = Tm,
                     .xname = st->colnames[cx], .yname = st->colnames[cy] };
    xy_range(&S, &T, f.range);
    f.nn = xmalloc(c, S.n * sizeof *f.nn);

    pann_engine_opts e;
    cli_engine_opts(c, &e);
    e.self_exclude = nfiles == 1;
    e.max_iterations = a->iterations_given ? a->iterations : PANN_DEFAULT_PROPOSALS_PER_ROW
                                                              * (uint64_t)(Sm->n ? Sm->n : 1);
    e.history_every = a->history_every ? a->history_every
                                       : (uint64_t)ceil(e.top_fraction * (double)(Sm->n ? Sm->n : 1));
    e.snapshot = write_frame;
    e.snapshot_ctx = &f;
    pann_result r;
    pann_error err = {0};
    int rc = pann_match_anytime(Sm, Tm, &data.metric, &e, &r, &err);
    if (e.progress)
        fputc('\n', stderr);
    if (rc)
        cli_die(c, &err);
    if (f.failed)
        cli_die(c, &f.err);

    map_neighbours(&f, r.nn, r.n);
    char title[200];
    snprintf(title, sizeof title, "Nearest neighbours after %llu proposals",
             (unsigned long long)r.iterations);
    pann_output out;
    cli_output_open(c, &out);
    pann_plot p;
    size_t nseg;
    pann_plot_init(&p, out.fp, a->width, a->height, f.range[0], f.range[1], f.range[2], f.range[3]);
    draw_matches(c, &p, &S, &T, f.nn, a->title ? a->title : title, f.xname, f.yname, &nseg);
    finish(c, &p, &out);
    cli_note(c, "%zu frames written to %s (one every %llu proposals), seed %llu", f.frame,
             a->frames, (unsigned long long)e.history_every, (unsigned long long)c->seed);
    pann_result_free(&r);
    free(f.nn);
    xy_free(&S);
    xy_free(&T);
    cli_data_free(&data);
}

/* ---- extremes (Figure 3) ------------------------------------------------- */

static void plot_extremes(const cli *c, const plot_args *a, int nfiles, char **files)
{
    expect_files(c, "extremes", nfiles, 2, 2);
    pann_table dt, et;
    read_table(c, files[0], &dt);
    read_table(c, files[1], &et);
    size_t cx, cy;
    xy_names(c, a, &dt, &cx, &cy);
    xy D, E;
    xy_read(c, &dt, cx, cy, &D);
    size_t *rows = row_numbers(c, &et, column_of(c, &et, "row"), dt.nrows);
    E.n = 0;
    E.x = xmalloc(c, et.nrows * sizeof *E.x);
    E.y = xmalloc(c, et.nrows * sizeof *E.y);
    for (size_t i = 0; i < et.nrows; i++)
        if (rows[i]) {
            E.x[E.n] = D.x[rows[i] - 1];
            E.y[E.n++] = D.y[rows[i] - 1];
        }
    double r[4];
    xy_range(&D, NULL, r);
    pann_output out;
    cli_output_open(c, &out);
    pann_plot p;
    pann_plot_init(&p, out.fp, a->width, a->height, r[0], r[1], r[2], r[3]);
    pann_plot_begin(&p, a->title ? a->title : "Extreme points (farthest neighbours, S = T)",
                    dt.colnames[cx], dt.colnames[cy]);
    size_t nd = pann_plot_points(&p, D.x, D.y, D.n, 2.5, "#b0b0b0", "data-point");
    size_t ne = pann_plot_points(&p, E.x, E.y, E.n, 4.5, "#1f77b4", "extreme-point");
    pann_plot_legend(&p, "data", "#b0b0b0");
    pann_plot_legend(&p, "extreme points", "#1f77b4");
    finish(c, &p, &out);
    cli_note(c, "%zu data points, %zu extreme points drawn", nd, ne);
    free(rows);
    xy_free(&D);
    xy_free(&E);
    pann_table_free(&dt);
    pann_table_free(&et);
}

/* ---- F_real against F_synth -------------------------------------------- */

static void plot_ecdf(const cli *c, const plot_args *a, int nfiles, char **files)
{
    expect_files(c, "ecdf", nfiles, 1, 1);
    pann_table t;
    read_table(c, files[0], &t);
    size_t missing = 0;
    double *fr = column_values(c, &t, column_of(c, &t, "f_real"), &missing);
    double *fs = column_values(c, &t, column_of(c, &t, "f_synth"), &missing);
    double ks = 0;
    for (size_t i = 0; i < t.nrows; i++)
        if (isfinite(fr[i]) && isfinite(fs[i]) && fabs(fr[i] - fs[i]) > ks)
            ks = fabs(fr[i] - fs[i]);
    char title[200];
    snprintf(title, sizeof title, "ECDF at %zu nodes: KS = %.4g", t.nrows, ks);
    pann_output out;
    cli_output_open(c, &out);
    pann_plot p;
    pann_plot_init_exact(&p, out.fp, a->width, a->height, 0, 1, 0, 1);
    pann_plot_begin(&p, a->title ? a->title : title, "F_real (share of real rows dominated)",
                    "F_synth (share of synthetic rows dominated)");
    double d[2] = { 0, 1 };
    pann_plot_line(&p, d, d, 2, "#333333", 1, "5 4", "diagonal");
    size_t n = pann_plot_points(&p, fr, fs, t.nrows, 2, "#2ca02c", "node");
    finish(c, &p, &out);
    cli_note(c, "%zu nodes drawn, KS = max |F_synth - F_real| = %.6g", n, ks);
    free(fr);
    free(fs);
    pann_table_free(&t);
}

/* ---- histogram of NN distances -------------------------------------------- */

static void plot_histogram(const cli *c, const plot_args *a, int nfiles, char **files)
{
    expect_files(c, "histogram", nfiles, 1, 1);
    pann_table t;
    read_table(c, files[0], &t);
    size_t missing = 0, col = column_of(c, &t, a->column ? a->column : "distance");
    double *v = column_values(c, &t, col, &missing);
    size_t n = t.nrows - missing;
    size_t nbins = a->bins ? a->bins : (size_t)ceil(sqrt((double)n));
    if (!a->bins)
        nbins = nbins < 5 ? 5 : nbins > 60 ? 60 : nbins;
    double lo, hi;
    finite_range(v, t.nrows, &lo, &hi);
    for (size_t i = 0; i < a->nthreshold; i++) {
        lo = isfinite(lo) ? fmin(lo, a->threshold[i]) : a->threshold[i];
        hi = isfinite(hi) ? fmax(hi, a->threshold[i]) : a->threshold[i];
    }
    if (!isfinite(lo))
        lo = 0, hi = 1;
    if (lo > 0)
        lo = 0;                              /* distances: start at 0 */
    if (!(hi > lo))
        hi = lo + 1;
    double *counts = xmalloc(c, nbins * sizeof *counts);
    double *edges = xmalloc(c, (nbins + 1) * sizeof *edges), top = 0;
    pann_histogram(v, t.nrows, lo, hi, nbins, counts);
    for (size_t b = 0; b <= nbins; b++)
        edges[b] = lo + (hi - lo) * (double)b / (double)nbins;
    for (size_t b = 0; b < nbins; b++)
        top = fmax(top, counts[b]);
    char title[200];
    snprintf(title, sizeof title, "Histogram of %s (%zu rows)", t.colnames[col], n);
    pann_output out;
    cli_output_open(c, &out);
    pann_plot p;
    pann_plot_init(&p, out.fp, a->width, a->height, lo, hi, 0, top > 0 ? top : 1);
    pann_plot_begin(&p, a->title ? a->title : title, t.colnames[col], "rows");
    pann_plot_bars(&p, edges, counts, nbins, "#9467bd", "bar");
    for (size_t i = 0; i < a->nthreshold; i++) {
        double x[2] = { a->threshold[i], a->threshold[i] }, y[2] = { p.ymin, p.ymax };
        char label[80];
        pann_plot_line(&p, x, y, 2, "#d62728", 2, "6 3", "threshold");
        snprintf(label, sizeof label, "threshold %.4g", a->threshold[i]);
        pann_plot_legend(&p, label, "#d62728");
    }
    finish(c, &p, &out);
    cli_note(c, "%zu values in %zu bins of width %.4g", n, nbins, (hi - lo) / (double)nbins);
    free(v);
    free(counts);
    free(edges);
    pann_table_free(&t);
}

int main(int argc, char **argv)
{
    cli c;
    plot_args a = { .width = 720, .height = 540, .fit_skip = 5 };
    cli_init(&c, argc, argv, "pann-plot", "pann-plot KIND [OPTIONS] FILE...", PANN_SCALE_NONE);
    c.read.keep_text = false;   /* no row is written out verbatim */
    parse_args(argc, argv, &c, &a);
    int nfiles = argc - optind;
    char **files = argv + optind;
    if (strcmp(a.kind, "convergence") == 0)
        plot_convergence(&c, &a, nfiles, files);
    else if (strcmp(a.kind, "matches") == 0 && a.frames)
        plot_frames(&c, &a, nfiles, files);
    else if (strcmp(a.kind, "matches") == 0)
        plot_matches_file(&c, &a, nfiles, files);
    else if (strcmp(a.kind, "extremes") == 0)
        plot_extremes(&c, &a, nfiles, files);
    else if (strcmp(a.kind, "ecdf") == 0)
        plot_ecdf(&c, &a, nfiles, files);
    else if (strcmp(a.kind, "histogram") == 0)
        plot_histogram(&c, &a, nfiles, files);
    else
        cli_usage_error(&c, "'%s' is not a kind: convergence, matches, extremes, ecdf or histogram",
                        a.kind);
    return 0;
}
