/* pann-extreme — the extreme points of a data set (the rows that are the
 * farthest row of some row, found by maximising the article's loss with
 * S = T), or with --outliers its rows ranked by the distance to their K-th
 * nearest neighbour.  Option parsing and output only: the work is in
 * libpann (lib/extreme.c). */
#include <config.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

/* The default anytime budget, in proposals per row: the same as
 * pann-match's.  In max mode a row's farthest distance converges fast (most
 * far rows lie near the envelope), but which of the far rows is the farthest
 * needs about n proposals per row; the man page shows the trade-off. */

enum { OPT_ITERATIONS = CLI_OPT_FIRST_PROGRAM, OPT_TIME, OPT_TOP, OPT_OUTLIERS };

static const char program_help[] =
"The extreme points of DATA: every row looks for its farthest other row (the\n"
"PANN search maximising the loss, or --exact); a row chosen by at least one\n"
"row is an extreme point, its score how many rows chose it.  With --outliers,\n"
"every row scored by the distance to its K-th nearest other row instead.\n"
"Writes row,score then the row's own fields (verbatim, in the input's\n"
"delimiter), highest score first, ties by row; a summary on stderr.\n"
"\n"
"Options:\n"
"      --top=N            only the first N rows of the ranking\n"
"      --iterations=N     anytime budget in proposals (default 50 per row);\n"
"                         0 = until every candidate is tried, which is exact\n"
"      --time=SECONDS     stop the anytime search after this long\n"
"      --outliers         rank all rows by their K-th nearest neighbour\n"
"                         distance (exact), most isolated first\n"
"  -k, --neighbor=K       which neighbour --outliers uses (default 1)\n";

typedef struct extreme_opts {
    pann_engine_opts engine;
    bool iterations_given, outliers;
    size_t top;                  /* 0 = all */
    size_t k;                    /* 0 = not given */
} extreme_opts;

static void parse_args(int argc, char **argv, cli *c, extreme_opts *xo)
{
    static const struct option longopts[] = {
        CLI_LONG_OPTIONS,
        { "iterations", required_argument, NULL, OPT_ITERATIONS },
        { "time", required_argument, NULL, OPT_TIME },
        { "top", required_argument, NULL, OPT_TOP },
        { "outliers", no_argument, NULL, OPT_OUTLIERS },
        { "neighbor", required_argument, NULL, 'k' },
        { NULL, 0, NULL, 0 },
    };
    pann_engine_opts *e = &xo->engine;
    int opt;
    while ((opt = getopt_long(argc, argv, CLI_SHORT_OPTIONS "k:", longopts, NULL)) != -1) {
        if (cli_option(c, opt, optarg, program_help))
            continue;
        switch (opt) {
        case OPT_ITERATIONS:
            e->max_iterations = cli_parse_count(c, "--iterations", optarg, 0, UINT64_MAX);
            xo->iterations_given = true;
            break;
        case OPT_TIME: e->max_seconds = cli_parse_real(c, "--time", optarg, 1e-6, 1e9); break;
        case OPT_TOP: xo->top = cli_parse_count(c, "--top", optarg, 1, SIZE_MAX); break;
        case OPT_OUTLIERS: xo->outliers = true; break;
        case 'k': xo->k = cli_parse_count(c, "-k", optarg, 1, UINT32_MAX); break;
        default: cli_usage_error(c, "unexpected option");
        }
    }
    int nfiles = argc - optind;
    if (nfiles != 1)
        cli_usage_error(c, "expected one DATA file, got %d", nfiles);
    bool budget = xo->iterations_given || e->max_seconds > 0;
    if (xo->k && !xo->outliers)
        cli_usage_error(c, "-k applies to --outliers only");
    if (xo->outliers && budget)
        cli_usage_error(c, "--outliers is always exact; drop --iterations and --time");
    if (c->exact && budget)
        cli_usage_error(c, "--exact has no budget; drop --iterations and --time");
}

/* "row,score," then the original header (or the column names without one),
 * in the input's delimiter, so that the fields line up with the rows. */
static void write_header(FILE *fp, const pann_table *t, char delim)
{
    fprintf(fp, "row%cscore", delim);
    if (t->header_end > t->header_start) {
        size_t end = t->header_end;
        if (end > t->header_start && t->text[end - 1] == '\n') end--;
        if (end > t->header_start && t->text[end - 1] == '\r') end--;
        fputc(delim, fp);
        fwrite(t->text + t->header_start, 1, end - t->header_start, fp);
    } else {
        for (size_t j = 0; j < t->ncols; j++) {
            fputc(delim, fp);
            fputs(t->colnames[j], fp);
        }
    }
    fputc('\n', fp);
}

/* One output line: the 1-based row, its score, the row's text as read
 * (without its terminator, LF or CRLF). */
static void write_row(FILE *fp, const pann_table *t, char delim, size_t row, bool integer,
                      double score)
{
    size_t start = t->row_start[row], end = t->row_end[row];
    if (end > start && t->text[end - 1] == '\n') end--;
    if (end > start && t->text[end - 1] == '\r') end--;
    if (integer)
        fprintf(fp, "%zu%c%.0f%c", row + 1, delim, score, delim);
    else
        fprintf(fp, "%zu%c%.7g%c", row + 1, delim, score, delim);
    fwrite(t->text + start, 1, end - start, fp);
    fputc('\n', fp);
}

static void write_ranking(const cli *c, const cli_data *data, const extreme_opts *xo,
                          const pann_scored_row *list, size_t count)
{
    const pann_table *t = &data->tables[0];
    const pann_matrix *X = &data->mats[0];
    size_t shown = xo->top && xo->top < count ? xo->top : count;
    pann_output out;
    cli_output_open(c, &out);
    write_header(out.fp, t, c->read.delim);
    for (size_t i = 0; i < shown; i++)
        write_row(out.fp, t, c->read.delim, X->row_id[list[i].row], !xo->outliers,
                  list[i].score);
    cli_output_commit(c, &out);
}

static void run_envelope(const cli *c, const cli_data *data, extreme_opts *xo)
{
    const pann_matrix *X = &data->mats[0];
    pann_engine_opts *e = &xo->engine;
    if (!xo->iterations_given)
        e->max_iterations = X->n ? PANN_DEFAULT_PROPOSALS_PER_ROW * (uint64_t)X->n : 1;
    pann_result r;
    pann_scored_row *points;
    size_t npoints;
    pann_error err = {0};
    int rc = pann_extreme_envelope(X, &data->metric, e, c->exact, &r, &points, &npoints, &err);
    if (e->progress)
        fputc('\n', stderr);
    if (rc)
        cli_die(c, &err);
    write_ranking(c, data, xo, points, npoints);
    cli_note(c, "%zu rows, %zu columns, metric %s, seed %llu", X->n, X->d,
             pann_metric_name(data->metric.kind), (unsigned long long)c->seed);
    size_t answered = 0, proven = 0;   /* a row without a farthest row proves nothing */
    for (size_t k = 0; k < r.n; k++)
        if (r.nn[k] != PANN_NONE) {
            answered++;
            proven += r.proven[k];
        }
    if (answered == 0)
        cli_note(c, "no extreme point: %s has one row and a row is never its own farthest "
                 "row (0 rows proven)", data->tables[0].display);
    else
        cli_note(c, "%zu extreme points; farthest row proven for %zu of %zu rows (%.1f%%)",
                 npoints, proven, r.n, 100.0 * proven / r.n);
    if (!c->exact)
        cli_note(c, "anytime search: %llu proposals (%.3g%% of brute force), %.3f s%s",
                 (unsigned long long)r.iterations,
                 X->n ? 100.0 * r.steps / ((double)X->n * X->n) : 0.0, r.seconds,
                 r.stopped_by_time ? ", stopped by --time" : "");
    free(points);
    pann_result_free(&r);
}

static void run_outliers(const cli *c, const cli_data *data, const extreme_opts *xo)
{
    const pann_matrix *X = &data->mats[0];
    size_t k = xo->k ? xo->k : 1;
    if (X->n == 1) {
        fprintf(stderr, "%s: %s: one row, and a row is never its own neighbour: no "
                "neighbour distance to rank it by\n", c->prog, data->tables[0].display);
        exit(PANN_EINPUT);
    }
    if (k >= X->n) {
        fprintf(stderr, "%s: -k: %zu is too large: %s has %zu row%s, so K must be "
                "below that\n", c->prog, k, data->tables[0].display, X->n, X->n == 1 ? "" : "s");
        exit(PANN_EINPUT);
    }
    pann_scored_row *ranked;
    pann_error err = {0};
    if (pann_extreme_outliers(X, &data->metric, k, c->threads, &ranked, &err))
        cli_die(c, &err);
    write_ranking(c, data, xo, ranked, X->n);
    cli_note(c, "%zu rows, %zu columns, metric %s; distance to neighbour %zu (exact): "
             "largest %.7g (row %zu), median %.7g", X->n, X->d,
             pann_metric_name(data->metric.kind), k, ranked[0].score,
             X->row_id[ranked[0].row] + 1, ranked[X->n / 2].score);
    free(ranked);
}

int main(int argc, char **argv)
{
    cli c;
    extreme_opts xo = {0};
    cli_init(&c, argc, argv, "pann-extreme", "pann-extreme [OPTIONS] DATA", PANN_SCALE_NONE);
    pann_engine_opts_init(&xo.engine);
    parse_args(argc, argv, &c, &xo);

    const char *files[1] = { argv[optind] };
    cli_data data;
    cli_load(&c, files, 1, &data);
    if (data.mats[0].n == 0) {
        fprintf(stderr, "%s: %s: no data rows\n", c.prog, data.tables[0].display);
        exit(PANN_EINPUT);
    }

    cli_engine_apply(&c, &xo.engine);

    if (xo.outliers)
        run_outliers(&c, &data, &xo);
    else
        run_envelope(&c, &data, &xo);
    cli_data_free(&data);
    return 0;
}
