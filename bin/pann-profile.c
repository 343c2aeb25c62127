/* pann-profile — one feature vector per data set (per file) or per time
 * series (per column), so that pann-match and pann-knn can find the most
 * similar data set or series in a collection (article section 2.3).
 * Option parsing and output only: the work is in libpann (lib/profile.c). */
#include <config.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

enum { OPT_SERIES = CLI_OPT_FIRST_PROGRAM, OPT_LAGS, OPT_STATS, OPT_NO_STATS, OPT_NO_CORR };

static const char program_help[] =
"Turn each FILE (a data set) into one row of features, or with --series each\n"
"numeric column of each FILE (a time series, in row order) into one row, so\n"
"that pann-match or pann-knn find the most similar data set or series:\n"
"    pann-profile --series series.csv > p.csv\n"
"    pann-match --exact -c 2- --scale=std p.csv\n"
"Writes the CSV name,FEATURES... (name = the file, or the column; FILE:COLUMN\n"
"with several files) and a summary on stderr.\n"
"\n"
"Features of a column: mean, sd, min, q25, median, q75, max, skewness,\n"
"kurtosis (excess), then acf_1..acf_L (autocorrelations).  Per file, named\n"
"COLUMN_mean, ...; then corr_A_B, the correlation of each pair of columns.\n"
"Every file must have the selected columns (matched by name).\n"
"\n"
"Program options:\n"
"      --series           one row per column instead of one per file\n"
"      --lags=L           autocorrelations at lags 1..L (default 10 with\n"
"                         --series, 0 otherwise)\n"
"      --stats            add the summary statistics (default per file only)\n"
"      --no-stats         leave the summary statistics out\n"
"      --no-correlations  leave the correlations between columns out\n"
"Of the common options below, --metric, --scale, --categorical, --exact,\n"
"--seed and --threads do not apply; --missing=drop leaves a missing value\n"
"out of its column (a series' gap is closed up), impute is refused.\n";

typedef struct profile_args {
    pann_profile_opts opts;
    bool lags_given, stats_given;
} profile_args;

static void parse_args(int argc, char **argv, cli *c, profile_args *pa)
{
    static const struct option longopts[] = {
        { "delimiter", required_argument, NULL, 'd' },
        { "no-header", no_argument, NULL, CLI_OPT_NO_HEADER },
        { "columns", required_argument, NULL, 'c' },
        { "missing", required_argument, NULL, CLI_OPT_MISSING },
        { "output", required_argument, NULL, 'o' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { "series", no_argument, NULL, OPT_SERIES },
        { "lags", required_argument, NULL, OPT_LAGS },
        { "stats", no_argument, NULL, OPT_STATS },
        { "no-stats", no_argument, NULL, OPT_NO_STATS },
        { "no-correlations", no_argument, NULL, OPT_NO_CORR },
        { NULL, 0, NULL, 0 },
    };
    pann_profile_opts *o = &pa->opts;
    int opt;
    while ((opt = getopt_long(argc, argv, "d:c:o:qhV", longopts, NULL)) != -1) {
        if (cli_option(c, opt, optarg, program_help))
            continue;
        switch (opt) {
        case OPT_SERIES: o->series = true; break;
        case OPT_LAGS:
            o->lags = cli_parse_count(c, "--lags", optarg, 0, 1000000);
            pa->lags_given = true;
            break;
        case OPT_STATS: o->stats = true; pa->stats_given = true; break;
        case OPT_NO_STATS: o->stats = false; pa->stats_given = true; break;
        case OPT_NO_CORR: o->correlations = false; break;
        default: cli_usage_error(c, "unexpected option");
        }
    }
    if (c->encode.missing == PANN_MISSING_IMPUTE)
        cli_usage_error(c, "--missing=impute does not apply: use error or drop");
    o->skip_missing = c->encode.missing == PANN_MISSING_DROP;
    o->columns = c->encode.columns;
    if (o->series && !pa->stats_given)
        o->stats = false;
    if (o->series && !pa->lags_given)
        o->lags = 10;
    if (optind >= argc)
        cli_usage_error(c, "expected at least one FILE");
}

int main(int argc, char **argv)
{
    cli c;
    profile_args pa;
    cli_init(&c, argc, argv, "pann-profile", "pann-profile [OPTIONS] FILE...", PANN_SCALE_NONE);
    c.read.keep_text = false;   /* no row is written out verbatim */
    pann_profile_opts_init(&pa.opts);
    pa.lags_given = pa.stats_given = false;
    parse_args(argc, argv, &c, &pa);

    size_t n = (size_t)(argc - optind), nstdin = 0;
    pann_table *tables = calloc(n, sizeof *tables);
    const pann_table **views = calloc(n, sizeof *views);
    pann_error err = {0};
    if (!tables || !views) {
        pann_fail(&err, PANN_ESYSTEM, "out of memory");
        cli_die(&c, &err);
    }
    for (size_t i = 0; i < n; i++)
        nstdin += strcmp(argv[optind + i], "-") == 0;
    if (nstdin > 1)
        cli_usage_error(&c, "standard input ('-') can be read only once");
    for (size_t i = 0; i < n; i++) {
        if (pann_tables_read(&tables[i], (const char *const *)&argv[optind + i], 1, &c.read,
                             c.threads, &err) != 0)
            cli_die(&c, &err);
        views[i] = &tables[i];
    }
    pann_profile p;
    if (pann_profile_build(views, n, &pa.opts, &p, &err) != 0)
        cli_die(&c, &err);
    pann_output out;
    cli_output_open(&c, &out);
    pann_profile_write(&p, out.fp);
    cli_output_commit(&c, &out);
    cli_note(&c, "%zu %s profiled, %zu features each, %zu autocorrelation lags", p.nrows,
             pa.opts.series ? "series" : p.nrows == 1 ? "data set" : "data sets",
             p.ncols, pa.opts.lags);
    pann_profile_free(&p);
    for (size_t i = 0; i < n; i++)
        pann_table_free(&tables[i]);
    free(tables);
    free(views);
    return 0;
}
