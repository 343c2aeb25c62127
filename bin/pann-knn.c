/* pann-knn — the K nearest TRAIN rows of every QUERY row (of every TRAIN
 * row, itself excluded, without QUERY) by the article's K-copies rule or by
 * exact search; with --label, classification by majority vote; with
 * --cluster, the connected components of the K-NN graph.  Option parsing,
 * loading and output only: the work is in libpann (lib/knn.c). */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli_mpi.h"

enum {
    OPT_LABEL = CLI_OPT_FIRST_PROGRAM, OPT_WEIGHTS, OPT_REPORT, OPT_CLUSTER, OPT_MUTUAL,
    OPT_ITERATIONS, OPT_TIME, OPT_TOP_FRACTION, OPT_GROUP, OPT_BATCH, OPT_CHUNK_ROWS,
    OPT_STRATEGY, OPT_LEAVES, OPT_FORMAT, OPT_DISTANCES,
};

static const char program_help[] =
"The K nearest rows of TRAIN for every row of QUERY (for every row of TRAIN,\n"
"a row never being its own neighbour, when QUERY is absent), by the PANN\n"
"anytime search with the article's K-copies rule, or exactly.  Writes the CSV\n"
"query,rank,neighbor,distance,proven (1-based data rows; rank 1 = nearest;\n"
"proven = 1 when every candidate was tried, so the list is exact).\n"
"\n"
"  -k, --neighbors=K      number of neighbours (required; 1 to the number of\n"
"                         candidate rows)\n"
"\n"
"Classification and clustering:\n"
"      --label=COL        classify by majority vote of the K neighbours' COL\n"
"                         (ties: the class of the nearest tied neighbour);\n"
"                         writes query,predicted,actual.  Without QUERY this\n"
"                         is leave-one-out on TRAIN.  COL never enters the\n"
"                         distance; naming it in --columns is an error\n"
"      --weights=W        uniform (default) or distance: weight 1/(d + 1e-9)\n"
"      --report=FILE      write the confusion matrix there as CSV (default:\n"
"                         on stderr with the accuracy)\n"
"      --cluster          clusters of TRAIN: connected components of the K-NN\n"
"                         graph; writes row,cluster (clusters numbered from 1\n"
"                         in order of their first row), sizes on stderr\n"
"      --mutual           an edge only when each row is in the other's list\n"
"                         (default: when either is)\n"
"\n"
"Search options:\n"
"      --iterations=N     proposals in all (default 50*K per query row; the\n"
"                         first pass always makes K per row); 0 = until every\n"
"                         candidate is tried, which is exact\n"
"      --time=SECONDS     stop after this long\n"
"      --top-fraction=F   share of rows, worst K-th distance first, given a\n"
"                         proposal each epoch (default 0.5)\n"
"      --strategy=S       uniform (default: the article's K copies with random\n"
"                         proposals) or tree (nearest leaves of a k-d tree of\n"
"                         TRAIN first; far better lists for the time in low\n"
"                         dimension, up to 64 columns)\n"
"      --leaves=N         tree strategy: at most N leaves of 128 rows per\n"
"                         query row, its own and the nearest within a radius\n"
"                         of its first answers (default 64; 0 = until proven,\n"
"                         exact)\n"
"\n"
"One table per category:\n"
"      --group=COL        neighbours only among the TRAIN rows with the same\n"
"                         COL; COL never enters the distance\n"
"      --batch=N          with --group: categories of more than N TRAIN rows\n"
"                         are split into batches searched separately\n"
"\n"
"Output:\n"
"      --format=F         csv (default) or npy: the lists as a numpy int64\n"
"                         array of shape (QUERY rows, K), 0-based TRAIN rows\n"
"                         nearest first, -1 for none (not with --label or\n"
"                         --cluster)\n"
"      --distances=FILE   with --format=npy: the distances there as float32\n"
"                         (NaN for none)\n"
"\n"
"Memory: QUERY is streamed (read, searched and written in chunks of\n"
"--chunk-rows=N rows, default 65536; 0 = whole file) unless --label,\n"
"--group or --iterations need it whole; TRAIN is held.\n";

typedef struct knn_opts {
    size_t k, batch, chunk_rows;
    const char *label, *report, *group;
    bool weighted, cluster, mutual, iterations_given, budget_given;
    bool tree, leaves_given; /* --strategy=tree, --leaves */
    size_t leaves;           /* its budget per query row */
    bool npy;                /* --format=npy */
    const char *distances;
    pann_engine_opts engine;
} knn_opts;

static void check_combinations(const cli *c, const knn_opts *ko, int nfiles)
{
    if (nfiles < 1 || nfiles > 2)
        cli_usage_error(c, "expected TRAIN [QUERY], got %d file%s", nfiles,
                        nfiles == 1 ? "" : "s");
    if (ko->k == 0)
        cli_usage_error(c, "-k: the number of neighbours K is required");
    if (c->exact && ko->budget_given)
        cli_usage_error(c, "--exact has no budget; drop --iterations, --time, --top-fraction");
    if (!ko->label && (ko->weighted || ko->report))
        cli_usage_error(c, "--weights and --report need --label");
    if (ko->mutual && !ko->cluster)
        cli_usage_error(c, "--mutual needs --cluster");
    if (ko->cluster && ko->label)
        cli_usage_error(c, "--cluster and --label exclude each other");
    if (ko->cluster && nfiles != 1)
        cli_usage_error(c, "--cluster clusters TRAIN alone; drop QUERY");
    if (ko->batch && !ko->group)
        cli_usage_error(c, "--batch needs --group");
    if (ko->distances && !ko->npy)
        cli_usage_error(c, "--distances needs --format=npy");
    if (ko->npy && (ko->label || ko->cluster))
        cli_usage_error(c, "--format=npy writes neighbour lists: not with --label or --cluster");
    if (ko->leaves_given && !ko->tree)
        cli_usage_error(c, "--leaves is the budget of --strategy=tree");
    if (ko->tree && (c->exact || ko->budget_given))
        cli_usage_error(c, "--strategy=tree takes --leaves as its budget: no --exact, "
                        "--iterations, --time or --top-fraction");
}

static void parse_args(int argc, char **argv, cli *c, knn_opts *ko)
{
    static const struct option longopts[] = {
        CLI_LONG_OPTIONS,
        { "neighbors", required_argument, NULL, 'k' },
        { "label", required_argument, NULL, OPT_LABEL },
        { "weights", required_argument, NULL, OPT_WEIGHTS },
        { "report", required_argument, NULL, OPT_REPORT },
        { "cluster", no_argument, NULL, OPT_CLUSTER },
        { "mutual", no_argument, NULL, OPT_MUTUAL },
        { "iterations", required_argument, NULL, OPT_ITERATIONS },
        { "time", required_argument, NULL, OPT_TIME },
        { "top-fraction", required_argument, NULL, OPT_TOP_FRACTION },
        { "group", required_argument, NULL, OPT_GROUP },
        { "batch", required_argument, NULL, OPT_BATCH },
        { "chunk-rows", required_argument, NULL, OPT_CHUNK_ROWS },
        { "strategy", required_argument, NULL, OPT_STRATEGY },
        { "leaves", required_argument, NULL, OPT_LEAVES },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "distances", required_argument, NULL, OPT_DISTANCES },
        { NULL, 0, NULL, 0 },
    };
    pann_engine_opts *e = &ko->engine;
    int opt;
    while ((opt = getopt_long(argc, argv, "k:" CLI_SHORT_OPTIONS, longopts, NULL)) != -1) {
        if (cli_option(c, opt, optarg, program_help))
            continue;
        switch (opt) {
        case 'k': ko->k = cli_parse_count(c, "-k", optarg, 1, 1000000); break;
        case OPT_LABEL: ko->label = optarg; break;
        case OPT_WEIGHTS:
            if (strcmp(optarg, "uniform") == 0) ko->weighted = false;
            else if (strcmp(optarg, "distance") == 0) ko->weighted = true;
            else cli_usage_error(c, "--weights: '%s' is not uniform or distance", optarg);
            break;
        case OPT_REPORT: ko->report = optarg; break;
        case OPT_CLUSTER: ko->cluster = true; break;
        case OPT_MUTUAL: ko->mutual = true; break;
        case OPT_ITERATIONS:
            e->max_iterations = cli_parse_count(c, "--iterations", optarg, 0, UINT64_MAX);
            ko->iterations_given = ko->budget_given = true;
            break;
        case OPT_TIME:
            e->max_seconds = cli_parse_real(c, "--time", optarg, 1e-6, 1e9);
            ko->budget_given = true;
            break;
        case OPT_TOP_FRACTION:
            e->top_fraction = cli_parse_real(c, "--top-fraction", optarg, 1e-9, 1.0);
            ko->budget_given = true;
            break;
        case OPT_GROUP: ko->group = optarg; break;
        case OPT_BATCH: ko->batch = cli_parse_count(c, "--batch", optarg, 1, SIZE_MAX); break;
        case OPT_CHUNK_ROWS:
            ko->chunk_rows = cli_parse_count(c, "--chunk-rows", optarg, 0, SIZE_MAX);
            break;
        case OPT_STRATEGY:
            ko->tree = strcmp(optarg, "tree") == 0;
            if (!ko->tree && strcmp(optarg, "uniform") != 0)
                cli_usage_error(c, "--strategy: '%s' is not uniform or tree", optarg);
            break;
        case OPT_LEAVES:
            ko->leaves = cli_parse_count(c, "--leaves", optarg, 0, SIZE_MAX);
            ko->leaves_given = true;
            break;
        case OPT_FORMAT: ko->npy = cli_parse_npy_format(c, optarg); break;
        case OPT_DISTANCES: ko->distances = optarg; break;
        default:
            cli_usage_error(c, "unexpected option");
        }
    }
    check_combinations(c, ko, argc - optind);
}

typedef struct neighbour_rows {
    const size_t *s_ids, *t_ids;   /* cli_row_ids */
    const pann_knn_result *r;
} neighbour_rows;

/* Item q * k + j: query q's j-th neighbour (none: no line). */
static int format_neighbour(char *buf, size_t size, size_t at, const void *ctx)
{
    const neighbour_rows *m = ctx;
    const pann_knn_result *r = m->r;
    size_t q = at / r->k, j = at % r->k;
    if (r->nn[at] == PANN_NONE)
        return 0;
    char *end = cli_put_index(buf, cli_row_id(m->s_ids, q) + 1);
    *end++ = ',';
    end = cli_put_index(end, j + 1);
    *end++ = ',';
    end = cli_put_index(end, cli_row_id(m->t_ids, r->nn[at]) + 1);
    *end++ = ',';
    end = cli_put_float(end, r->dist[at]);
    *end++ = ',';
    end = cli_put_index(end, r->proven[q]);
    *end++ = '\n';
    (void)size;
    return (int)(end - buf);
}

static void write_neighbours(const cli *c, const knn_opts *ko, const cli_data *data,
                             const pann_matrix *S, const pann_matrix *T,
                             const pann_knn_result *r)
{
    pann_error err = {0};
    const pann_table *qt = &data->tables[data->nfiles == 2 ? 1 : 0];
    if (ko->npy) {
        if (pann_npy_save_neighbours(c->output, ko->distances, qt->nrows, r->k, false,
                                     cli_row_ids(S), cli_row_ids(T), r->nn, r->dist, r->n,
                                     &err) != 0)
            cli_die(c, &err);
        return;
    }
    neighbour_rows rows = { cli_row_ids(S), cli_row_ids(T), r };
    cli_write_table(c, "query,rank,neighbor,distance,proven\n", r->n * r->k, format_neighbour,
                    &rows);
}

static void fail_memory(const cli *c)
{
    pann_error err = { PANN_ESYSTEM, "out of memory" };
    cli_die(c, &err);
}

/* The confusion matrix as CSV: actual,CLASS1,CLASS2,... one row per class. */
static void write_confusion(FILE *fp, const pann_labels *l, const uint64_t *counts)
{
    fputs("actual", fp);
    for (size_t p = 0; p < l->nclasses; p++) {
        fputc(',', fp);
        pann_csv_field(fp, l->names[p]);
    }
    fputc('\n', fp);
    for (size_t a = 0; a < l->nclasses; a++) {
        pann_csv_field(fp, l->names[a]);
        for (size_t p = 0; p < l->nclasses; p++)
            fprintf(fp, ",%llu", (unsigned long long)counts[a * l->nclasses + p]);
        fputc('\n', fp);
    }
}

static void report_accuracy(const cli *c, const knn_opts *ko, const pann_labels *l,
                            const uint32_t *pred, size_t n)
{
    uint64_t *counts;
    size_t scored, correct;
    pann_error err = {0};
    if (pann_knn_confusion(pred, l->query, n, l->nclasses, &counts, &scored, &correct, &err))
        cli_die(c, &err);
    if (scored)
        cli_note(c, "accuracy %.4f (%zu of %zu labelled queries)",
                 (double)correct / scored, correct, scored);
    else
        cli_note(c, "no query has a label: accuracy not computed");
    if (ko->report) {
        pann_output out;
        if (pann_output_open(&out, ko->report, &err) != 0)
            cli_die(c, &err);
        write_confusion(out.fp, l, counts);
        if (pann_output_commit(&out, &err) != 0)
            cli_die(c, &err);
    } else if (scored && !c->quiet) {
        cli_note(c, "confusion matrix (rows: actual class, columns: predicted):");
        write_confusion(stderr, l, counts);
    }
    free(counts);
}

/* Class codes of TRAIN and QUERY, read before the search so that a bad
 * label stops the program before any work. */
static void read_labels(const cli *c, const cli_data *data, size_t label_col,
                        const pann_matrix *S, const pann_matrix *T, pann_labels *l,
                        bool *has_actual)
{
    const pann_table *tt = &data->tables[0];
    const pann_table *qt = data->nfiles == 2 ? &data->tables[1] : tt;
    size_t qcol = data->nfiles == 2 ? pann_knn_query_label(tt, label_col, qt) : label_col;
    pann_error err = {0};
    if (pann_labels_build(tt, T, label_col, qt, S, qcol, l, &err) != 0)
        cli_die(c, &err);
    *has_actual = qcol != SIZE_MAX;
    if (!*has_actual)
        cli_note(c, "%s has no column '%s': no actual class, no accuracy", qt->display,
                 tt->colnames[label_col]);
}

static void classify(const cli *c, const knn_opts *ko, const pann_labels *l, bool has_actual,
                     const pann_matrix *S, const pann_knn_result *r)
{
    pann_error err = {0};
    uint32_t *pred = malloc((S->n ? S->n : 1) * sizeof *pred);
    if (!pred)
        fail_memory(c);
    if (pann_knn_vote(r, l->train, ko->weighted, pred, &err) != 0)
        cli_die(c, &err);
    pann_output out;
    cli_output_open(c, &out);
    fputs("query,predicted,actual\n", out.fp);
    for (size_t q = 0; q < S->n; q++) {
        fprintf(out.fp, "%zu,", S->row_id[q] + 1);
        pann_csv_field(out.fp, pred[q] == PANN_NONE ? "" : l->names[pred[q]]);
        fputc(',', out.fp);
        pann_csv_field(out.fp, l->query[q] == PANN_NONE ? "" : l->names[l->query[q]]);
        fputc('\n', out.fp);
    }
    cli_output_commit(c, &out);
    if (has_actual)
        report_accuracy(c, ko, l, pred, S->n);
    free(pred);
}

static void cluster(const cli *c, const knn_opts *ko, const pann_matrix *T,
                    const pann_knn_result *r)
{
    uint32_t *cl = malloc((T->n ? T->n : 1) * sizeof *cl);
    size_t ncl = 0, *sizes = NULL;
    pann_error err = {0};
    if (!cl)
        fail_memory(c);
    if (pann_knn_cluster(r, ko->mutual, cl, &ncl, &err) != 0)
        cli_die(c, &err);
    pann_output out;
    cli_output_open(c, &out);
    fputs("row,cluster\n", out.fp);
    for (size_t q = 0; q < T->n; q++)
        fprintf(out.fp, "%zu,%u\n", T->row_id[q] + 1, cl[q] + 1);
    cli_output_commit(c, &out);
    if (!(sizes = calloc(ncl ? ncl : 1, sizeof *sizes)))
        fail_memory(c);
    for (size_t q = 0; q < T->n; q++)
        sizes[cl[q]]++;
    char line[256];
    size_t used = 0;
    for (size_t i = 0; i < ncl && used < 200; i++)
        used += (size_t)snprintf(line + used, sizeof line - used, "%s%zu", i ? ", " : "",
                                 sizes[i]);
    cli_note(c, "%zu cluster%s (%s K-NN graph); sizes in cluster order: %s%s", ncl,
             ncl == 1 ? "" : "s", ko->mutual ? "mutual" : "symmetrised", line,
             used >= 200 ? ", ..." : "");
    free(sizes);
    free(cl);
}

static const char *method_name(const cli *c, const knn_opts *ko)
{
    return c->exact ? "exact search" : ko->tree ? "anytime search, tree strategy"
                                                : "anytime search";
}

static void summarise(const cli *c, const knn_opts *ko, const cli_data *data,
                      const pann_matrix *S, const pann_matrix *T, const pann_knn_result *r)
{
    double sum = 0.0;
    size_t counted = 0;
    for (size_t q = 0; q < r->n; q++)
        if (r->nn[q * r->k + r->k - 1] != PANN_NONE) {
            sum += r->dist[q * r->k + r->k - 1];
            counted++;
        }
    cli_note(c, "%zu query rows, %zu training rows, %zu columns, K = %zu, metric %s, seed %llu",
             S->n, T->n, S->d, r->k, pann_metric_name(data->metric.kind),
             (unsigned long long)c->seed);
    cli_note(c, "mean distance to the K-th neighbour %.6g; %s; %zu rows (%.1f%%) proven exact",
             counted ? sum / counted : NAN, method_name(c, ko),
             r->nproven, r->n ? 100.0 * r->nproven / r->n : 0.0);
    if (ko->tree)
        cli_note(c, "%llu distances computed (%.3g%% of brute force), %zu leaves per row, "
                 "%.3f s", (unsigned long long)r->iterations,
                 S->n && T->n ? 100.0 * r->iterations / ((double)S->n * T->n) : 0.0,
                 ko->leaves, r->seconds);
    else if (!c->exact)
        cli_note(c, "%llu proposals (%.3g%% of brute force), %llu entered a list, "
                 "%llu epochs, %.3f s%s", (unsigned long long)r->iterations,
                 S->n && T->n ? 100.0 * r->steps / ((double)S->n * T->n) : 0.0,
                 (unsigned long long)r->swaps, (unsigned long long)r->epochs, r->seconds,
                 r->stopped_by_time ? ", stopped by --time" : "");
}

/* --group: the group column of each file, then one search per batch. */
static int grouped_search(const cli *c, const knn_opts *ko, const cli_data *data,
                          size_t group_col, const pann_matrix *S, const pann_matrix *T,
                          pann_knn_result *r, pann_error *err)
{
    const pann_table *tt = &data->tables[0];
    const pann_table *qt = data->nfiles == 2 ? &data->tables[1] : tt;
    size_t q_col = group_col;
    int rc = data->nfiles == 2 ? pann_columns_match(tt, &group_col, 1, qt, &q_col, err) : 0;
    pann_groups groups;
    if (!rc)
        rc = pann_groups_build(qt, S, q_col, tt, T, group_col, &groups, err);
    if (rc)
        return rc;
    pann_group_stats st;
    rc = pann_knn_group(S, T, &groups, data->nfiles == 1, ko->batch, &data->metric, ko->k,
                        c->exact || (ko->tree && ko->leaves == 0), ko->tree ? ko->leaves : 0,
                        &ko->engine, r, &st, err);
    if (!rc)
        cli_note(c, "--group=%s: %zu categories, %zu searches; %llu pairs within batches, "
                 "%.3g%% of the %.0f pairs of an ungrouped search", ko->group, st.groups,
                 st.batches, (unsigned long long)st.pairs, 100.0 * st.pairs / st.all_pairs,
                 st.all_pairs);
    pann_groups_free(&groups);
    return rc;
}

/* Exact, the tree with its budget, or the article's K copies.  own: T, when
 * nothing reads its values afterwards, so that the exact and tree searches
 * may take its rows and hold them once; else NULL. */
static int search(const cli *c, const knn_opts *ko, const pann_matrix *S, const pann_matrix *T,
                  pann_matrix *own, const pann_metric *m, const pann_engine_opts *e,
                  pann_knn_result *r, pann_error *err)
{
    if (c->exact)
        return own ? pann_knn_exact_consume(S, own, m, ko->k, e, r, err)
                   : pann_knn_exact(S, T, m, ko->k, e, r, err);
    if (ko->tree)
        return own ? pann_knn_tree_consume(S, own, m, ko->k, ko->leaves, e, r, err)
                   : pann_knn_tree(S, T, m, ko->k, ko->leaves, e, r, err);
    return pann_knn_anytime(S, T, m, ko->k, e, r, err);
}

/* QUERY streams when nothing needs all of it at once: neighbour lists, by
 * exact search or with the default budget per query row (pann_knn_stream);
 * under mpirun the exact search streams each rank's share of QUERY. */
static void stream_queries(const cli *c, const knn_opts *ko, const cli_data *train,
                           const char *query_path)
{
    pann_output out;
    pann_knn_stream_opts so = {
        .path = query_path, .read = &c->read, .encode = &c->encode,
        .ref = &train->tables[0], .schema = &train->schema, .chunk_rows = ko->chunk_rows,
        .method = c->exact ? PANN_KNN_EXACT : ko->tree ? PANN_KNN_TREE : PANN_KNN_COPIES,
        .k = ko->k, .leaves = ko->leaves, .engine = &ko->engine,
    };
    pann_knn_stream_stats st;
    pann_error err = {0};
    if (!cli_mpi_knn_stream(c, &train->mats[0], &train->metric, &so, &out, &st)) {
        cli_output_open(c, &out);
        so.out = out.fp;
        if (pann_knn_stream(&train->mats[0], &train->metric, &so, &st, &err) != 0)
            cli_die(c, &err);
    }
    if (st.dropped)
        cli_note(c, "%zu query row%s with missing values left out (--missing=drop)",
                 st.dropped, st.dropped == 1 ? "" : "s");
    cli_note(c, "%zu query rows (streamed), %zu training rows, %zu columns, K = %zu, metric %s, "
             "seed %llu", st.rows, train->mats[0].n, train->schema.d, ko->k,
             pann_metric_name(c->metric), (unsigned long long)c->seed);
    cli_note(c, "mean distance to the K-th neighbour %.6g; %s; %zu rows (%.1f%%) proven exact",
             st.counted ? st.sum_kth / st.counted : NAN, method_name(c, ko), st.nproven,
             st.rows ? 100.0 * st.nproven / st.rows : 0.0);
    cli_output_commit(c, &out);
}

int main(int argc, char **argv)
{
    cli c;
    knn_opts ko = {0};
    cli_init(&c, argc, argv, "pann-knn", "pann-knn -k K [OPTIONS] TRAIN [QUERY]", PANN_SCALE_NONE);
    c.read.keep_text = false;   /* no row is written out verbatim */
    cli_mpi_init(&c);
    pann_engine_opts_init(&ko.engine);
    ko.chunk_rows = 65536;
    ko.leaves = 64;
    parse_args(argc, argv, &c, &ko);

    size_t nfiles = (size_t)(argc - optind), excluded[2];
    const char *files[2] = { argv[optind], nfiles == 2 ? argv[optind + 1] : NULL };
    const char *except[2] = { ko.label, ko.group }, *options[2] = { "--label", "--group" };
    bool streams = nfiles == 2 && !ko.label && !ko.group && !ko.iterations_given && !ko.npy
                   && !pann_npy_any(files, 2);   /* a .npy file is read whole */
    if (streams && strcmp(files[0], "-") == 0 && strcmp(files[1], "-") == 0)
        cli_usage_error(&c, "standard input ('-') can be read only once");
    cli_data data;
    c.matrices_only = !ko.label && !ko.group && !streams;   /* no cell read afterwards */
    /* under mpirun: the exact stream of two files shares QUERY out */
    if (!streams || !c.exact || strcmp(files[0], "-") == 0 || strcmp(files[1], "-") == 0)
        cli_mpi_alone();
    cli_load_except(&c, files, streams ? 1 : nfiles, except, options, 2, &data, excluded);
    size_t label_col = excluded[0];
    const pann_matrix *T = &data.mats[0], *S = nfiles == 2 ? &data.mats[1] : &data.mats[0];

    size_t candidates = T->n - (nfiles == 1 && T->n > 0);
    if (ko.k > candidates)
        cli_usage_error(&c, "-k: %zu neighbours asked, but %s has %zu candidate row%s%s",
                        ko.k, data.tables[0].display, candidates, candidates == 1 ? "" : "s",
                        nfiles == 1 ? " (a row is not its own neighbour)" : "");
    if (streams) {
        cli_engine_apply(&c, &ko.engine);
        ko.engine.progress = NULL;   /* chunk after chunk: no progress line */
        stream_queries(&c, &ko, &data, files[1]);
        cli_data_free(&data);
        return 0;
    }

    pann_labels labels = {0};
    bool has_actual = false;
    if (ko.label)
        read_labels(&c, &data, label_col, S, T, &labels, &has_actual);
    if (!ko.group)   /* only --group reads cells from here on */
        cli_data_drop_cells(&data);

    pann_engine_opts *e = &ko.engine;
    cli_engine_apply(&c, e);
    e->self_exclude = nfiles == 1;
    if (!ko.iterations_given)
        e->max_iterations = PANN_DEFAULT_PROPOSALS_PER_ROW * (uint64_t)ko.k
                            * (S->n ? S->n : 1);

    pann_knn_result r;
    pann_error err = {0};
    int rc = ko.group ? grouped_search(&c, &ko, &data, excluded[1], S, T, &r, &err)
           : search(&c, &ko, S, T, &data.mats[0], &data.metric, e, &r, &err);
    if (e->progress)
        fputc('\n', stderr);
    if (rc)
        cli_die(&c, &err);
    summarise(&c, &ko, &data, S, T, &r);
    if (ko.label)
        classify(&c, &ko, &labels, has_actual, S, &r);
    else if (ko.cluster)
        cluster(&c, &ko, T, &r);
    else
        write_neighbours(&c, &ko, &data, S, T, &r);
    pann_knn_result_free(&r);
    pann_labels_free(&labels);
    cli_data_free(&data);
    return 0;
}
