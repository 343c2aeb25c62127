/* ecdf-ks — the multivariate Kolmogorov-Smirnov distance between a real and
 * a synthetic table, KS = max over nodes z of |F_synth(z) - F_real(z)|,
 * F(z) being the share of rows dominated by z in every numeric column; with
 * the node where it is reached, an optional "base" KS between two real
 * splits, a per-node dump and per-column scores.  Option parsing, node-file
 * reading and output only: counting and statistics are in lib/ecdf.c.
 */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

enum { OPT_POINTS = CLI_OPT_FIRST_PROGRAM, OPT_MARGINALS, OPT_DUMP, OPT_BASE };

static const char program_help[] =
"Multivariate Kolmogorov-Smirnov distance between REAL and SYNTH:\n"
"KS = max over nodes z of |F_synth(z) - F_real(z)|, F(z) = share of rows whose\n"
"every numeric column is <= z's.  Writes the CSV\n"
"ks,points,base_ks,source,node,f_real,f_synth,<the node's coordinates>\n"
"(one line; base_ks empty without --base) and a summary on stderr.\n"
"Categorical columns are left out of the ECDF, with a warning.\n"
"\n"
"ECDF options:\n"
"      --points=P         nodes: 'all' (default; every row of REAL and SYNTH,\n"
"                         the exact maximum over observed rows), a number N\n"
"                         (N random nodes at random quantiles of REAL, as the\n"
"                         article's author builds them; those with F_real = 0\n"
"                         are left out; --seed), or a CSV FILE of nodes with\n"
"                         the same column names ('./FILE' for a file named\n"
"                         by digits)\n"
"      --base=REAL2       also KS(REAL, REAL2) on the same node construction,\n"
"                         written as base_ks\n"
"      --dump=FILE        every node: source,node,f_real,f_synth,count_real,\n"
"                         count_synth,<coordinates>\n"
"      --marginals=FILE   per column: column,kind,statistic,value,complement,\n"
"                         base_value,base_complement (ks for numeric columns,\n"
"                         tv = total variation for categorical ones), then a\n"
"                         (mean) line\n"
"\n"
"Scaling does not change an ECDF: --scale is none by default and has no\n"
"effect on the results; --metric and --exact do not apply.\n";

typedef enum { NODES_ALL, NODES_RANDOM, NODES_FILE } node_kind;

typedef struct ks_opts {
    node_kind nodes;
    size_t npoints;
    const char *node_file, *base, *dump, *marginals;
} ks_opts;

/* "all", a whole number, or a file name; anything that starts like a
 * number must be a valid count, so "--points=1e5" is an error, not a file. */
static void parse_points(const cli *c, const char *arg, ks_opts *ko)
{
    const char *p = arg + (*arg == '+' || *arg == '-');
    if (strcmp(arg, "all") == 0) {
        ko->nodes = NODES_ALL;
    } else if (*p >= '0' && *p <= '9') {
        ko->nodes = NODES_RANDOM;
        ko->npoints = cli_parse_count(c, "--points", arg, 1, 1000000000);
    } else if (*arg == '\0') {
        cli_usage_error(c, "--points: empty; use all, a number of nodes or a file");
    } else {
        ko->nodes = NODES_FILE;
        ko->node_file = arg;
    }
}

static void parse_args(int argc, char **argv, cli *c, ks_opts *ko)
{
    static const struct option longopts[] = {
        CLI_LONG_OPTIONS,
        { "points", required_argument, NULL, OPT_POINTS },
        { "marginals", required_argument, NULL, OPT_MARGINALS },
        { "dump", required_argument, NULL, OPT_DUMP },
        { "base", required_argument, NULL, OPT_BASE },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = getopt_long(argc, argv, CLI_SHORT_OPTIONS, longopts, NULL)) != -1) {
        if (cli_option(c, opt, optarg, program_help))
            continue;
        switch (opt) {
        case OPT_POINTS: parse_points(c, optarg, ko); break;
        case OPT_MARGINALS: ko->marginals = optarg; break;
        case OPT_DUMP: ko->dump = optarg; break;
        case OPT_BASE: ko->base = optarg; break;
        default: cli_usage_error(c, "unexpected option");
        }
    }
    int nfiles = argc - optind;
    if (nfiles != 2)
        cli_usage_error(c, "expected REAL SYNTH, got %d file%s", nfiles,
                        nfiles == 1 ? "" : "s");
    if (c->metric != PANN_L1)
        cli_usage_error(c, "--metric: an ECDF uses no distance");
    if (c->exact)
        cli_usage_error(c, "--exact: counts are always exact; --points=all gives "
                        "the exact maximum over the observed rows");
    const char *stdout_names[] = { ko->dump, ko->marginals };
    for (size_t i = 0; i < 2; i++)
        if (stdout_names[i] && strcmp(stdout_names[i], "-") == 0 &&
            (!c->output || strcmp(c->output, "-") == 0))
            cli_usage_error(c, "--%s=-: the result already goes to stdout; use -o FILE",
                            i == 0 ? "dump" : "marginals");
    size_t stdin_count = ko->node_file && strcmp(ko->node_file, "-") == 0;
    stdin_count += ko->base && strcmp(ko->base, "-") == 0;
    for (int i = optind; i < argc; i++)
        stdin_count += strcmp(argv[i], "-") == 0;
    if (stdin_count > 1)
        cli_usage_error(c, "standard input ('-') can be read only once");
}

/* The numeric columns of the schema (the ECDF's), with a warning naming the
 * categorical ones; an error when none is numeric. */
static size_t numeric_columns(const cli *c, const pann_schema *s, size_t *cols)
{
    size_t k = 0, ncat = 0;
    char names[900] = "";
    for (size_t j = 0; j < s->d; j++) {
        if (s->kind[j] == PANN_NUMERIC) {
            cols[k++] = j;
            continue;
        }
        size_t len = strlen(names);
        if (len + strlen(s->names[j]) + 8 < sizeof names)
            snprintf(names + len, sizeof names - len, "%s'%s'", ncat ? ", " : "",
                     s->names[j]);
        else if (len + 8 < sizeof names && !strstr(names, ", ..."))
            snprintf(names + len, sizeof names - len, ", ...");
        ncat++;
    }
    if (k == 0)
        cli_usage_error(c, "no numeric column for the multivariate ECDF (categorical: "
                        "%s); choose numeric columns with -c", names);
    if (ncat)   /* a warning is never silenced: the statistic ignores them */
        fprintf(stderr, "%s: warning: categorical column%s %s left out of the "
                "multivariate ECDF (category codes have no order); --marginals "
                "scores %s by total variation\n", c->prog, ncat == 1 ? "" : "s",
                names, ncat == 1 ? "it" : "them");
    return k;
}

static void select_or_die(const cli *c, const pann_matrix *in, const size_t *cols,
                          size_t k, pann_matrix *out)
{
    pann_error err = {0};
    if (pann_ecdf_select_columns(in, cols, k, out, &err))
        cli_die(c, &err);
}

/* Nodes from a CSV file: REAL's ECDF columns matched by name (by position
 * without header), every cell a number, scaled as the data are. */
static void read_node_file(const cli *c, const char *path, const cli_data *data,
                           const size_t *cols, size_t k, pann_matrix *nodes)
{
    pann_error err = {0};
    pann_table t;
    size_t *chosen, nchosen, *in_real = malloc(k * sizeof *in_real),
           *in_file = malloc(k * sizeof *in_file);
    if (!in_real || !in_file)
        cli_die(c, &(pann_error){ PANN_ESYSTEM, "out of memory" });
    if (pann_tables_read(&t, &path, 1, &c->read, c->threads, &err) ||
        pann_columns_parse(&data->tables[0], c->encode.columns, &chosen, &nchosen, &err))
        cli_die(c, &err);
    for (size_t i = 0; i < k; i++)
        in_real[i] = chosen[cols[i]];
    if (pann_columns_match(&data->tables[0], in_real, k, &t, in_file, &err))
        cli_die(c, &err);
    if (t.nrows == 0) {   /* freed first: the error exits */
        free(chosen);
        free(in_real);
        free(in_file);
        cli_usage_error(c, "--points: %s has no data rows", t.display);
    }
    if (pann_matrix_alloc(nodes, t.nrows, k, &err))
        cli_die(c, &err);
    const pann_schema *s = &data->schema;
    for (size_t i = 0; i < t.nrows; i++)
        for (size_t j = 0; j < k; j++) {
            double v;
            if (pann_cell_number(&t, i, in_file[j], false, "node coordinates must be numbers",
                                 &v, &err))
                cli_die(c, &err);
            nodes->v[i * k + j] = (float)((v - s->center[cols[j]]) / s->scale[cols[j]]);
        }
    free(chosen);
    free(in_real);
    free(in_file);
    pann_table_free(&t);
}

/* Where node i comes from, for the output: the source and its 1-based
 * number there (data row of a file, index of a random node). */
typedef struct node_origin {
    node_kind kind;
    const pann_matrix *real, *synth;     /* NODES_ALL: real rows, then synth */
} node_origin;

static const char *origin_of(const node_origin *o, const pann_matrix *nodes,
                             size_t i, size_t *number)
{
    switch (o->kind) {
    case NODES_ALL:
        if (i < o->real->n) {
            *number = o->real->row_id[i] + 1;
            return "real";
        }
        *number = o->synth->row_id[i - o->real->n] + 1;
        return "synth";
    case NODES_RANDOM:
        *number = nodes->row_id[i] + 1;
        return "random";
    default:
        *number = nodes->row_id[i] + 1;
        return "file";
    }
}

/* Coordinates in the files' own units (undoing --scale). */
static void write_coordinates(FILE *fp, const pann_schema *s, const size_t *cols,
                              const pann_matrix *nodes, size_t i)
{
    for (size_t j = 0; j < nodes->d; j++)
        fprintf(fp, ",%.7g", (double)pann_row(nodes, i)[j] * s->scale[cols[j]] +
                                 s->center[cols[j]]);
    fputc('\n', fp);
}

static void write_coordinate_names(FILE *fp, const pann_schema *s, const size_t *cols,
                                   size_t k)
{
    for (size_t j = 0; j < k; j++) {
        fputc(',', fp);
        pann_csv_field(fp, s->names[cols[j]]);
    }
    fputc('\n', fp);
}

typedef struct ks_run {
    pann_matrix real, synth, base, nodes, base_nodes;
    size_t *cols, k, dropped;
    pann_ecdf_ks_result r, rb;
    double *f_real, *f_synth;
    node_origin origin;
} ks_run;

static void write_result(const cli *c, const ks_opts *ko, const pann_schema *s,
                         const ks_run *run)
{
    pann_output out;
    size_t number;
    const char *source = origin_of(&run->origin, &run->nodes, run->r.argmax, &number);
    cli_output_open(c, &out);
    fputs("ks,points,base_ks,source,node,f_real,f_synth", out.fp);
    write_coordinate_names(out.fp, s, run->cols, run->k);
    fprintf(out.fp, "%.9g,%zu,", run->r.ks, run->r.npoints);
    if (ko->base)
        fprintf(out.fp, "%.9g", run->rb.ks);
    fprintf(out.fp, ",%s,%zu,%.9g,%.9g", source, number, run->r.f_real, run->r.f_synth);
    write_coordinates(out.fp, s, run->cols, &run->nodes, run->r.argmax);
    cli_output_commit(c, &out);
}

static void write_dump(const cli *c, const char *path, const pann_schema *s,
                       const ks_run *run)
{
    pann_output out;
    pann_error err = {0};
    if (pann_output_open(&out, path, &err))
        cli_die(c, &err);
    fputs("source,node,f_real,f_synth,count_real,count_synth", out.fp);
    write_coordinate_names(out.fp, s, run->cols, run->k);
    for (size_t i = 0; i < run->nodes.n; i++) {
        size_t number;
        const char *source = origin_of(&run->origin, &run->nodes, i, &number);
        fprintf(out.fp, "%s,%zu,%.9g,%.9g,%.0f,%.0f", source, number, run->f_real[i],
                run->f_synth[i], run->f_real[i] * (double)run->real.n,
                run->f_synth[i] * (double)run->synth.n);
        write_coordinates(out.fp, s, run->cols, &run->nodes, i);
    }
    if (pann_output_commit(&out, &err))
        cli_die(c, &err);
}

/* Per column: KS (numeric) or total variation (categorical) on the full
 * encoded matrices, with the base split's when there is one. */
static void write_marginals(const cli *c, const ks_opts *ko, const cli_data *data)
{
    pann_output out;
    pann_error err = {0};
    const pann_schema *s = &data->schema;
    if (pann_output_open(&out, ko->marginals, &err))
        cli_die(c, &err);
    fputs("column,kind,statistic,value,complement,base_value,base_complement\n", out.fp);
    double sum = 0, base_sum = 0;
    for (size_t j = 0; j < s->d; j++) {
        bool numeric = s->kind[j] == PANN_NUMERIC;
        double (*score)(const pann_matrix *, const pann_matrix *, size_t) =
            numeric ? pann_ecdf_marginal_ks : pann_ecdf_marginal_tv;
        double v = score(&data->mats[0], &data->mats[1], j);
        pann_csv_field(out.fp, s->names[j]);
        fprintf(out.fp, ",%s,%s,%.9g,%.9g,", numeric ? "numeric" : "categorical",
                numeric ? "ks" : "tv", v, 1 - v);
        sum += v;
        if (ko->base) {
            double b = score(&data->mats[0], &data->mats[2], j);
            fprintf(out.fp, "%.9g,%.9g", b, 1 - b);
            base_sum += b;
        } else {
            fputc(',', out.fp);
        }
        fputc('\n', out.fp);
    }
    double mean = sum / (double)s->d, base_mean = base_sum / (double)s->d;
    fprintf(out.fp, "(mean),,mean,%.9g,%.9g,", mean, 1 - mean);
    if (ko->base)
        fprintf(out.fp, "%.9g,%.9g", base_mean, 1 - base_mean);
    else
        fputc(',', out.fp);
    fputc('\n', out.fp);
    if (pann_output_commit(&out, &err))
        cli_die(c, &err);
}

static void build_nodes(const cli *c, const ks_opts *ko, const cli_data *data,
                        const pann_ecdf_opts *eo, ks_run *run)
{
    pann_error err = {0};
    int rc = 0;
    run->origin = (node_origin){ ko->nodes, &run->real, &run->synth };
    if (ko->nodes == NODES_ALL) {
        rc = pann_ecdf_nodes_all(&run->real, &run->synth, &run->nodes, &err);
        if (rc == 0 && ko->base)
            rc = pann_ecdf_nodes_all(&run->real, &run->base, &run->base_nodes, &err);
    } else if (ko->nodes == NODES_RANDOM) {
        rc = pann_ecdf_nodes_random(&run->real, ko->npoints, c->seed, eo, &run->nodes,
                                    &run->dropped, &err);
    } else {
        read_node_file(c, ko->node_file, data, run->cols, run->k, &run->nodes);
    }
    if (rc)
        cli_die(c, &err);
}

static void summarise(const cli *c, const ks_opts *ko, const ks_run *run)
{
    static const char *names[] = { "all rows of both files", "random", "from file" };
    cli_note(c, "%zu real rows, %zu synthetic rows, %zu column%s in the ECDF", run->real.n,
             run->synth.n, run->k, run->k == 1 ? "" : "s");
    if (ko->nodes == NODES_RANDOM)
        cli_note(c, "%zu random nodes evaluated (%zu of %zu had F_real = 0 and were left "
                 "out), seed %llu", run->r.npoints, run->dropped, ko->npoints,
                 (unsigned long long)c->seed);
    else
        cli_note(c, "%zu nodes (%s)", run->r.npoints, names[ko->nodes]);
    size_t number;
    const char *source = origin_of(&run->origin, &run->nodes, run->r.argmax, &number);
    cli_note(c, "KS %.6g: F_real %.6g, F_synth %.6g at node %s %zu", run->r.ks,
             run->r.f_real, run->r.f_synth, source, number);
    if (ko->base)
        cli_note(c, "base KS (REAL vs REAL2) %.6g over %zu nodes", run->rb.ks,
                 run->rb.npoints);
}

static void free_run(ks_run *run)
{
    pann_matrix *m[] = { &run->real, &run->synth, &run->base, &run->nodes,
                         &run->base_nodes };
    for (size_t i = 0; i < sizeof m / sizeof *m; i++)
        if (m[i]->v)
            pann_matrix_free(m[i]);
    free(run->cols);
    free(run->f_real);
    free(run->f_synth);
}

int main(int argc, char **argv)
{
    cli c;
    ks_opts ko = { .nodes = NODES_ALL };
    cli_init(&c, argc, argv, "ecdf-ks", "ecdf-ks [OPTIONS] REAL SYNTH", PANN_SCALE_NONE);
    c.read.keep_text = false;   /* no row is written out verbatim */
    parse_args(argc, argv, &c, &ko);

    const char *files[3] = { argv[optind], argv[optind + 1], ko.base };
    cli_data data;
    cli_load(&c, files, ko.base ? 3 : 2, &data);

    ks_run run;
    memset(&run, 0, sizeof run);
    run.cols = malloc((data.schema.d + 1) * sizeof *run.cols);
    if (!run.cols)
        cli_die(&c, &(pann_error){ PANN_ESYSTEM, "out of memory" });
    run.k = numeric_columns(&c, &data.schema, run.cols);
    select_or_die(&c, &data.mats[0], run.cols, run.k, &run.real);
    select_or_die(&c, &data.mats[1], run.cols, run.k, &run.synth);
    if (ko.base)
        select_or_die(&c, &data.mats[2], run.cols, run.k, &run.base);

    pann_ecdf_opts eo;
    pann_ecdf_opts_init(&eo);
    eo.threads = c.threads;
    build_nodes(&c, &ko, &data, &eo, &run);
    if (ko.dump) {
        run.f_real = malloc((run.nodes.n + 1) * sizeof *run.f_real);
        run.f_synth = malloc((run.nodes.n + 1) * sizeof *run.f_synth);
        if (!run.f_real || !run.f_synth)
            cli_die(&c, &(pann_error){ PANN_ESYSTEM, "out of memory" });
    }
    pann_error err = {0};
    if (pann_ecdf_ks(&run.real, &run.synth, &run.nodes, &eo, &run.r, run.f_real,
                     run.f_synth, &err))
        cli_die(&c, &err);
    if (ko.base &&
        pann_ecdf_ks(&run.real, &run.base, ko.nodes == NODES_ALL ? &run.base_nodes
                                                                : &run.nodes,
                     &eo, &run.rb, NULL, NULL, &err))
        cli_die(&c, &err);

    /* side files first: a failure there leaves no result on stdout */
    if (ko.dump)
        write_dump(&c, ko.dump, &data.schema, &run);
    if (ko.marginals)
        write_marginals(&c, &ko, &data);
    write_result(&c, &ko, &data.schema, &run);
    summarise(&c, &ko, &run);
    free_run(&run);
    cli_data_free(&data);
    return 0;
}
