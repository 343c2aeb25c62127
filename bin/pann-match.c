/* pann-match — for every row of QUERY, its nearest row of REFERENCE by the
 * PANN anytime search (or exact search), with the convergence history, the
 * article's power-law fit, and an estimate of the exact mean NN distance.
 * Option parsing and output only: the work is in libpann. */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli_mpi.h"

enum {
    OPT_ITERATIONS = CLI_OPT_FIRST_PROGRAM, OPT_TIME, OPT_TOP_FRACTION, OPT_DECAY,
    OPT_EPS, OPT_MODE, OPT_HISTORY, OPT_HISTORY_EVERY, OPT_FIT, OPT_FIT_SKIP,
    OPT_ESTIMATE, OPT_STRATEGY, OPT_LEAVES, OPT_GROUP, OPT_BATCH, OPT_GRAPH_K, OPT_ROUNDS,
    OPT_EF, OPT_FORMAT, OPT_DISTANCES, OPT_CELLS, OPT_PROBES,
};

static const char program_help[] =
"For every row of QUERY, find its nearest row of REFERENCE (of QUERY itself,\n"
"a row never being its own neighbour, when REFERENCE is absent) by the PANN\n"
"anytime search: random proposals accepted when closer.  Writes the CSV\n"
"query,neighbor,distance,proven (1-based data rows; proven = 1 when every\n"
"candidate was tried, so the answer is exact; a row with no neighbour, as in\n"
"a self-match of one row, has empty fields and proven 0) and a summary on\n"
"stderr.\n"
"\n"
"Search options:\n"
"      --iterations=N     proposals in all (default 50 per query row, the\n"
"                         article's 10,000 for 200 rows); 0 = until every\n"
"                         candidate is tried, which is exact\n"
"      --time=SECONDS     stop after this long (at an epoch boundary)\n"
"      --top-fraction=F   share of rows, worst first, given a proposal each\n"
"                         epoch (default 0.5, the article's K = N/2)\n"
"      --decay=D          temperature tau(t) = D / log(2 + t) (default 0)\n"
"      --eps=E            never accept a neighbour closer than E (off)\n"
"      --mode=min|max     nearest (default) or farthest neighbours\n"
"      --history=FILE     write step,iteration,swaps,mean_best,mean_current\n"
"      --history-every=N  a history line every N proposals (default: one\n"
"                         epoch's worth, N/2 rows)\n"
"      --fit              fit the article's a + b*t^c to the history\n"
"      --fit-skip=N       leave out the first N history points (default 5)\n"
"      --estimate=N       rows sampled for the estimate of the exact mean NN\n"
"                         distance (default ceil(sqrt(rows)); 0 = none)\n"
"      --strategy=S       how candidates are proposed: uniform (default, the\n"
"                         article's random proposals), tree (nearest leaves\n"
"                         of a k-d tree of REFERENCE first; much faster in low\n"
"                         dimension; no history) or graph (neighbours of the\n"
"                         current neighbour in a neighbour graph of REFERENCE,\n"
"                         NN-descent's idea; no history, nothing proven) or\n"
"                         ivf (cells of REFERENCE by k-means, each row scans\n"
"                         the cells of the nearest centroids first; for high\n"
"                         dimension)\n"
"      --leaves=N         tree strategy: at most N leaves of 128 rows per\n"
"                         query row, its own and the nearest within a radius\n"
"                         of its first answer (default 64; 0 = until proven,\n"
"                         exact)\n"
"      --cells=N          ivf strategy: k-means cells (default 2 sqrt(QUERY\n"
"                         rows), at most REFERENCE rows / 32)\n"
"      --probes=N         ivf strategy: cells scanned per query row (default\n"
"                         cells / 16; 0 = all, exact: handed to --exact, as\n"
"                         is any N of half the cells or more)\n"
"      --graph-k=K        graph strategy: neighbours per row of the graph (16)\n"
"      --rounds=N         graph strategy: improvement rounds of the graph (8)\n"
"      --ef=N             graph strategy: best rows kept while walking (32)\n"
"      --group=COL        search each row only among the REFERENCE rows with\n"
"                         the same value of COL (one table per category); COL\n"
"                         never enters the distance\n"
"      --batch=N          with --group: split categories of more than N\n"
"                         reference rows into batches searched separately\n"
"                         (the article suggests 5000; default: no split)\n"
"\n"
"Output:\n"
"      --format=F         csv (default) or npy: the neighbours as a numpy int64\n"
"                         array, one entry per QUERY row (0-based REFERENCE\n"
"                         rows, -1 for none)\n"
"      --distances=FILE   with --format=npy: the distances there as float32\n"
"                         (NaN for none)\n"
"\n"
"Which number to trust: the estimate of the exact mean (with its 95 %\n"
"interval) is unbiased at any stage of the search; the fit's a is not an\n"
"estimate of the exact mean (see the man page).\n";

typedef struct match_opts {
    pann_engine_opts engine;
    const char *history_path;
    bool fit, iterations_given;
    size_t fit_skip;
    size_t estimate_rows;
    bool estimate_given;
    bool tree, graph, ivf;
    pann_ivf_opts ivf_opts;
    bool probes_given, ivf_exact;
    size_t leaves, graph_k, rounds, ef;
    const char *group;
    size_t batch;
    bool npy;                /* --format=npy */
    const char *distances;
} match_opts;

static void parse_args(int argc, char **argv, cli *c, match_opts *mo)
{
    static const struct option longopts[] = {
        CLI_LONG_OPTIONS,
        { "iterations", required_argument, NULL, OPT_ITERATIONS },
        { "time", required_argument, NULL, OPT_TIME },
        { "top-fraction", required_argument, NULL, OPT_TOP_FRACTION },
        { "decay", required_argument, NULL, OPT_DECAY },
        { "eps", required_argument, NULL, OPT_EPS },
        { "mode", required_argument, NULL, OPT_MODE },
        { "history", required_argument, NULL, OPT_HISTORY },
        { "history-every", required_argument, NULL, OPT_HISTORY_EVERY },
        { "fit", no_argument, NULL, OPT_FIT },
        { "fit-skip", required_argument, NULL, OPT_FIT_SKIP },
        { "estimate", required_argument, NULL, OPT_ESTIMATE },
        { "strategy", required_argument, NULL, OPT_STRATEGY },
        { "leaves", required_argument, NULL, OPT_LEAVES },
        { "group", required_argument, NULL, OPT_GROUP },
        { "graph-k", required_argument, NULL, OPT_GRAPH_K },
        { "rounds", required_argument, NULL, OPT_ROUNDS },
        { "ef", required_argument, NULL, OPT_EF },
        { "batch", required_argument, NULL, OPT_BATCH },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "cells", required_argument, NULL, OPT_CELLS },
        { "probes", required_argument, NULL, OPT_PROBES },
        { "distances", required_argument, NULL, OPT_DISTANCES },
        { NULL, 0, NULL, 0 },
    };
    pann_engine_opts *e = &mo->engine;
    mo->fit_skip = 5;
    mo->leaves = 64;
    mo->graph_k = 16;
    mo->rounds = 8;
    mo->ef = 32;
    int opt;
    while ((opt = getopt_long(argc, argv, CLI_SHORT_OPTIONS, longopts, NULL)) != -1) {
        if (cli_option(c, opt, optarg, program_help))
            continue;
        switch (opt) {
        case OPT_ITERATIONS:
            e->max_iterations = cli_parse_count(c, "--iterations", optarg, 0, UINT64_MAX);
            mo->iterations_given = true;
            break;
        case OPT_TIME: e->max_seconds = cli_parse_real(c, "--time", optarg, 1e-6, 1e9); break;
        case OPT_TOP_FRACTION:
            e->top_fraction = cli_parse_real(c, "--top-fraction", optarg, 1e-9, 1.0);
            break;
        case OPT_DECAY: e->decay = cli_parse_real(c, "--decay", optarg, -1e3, 1e3); break;
        case OPT_EPS:
            e->eps = cli_parse_real(c, "--eps", optarg, 0.0, HUGE_VAL);
            e->use_eps = true;
            break;
        case OPT_MODE:
            if (strcmp(optarg, "min") == 0) e->mode = PANN_MIN;
            else if (strcmp(optarg, "max") == 0) e->mode = PANN_MAX;
            else cli_usage_error(c, "--mode: '%s' is not min or max", optarg);
            break;
        case OPT_HISTORY: mo->history_path = optarg; break;
        case OPT_HISTORY_EVERY:
            e->history_every = cli_parse_count(c, "--history-every", optarg, 1, UINT64_MAX);
            break;
        case OPT_FIT: mo->fit = true; break;
        case OPT_FIT_SKIP:
            mo->fit_skip = cli_parse_count(c, "--fit-skip", optarg, 0, 1000000);
            break;
        case OPT_ESTIMATE:
            mo->estimate_rows = cli_parse_count(c, "--estimate", optarg, 0, UINT64_MAX);
            mo->estimate_given = true;
            break;
        case OPT_STRATEGY:
            mo->tree = strcmp(optarg, "tree") == 0;
            mo->graph = strcmp(optarg, "graph") == 0;
            mo->ivf = strcmp(optarg, "ivf") == 0;
            if (!mo->tree && !mo->graph && !mo->ivf && strcmp(optarg, "uniform") != 0)
                cli_usage_error(c, "--strategy: '%s' is not uniform, tree, graph or ivf", optarg);
            break;
        case OPT_LEAVES:
            mo->leaves = cli_parse_count(c, "--leaves", optarg, 0, SIZE_MAX);
            break;
        case OPT_GROUP: mo->group = optarg; break;
        case OPT_GRAPH_K: mo->graph_k = cli_parse_count(c, "--graph-k", optarg, 1, 1000); break;
        case OPT_ROUNDS: mo->rounds = cli_parse_count(c, "--rounds", optarg, 0, 1000); break;
        case OPT_EF: mo->ef = cli_parse_count(c, "--ef", optarg, 1, 100000); break;
        case OPT_BATCH: mo->batch = cli_parse_count(c, "--batch", optarg, 1, SIZE_MAX); break;
        case OPT_FORMAT: mo->npy = cli_parse_npy_format(c, optarg); break;
        case OPT_DISTANCES: mo->distances = optarg; break;
        case OPT_CELLS:
            mo->ivf_opts.cells = cli_parse_count(c, "--cells", optarg, 1, UINT32_MAX);
            break;
        case OPT_PROBES:
            mo->ivf_opts.probes = cli_parse_count(c, "--probes", optarg, 0, UINT32_MAX);
            mo->probes_given = true;
            break;
        default:
            cli_usage_error(c, "unexpected option");
        }
    }
    int nfiles = argc - optind;
    if (nfiles < 1 || nfiles > 2)
        cli_usage_error(c, "expected QUERY [REFERENCE], got %d file%s", nfiles,
                        nfiles == 1 ? "" : "s");
    if (c->exact && (mo->history_path || mo->fit || mo->iterations_given || e->max_seconds > 0))
        cli_usage_error(c, "--exact has no history, fit or budget; drop those options");
    if (mo->batch && !mo->group)
        cli_usage_error(c, "--batch needs --group");
    if (mo->ivf && (c->exact || mo->iterations_given || e->decay != 0.0 || e->use_eps
                    || e->mode != PANN_MIN || mo->group))
        cli_usage_error(c, "--strategy=ivf takes --probes (and --time) as its budget, and has "
                        "no --iterations, temperature, --eps, --mode=max, --group or --exact");
    if ((mo->ivf_opts.cells || mo->probes_given) && !mo->ivf)
        cli_usage_error(c, "--cells and --probes are options of --strategy=ivf");
    if (mo->distances && !mo->npy)
        cli_usage_error(c, "--distances needs --format=npy");
    if (mo->group && (mo->history_path || mo->fit))
        cli_usage_error(c, "--group searches each category separately: no --history or --fit");
    if (mo->tree && (c->exact || mo->history_path || mo->fit || mo->iterations_given
                     || e->max_seconds > 0 || e->decay != 0.0))
        cli_usage_error(c, "--strategy=tree takes --leaves as its budget, and has no history, "
                        "fit, temperature or --exact");
    if (mo->graph && (c->exact || mo->history_path || mo->fit || mo->iterations_given
                      || e->max_seconds > 0 || e->decay != 0.0 || e->use_eps
                      || e->mode != PANN_MIN))
        cli_usage_error(c, "--strategy=graph takes --graph-k, --rounds and --ef as its budget, "
                        "and has no history, fit, temperature, --eps, --mode=max or --exact");
}

static int search_exact(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                        const pann_engine_opts *o, void *ctx, pann_result *r, pann_error *err)
{
    (void)ctx;
    return pann_match_exact(S, T, m, o, r, err);
}

static int search_anytime(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                          const pann_engine_opts *o, void *ctx, pann_result *r, pann_error *err)
{
    (void)ctx;
    return pann_match_anytime(S, T, m, o, r, err);
}

static int search_tree(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                       const pann_engine_opts *o, void *ctx, pann_result *r, pann_error *err)
{
    return pann_match_tree(S, T, m, o, *(const size_t *)ctx, r, err);
}

typedef struct graph_params {
    size_t k, rounds, ef;
} graph_params;

/* The graph of T (at most T's rows less one neighbours), then the walk. */
static int search_graph(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                        const pann_engine_opts *o, void *ctx, pann_result *r, pann_error *err)
{
    const graph_params *p = ctx;
    if (T->n < 2)
        return pann_match_exact(S, T, m, o, r, err);
    pann_graph g;
    uint64_t built = 0;
    size_t k = p->k < T->n - 1 ? p->k : T->n - 1;
    int rc = pann_graph_build(T, m, k, p->rounds, o, &g, &built, err);
    if (rc)
        return rc;
    rc = pann_match_graph(S, T, m, o, &g, p->ef, r, err);
    pann_graph_free(&g);
    if (!rc) {
        r->iterations += built;
        r->steps = r->iterations;
    }
    return rc;
}

/* --strategy=ivf: its cells and probes settled; a budget of half the
 * cells or more goes to the exact search, which is faster then. */
static int search_ivf(match_opts *mo, const pann_matrix *S, const pann_matrix *T,
                      const pann_metric *m, const pann_engine_opts *o, pann_result *r,
                      pann_error *err)
{
    pann_ivf_opts *io = &mo->ivf_opts;
    if (!io->cells)
        io->cells = pann_ivf_auto_cells(S->n, T->n);
    if (io->cells > T->n)
        io->cells = T->n;
    if (!mo->probes_given)
        io->probes = io->cells / 16 ? io->cells / 16 : 1;
    mo->ivf_exact = io->probes == 0 || 2 * io->probes >= io->cells;
    return mo->ivf_exact ? pann_match_exact(S, T, m, o, r, err)
                         : pann_match_ivf(S, T, m, o, io, r, err);
}

/* --group: the group column of each file, then one search per batch. */
static int grouped_search(const cli *c, const match_opts *mo, const cli_data *data,
                          size_t group_col, const pann_matrix *S, const pann_matrix *T,
                          pann_result *r, pann_error *err)
{
    const pann_table *tt = &data->tables[0];
    const pann_table *ts = data->nfiles == 2 ? &data->tables[1] : tt;
    size_t s_col = group_col;
    int rc = data->nfiles == 2 ? pann_columns_match(tt, &group_col, 1, ts, &s_col, err) : 0;
    pann_groups groups;
    if (!rc)
        rc = pann_groups_build(ts, S, s_col, tt, T, group_col, &groups, err);
    if (rc)
        return rc;
    pann_search_fn fn = c->exact ? search_exact : mo->tree ? search_tree
                      : mo->graph ? search_graph : search_anytime;
    graph_params graph = { mo->graph_k, mo->rounds, mo->ef };
    void *ctx = mo->graph ? (void *)&graph : (void *)&mo->leaves;
    pann_group_stats st;
    rc = pann_match_group(S, T, &groups, data->nfiles == 1, mo->batch, &data->metric,
                          &mo->engine, fn, ctx, r, &st, err);
    if (!rc) {
        cli_note(c, "--group=%s: %zu categories, %zu searches; %llu pairs within batches, "
                 "%.3g%% of the %.0f pairs of an ungrouped search%s", mo->group, st.groups,
                 st.batches, (unsigned long long)st.pairs, 100.0 * st.pairs / st.all_pairs,
                 st.all_pairs, c->exact && mo->batch ? "; exact within each batch" : "");
        if (st.rows_without_reference)
            cli_note(c, "warning: %zu query rows have a category absent from the reference: "
                     "empty neighbour", st.rows_without_reference);
    }
    pann_groups_free(&groups);
    return rc;
}

typedef struct match_rows {
    const size_t *s_ids, *t_ids;   /* cli_row_ids */
    const pann_result *r;
} match_rows;

static int format_match(char *buf, size_t size, size_t k, const void *ctx)
{
    const match_rows *m = ctx;
    const pann_result *r = m->r;
    char *at = cli_put_index(buf, cli_row_id(m->s_ids, k) + 1);
    *at++ = ',';
    if (r->nn[k] != PANN_NONE) {
        at = cli_put_index(at, cli_row_id(m->t_ids, r->nn[k]) + 1);
        *at++ = ',';
        at = cli_put_float(at, r->dist[k]);
    } else {
        *at++ = ',';
    }
    *at++ = ',';
    at = cli_put_index(at, r->nn[k] != PANN_NONE && r->proven[k]);
    *at++ = '\n';
    (void)size;
    return (int)(at - buf);
}

static void write_matches(const cli *c, const match_opts *mo, const cli_data *data,
                          const pann_matrix *S, const pann_matrix *T, const pann_result *r)
{
    pann_error err = {0};
    const pann_table *qt = &data->tables[data->nfiles == 2 ? 1 : 0];
    if (mo->npy && pann_npy_save_neighbours(c->output, mo->distances, qt->nrows, 1, true,
                                            cli_row_ids(S), cli_row_ids(T), r->nn, r->dist,
                                            r->n, &err) != 0)
        cli_die(c, &err);
    match_rows rows = { cli_row_ids(S), cli_row_ids(T), r };
    if (!mo->npy)
        cli_write_table(c, "query,neighbor,distance,proven\n", r->n, format_match, &rows);
}

/* A mean as "%.9g", or an empty field when no row has a neighbour yet. */
static void put_mean(FILE *fp, double mean, char end)
{
    if (!isnan(mean))
        fprintf(fp, "%.9g", mean);
    fputc(end, fp);
}

static void write_history(const cli *c, const char *path, const pann_result *r)
{
    pann_output out;
    pann_error err = {0};
    if (pann_output_open(&out, path, &err) != 0)
        cli_die(c, &err);
    fputs("step,iteration,swaps,mean_best,mean_current\n", out.fp);
    for (size_t i = 0; i < r->nhistory; i++) {
        const pann_history_rec *h = &r->history[i];
        fprintf(out.fp, "%llu,%llu,%llu,", (unsigned long long)h->step,
                (unsigned long long)h->iteration, (unsigned long long)h->swaps);
        put_mean(out.fp, h->mean_best, ',');
        put_mean(out.fp, h->mean_current, '\n');
    }
    if (pann_output_commit(&out, &err) != 0)
        cli_die(c, &err);
}

static void report_fit(const cli *c, const match_opts *mo, const pann_result *r)
{
    size_t skip = mo->fit_skip, count = r->nhistory > skip ? r->nhistory - skip : 0;
    double *t = malloc((count + 1) * sizeof *t), *y = malloc((count + 1) * sizeof *y);
    if (!t || !y) {
        free(t);
        free(y);
        pann_error err = { PANN_ESYSTEM, "out of memory" };
        cli_die(c, &err);
    }
    for (size_t i = 0; i < count; i++) {
        t[i] = (double)r->history[skip + i].iteration;
        y[i] = r->history[skip + i].mean_current;
    }
    pann_fit fit;
    pann_error err = {0};
    if (pann_fit_power(t, y, count, mo->engine.mode, &fit, &err) != 0)
        cli_note(c, "no fit: %s (history has %zu points, --fit-skip=%zu)", err.msg,
                 r->nhistory, skip);
    else
        cli_note(c, "fit a + b*t^c on %zu points: a = %.6g (se %.2g), b = %.6g (se %.2g), "
                 "c = %.4g (se %.2g)%s; a is the curve's asymptote, not the exact mean",
                 fit.npoints, fit.a, fit.se_a, fit.b, fit.se_b, fit.c, fit.se_c,
                 fit.at_bound ? ", a parameter at its bound" : "");
    free(t);
    free(y);
}

/* Rows with a neighbour, the sum of their distances, and how many of them
 * are proven (a row without a neighbour has no answer to prove). */
static size_t answered_rows(const pann_result *r, double *sum, size_t *proven)
{
    size_t assigned = 0;
    *sum = 0.0;
    *proven = 0;
    for (size_t k = 0; k < r->n; k++)
        if (r->nn[k] != PANN_NONE) {
            *sum += r->dist[k];
            *proven += r->proven[k];
            assigned++;
        }
    return assigned;
}

/* The answers' summary line, or the one line saying that no row has a
 * neighbour (then there is no mean, fit or estimate). */
static void summarise_answers(const cli *c, const match_opts *mo, const cli_data *data,
                              const pann_result *r, size_t assigned, double sum,
                              size_t proven)
{
    if (assigned == 0) {
        if (data->nfiles == 1 && r->n == 1)
            cli_note(c, "no neighbour: %s has one row and a row is never its own neighbour "
                     "(0 rows proven, no mean distance%s)", data->tables[0].display,
                     mo->fit ? ", no fit" : "");
        else
            cli_note(c, "no neighbour: none of the %zu rows has an admissible neighbour "
                     "(0 rows proven, no mean distance%s)", r->n, mo->fit ? ", no fit" : "");
        return;
    }
    if (assigned < r->n)
        cli_note(c, "warning: %zu rows have no admissible neighbour (empty fields, not proven)",
                 r->n - assigned);
    cli_note(c, "mean NN distance %.6g over %zu rows; %s; %zu rows (%.1f%%) proven exact",
             sum / assigned, assigned,
             c->exact || mo->ivf_exact ? "exact search" : mo->tree ? "anytime search, tree strategy"
             : mo->ivf ? "anytime search, ivf strategy"
             : mo->graph ? "anytime search, graph strategy" : "anytime search",
             proven, 100.0 * proven / r->n);
}

static void summarise(const cli *c, const match_opts *mo, const cli_data *data,
                      const pann_matrix *S, const pann_matrix *T, const pann_result *r)
{
    double sum, brute = (double)S->n * (double)T->n;
    size_t proven, assigned = answered_rows(r, &sum, &proven);
    cli_note(c, "%zu query rows, %zu reference rows, %zu columns, metric %s, seed %llu",
             S->n, T->n, S->d, pann_metric_name(data->metric.kind),
             (unsigned long long)c->seed);
    summarise_answers(c, mo, data, r, assigned, sum, proven);
    if (mo->tree)
        cli_note(c, "%llu distances computed (%.3g%% of brute force), %zu leaves per row, %.3f s",
                 (unsigned long long)r->iterations, 100.0 * r->iterations / brute, mo->leaves,
                 r->seconds);
    else if (mo->ivf && mo->ivf_exact)
        cli_note(c, "--probes=%zu of %zu cells: exact search instead (faster for half the "
                 "cells or more)", mo->ivf_opts.probes, mo->ivf_opts.cells);
    else if (mo->ivf)
        cli_note(c, "%llu distances computed (%.3g%% of brute force, the index's included), "
                 "%zu cells, %zu probes per row, %llu passes, %.3f s%s",
                 (unsigned long long)r->iterations, 100.0 * r->iterations / brute,
                 mo->ivf_opts.cells, mo->ivf_opts.probes, (unsigned long long)r->epochs,
                 r->seconds, r->stopped_by_time ? ", stopped by --time" : "");
    else if (mo->graph)
        cli_note(c, "%llu distances computed (%.3g%% of brute force), graph of %zu neighbours, "
                 "%zu rounds at most, ef %zu", (unsigned long long)r->iterations,
                 100.0 * r->iterations / brute, mo->graph_k, mo->rounds, mo->ef);
    else if (!c->exact)
        cli_note(c, "%llu proposals (%.3g%% of brute force), %llu swaps, %llu epochs, %.3f s%s",
                 (unsigned long long)r->iterations, 100.0 * r->steps / brute,
                 (unsigned long long)r->swaps, (unsigned long long)r->epochs, r->seconds,
                 r->stopped_by_time ? ", stopped by --time" : "");
    if (mo->fit && assigned > 0)
        report_fit(c, mo, r);
    if (c->exact || proven == assigned || (mo->estimate_given && mo->estimate_rows == 0)
        || assigned == 0 || mo->group)   /* the estimator searches all of T */
        return;
    pann_estimate est;
    pann_error err = {0};
    if (pann_estimate_mean(S, T, &data->metric, &mo->engine, r, mo->estimate_rows, &est, &err))
        cli_die(c, &err);
    cli_note(c, "estimated exact mean NN distance %.6g +/- %.2g (95%% interval %.6g to %.6g; "
             "%zu rows sampled, %.3g%% of brute-force work)", est.mean, 1.96 * est.se,
             est.lo, est.hi, est.sample, 100.0 * est.work_fraction);
}

static bool has_categories(const pann_metric *m)
{
    for (size_t j = 0; m->is_cat && j < m->d; j++)
        if (m->is_cat[j])
            return true;
    return false;
}

int main(int argc, char **argv)
{
    cli c;
    match_opts mo = {0};
    cli_init(&c, argc, argv, "pann-match",
             "pann-match [OPTIONS] QUERY [REFERENCE]", PANN_SCALE_NONE);
    c.read.keep_text = false;   /* no row is written out verbatim */
    cli_mpi_init(&c);
    pann_engine_opts_init(&mo.engine);
    pann_ivf_opts_init(&mo.ivf_opts);
    parse_args(argc, argv, &c, &mo);

    const char *files[2];
    size_t nfiles = (size_t)(argc - optind);
    files[0] = argv[optind + nfiles - 1];      /* the reference scales */
    if (nfiles == 2)
        files[1] = argv[optind];
    cli_data data;
    size_t group_col = 0;
    const char *option = "--group";
    c.matrices_only = !mo.group;   /* only --group reads cells after loading */
    cli_mpi_share share;   /* under mpirun: the exact and tree searches share the queries out */
    if (nfiles == 1 || mo.group || !(c.exact || mo.tree))
        cli_mpi_alone();
    cli_mpi_load_except(&c, &share, files, nfiles, &mo.group, &option, 1, &data, &group_col);
    const pann_matrix *T = &data.mats[0], *S = nfiles == 2 ? &data.mats[1] : &data.mats[0];
    if (!mo.group)   /* only --group reads cells after loading */
        cli_data_drop_cells(&data);
    if (mo.tree && mo.leaves && (mo.engine.mode == PANN_MAX || has_categories(&data.metric)))
        cli_mpi_gather_queries(&c, &share, &data);   /* budgets shared by nearby queries */

    pann_engine_opts *e = &mo.engine;
    cli_engine_apply(&c, e);
    e->self_exclude = nfiles == 1;
    if (!mo.iterations_given)
        e->max_iterations = S->n ? PANN_DEFAULT_PROPOSALS_PER_ROW * (uint64_t)S->n : 1;
    if ((mo.history_path || mo.fit) && !e->history_every)
        e->history_every = (uint64_t)ceil(e->top_fraction * (double)(S->n ? S->n : 1));

    pann_result r;
    pann_error err = {0};
    graph_params graph = { mo.graph_k, mo.rounds, mo.ef };
    /* the reference's rows, which the exact and tree searches may take so
     * that they are held once, when nothing reads them afterwards (the
     * estimate searches them again) */
    bool no_estimate = c.exact || (mo.estimate_given && mo.estimate_rows == 0);
    pann_matrix *own = no_estimate ? &data.mats[0] : NULL;
    int rc = mo.group ? grouped_search(&c, &mo, &data, group_col, S, T, &r, &err)
           : mo.graph ? search_graph(S, T, &data.metric, e, &graph, &r, &err)
           : mo.ivf ? search_ivf(&mo, S, T, &data.metric, e, &r, &err)
           : c.exact ? (own ? pann_match_exact_consume(S, own, &data.metric, e, &r, &err)
                            : pann_match_exact(S, T, &data.metric, e, &r, &err))
           : mo.tree ? (own ? pann_match_tree_consume(S, own, &data.metric, e, mo.leaves, &r, &err)
                            : pann_match_tree(S, T, &data.metric, e, mo.leaves, &r, &err))
                     : pann_match_anytime(S, T, &data.metric, e, &r, &err);
    if (e->progress)
        fputc('\n', stderr);
    if (rc)
        cli_die(&c, &err);
    cli_mpi_gather_result(&c, &share, &data, &r, !no_estimate);
    write_matches(&c, &mo, &data, S, T, &r);
    if (mo.history_path)
        write_history(&c, mo.history_path, &r);
    summarise(&c, &mo, &data, S, T, &r);
    pann_result_free(&r);
    cli_data_free(&data);
    return 0;
}
