/* pann-privacy — privacy and fidelity of synthetic rows judged against real
 * rows the synthesizer never saw: TRAIN (the rows it learned from), SYNTH
 * (its output) and HOLDOUT (real rows it did not see).  Option parsing,
 * loading, the CSV of figures and one verdict per figure; the figures are
 * computed in libpann (lib/privacy.c) from exact nearest neighbours. */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "pann_privacy.h"

enum { OPT_NEIGHBORS = CLI_OPT_FIRST_PROGRAM };

static const char program_help[] =
"Privacy of SYNTH, rows made by a synthesizer that learned from TRAIN, judged\n"
"against HOLDOUT, real rows it never saw, by exact nearest neighbours (any\n"
"size).  Writes the CSV metric,value,ideal,baseline (baseline: what the\n"
"HOLDOUT rows themselves give) and one verdict per metric on stderr:\n"
"  dcr_share         SYNTH rows nearer to TRAIN than to HOLDOUT (ties 1/2);\n"
"                    ideal |TRAIN| / (|TRAIN| + |HOLDOUT|), above = memorised\n"
"  exact_match_share SYNTH rows at distance 0 from a TRAIN row\n"
"  holdout_exact_match_share   the same for HOLDOUT rows\n"
"  nndr_median       median of d1/d2 to the two nearest TRAIN rows (0 when\n"
"                    d1 = 0); holdout_nndr_median: the same for HOLDOUT rows\n"
"  mia_auc           AUC of telling TRAIN from HOLDOUT rows by their distance\n"
"                    to the nearest SYNTH row (nearer = member); ideal 0.5\n"
"  dcr_q05, dcr_q50  5 %% and 50 %% quantiles of SYNTH->TRAIN NN distances;\n"
"                    holdout_dcr_q05, holdout_dcr_q50: HOLDOUT->TRAIN\n"
"  detection         accuracy of a leave-one-out K-NN classifier telling\n"
"                    HOLDOUT rows from as many seeded SYNTH rows; ideal 0.5\n"
"  correlation_diff, cramers_v_diff, dependence_diff   mean |difference| of\n"
"                    the Pearson correlations of numeric pairs, Cramer's V of\n"
"                    categorical pairs, both, SYNTH against HOLDOUT; the\n"
"                    baseline is TRAIN against HOLDOUT\n"
"Distance: L1 over numeric columns scaled by TRAIN's range, plus 1 per\n"
"categorical column that differs (--scale, --metric, -c, --categorical).\n"
"\n"
"  -k, --neighbors=K      neighbours of the detection classifier (default 5;\n"
"                         0 leaves detection out)\n";

static size_t parse_args(int argc, char **argv, cli *c, bool *k_given)
{
    static const struct option longopts[] = {
        CLI_LONG_OPTIONS,
        { "neighbors", required_argument, NULL, 'k' },
        { NULL, 0, NULL, 0 },
    };
    size_t k = 5;
    int opt;
    while ((opt = getopt_long(argc, argv, "k:" CLI_SHORT_OPTIONS, longopts, NULL)) != -1) {
        if (cli_option(c, opt, optarg, program_help))
            continue;
        if (opt == 'k') {
            k = cli_parse_count(c, "-k", optarg, 0, 1000000);
            *k_given = true;
        }
        else
            cli_usage_error(c, "unexpected option");
    }
    if (argc - optind != 3)
        cli_usage_error(c, "expected TRAIN SYNTH HOLDOUT, got %d file%s", argc - optind,
                        argc - optind == 1 ? "" : "s");
    return k;
}

/* One line of the CSV: NAN is an empty field. */
static void put_value(FILE *fp, double v)
{
    if (!isnan(v))
        fprintf(fp, "%.6g", v);
}

static void put_line(FILE *fp, const char *metric, double value, double ideal, double baseline)
{
    fprintf(fp, "%s,", metric);
    put_value(fp, value);
    fputc(',', fp);
    put_value(fp, ideal);
    fputc(',', fp);
    put_value(fp, baseline);
    fputc('\n', fp);
}

static void write_figures(const cli *c, const pann_privacy *p)
{
    pann_output out;
    cli_output_open(c, &out);
    FILE *fp = out.fp;
    fputs("metric,value,ideal,baseline\n", fp);
    put_line(fp, "dcr_share", p->dcr_share, p->dcr_share_ideal, NAN);
    put_line(fp, "exact_match_share", p->exact_match_share, p->holdout_exact_match_share,
             p->holdout_exact_match_share);
    put_line(fp, "holdout_exact_match_share", p->holdout_exact_match_share, NAN, NAN);
    put_line(fp, "nndr_median", p->nndr_median, p->holdout_nndr_median, p->holdout_nndr_median);
    put_line(fp, "holdout_nndr_median", p->holdout_nndr_median, NAN, NAN);
    put_line(fp, "mia_auc", p->mia_auc, 0.5, NAN);
    put_line(fp, "dcr_q05", p->synth_q05, p->holdout_q05, p->holdout_q05);
    put_line(fp, "dcr_q50", p->synth_q50, p->holdout_q50, p->holdout_q50);
    put_line(fp, "holdout_dcr_q05", p->holdout_q05, NAN, NAN);
    put_line(fp, "holdout_dcr_q50", p->holdout_q50, NAN, NAN);
    if (!isnan(p->detection))
        put_line(fp, "detection", p->detection, 0.5, NAN);
    const pann_dependence *d = &p->dependence, *b = &p->holdout_dependence;
    put_line(fp, "correlation_diff", d->correlation, 0, b->correlation);
    put_line(fp, "cramers_v_diff", d->cramers_v, 0, b->cramers_v);
    put_line(fp, "dependence_diff", d->all, 0, b->all);
    cli_output_commit(c, &out);
}

/* ---- verdicts ----------------------------------------------------------- */

/* A share is "above" its ideal past three binomial standard errors, and
 * never for less than one percentage point. */
static double share_margin(double ideal, size_t n)
{
    double se = sqrt(ideal * (1 - ideal) / (double)(n ? n : 1));
    return 3 * se > 0.01 ? 3 * se : 0.01;
}

/* "FIGURE VALUE (yardstick, direction): good|warning: what it means". */
static void verdict(const cli *c, const char *figure, bool warn, const char *good,
                    const char *bad)
{
    cli_note(c, "%s: %s: %s", figure, warn ? "warning" : "good", warn ? bad : good);
}

static void privacy_verdicts(const cli *c, const pann_privacy *p)
{
    char head[256];
    snprintf(head, sizeof head, "dcr_share %.4f (ideal %.4f, lower is safer)", p->dcr_share,
             p->dcr_share_ideal);
    verdict(c, head, p->dcr_share > p->dcr_share_ideal +
                         share_margin(p->dcr_share_ideal, p->nsynth),
            "synthetic rows sit no nearer to the training rows than to unseen real rows",
            "synthetic rows sit nearer to the training rows than unseen real rows do - "
            "memorisation");
    double hm = p->holdout_exact_match_share;
    snprintf(head, sizeof head, "exact_match_share %.4f (unseen real rows: %.4f, lower is "
             "safer)", p->exact_match_share, hm);
    verdict(c, head, p->exact_match_share > hm + share_margin(hm, p->nsynth),
            "no more copies of training rows than real data's own duplicates",
            "more synthetic rows copy a training row than real data's own duplicates "
            "explain - copies");
    snprintf(head, sizeof head, "nndr_median %.4f (unseen real rows: %.4f, higher is safer)",
             p->nndr_median, p->holdout_nndr_median);
    verdict(c, head, p->nndr_median < p->holdout_nndr_median - 0.05,
            "synthetic rows are no closer to one training row in particular than unseen "
            "real rows are",
            "synthetic rows sit close to one training row in particular - near copies");
    double nt = (double)p->ntrain, nh = (double)p->nholdout;
    double auc_se = sqrt((nt + nh + 1) / (12 * nt * nh));
    double auc_margin = 3 * auc_se > 0.01 ? 3 * auc_se : 0.01;
    snprintf(head, sizeof head, "mia_auc %.4f (ideal 0.5, either side of it leaks)",
             p->mia_auc);
    if (p->mia_auc < 0.5 - auc_margin)
        verdict(c, head, true, "",
                "training rows are farther from the synthetic rows than unseen rows are "
                "(rows near training rows were removed?) - membership can be inferred by "
                "the reverse rule");
    else
        verdict(c, head, p->mia_auc > 0.5 + auc_margin,
                "distance to the synthetic rows does not tell training rows from unseen ones",
                "training rows are nearer to the synthetic rows than unseen rows are - "
                "membership can be inferred");
    snprintf(head, sizeof head, "dcr_q05 %.4g, dcr_q50 %.4g (unseen real rows: %.4g, %.4g; "
             "higher is safer)", p->synth_q05, p->synth_q50, p->holdout_q05, p->holdout_q50);
    verdict(c, head, p->synth_q05 < p->holdout_q05 * 0.9,
            "the nearest synthetic rows sit no closer to training rows than unseen real "
            "rows do",
            "the nearest synthetic rows sit closer to training rows than unseen real rows "
            "do - near copies");
}

static void fidelity_verdicts(const cli *c, const pann_privacy *p)
{
    char head[256];
    if (!isnan(p->detection)) {
        snprintf(head, sizeof head, "detection %.4f over 2 x %zu rows (ideal 0.5, either "
                 "side of it tells)", p->detection, p->detection_rows);
        double margin = share_margin(0.5, 2 * p->detection_rows);
        if (p->detection < 0.5 - margin)
            verdict(c, head, true, "",
                    "below chance: the rows' nearest neighbours come from the other table - "
                    "synthetic rows sit on unseen real rows (did HOLDOUT reach the "
                    "synthesizer?)");
        else
            verdict(c, head, p->detection > 0.5 + margin,
                    "a nearest-neighbour classifier cannot tell synthetic from unseen real rows",
                    "a nearest-neighbour classifier tells synthetic from unseen real rows - "
                    "the distributions differ");
    }
    const pann_dependence *d = &p->dependence, *b = &p->holdout_dependence;
    if (!isnan(d->all)) {
        snprintf(head, sizeof head, "dependence_diff %.4f over %zu numeric and %zu "
                 "categorical pairs (training rows: %.4f, lower is better)", d->all,
                 d->numeric_pairs, d->categorical_pairs, b->all);
        verdict(c, head, d->all > 2 * b->all + 0.01,
                "pairwise dependences are as close to the unseen rows' as sampling allows",
                "pairwise dependences differ from the unseen rows' more than sampling "
                "explains");
    }
}

/* TRAIN needs two rows (the distance ratio), SYNTH and HOLDOUT one. */
static void check_rows(const cli *c, const cli_data *data)
{
    static const char *const role[3] = { "TRAIN", "SYNTH", "HOLDOUT" };
    for (size_t i = 0; i < 3; i++) {
        size_t need = i == 0 ? 2 : 1;
        if (data->mats[i].n < need) {
            pann_error err = { PANN_EINPUT, "" };
            snprintf(err.msg, sizeof err.msg, "%s: %s has %zu data row%s, %s needs %zu",
                     data->tables[i].display, role[i], data->mats[i].n,
                     data->mats[i].n == 1 ? "" : "s", c->prog, need);
            cli_die(c, &err);
        }
    }
}

int main(int argc, char **argv)
{
    cli c;
    cli_init(&c, argc, argv, "pann-privacy", "pann-privacy [OPTIONS] TRAIN SYNTH HOLDOUT",
             PANN_SCALE_RANGE);
    c.read.keep_text = false;
    bool k_given = false;
    size_t k = parse_args(argc, argv, &c, &k_given);
    const char *files[3] = { argv[optind], argv[optind + 1], argv[optind + 2] };
    cli_data data;
    c.matrices_only = true;
    cli_load(&c, files, 3, &data);   /* TRAIN first: its range scales all */
    cli_data_drop_cells(&data);
    for (size_t i = 0; i < 3; i++) {   /* figures, not rows, come out: no row ids */
        free(data.mats[i].row_id);
        data.mats[i].row_id = NULL;
    }
    check_rows(&c, &data);
    size_t each = data.mats[1].n < data.mats[2].n ? data.mats[1].n : data.mats[2].n;
    if (!k_given && 2 * each <= k) {
        cli_note(&c, "detection left out: its %zu neighbours need more than %zu rows "
                 "(%zu of SYNTH and of HOLDOUT); give -k to choose fewer", k, 2 * each, each);
        k = 0;
    }
    pann_engine_opts o;
    cli_engine_opts(&c, &o);
    pann_privacy p;
    pann_error err = {0};
    if (pann_privacy_run(&data.mats[0], &data.mats[1], &data.mats[2], &data.metric, k, &o, &p,
                         &err) != 0)
        cli_die(&c, &err);
    write_figures(&c, &p);
    cli_note(&c, "%zu training, %zu synthetic, %zu holdout rows, %zu columns, metric %s, "
             "exact search, seed %llu", p.ntrain, p.nsynth, p.nholdout, data.schema.d,
             pann_metric_name(data.metric.kind), (unsigned long long)c.seed);
    privacy_verdicts(&c, &p);
    fidelity_verdicts(&c, &p);
    cli_data_free(&data);
    return 0;
}
