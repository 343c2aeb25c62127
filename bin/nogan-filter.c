/* nogan-filter — keep the synthetic rows whose nearest real row is close
 * enough and not a near copy (article, section 2.2), writing them verbatim;
 * the dropped rows with the reason, and a report with the thresholds and
 * the distance-to-closest-record (DCR) statistics.  Option parsing and
 * output only: REAL is loaded whole, SYNTH is streamed in chunks and
 * decided by pann_filter_stream (lib/filter.c). */
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
};

static const char program_help[] =
"Keep the rows of SYNTH whose nearest row of REAL is close enough (and, on\n"
"request, not a near copy); write them verbatim, header first, in their\n"
"order.  Columns are matched by name; the default scaling is range (with\n"
"L1 and the 0/1 mismatch of categorical columns: the Gower distance times\n"
"the number of columns).  Every decision is proven: a row is kept as soon\n"
"as a real row within the maximum is found, dropped only when none can be.\n"
"\n"
"Too far (at most one; default --max-quantile=0.95):\n"
"      --max-dist=D       drop rows whose NN distance is above D\n"
"      --max-quantile=Q   D = the Q-quantile of the real rows' leave-one-out\n"
"                         NN distances\n"
"      --quantile=Q       keep the fraction Q of rows nearest to REAL\n"
"      --keep=N           keep the N rows nearest to REAL (ties: first rows)\n"
"Near copies (privacy):\n"
"      --drop-copies      drop rows at distance 0 from a real row\n"
"      --min-dist=D       drop rows whose NN distance is below D\n"
"      --min-quantile=Q   D = the Q-quantile of the real LOO NN distances\n"
"Output:\n"
"      --rejected=FILE    the dropped rows verbatim, plus reason (too_far,\n"
"                         near_copy, missing) and distance columns\n"
"      --report=FILE      the report as CSV (key,value) or JSON (.json)\n"
"      --report-format=F  csv or json, whatever FILE's extension\n"
"      --dcr-sample=N     synthetic rows for the DCR median when not all\n"
"                         distances are exact (default 10000; 0 = all)\n"
"      --chunk-rows=N     rows of SYNTH read at a time (default 65536; 0 =\n"
"                         the whole file); the output does not depend on it\n"
"One table per category:\n"
"      --group=COL        decide each synthetic row against the real rows of\n"
"                         its category only, each category with its own\n"
"                         thresholds; COL never enters the distance; SYNTH is\n"
"                         then held whole\n"
"      --batch=N          with --group: categories of more than N real rows\n"
"                         are split into batches decided separately\n";

typedef enum { REPORT_CSV, REPORT_JSON } report_format;

typedef struct filter_cli {
    pann_filter_opts f;
    int max_rules, min_rules;
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
        break;
    case OPT_MAX_QUANTILE:
        set_max(c, fc, PANN_MAX_REAL_QUANTILE, cli_parse_real(c, "--max-quantile", arg, 0, 1));
        break;
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
        { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = getopt_long(argc, argv, CLI_SHORT_OPTIONS, longopts, NULL)) != -1)
        if (!cli_option(c, opt, optarg, program_help))
            program_option(c, fc, opt, optarg);
    int nfiles = argc - optind;
    if (nfiles != 2)
        cli_usage_error(c, "expected REAL SYNTH, got %d file%s", nfiles, nfiles == 1 ? "" : "s");
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
    return decision == PANN_FILTER_NEAR_COPY ? "near_copy" : "too_far";
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
    return cli_check_distances(sk->c, &sk->real->schema, tables, mats, 2, err);
}

/* ---- report ------------------------------------------------------------- */

typedef struct report {
    const char *keys[32];
    char values[32][256];
    bool is_text[32];
    size_t n;
} report;

static void add(report *rp, const char *key, bool text, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(report *rp, const char *key, bool text, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rp->values[rp->n], sizeof rp->values[rp->n], fmt, ap);
    va_end(ap);
    rp->keys[rp->n] = key;
    rp->is_text[rp->n++] = text;
}

static void add_num(report *rp, const char *key, double v)
{
    if (isnan(v))
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
    return "none";
}

static void build_report(const cli *c, const filter_cli *fc, const cli_data *data,
                         size_t read, const pann_filter_result *r,
                         const pann_filter_group_stats *gs, report *rp)
{
    const pann_filter_opts *f = &fc->f;
    char buf[160];
    double ratio = r->median_synth / r->median_real;
    static const char *scales[] = { "none", "std", "range" };
    add(rp, "rows_read", false, "%zu", read);
    add(rp, "real_rows", false, "%zu", data->mats[0].n);
    add(rp, "columns", false, "%zu", data->schema.d);
    add(rp, "metric", true, "%s", pann_metric_name(c->metric));
    add(rp, "scale", true, "%s", scales[c->encode.scale]);
    add(rp, "kept", false, "%zu", r->kept);
    add(rp, "dropped_too_far", false, "%zu", r->too_far);
    add(rp, "dropped_near_copy", false, "%zu", r->near_copy);
    add(rp, "dropped_missing", false, "%zu", read - r->n);
    add_num(rp, "max_dist", r->max_dist);
    add(rp, "max_rule", true, "%s", max_rule_text(f, buf, sizeof buf));
    add_num(rp, "min_dist", r->min_dist);
    add(rp, "min_rule", true, "%s", min_rule_text(f, buf, sizeof buf));
    add(rp, "drop_copies", false, "%s", f->drop_copies ? "true" : "false");
    add_num(rp, "median_synth_nn", r->median_synth);
    add(rp, "median_synth_rows", false, "%zu", r->median_synth_rows);
    add_num(rp, "median_real_loo_nn", r->median_real);
    add_num(rp, "dcr_ratio", isfinite(ratio) ? ratio : NAN);
    add(rp, "dcr_verdict", true, "%s", verdict(ratio));
    add(rp, "decisions_proven", false, "%zu", r->n);
    add(rp, "settled_early", false, "%zu", r->settled_early);
    add(rp, "settled_full", false, "%zu", r->settled_full);
    add(rp, "distance_evaluations", false, "%llu", (unsigned long long)r->evaluations);
    add(rp, "work_fraction", false, "%.6g", r->work_fraction);
    add(rp, "search", true, "%s", f->exact ? "exact" : "pruned");
    if (gs) {   /* --group: thresholds per category */
        add(rp, "group", true, "%s", fc->group);
        add(rp, "categories", false, "%zu", gs->batches.groups);
        add_num(rp, "max_dist_lowest", isfinite(gs->max_lo) ? gs->max_lo : NAN);
        add_num(rp, "max_dist_highest", isfinite(gs->max_hi) ? gs->max_hi : NAN);
        add(rp, "rows_without_real_category", false, "%zu", gs->batches.rows_without_reference);
    }
}

static void json_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', fp);
        fputc(*s, fp);
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
            fputs("  ", out.fp);
            json_string(out.fp, rp->keys[i]);
            fputs(": ", out.fp);
            if (rp->is_text[i])
                json_string(out.fp, rp->values[i]);
            else
                fputs(rp->values[i][0] ? rp->values[i] : "null", out.fp);
            fputs(i + 1 < rp->n ? ",\n" : "\n", out.fp);
        }
        fputs("}\n", out.fp);
    } else {
        fputs("key,value\n", out.fp);
        for (size_t i = 0; i < rp->n; i++) {
            fprintf(out.fp, "%s,", rp->keys[i]);
            pann_csv_field(out.fp, rp->values[i]);
            fputc('\n', out.fp);
        }
    }
    if (pann_output_commit(&out, &err) != 0)
        cli_die(c, &err);
}

static void summarise(const cli *c, const filter_cli *fc, const cli_data *data,
                      size_t read, const pann_filter_result *r,
                      const pann_filter_group_stats *gs)
{
    const pann_filter_opts *f = &fc->f;
    char buf[160];
    double ratio = r->median_synth / r->median_real;
    cli_note(c, "%zu synthetic rows read, %zu real rows, %zu columns, metric %s",
             read, data->mats[0].n, data->schema.d, pann_metric_name(c->metric));
    cli_note(c, "kept %zu; dropped %zu too far, %zu near copies, %zu with missing values",
             r->kept, r->too_far, r->near_copy, read - r->n);
    if (gs) {
        cli_note(c, "--group=%s: %zu categories in SYNTH, %zu searches, each exact among its "
                 "real rows with its own thresholds; maximum distance from %.6g to %.6g "
                 "(%s, within each)", fc->group, gs->batches.groups, gs->batches.batches,
                 gs->max_lo, gs->max_hi, max_rule_text(f, buf, sizeof buf));
        if (f->drop_copies)
            cli_note(c, "near copies: distance 0 (--drop-copies)");
        if (gs->batches.rows_without_reference)
            cli_note(c, "warning: %zu synthetic rows have a category with no real row: "
                     "dropped as too far", gs->batches.rows_without_reference);
        if (isfinite(gs->min_lo))
            cli_note(c, "near copies: distance below %.6g to %.6g (%s, within each category)",
                     gs->min_lo, gs->min_hi, min_rule_text(f, buf, sizeof buf));
    } else {
        cli_note(c, "maximum distance %.6g (%s)", r->max_dist, max_rule_text(f, buf, sizeof buf));
    }
    if (!gs && !isnan(r->min_dist))
        cli_note(c, "near copies: distance below %.6g (%s)%s", r->min_dist,
                 min_rule_text(f, buf, sizeof buf),
                 f->drop_copies ? "; distance 0 (--drop-copies)" : "");
    else if (!gs && f->drop_copies)
        cli_note(c, "near copies: distance 0 (--drop-copies)");
    cli_note(c, "DCR: median synthetic->real NN distance %.6g (%s %zu rows), median "
             "real->real leave-one-out NN distance %.6g, ratio %.4g: %s", r->median_synth,
             r->median_synth_rows == r->n ? "all" : "exact sample of", r->median_synth_rows,
             r->median_real, ratio, verdict(ratio));
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
    cli_load_except(c, files, 2, &fc->group, &option, 1, &data, &real_col);
    pann_error err = { 0 };
    pann_groups groups;
    if (pann_columns_match(&data.tables[0], &real_col, 1, &data.tables[1], &synth_col, &err)
        || pann_groups_build(&data.tables[1], &data.mats[1], synth_col, &data.tables[0],
                             &data.mats[0], real_col, &groups, &err))
        cli_die(c, &err);
    pann_filter_result r;
    pann_filter_group_stats gs;
    if (pann_filter_grouped(&data.mats[0], &data.mats[1], &groups, fc->batch, &data.metric,
                            &fc->f, &r, &gs, &err))
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
        report rp = { .n = 0 };
        build_report(c, &shown, &data, st->nrows, &r, &gs, &rp);
        write_report(c, &shown, &rp);
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
    filter_cli fc = { .report_format = -1 };
    cli_init(&c, "nogan-filter", "nogan-filter [OPTIONS] REAL SYNTH", PANN_SCALE_RANGE);
    pann_filter_opts_init(&fc.f);
    parse_args(argc, argv, &c, &fc);
    fc.f.exact = c.exact;
    fc.f.seed = c.seed;
    fc.f.threads = c.threads;

    const char *files[2] = { argv[optind], argv[optind + 1] };
    if (strcmp(files[0], "-") == 0 && strcmp(files[1], "-") == 0)
        cli_usage_error(&c, "standard input ('-') can be read only once");
    if (fc.batch && !fc.group)
        cli_usage_error(&c, "--batch needs --group");
    if (fc.group) {
        run_grouped(&c, &fc, files);
        return 0;
    }
    cli_data data;
    cli_load(&c, files, 1, &data);     /* REAL alone: SYNTH is streamed */
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
        report rp = { .n = 0 };
        build_report(&c, &fc, &data, read, &r, NULL, &rp);
        write_report(&c, &fc, &rp);
    } else {
        summarise(&c, &fc, &data, read, &r, NULL);
    }
    free(ref_cols);
    pann_filter_result_free(&r);
    cli_data_free(&data);
    return 0;
}
