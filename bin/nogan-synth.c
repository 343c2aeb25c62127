/* nogan-synth — synthetic rows from a real table by the article's NoGAN
 * (section 2.2): quantile bins per column, the non-empty boxes of the real
 * rows, new counts per box, values drawn inside the boxes.  Option parsing
 * and output only: the work is in libpann (lib/synth.c). */
#include <config.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

enum { OPT_ROWS = CLI_OPT_FIRST_PROGRAM, OPT_BINS, OPT_COUNTS, OPT_DRAW, OPT_SD };

static const char program_help[] =
"Synthetic rows that follow REAL's joint distribution, by NoGAN: each numeric\n"
"column is cut into quantile bins, each categorical column's categories are\n"
"its bins; every non-empty box (combination of bins) of the real rows gets\n"
"its real share of the synthetic rows, and every synthetic row is drawn\n"
"inside its box.  Writes the chosen columns (default all) with REAL's\n"
"header, numbers with the real column's decimals, and a summary on stderr.\n"
"Every synthetic row lies in a box that holds real rows.\n"
"\n"
"Options:\n"
"      --rows=N           rows to write (default: as many as REAL)\n"
"      --bins=SPEC        quantile bins: N for every numeric column and/or\n"
"                         NAME:N per column, e.g. 6 or age:4,bmi:6 or\n"
"                         5,age:3 (default: per column, the cube root of its\n"
"                         rows, at most its distinct values, capped so that\n"
"                         most boxes hold more than one real row)\n"
"      --counts=C         proportional (default: each box its real share,\n"
"                         rounded by systematic sampling), multinomial (drawn\n"
"                         on the real shares) or real (exactly the real\n"
"                         counts; --rows is then not allowed)\n"
"      --draw=D           how a continuous value is drawn inside its bin:\n"
"                         empirical (default: the real values' quantile\n"
"                         function, interpolated), uniform, or gaussian (mean\n"
"                         at the bin's centre, sd = --sd times the bin width,\n"
"                         truncated to the bin)\n"
"      --sd=F             sd of the Gaussian draw as a fraction of the bin\n"
"                         width (default 0.25)\n"
"\n"
"A numeric column whose values repeat (at most 2 distinct values, or each\n"
"value seen 8 times on average: flags, counts, small integers) is discrete:\n"
"its values are drawn from the real values of their bin, with their real\n"
"frequencies, never from a continuum between them.\n"
"\n"
"--categorical forces columns to be categories; --metric, --scale, --missing\n"
"and --exact have no meaning here.  Missing cells of a numeric column form a\n"
"bin of their own and are written as the real file writes them.  One random\n"
"stream: the output depends on --seed only, never on --threads.\n";

typedef struct synth_args {
    pann_synth_opts synth;
    const char *bins;
    bool rows_given;
} synth_args;

static void parse_args(int argc, char **argv, cli *c, synth_args *a)
{
    static const struct option longopts[] = {
        CLI_LONG_OPTIONS,
        { "rows", required_argument, NULL, OPT_ROWS },
        { "bins", required_argument, NULL, OPT_BINS },
        { "counts", required_argument, NULL, OPT_COUNTS },
        { "draw", required_argument, NULL, OPT_DRAW },
        { "sd", required_argument, NULL, OPT_SD },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = getopt_long(argc, argv, CLI_SHORT_OPTIONS, longopts, NULL)) != -1) {
        switch (opt) {
        case CLI_OPT_METRIC: cli_usage_error(c, "--metric has no meaning here");
        case CLI_OPT_SCALE: cli_usage_error(c, "--scale has no meaning here");
        case CLI_OPT_MISSING: cli_usage_error(c, "--missing has no meaning here");
        case CLI_OPT_EXACT: cli_usage_error(c, "--exact has no meaning here");
        case OPT_ROWS:
            a->synth.rows = cli_parse_count(c, "--rows", optarg, 0, UINT32_MAX);
            a->rows_given = true;
            continue;
        case OPT_BINS: a->bins = optarg; continue;
        case OPT_COUNTS:
            if (strcmp(optarg, "proportional") == 0) a->synth.counts = PANN_SYNTH_PROPORTIONAL;
            else if (strcmp(optarg, "multinomial") == 0) a->synth.counts = PANN_SYNTH_MULTINOMIAL;
            else if (strcmp(optarg, "real") == 0) a->synth.counts = PANN_SYNTH_REAL;
            else cli_usage_error(c, "--counts: '%s' is not proportional, multinomial or real",
                                 optarg);
            continue;
        case OPT_DRAW:
            if (strcmp(optarg, "empirical") == 0) a->synth.draw = PANN_SYNTH_EMPIRICAL;
            else if (strcmp(optarg, "uniform") == 0) a->synth.draw = PANN_SYNTH_UNIFORM;
            else if (strcmp(optarg, "gaussian") == 0) a->synth.draw = PANN_SYNTH_GAUSSIAN;
            else cli_usage_error(c, "--draw: '%s' is not empirical, uniform or gaussian",
                                 optarg);
            continue;
        case OPT_SD: a->synth.sd = cli_parse_real(c, "--sd", optarg, 1e-6, 1e6); continue;
        }
        if (!cli_option(c, opt, optarg, program_help))
            cli_usage_error(c, "unexpected option");
    }
    if (argc - optind != 1)
        cli_usage_error(c, "expected one REAL file, got %d", argc - optind);
    if (a->synth.counts == PANN_SYNTH_REAL && a->rows_given)
        cli_usage_error(c, "--counts=real writes the real counts; drop --rows");
}

/* Flags of the chosen columns named by --categorical. */
static unsigned char *forced_categorical(const cli *c, const pann_table *t,
                                         const size_t *cols, size_t d)
{
    unsigned char *flag = calloc(d ? d : 1, 1);
    if (!flag) {
        pann_error err = { PANN_ESYSTEM, "out of memory" };
        cli_die(c, &err);
    }
    if (!c->encode.categorical)
        return flag;
    size_t *idx, n;
    pann_error err = {0};
    if (pann_columns_parse(t, c->encode.categorical, &idx, &n, &err) != 0)
        cli_die(c, &err);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            flag[j] |= cols[j] == idx[i];
    free(idx);
    return flag;
}

/* One line: the bins of every column, and which numeric ones are discrete. */
static void note_bins(const cli *c, const pann_synth_model *m)
{
    char line[1024];
    size_t at = 0;
    for (size_t j = 0; j < m->d && at < sizeof line; j++) {
        const pann_synth_column *col = &m->cols[j];
        const char *sep = j ? ", " : "";
        int w;
        if (col->categorical)
            w = snprintf(line + at, sizeof line - at, "%s%s %zu categories", sep, m->names[j],
                         col->ncat);
        else if (col->discrete)
            w = snprintf(line + at, sizeof line - at, "%s%s %zu (discrete: %zu values)", sep,
                         m->names[j], col->nbins, col->nvals);
        else
            w = snprintf(line + at, sizeof line - at, "%s%s %zu", sep, m->names[j], col->nbins);
        at += w > 0 ? (size_t)w : 0;
    }
    if (at >= sizeof line)
        strcpy(line + sizeof line - 5, "...");
    if (m->auto_cap)
        cli_note(c, "bins: %s (automatic bins at most %zu, so that most boxes hold more "
                 "than one real row)", line, m->auto_cap);
    else
        cli_note(c, "bins: %s", line);
}

static void summarise(const cli *c, const pann_synth_model *m, const pann_table *t,
                      size_t written)
{
    size_t ncat = 0, singles = 0;
    uint64_t largest = 0;
    for (size_t j = 0; j < m->d; j++)
        ncat += m->cols[j].categorical;
    for (size_t b = 0; b < m->nboxes; b++) {
        singles += m->count[b] == 1;
        largest = m->count[b] > largest ? m->count[b] : largest;
    }
    cli_note(c, "%s: %zu rows, %zu columns (%zu numeric, %zu categorical), seed %llu",
             t->display, m->nrows, m->d, m->d - ncat, ncat, (unsigned long long)c->seed);
    note_bins(c, m);
    cli_note(c, "%zu non-empty boxes (largest %llu rows; %zu with a single real row); "
             "%zu synthetic rows written", m->nboxes, (unsigned long long)largest, singles,
             written);
    if (singles * 2 > m->nboxes)
        cli_note(c, "warning: most boxes hold one real row, so synthetic rows are near "
                 "copies; use fewer --bins");
}

int main(int argc, char **argv)
{
    cli c;
    synth_args a = {0};
    cli_init(&c, argc, argv, "nogan-synth", "nogan-synth [OPTIONS] REAL", PANN_SCALE_NONE);
    c.read.keep_text = false;   /* no row is written out verbatim */
    pann_synth_opts_init(&a.synth);
    parse_args(argc, argv, &c, &a);

    pann_error err = {0};
    pann_table t;
    if (pann_tables_read(&t, (const char *const *)&argv[optind], 1, &c.read, c.threads,
                         &err) != 0)
        cli_die(&c, &err);
    size_t *cols, d;
    if (pann_columns_parse(&t, c.encode.columns, &cols, &d, &err) != 0)
        cli_die(&c, &err);
    size_t *bins = malloc((d ? d : 1) * sizeof *bins);
    unsigned char *is_cat = forced_categorical(&c, &t, cols, d);
    if (!bins) {
        pann_error oom = { PANN_ESYSTEM, "out of memory" };
        cli_die(&c, &oom);
    }
    pann_synth_model m;
    if (pann_synth_parse_bins(&t, cols, d, a.bins, bins, &err) != 0
        || pann_synth_fit(&t, cols, d, bins, is_cat, &m, &err) != 0)
        cli_die(&c, &err);
    if (!a.rows_given)
        a.synth.rows = t.nrows;
    a.synth.seed = c.seed;
    a.synth.header = c.read.header;

    pann_output out;
    cli_output_open(&c, &out);
    if (pann_synth_generate(&m, &a.synth, c.read.delim, out.fp, NULL, &err) != 0) {
        pann_output_abort(&out);
        cli_die(&c, &err);
    }
    cli_output_commit(&c, &out);
    summarise(&c, &m, &t, a.synth.counts == PANN_SYNTH_REAL ? m.nrows : a.synth.rows);
    pann_synth_free(&m);
    free(bins);
    free(is_cat);
    free(cols);
    pann_table_free(&t);
    return 0;
}
