/* nogan-filter — keep the synthetic rows that make the synthetic data more
 * like the real data: by the density ratio (the default, lib/filter_ratio.c)
 * or by the distance to the nearest real row (article, section 2.2), less
 * the near copies of real rows; the kept rows verbatim, the dropped rows
 * with the reason, and a report with the rule, the distance-to-closest-record
 * (DCR) statistics and the fidelity before and after.  Option parsing and
 * output only: REAL (and HOLDOUT) are loaded whole, SYNTH is streamed in
 * chunks and decided by pann_filter_stream (lib/filter.c). */
#include <config.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

enum {
    OPT_MAX_DIST = CLI_OPT_FIRST_PROGRAM, OPT_MAX_QUANTILE, OPT_QUANTILE, OPT_KEEP,
    OPT_MIN_DIST, OPT_MIN_QUANTILE, OPT_DROP_COPIES, OPT_REJECTED, OPT_REPORT,
    OPT_REPORT_FORMAT, OPT_DCR_SAMPLE, OPT_CHUNK_ROWS, OPT_GROUP, OPT_BATCH,
    OPT_SELECT, OPT_ACCEPT_QUANTILE, OPT_SHRINK, OPT_HOLDOUT, OPT_HOLDOUT_QUANTILE,
    OPT_FIDELITY,
};

static const char program_help[] =
"Keep the rows of SYNTH that make it more like REAL; write them verbatim,\n"
"header first, in their order.  Columns are matched by name; the default\n"
"scaling is range (with L1 and the 0/1 mismatch of categorical columns: the\n"
"Gower distance times the number of columns).\n"
"\n"
"Selection:\n"
"      --select=S         ratio (default): keep each row with probability\n"
"                         min(1, w/M), w the real/synthetic density ratio\n"
"                         estimated from its K nearest rows in REAL u SYNTH;\n"
"                         distance: keep the rows whose nearest real row is\n"
"                         close enough (the rules below)\n"
"  -k, --neighbours=K     ratio: neighbours per row (default 30)\n"
"      --accept-quantile=Q ratio: M = the Q-quantile of the ratios (default\n"
"                         0.9; 1 = their maximum, exact rejection sampling)\n"
"      --shrink=B         ratio: prior strength of the neighbour counts, or\n"
"                         auto (default: from the counts' spread; counts no\n"
"                         more spread than chance keep every row)\n"
"      --keep=N           ratio: draw N rows without replacement, weights w;\n"
"                         distance: keep the N rows nearest to REAL\n"
"      --quantile=Q       the same with N = Q times the rows\n"
"Too far (--select=distance; at most one; default --max-quantile=0.95):\n"
"      --max-dist=D       drop rows whose NN distance is above D\n"
"      --max-quantile=Q   D = the Q-quantile of the real rows' leave-one-out\n"
"                         NN distances\n"
"Near copies (privacy; both selections):\n"
"      --holdout=FILE     real rows the synthesizer never saw: a row nearer\n"
"                         to REAL than the --holdout-quantile of their NN\n"
"                         distances to REAL is a near copy; fidelity is then\n"
"                         scored against them\n"
"      --holdout-quantile=Q  that quantile (default 0.05)\n"
"      --drop-copies      drop rows at distance 0 from a real row\n"
"      --min-dist=D       drop rows whose NN distance is below D\n"
"      --min-quantile=Q   D = the Q-quantile of the real LOO NN distances\n"
"Output:\n"
"      --rejected=FILE    the dropped rows verbatim, plus reason (excess,\n"
"                         too_far, near_copy, missing) and distance columns\n"
"      --report=FILE      the report as CSV (key,value) or JSON (.json)\n"
"      --report-format=F  csv or json, whatever FILE's extension\n"
"      --fidelity         --select=distance: report the fidelity too (SYNTH's\n"
"                         rows are then held in memory)\n"
"      --dcr-sample=N     synthetic rows for the DCR median when not all\n"
"                         distances are exact (default 10000; 0 = all)\n"
"      --chunk-rows=N     rows of SYNTH read at a time (default 65536; 0 =\n"
"                         the whole file); the output does not depend on it\n"
"One table per category:\n"
"      --group=COL        decide each synthetic row against the real rows of\n"
"                         its category only, each category on its own; COL\n"
"                         never enters the distance; SYNTH is then held whole\n"
"      --batch=N          with --group: categories of more than N real rows\n"
"                         are split into batches decided separately\n";

typedef enum { REPORT_CSV, REPORT_JSON } report_format;

typedef struct filter_cli {
    pann_filter_opts f;
    int max_rules, min_rules;
    bool distance_only;           /* --max-dist or --max-quantile given */
    bool fidelity;
    const char *holdout;
    double holdout_quantile;
    const char *rejected_path, *report_path;
    int report_format;            /* -1: from the file name */
    size_t chunk_rows, batch;
    const char *group;
} filter_cli;

static void set_max(const cli *c, filter_cli *fc, pann_max_rule rule, double value)
{
    if (fc->max_rules++)
        cli_usage_error(c, "give at most one of --max-dist, --max-quantile, --quantile, --keep");
    fc->f.max_rule = rule;
    fc->f.max_value = value;
}

static void set_min(const cli *c, filter_cli *fc, pann_min_rule rule, double value)
{
    if (fc->min_rules++)
        cli_usage_error(c, "give at most one of --min-dist, --min-quantile");
    fc->f.min_rule = rule;
    fc->f.min_value = value;
}

static void program_option(cli *c, filter_cli *fc, int opt, const char *arg)
{
    switch (opt) {
    case OPT_MAX_DIST:
        set_max(c, fc, PANN_MAX_DIST, cli_parse_real(c, "--max-dist", arg, 0, HUGE_VAL));
        fc->distance_only = true;
        break;
    case OPT_MAX_QUANTILE:
        set_max(c, fc, PANN_MAX_REAL_QUANTILE, cli_parse_real(c, "--max-quantile", arg, 0, 1));
        fc->distance_only = true;
        break;
    case OPT_SELECT:
        if (strcmp(arg, "ratio") == 0) fc->f.select = PANN_SELECT_RATIO;
        else if (strcmp(arg, "distance") == 0) fc->f.select = PANN_SELECT_DISTANCE;
        else cli_usage_error(c, "--select: '%s' is not ratio or distance", arg);
        break;
    case 'k':
        fc->f.ratio_k = cli_parse_count(c, "--neighbours", arg, 1, 100000);
        break;
    case OPT_ACCEPT_QUANTILE:
        fc->f.accept_quantile = cli_parse_real(c, "--accept-quantile", arg, 0, 1);
        if (fc->f.accept_quantile == 0)
            cli_usage_error(c, "--accept-quantile: must be above 0");
        break;
    case OPT_SHRINK:
        fc->f.shrink = strcmp(arg, "auto") == 0 ? PANN_RATIO_SHRINK_AUTO
                       : cli_parse_real(c, "--shrink", arg, 0, HUGE_VAL);
        if (fc->f.shrink == 0)
            cli_usage_error(c, "--shrink: must be above 0 (or auto)");
        break;
    case OPT_HOLDOUT: fc->holdout = arg; break;
    case OPT_HOLDOUT_QUANTILE:
        fc->holdout_quantile = cli_parse_real(c, "--holdout-quantile", arg, 0, 1);
        break;
    case OPT_FIDELITY: fc->fidelity = true; break;
    case OPT_QUANTILE:
        set_max(c, fc, PANN_MAX_SYNTH_QUANTILE, cli_parse_real(c, "--quantile", arg, 0, 1));
        break;
    case OPT_KEEP:
        set_max(c, fc, PANN_MAX_KEEP, 0);
        fc->f.keep = cli_parse_count(c, "--keep", arg, 0, SIZE_MAX);
        break;
    case OPT_MIN_DIST:
        set_min(c, fc, PANN_MIN_DIST, cli_parse_real(c, "--min-dist", arg, 0, HUGE_VAL));
        break;
    case OPT_MIN_QUANTILE:
        set_min(c, fc, PANN_MIN_REAL_QUANTILE, cli_parse_real(c, "--min-quantile", arg, 0, 1));
        break;
    case OPT_DROP_COPIES: fc->f.drop_copies = true; break;
    case OPT_REJECTED: fc->rejected_path = arg; break;
    case OPT_REPORT: fc->report_path = arg; break;
    case OPT_REPORT_FORMAT:
        if (strcmp(arg, "csv") == 0) fc->report_format = REPORT_CSV;
        else if (strcmp(arg, "json") == 0) fc->report_format = REPORT_JSON;
        else cli_usage_error(c, "--report-format: '%s' is not csv or json", arg);
        break;
    case OPT_DCR_SAMPLE:
        fc->f.dcr_sample = cli_parse_count(c, "--dcr-sample", arg, 0, SIZE_MAX);
        break;
    case OPT_GROUP: fc->group = arg; break;
    case OPT_BATCH: fc->batch = cli_parse_count(c, "--batch", arg, 1, SIZE_MAX); break;
    case OPT_CHUNK_ROWS:
        fc->chunk_rows = cli_parse_count(c, "--chunk-rows", arg, 0, SIZE_MAX);
        if (fc->chunk_rows == 0)
            fc->chunk_rows = SIZE_MAX;
        break;
    default:
        cli_usage_error(c, "unexpected option");
    }
}

static void parse_args(int argc, char **argv, cli *c, filter_cli *fc)
{
    static const struct option longopts[] = {
        CLI_LONG_OPTIONS,
        { "max-dist", required_argument, NULL, OPT_MAX_DIST },
        { "max-quantile", required_argument, NULL, OPT_MAX_QUANTILE },
        { "quantile", required_argument, NULL, OPT_QUANTILE },
        { "keep", required_argument, NULL, OPT_KEEP },
        { "min-dist", required_argument, NULL, OPT_MIN_DIST },
        { "min-quantile", required_argument, NULL, OPT_MIN_QUANTILE },
        { "drop-copies", no_argument, NULL, OPT_DROP_COPIES },
        { "rejected", required_argument, NULL, OPT_REJECTED },
        { "report", required_argument, NULL, OPT_REPORT },
        { "report-format", required_argument, NULL, OPT_REPORT_FORMAT },
        { "dcr-sample", required_argument, NULL, OPT_DCR_SAMPLE },
        { "chunk-rows", required_argument, NULL, OPT_CHUNK_ROWS },
        { "group", required_argument, NULL, OPT_GROUP },
        { "batch", required_argument, NULL, OPT_BATCH },
        { "select", required_argument, NULL, OPT_SELECT },
        { "neighbours", required_argument, NULL, 'k' },
        { "accept-quantile", required_argument, NULL, OPT_ACCEPT_QUANTILE },
        { "shrink", required_argument, NULL, OPT_SHRINK },
        { "holdout", required_argument, NULL, OPT_HOLDOUT },
        { "holdout-quantile", required_argument, NULL, OPT_HOLDOUT_QUANTILE },
        { "fidelity", no_argument, NULL, OPT_FIDELITY },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = getopt_long(argc, argv, CLI_SHORT_OPTIONS "k:", longopts, NULL)) != -1)
        if (!cli_option(c, opt, optarg, program_help))
            program_option(c, fc, opt, optarg);
    int nfiles = argc - optind;
    if (nfiles != 2)
        cli_usage_error(c, "expected REAL SYNTH, got %d file%s", nfiles, nfiles == 1 ? "" : "s");
    if (fc->distance_only && fc->f.select == PANN_SELECT_RATIO)
        cli_usage_error(c, "--max-dist and --max-quantile need --select=distance");
    if (fc->holdout) {
        if (fc->min_rules)
            cli_usage_error(c, "--holdout sets the near-copy threshold: no --min-dist "
                            "or --min-quantile with it");
        fc->f.min_rule = PANN_MIN_HOLDOUT_QUANTILE;
        fc->f.min_value = fc->holdout_quantile >= 0 ? fc->holdout_quantile : 0.05;
    } else if (fc->holdout_quantile >= 0) {
        cli_usage_error(c, "--holdout-quantile needs --holdout");
    }
    fc->f.fidelity = fc->f.select == PANN_SELECT_RATIO || fc->fidelity || fc->holdout;
    if (fc->report_path && fc->report_format < 0) {
        size_t len = strlen(fc->report_path);
        fc->report_format = len >= 5 && strcmp(fc->report_path + len - 5, ".json") == 0
                            ? REPORT_JSON : REPORT_CSV;
    }
}

/* ---- output ------------------------------------------------------------- */

/* Row text (header for SIZE_MAX) with ",reason,distance" put before its own
 * terminator (CRLF, LF, or none at the end of the file). */
static int write_annotated(FILE *fp, const pann_table *t, size_t row, char delim,
                           const char *reason, const char *distance)
{
    size_t start = row == SIZE_MAX ? t->header_start : t->row_start[row];
    size_t end = row == SIZE_MAX ? t->header_end : t->row_end[row];
    size_t body = end;
    if (body > start && t->text[body - 1] == '\n')
        body--;
    if (body > start && t->text[body - 1] == '\r')
        body--;
    const char *eol = end > body ? t->text + body : "\n";
    size_t eol_len = end > body ? end - body : 1;
    fwrite(t->text + start, 1, body - start, fp);
    fprintf(fp, "%c%s%c%s", delim, reason, delim, distance);
    return fwrite(eol, 1, eol_len, fp) == eol_len ? 0 : -1;
}

static const char *reason_name(int decision)
{
    return decision == PANN_FILTER_NEAR_COPY ? "near_copy"
           : decision == PANN_FILTER_EXCESS ? "excess" : "too_far";
}

/* Where the rows go: the kept ones to the output, the others (with the
 * reason and distance) to --rejected. */
typedef struct sink {
    const cli *c;
    const cli_data *real;
    pann_output out, rej;
} sink;

static int emit_row(void *ctx, const pann_table *t, size_t row, int decision, float dist,
                    pann_error *err)
{
    sink *sk = ctx;
    const char *out_name = sk->c->output ? sk->c->output : "stdout";
    int rc = 0;
    if (row == SIZE_MAX) {
        if (t->header_end <= t->header_start)
            return 0;
        if (pann_table_write_row(t, SIZE_MAX, sk->out.fp) != 0)
            rc = -1;
        else if (sk->rej.fp)
            write_annotated(sk->rej.fp, t, SIZE_MAX, sk->c->read.delim, "reason", "distance");
    } else if (decision == PANN_FILTER_KEEP) {
        rc = pann_table_write_row(t, row, sk->out.fp);
    } else if (sk->rej.fp) {
        char text[32] = "";
        if (decision >= 0)
            snprintf(text, sizeof text, "%.9g", dist);
        write_annotated(sk->rej.fp, t, row, sk->c->read.delim,
                        decision < 0 ? "missing" : reason_name(decision), text);
    }
    return rc ? pann_fail(err, PANN_ESYSTEM, "write error on %s", out_name) : 0;
}

/* Every distance is between a row of REAL and a row of the chunk: their
 * columns' spans together must not overflow float sums (cli_load checks
 * whole files; a chunk is checked as it comes). */
static int check_chunk(void *ctx, const pann_table *t, const pann_matrix *S, pann_error *err)
{
    const sink *sk = ctx;
    const pann_table *tables[2] = { &sk->real->tables[0], t };
    const pann_matrix *mats[2] = { &sk->real->mats[0], S };
    return pann_check_distances(sk->c->metric, &sk->real->schema, tables, mats, 2, err);
}

/* ---- report ------------------------------------------------------------- */

typedef struct report_item {
    const char *key;
    char *value;
    bool is_text;
} report_item;

/* The report's lines in order, as many as there are. */
typedef struct report {
    report_item *items;
    size_t n, cap;
} report;

static void out_of_memory(void)
{
    fputs("nogan-filter: out of memory\n", stderr);
    exit(2);
}

static void add(report *rp, const char *key, bool text, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(report *rp, const char *key, bool text, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (rp->n == rp->cap) {
        size_t cap = rp->cap ? 2 * rp->cap : 48;
        report_item *items = realloc(rp->items, cap * sizeof *items);
        if (!items)
            out_of_memory();
        rp->items = items;
        rp->cap = cap;
    }
    char *value = malloc((size_t)(len < 0 ? 0 : len) + 1);
    if (!value)
        out_of_memory();
    va_start(ap, fmt);
    vsnprintf(value, (size_t)(len < 0 ? 0 : len) + 1, fmt, ap);
    va_end(ap);
    rp->items[rp->n++] = (report_item){ key, value, text };
}

static void report_free(report *rp)
{
    for (size_t i = 0; i < rp->n; i++)
        free(rp->items[i].value);
    free(rp->items);
}

/* A number, or empty (null in JSON) when it is not finite. */
static void add_num(report *rp, const char *key, double v)
{
    if (!isfinite(v))
        add(rp, key, false, "%s", "");
    else
        add(rp, key, false, "%.9g", v);
}

static const char *verdict(double ratio)
{
    if (isnan(ratio) || isinf(ratio))
        return "undefined (no real leave-one-out distance above 0)";
    if (ratio < 0.5)
        return "well below 1: synthetic rows sit closer to real rows than real rows sit "
               "to each other, a privacy risk (copies or near copies of real rows)";
    if (ratio < 0.9)
        return "below 1: synthetic rows sit somewhat closer to real rows than real rows "
               "sit to each other; check for near copies";
    if (ratio <= 1.1)
        return "about 1: synthetic rows sit as close to the real rows as real rows sit "
               "to each other, which is the aim";
    if (ratio <= 2)
        return "above 1: synthetic rows stray somewhat from the real data";
    return "well above 1: synthetic rows stray from the real data";
}

static const char *max_rule_text(const pann_filter_opts *f, char *buf, size_t len)
{
    if (f->select == PANN_SELECT_RATIO) {
        if (f->max_rule == PANN_MAX_KEEP)
            snprintf(buf, len, "%zu rows drawn with weights w (--keep)", f->keep);
        else if (f->max_rule == PANN_MAX_SYNTH_QUANTILE)
            snprintf(buf, len, "a share %g of the rows drawn with weights w (--quantile)",
                     f->max_value);
        else
            snprintf(buf, len, "kept with probability min(1, w/M), M the quantile %g "
                     "of the ratios", f->accept_quantile);
        return buf;
    }
    switch (f->max_rule) {
    case PANN_MAX_DIST: return "--max-dist";
    case PANN_MAX_REAL_QUANTILE:
        snprintf(buf, len, "quantile %g of the real rows' leave-one-out NN distances",
                 f->max_value);
        return buf;
    case PANN_MAX_SYNTH_QUANTILE:
        snprintf(buf, len, "quantile %g of the synthetic rows' NN distances (--quantile)",
                 f->max_value);
        return buf;
    case PANN_MAX_KEEP:
        snprintf(buf, len, "distance of the %zuth nearest synthetic row (--keep)", f->keep);
        return buf;
    }
    return "";
}

static const char *min_rule_text(const pann_filter_opts *f, char *buf, size_t len)
{
    if (f->min_rule == PANN_MIN_DIST)
        return "--min-dist";
    if (f->min_rule == PANN_MIN_REAL_QUANTILE) {
        snprintf(buf, len, "quantile %g of the real rows' leave-one-out NN distances",
                 f->min_value);
        return buf;
    }
    if (f->min_rule == PANN_MIN_HOLDOUT_QUANTILE) {
        snprintf(buf, len, "quantile %g of the holdout rows' NN distances to REAL",
                 f->min_value);
        return buf;
    }
    return "none";
}

static const char *fidelity_reference(const filter_cli *fc)
{
    return fc->holdout ? "holdout"
                       : "real (optimistic: the rows the synthetic data was made from)";
}

/* One sentence on what the selection did to fidelity. */
static const char *fidelity_verdict(const pann_filter_result *r)
{
    double before = r->ks_before, after = r->ks_after;
    if (isnan(before) || isnan(after))
        return isnan(after) && r->kept == 0 ? "no row kept" : "no numeric column: see the "
               "per-column figure";
    if (after < before - 0.002)
        return "the kept rows are nearer the reference distribution than all the rows";
    if (after > before + 0.002)
        return "warning: the kept rows are further from the reference distribution than "
               "all the rows";
    return "about the same fidelity before and after";
}

static void report_ratio(const pann_filter_result *r, report *rp)
{
    add(rp, "dropped_excess", false, "%zu", r->excess);
    add(rp, "neighbours", false, "%zu", r->ratio_k);
    add_num(rp, "accept_constant", r->accept_constant);
    add_num(rp, "shrink", r->shrink);
    add_num(rp, "overdispersion", r->overdispersion);
}

static void report_fidelity(const filter_cli *fc, const pann_filter_result *r, report *rp)
{
    if (fc->holdout) {
        add(rp, "holdout_rows", false, "%zu", r->holdout_rows);
        add_num(rp, "holdout_median_nn", r->holdout_median);
    }
    if (!r->has_fidelity)
        return;
    add(rp, "fidelity_reference", true, "%s", fidelity_reference(fc));
    add(rp, "fidelity_rows", false, "%zu", r->fidelity_rows);
    add(rp, "fidelity_nodes", false, "%zu", r->fidelity_nodes);
    add(rp, "fidelity_nodes_all", false, "%s", r->fidelity_all_nodes ? "true" : "false");
    add_num(rp, "ks_before", r->ks_before);
    add_num(rp, "ks_after", r->ks_after);
    add_num(rp, "marginal_before", r->marg_before);
    add_num(rp, "marginal_after", r->marg_after);
    add(rp, "fidelity_verdict", true, "%s", fidelity_verdict(r));
}

static void build_report(const cli *c, const filter_cli *fc, const cli_data *data,
                         size_t read, const pann_filter_result *r,
                         const pann_filter_group_stats *gs, report *rp)
{
    const pann_filter_opts *f = &fc->f;
    char buf[160];
    double ratio = r->median_synth / r->median_real;
    static const char *scales[] = { "none", "std", "range" };
    bool by_ratio = f->select == PANN_SELECT_RATIO;
    add(rp, "rows_read", false, "%zu", read);
    add(rp, "real_rows", false, "%zu", data->mats[0].n);
    add(rp, "columns", false, "%zu", data->schema.d);
    add(rp, "metric", true, "%s", pann_metric_name(c->metric));
    add(rp, "scale", true, "%s", scales[c->encode.scale]);
    add(rp, "select", true, "%s", by_ratio ? "ratio" : "distance");
    add(rp, "kept", false, "%zu", r->kept);
    if (by_ratio)
        report_ratio(r, rp);
    else
        add(rp, "dropped_too_far", false, "%zu", r->too_far);
    add(rp, "dropped_near_copy", false, "%zu", r->near_copy);
    add(rp, "dropped_missing", false, "%zu", read - r->n);
    if (!by_ratio)
        add_num(rp, "max_dist", r->max_dist);
    add(rp, "max_rule", true, "%s", max_rule_text(f, buf, sizeof buf));
    add_num(rp, "min_dist", r->min_dist);
    add(rp, "min_rule", true, "%s", min_rule_text(f, buf, sizeof buf));
    add(rp, "drop_copies", false, "%s", f->drop_copies ? "true" : "false");
    report_fidelity(fc, r, rp);
    add_num(rp, "median_synth_nn", r->median_synth);
    add(rp, "median_synth_rows", false, "%zu", r->median_synth_rows);
    add_num(rp, "median_real_loo_nn", r->median_real);
    add_num(rp, "dcr_ratio", ratio);
    add(rp, "dcr_verdict", true, "%s", verdict(ratio));
    add(rp, "decisions_proven", false, "%zu", r->n);
    if (!by_ratio) {
        add(rp, "settled_early", false, "%zu", r->settled_early);
        add(rp, "settled_full", false, "%zu", r->settled_full);
    }
    add(rp, "distance_evaluations", false, "%llu", (unsigned long long)r->evaluations);
    add(rp, "work_fraction", false, "%.6g", r->work_fraction);
    add(rp, "search", true, "%s", by_ratio ? "exact k-nearest" : f->exact ? "exact" : "pruned");
    if (gs) {   /* --group: thresholds per category */
        add(rp, "group", true, "%s", fc->group);
        add(rp, "categories", false, "%zu", gs->batches.groups);
        if (!by_ratio) {
            add_num(rp, "max_dist_lowest", gs->max_lo);
            add_num(rp, "max_dist_highest", gs->max_hi);
        }
        add(rp, "rows_without_real_category", false, "%zu", gs->batches.rows_without_reference);
    }
}

/* s as a JSON string (RFC 8259): quote, backslash and every control
 * character escaped; other bytes (UTF-8) as they are. */
static void json_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", fp); break;
        case '\\': fputs("\\\\", fp); break;
        case '\b': fputs("\\b", fp); break;
        case '\f': fputs("\\f", fp); break;
        case '\n': fputs("\\n", fp); break;
        case '\r': fputs("\\r", fp); break;
        case '\t': fputs("\\t", fp); break;
        default:
            if (*p < 0x20)
                fprintf(fp, "\\u%04x", *p);
            else
                fputc(*p, fp);
        }
    }
    fputc('"', fp);
}

static void write_report(const cli *c, const filter_cli *fc, const report *rp)
{
    pann_output out;
    pann_error err = { 0 };
    if (pann_output_open(&out, fc->report_path, &err) != 0)
        cli_die(c, &err);
    if (fc->report_format == REPORT_JSON) {
        fputs("{\n", out.fp);
        for (size_t i = 0; i < rp->n; i++) {
            const report_item *it = &rp->items[i];
            fputs("  ", out.fp);
            json_string(out.fp, it->key);
            fputs(": ", out.fp);
            if (it->is_text)
                json_string(out.fp, it->value);
            else
                fputs(it->value[0] ? it->value : "null", out.fp);
            fputs(i + 1 < rp->n ? ",\n" : "\n", out.fp);
        }
        fputs("}\n", out.fp);
    } else {
        fputs("key,value\n", out.fp);
        for (size_t i = 0; i < rp->n; i++) {
            fprintf(out.fp, "%s,", rp->items[i].key);
            pann_csv_field(out.fp, rp->items[i].value);
            fputc('\n', out.fp);
        }
    }
    if (pann_output_commit(&out, &err) != 0)
        cli_die(c, &err);
}

static void summarise_ratio(const cli *c, const pann_filter_opts *f,
                            const pann_filter_result *r)
{
    char buf[160];
    if (isinf(r->shrink))
        cli_note(c, "ratio: the real share of each row's %zu nearest rows in REAL u SYNTH "
                 "varies no more than chance (overdispersion 0): no evidence of a "
                 "difference, every ratio 1", r->ratio_k);
    else
        cli_note(c, "ratio: from each row's %zu nearest rows in REAL u SYNTH, counts "
                 "shrunk with strength %.4g (overdispersion %.4g); %s%s%.4g", r->ratio_k,
                 r->shrink, r->overdispersion, max_rule_text(f, buf, sizeof buf),
                 isnan(r->accept_constant) ? "" : ", M = ",
                 isnan(r->accept_constant) ? NAN : r->accept_constant);
}

static void summarise_fidelity(const cli *c, const filter_cli *fc, const pann_filter_result *r)
{
    if (!r->has_fidelity)
        return;
    char rows[96] = "";
    if (r->fidelity_rows < r->n)
        snprintf(rows, sizeof rows, ", a seeded sample of %zu synthetic rows", r->fidelity_rows);
    cli_note(c, "fidelity against %s%s, %s nodes: multivariate KS %.4f -> %.4f, mean "
             "per-column KS/TV %.4f -> %.4f: %s", fidelity_reference(fc), rows,
             r->fidelity_all_nodes ? "all" : "sampled", r->ks_before, r->ks_after,
             r->marg_before, r->marg_after, fidelity_verdict(r));
}

static void summarise_copies(const cli *c, const filter_cli *fc, const pann_filter_result *r,
                             const pann_filter_group_stats *gs)
{
    const pann_filter_opts *f = &fc->f;
    char buf[160];
    if (gs && f->min_rule != PANN_MIN_HOLDOUT_QUANTILE) {
        if (f->drop_copies)
            cli_note(c, "near copies: distance 0 (--drop-copies)");
        if (isfinite(gs->min_lo))
            cli_note(c, "near copies: distance below %.6g to %.6g (%s, within each category)",
                     gs->min_lo, gs->min_hi, min_rule_text(f, buf, sizeof buf));
        return;
    }
    if (!isnan(r->min_dist))
        cli_note(c, "near copies: distance below %.6g (%s%s%.6g)%s", r->min_dist,
                 min_rule_text(f, buf, sizeof buf), fc->holdout ? ", whose median is " : "",
                 fc->holdout ? r->holdout_median : NAN,
                 f->drop_copies ? "; distance 0 (--drop-copies)" : "");
    else if (f->drop_copies)
        cli_note(c, "near copies: distance 0 (--drop-copies)");
}

static void summarise(const cli *c, const filter_cli *fc, const cli_data *data,
                      size_t read, const pann_filter_result *r,
                      const pann_filter_group_stats *gs)
{
    const pann_filter_opts *f = &fc->f;
    char buf[160];
    double ratio = r->median_synth / r->median_real;
    bool by_ratio = f->select == PANN_SELECT_RATIO;
    cli_note(c, "%zu synthetic rows read, %zu real rows, %zu columns, metric %s",
             read, data->mats[0].n, data->schema.d, pann_metric_name(c->metric));
    if (by_ratio)
        cli_note(c, "kept %zu; dropped %zu excess (where synthetic rows are denser than "
                 "real ones), %zu near copies, %zu with missing values", r->kept, r->excess,
                 r->near_copy, read - r->n);
    else
        cli_note(c, "kept %zu; dropped %zu too far, %zu near copies, %zu with missing values",
                 r->kept, r->too_far, r->near_copy, read - r->n);
    if (gs) {
        cli_note(c, "--group=%s: %zu categories in SYNTH, %zu searches, each among its "
                 "real rows only", fc->group, gs->batches.groups, gs->batches.batches);
        if (!by_ratio)
            cli_note(c, "maximum distance from %.6g to %.6g (%s, within each category)",
                     gs->max_lo, gs->max_hi, max_rule_text(f, buf, sizeof buf));
        if (gs->batches.rows_without_reference)
            cli_note(c, "warning: %zu synthetic rows have a category with no real row: "
                     "dropped as too far", gs->batches.rows_without_reference);
    } else if (!by_ratio) {
        cli_note(c, "maximum distance %.6g (%s)", r->max_dist, max_rule_text(f, buf, sizeof buf));
    }
    if (by_ratio && !gs)
        summarise_ratio(c, f, r);
    summarise_copies(c, fc, r, gs);
    summarise_fidelity(c, fc, r);
    if (isnan(r->median_real))   /* REAL of one row: no leave-one-out distance */
        cli_note(c, "DCR: median synthetic->real NN distance %.6g (%s %zu rows); REAL has "
                 "no leave-one-out distance (one row), so no DCR ratio", r->median_synth,
                 r->median_synth_rows == r->n ? "all" : "exact sample of", r->median_synth_rows);
    else
        cli_note(c, "DCR: median synthetic->real NN distance %.6g (%s %zu rows), median "
                 "real->real leave-one-out NN distance %.6g, ratio %.4g: %s", r->median_synth,
                 r->median_synth_rows == r->n ? "all" : "exact sample of", r->median_synth_rows,
                 r->median_real, ratio, verdict(ratio));
    if (by_ratio)
        cli_note(c, "every distance exact (k-nearest lists among REAL and %zu synthetic "
                 "rows); %.4g distance evaluations per synthetic row", r->ratio_pool,
                 r->n ? (double)r->evaluations / (double)r->n : 0.0);
    else
        cli_note(c, "decisions proven: %zu of %zu (%zu kept at the first real row within the "
                 "maximum, %zu by a complete %s search); %.3g%% of brute-force distance "
                 "evaluations", r->n, r->n, r->settled_early, r->settled_full,
                 f->exact ? "brute-force" : "pruned", 100.0 * r->work_fraction);
}

/* --group: both files held; each category filtered on its own; the rows
 * then written in file order. */
static void run_grouped(const cli *c, const filter_cli *fc, const char *const *files)
{
    cli_data data;
    size_t real_col, synth_col;
    const char *option = "--group";
    const char *with_holdout[3] = { files[0], files[1], fc->holdout };
    cli_load_except(c, with_holdout, fc->holdout ? 3 : 2, &fc->group, &option, 1, &data,
                    &real_col);
    pann_filter_opts f = fc->f;
    if (fc->holdout)
        f.holdout = f.fidelity_ref = &data.mats[2];
    pann_error err = { 0 };
    pann_groups groups;
    if (pann_columns_match(&data.tables[0], &real_col, 1, &data.tables[1], &synth_col, &err)
        || pann_groups_build(&data.tables[1], &data.mats[1], synth_col, &data.tables[0],
                             &data.mats[0], real_col, &groups, &err))
        cli_die(c, &err);
    pann_filter_result r;
    pann_filter_group_stats gs;
    if (pann_filter_group(&data.mats[0], &data.mats[1], &groups, fc->batch, &data.metric,
                          &f, &r, &gs, &err))
        cli_die(c, &err);
    const pann_table *st = &data.tables[1];
    size_t *matrix_row = malloc((st->nrows ? st->nrows : 1) * sizeof *matrix_row);
    if (!matrix_row) {
        pann_error oom = { PANN_ESYSTEM, "out of memory" };
        cli_die(c, &oom);
    }
    for (size_t i = 0; i < st->nrows; i++)
        matrix_row[i] = SIZE_MAX;
    for (size_t i = 0; i < data.mats[1].n; i++)
        matrix_row[data.mats[1].row_id[i]] = i;
    sink sk = { .c = c, .real = &data };
    cli_output_open(c, &sk.out);
    if (fc->rejected_path && pann_output_open(&sk.rej, fc->rejected_path, &err) != 0)
        cli_die(c, &err);
    int rc = emit_row(&sk, st, SIZE_MAX, 0, 0, &err);
    for (size_t row = 0; !rc && row < st->nrows; row++) {
        size_t i = matrix_row[row];   /* SIZE_MAX: left out for a missing value */
        rc = emit_row(&sk, st, row, i == SIZE_MAX ? -1 : r.decision[i],
                      i == SIZE_MAX ? NAN : r.dist[i], &err);
    }
    if (rc || (sk.rej.fp && pann_output_commit(&sk.rej, &err) != 0))
        cli_die(c, &err);
    cli_output_commit(c, &sk.out);
    filter_cli shown = *fc;
    shown.f.exact = true;   /* within each category the search was exact */
    if (fc->report_path) {
        report rp = { 0 };
        build_report(c, &shown, &data, st->nrows, &r, &gs, &rp);
        write_report(c, &shown, &rp);
        report_free(&rp);
    } else {
        summarise(c, &shown, &data, st->nrows, &r, &gs);
    }
    free(matrix_row);
    pann_filter_result_free(&r);
    pann_groups_free(&groups);
    cli_data_free(&data);
}

int main(int argc, char **argv)
{
    cli c;
    filter_cli fc = { .report_format = -1, .holdout_quantile = -1 };
    cli_init(&c, argc, argv, "nogan-filter", "nogan-filter [OPTIONS] REAL SYNTH", PANN_SCALE_RANGE);
    pann_filter_opts_init(&fc.f);
    parse_args(argc, argv, &c, &fc);
    fc.f.exact = c.exact;
    fc.f.seed = c.seed;
    fc.f.threads = c.threads;

    const char *files[2] = { argv[optind], argv[optind + 1] };
    int stdin_uses = (strcmp(files[0], "-") == 0) + (strcmp(files[1], "-") == 0)
                     + (fc.holdout && strcmp(fc.holdout, "-") == 0);
    if (stdin_uses > 1)
        cli_usage_error(&c, "standard input ('-') can be read only once");
    if (fc.batch && !fc.group)
        cli_usage_error(&c, "--batch needs --group");
    if (fc.group) {
        run_grouped(&c, &fc, files);
        return 0;
    }
    cli_data data;
    const char *held[2] = { files[0], fc.holdout };   /* SYNTH is streamed */
    cli_load(&c, held, fc.holdout ? 2 : 1, &data);
    if (fc.holdout)
        fc.f.holdout = fc.f.fidelity_ref = &data.mats[1];
    pann_filter_result r;
    pann_error err = { 0 };
    if (pann_filter_check(&data.mats[0], &data.metric, &fc.f, &err) != 0) {
        if (err.status == PANN_EINPUT)   /* not located in a file: name REAL */
            fprintf(stderr, "%s: %s: %s\n", c.prog, data.tables[0].display, err.msg), exit(1);
        cli_die(&c, &err);
    }
    size_t *ref_cols, d;
    if (pann_columns_parse(&data.tables[0], c.encode.columns, &ref_cols, &d, &err) != 0)
        cli_die(&c, &err);
    sink sk = { .c = &c, .real = &data };
    cli_output_open(&c, &sk.out);
    if (fc.rejected_path && pann_output_open(&sk.rej, fc.rejected_path, &err) != 0)
        cli_die(&c, &err);
    pann_encode_opts encode = c.encode;
    encode.cosine = c.metric == PANN_COSINE;
    pann_filter_input in = { .path = files[1], .read = &c.read, .encode = &encode,
                             .ref = &data.tables[0], .ref_cols = ref_cols,
                             .schema = &data.schema, .chunk_rows = fc.chunk_rows,
                             .chunk_bytes = 64u << 20, .check = check_chunk, .emit = emit_row,
                             .ctx = &sk };
    size_t read = 0, dropped = 0;
    int rc = pann_filter_stream(&data.mats[0], &data.metric, &fc.f, &in, &r, &read,
                                &dropped, &err);
    if (rc != 0)
        cli_die(&c, &err);
    if (sk.rej.fp && pann_output_commit(&sk.rej, &err) != 0)
        cli_die(&c, &err);
    cli_output_commit(&c, &sk.out);
    if (dropped)
        cli_note(&c, "%zu row%s of %s with missing values left out (--missing=drop)",
                 dropped, dropped == 1 ? "" : "s", files[1]);
    if (!isnan(r.min_dist) && !isnan(r.max_dist) && r.min_dist > r.max_dist)
        cli_note(&c, "warning: the minimum distance %.6g is above the maximum %.6g: "
                 "every row is dropped", r.min_dist, r.max_dist);
    if (fc.report_path) {
        report rp = { 0 };
        build_report(&c, &fc, &data, read, &r, NULL, &rp);
        write_report(&c, &fc, &rp);
        report_free(&rp);
    } else {
        summarise(&c, &fc, &data, read, &r, NULL);
    }
    free(ref_cols);
    pann_filter_result_free(&r);
    cli_data_free(&data);
    return 0;
}
