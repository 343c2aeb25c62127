/* cli.h — what every pann program shares: the common options of the
 * command-line contract, their parsing and help text, loading and encoding
 * the input files, located error messages and exit codes, progress. */
#ifndef PANN_CLI_H
#define PANN_CLI_H

#include <getopt.h>
#include "pann.h"

/* Option codes of the long-only common options (getopt_long values). */
enum {
    CLI_OPT_NO_HEADER = 0x1000, CLI_OPT_METRIC, CLI_OPT_SCALE, CLI_OPT_MISSING,
    CLI_OPT_CATEGORICAL, CLI_OPT_EXACT, CLI_OPT_SEED, CLI_OPT_PROGRESS,
    CLI_OPT_FIRST_PROGRAM = 0x2000   /* programs number their own from here */
};

#define CLI_SHORT_OPTIONS "d:c:j:o:qhV"
#define CLI_LONG_OPTIONS \
    { "delimiter", required_argument, NULL, 'd' }, \
    { "no-header", no_argument, NULL, CLI_OPT_NO_HEADER }, \
    { "columns", required_argument, NULL, 'c' }, \
    { "categorical", required_argument, NULL, CLI_OPT_CATEGORICAL }, \
    { "metric", required_argument, NULL, CLI_OPT_METRIC }, \
    { "scale", required_argument, NULL, CLI_OPT_SCALE }, \
    { "missing", required_argument, NULL, CLI_OPT_MISSING }, \
    { "exact", no_argument, NULL, CLI_OPT_EXACT }, \
    { "seed", required_argument, NULL, CLI_OPT_SEED }, \
    { "threads", required_argument, NULL, 'j' }, \
    { "output", required_argument, NULL, 'o' }, \
    { "quiet", no_argument, NULL, 'q' }, \
    { "progress", no_argument, NULL, CLI_OPT_PROGRESS }, \
    { "help", no_argument, NULL, 'h' }, \
    { "version", no_argument, NULL, 'V' }

typedef struct cli {
    const char *prog;
    const char *usage;           /* "pann-match [OPTIONS] QUERY [REFERENCE]" */
    pann_read_opts read;
    pann_encode_opts encode;
    pann_metric_kind metric;
    bool exact;
    uint64_t seed;
    int threads;
    const char *output;
    bool quiet, progress;
    /* No cell is read after loading (no label, group or verbatim row): files
     * of plain numbers are then loaded without their text (pann_load_numeric),
     * which is what keeps a search's memory near its matrices. */
    bool matrices_only;
} cli;

void cli_init(cli *c, const char *prog, const char *usage, pann_scale default_scale);
/* Handle a common option; returns false when opt is not one.  Exits 0 on
 * --help (after printing program_help then the common options) and
 * --version, 1 on a bad value. */
bool cli_option(cli *c, int opt, const char *arg, const char *program_help);

/* Print "prog: message" and exit 1 (bad usage or option value). */
void cli_usage_error(const cli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* Print "prog: err->msg" and exit with err->status. */
void cli_die(const cli *c, const pann_error *err) __attribute__((noreturn));
/* Print "prog: message" (a warning or a summary line) unless quiet. */
void cli_note(const cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Whole numbers and reals of options, with the option named on error. */
/* --format=csv|npy: true for npy; anything else is a usage error. */
bool cli_parse_npy_format(const cli *c, const char *arg);
uint64_t cli_parse_count(const cli *c, const char *option, const char *arg,
                         uint64_t min, uint64_t max);
double cli_parse_real(const cli *c, const char *option, const char *arg,
                      double min, double max);

/* Read the files (at most one may be "-") and encode them together:
 * files[0] is the reference whose statistics scale every file.  Dropped
 * rows (--missing=drop) are reported.  Exits on error.  With
 * c->matrices_only, plain numeric files are loaded straight into the
 * matrices; any other file takes the general path, so the results and the
 * errors are the same either way. */
typedef struct cli_data {
    size_t nfiles;
    pann_table tables[3];
    pann_matrix mats[3];
    pann_schema schema;
    pann_metric metric;
} cli_data;
void cli_load(const cli *c, const char *const *files, size_t nfiles, cli_data *data);
/* The same with the columns except[] of files[0] (names or 1-based
 * indices: a label, a group, given by options[] such as "--label") kept
 * out of the distance columns; their 0-based indices go to except_cols[].
 * An except[] entry that is NULL is skipped. */
void cli_load_except(const cli *c, const char *const *files, size_t nfiles,
                     const char *const *except, const char *const *options, size_t nexcept,
                     cli_data *data, size_t *except_cols);
/* The same for .npy files, which cli_load_except hands over: only
 * with c->matrices_only and no cell_option (the option naming a column to
 * read cells of, such as "--label"), else a usage error. */
void cli_load_npy(const cli *c, const char *const *files, size_t nfiles,
                  const char *cell_option, const pann_encode_opts *encode, cli_data *data);
void cli_data_free(cli_data *data);
/* Free the tables' text and cells (pann_table_drop_cells) once nothing will
 * read a cell again. */
void cli_data_drop_cells(cli_data *data);
/* Refuse data whose float distances could overflow: the columns' spans over
 * the n matrices must not add up (L1) or add up in squares (L2) past a
 * quarter of FLT_MAX.  The error names the largest value of the worst
 * column.  cli_load does this; programs reading chunks do it per chunk. */
int cli_check_distances(const cli *c, const pann_schema *s, const pann_table *const *tables,
                        const pann_matrix *const *mats, size_t n, pann_error *err);

/* Engine options from the common ones (seed, threads, progress). */
void cli_engine_opts(const cli *c, pann_engine_opts *o);

/* Open -o FILE (or stdout) and commit it, exiting on error. */
void cli_output_open(const cli *c, pann_output *out);
void cli_output_commit(const cli *c, pann_output *out);
/* Write items 0..n-1 to fp, line(s) by format(buf, size, item, ctx), which
 * returns what snprintf returns (at most CLI_LINE_MAX).  Blocks of items are
 * formatted by -j threads and written in order: the output is the same as
 * a serial loop's, and %.7g of millions of values no longer keeps one core
 * busy while the other waits. */
#define CLI_LINE_MAX 4096
typedef int (*cli_format_fn)(char *buf, size_t size, size_t item, const void *ctx);
/* Fields of a result line without printf (which costs more than some
 * searches on millions of lines): each writes at `at` and returns the end;
 * a formatter has CLI_LINE_MAX bytes of room, far more than a line of
 * numbers needs.  The float is written as "%.7g" writes it. */
static inline char *cli_put_index(char *at, size_t v)
{
    return at + pann_format_index(at, v);
}
static inline char *cli_put_float(char *at, float v)
{
    return at + pann_format_float(at, v);
}
/* A matrix's table row ids, or NULL when they are 0, 1, 2, ... (no row
 * left out): a result line then looks nothing up at a random place. */
const size_t *cli_row_ids(const pann_matrix *m);
static inline size_t cli_row_id(const size_t *ids, size_t i)
{
    return ids ? ids[i] : i;
}
void cli_write_items(const cli *c, FILE *fp, size_t n, cli_format_fn format, const void *ctx);
/* -o FILE (or stdout): the header line, then the items as above, committed. */
void cli_write_table(const cli *c, const char *header, size_t n, cli_format_fn format,
                     const void *ctx);

#endif
