/* cli.c — the option and I/O helper the programs share (see cli.h).
 *
 * Everything a program would otherwise copy lives here: the common options
 * of the command-line contract in design.md, their help text, number
 * parsing that names the option at fault, loading and jointly encoding the
 * input files, exits with the documented codes (0 ok, 1 bad usage or input,
 * 2 system error), and a progress line for long runs.
 */
#include <config.h>
#include <errno.h>
#include <float.h>
#if defined HAVE_MALLOC_H && defined HAVE_MALLOPT
#include <malloc.h>
#endif
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

static const char common_help[] =
"Common options:\n"
"  -d, --delimiter=C      field separator (default ','; '\\t' or 'tab' for TSV)\n"
"      --no-header        the first line is data; columns are named 1, 2, ...\n"
"  -c, --columns=LIST     columns used for distances: names or 1-based indices,\n"
"                         ranges 3-5 or 2-, comma-separated (default: all)\n"
"      --categorical=LIST treat these columns as categories (0/1 mismatch)\n"
"      --metric=M         l1 (default), l2 or cosine\n"
"      --scale=S          none, std or range, from the reference file\n"
"      --missing=P        missing values (empty, NA, NaN): error (default),\n"
"                         drop (leave the row out) or impute (reference mean\n"
"                         or most frequent category)\n"
"      --exact            exact search instead of the anytime one\n"
"      --seed=N           random seed (default 1); the seed is reported\n"
"  -j, --threads=N        worker threads (default: all cores); results do not\n"
"                         depend on it\n"
"  -o, --output=FILE      write results there, atomically (default: stdout)\n"
"  -q, --quiet            no summary and no progress on stderr\n"
"      --progress         progress on stderr even when it is not a terminal\n"
"  -h, --help             this help;  -V, --version  the version\n"
"Exit status: 0 success, 1 bad usage or bad input, 2 system or I/O error.\n";

/* getopt's own message for an unknown option starts with argv[0] (under
 * libtool a path into .libs) and the program would add a second line, so
 * the programs' getopt stays quiet and cli_option names the option itself
 * from the arguments cli_init was given. */

static void unknown_option(const cli *c)
{
    /* optopt holds a short option's letter, or a long option's code */
    if (optopt > ' ' && optopt < 0x7f)
        cli_usage_error(c, "-%c: unknown option or missing value", optopt);
    if (optind >= 1 && optind <= c->argc && strncmp(c->argv[optind - 1], "--", 2) == 0)
        cli_usage_error(c, "%s: unknown option, or a value missing or not expected",
                        c->argv[optind - 1]);
    cli_usage_error(c, "unknown option, or a value missing or not expected");
}

void cli_init(cli *c, int argc, char **argv, const char *prog, const char *usage,
              pann_scale default_scale)
{
    opterr = 0;
    /* Arrays of rows (windows of text, matrices, indexes) come and go in
     * phases; glibc would raise its mmap threshold after the first large
     * free and keep later ones in the heap, resident after they are freed.
     * A fixed threshold hands every large array back when it is freed. */
#if defined HAVE_MALLOC_H && defined HAVE_MALLOPT && defined M_MMAP_THRESHOLD
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
    memset(c, 0, sizeof *c);
    c->argc = argc;
    c->argv = argv;
    c->prog = prog;
    c->usage = usage;
    pann_read_opts_init(&c->read);
    pann_encode_opts_init(&c->encode);
    c->encode.scale = default_scale;
    c->metric = PANN_L1;
    c->seed = 1;
    c->progress = isatty(STDERR_FILENO);
}

void cli_usage_error(const cli *c, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", c->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see '%s --help')\n", c->prog);
    pann_output_abort_all();
    exit(PANN_EINPUT);
}

void cli_die(const cli *c, const pann_error *err)
{
    fprintf(stderr, "%s: %s\n", c->prog, err->msg);
    pann_output_abort_all();   /* no temporary file of -o stays behind */
    exit(err->status ? err->status : PANN_EINPUT);
}

void cli_note(const cli *c, const char *fmt, ...)
{
    if (c->quiet)
        return;
    va_list ap;
    fprintf(stderr, "%s: ", c->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

bool cli_parse_npy_format(const cli *c, const char *arg)
{
    if (strcmp(arg, "npy") != 0 && strcmp(arg, "csv") != 0)
        cli_usage_error(c, "--format: '%s' is not csv or npy", arg);
    return strcmp(arg, "npy") == 0;
}

uint64_t cli_parse_count(const cli *c, const char *option, const char *arg,
                         uint64_t min, uint64_t max)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (arg[0] == '-' || arg[0] == '+' || end == arg || *end || errno || v < min || v > max)
        cli_usage_error(c, "%s: '%s' is not a whole number from %llu to %llu", option, arg,
                        (unsigned long long)min, (unsigned long long)max);
    return v;
}

double cli_parse_real(const cli *c, const char *option, const char *arg,
                      double min, double max)
{
    double v;
    if (!pann_parse_number(arg, &v) || v < min || v > max)
        cli_usage_error(c, "%s: '%s' is not a number from %g to %g", option, arg, min, max);
    return v;
}

static char parse_delimiter(const cli *c, const char *arg)
{
    if (strcmp(arg, "\\t") == 0 || strcmp(arg, "tab") == 0 || strcmp(arg, "\t") == 0)
        return '\t';
    if (strlen(arg) != 1 || arg[0] == '"' || arg[0] == '\n' || arg[0] == '\r')
        cli_usage_error(c, "--delimiter: '%s' is not a single character", arg);
    return arg[0];
}

static void print_help(const cli *c, const char *program_help)
{
    printf("Usage: %s\n%s\n%s", c->usage, program_help ? program_help : "", common_help);
}

bool cli_option(cli *c, int opt, const char *arg, const char *program_help)
{
    switch (opt) {
    case 'd':
        c->read.delim = parse_delimiter(c, arg);
        c->read.delim_given = true;
        return true;
    case CLI_OPT_NO_HEADER: c->read.header = false; return true;
    case 'c': c->encode.columns = arg; return true;
    case CLI_OPT_CATEGORICAL: c->encode.categorical = arg; return true;
    case CLI_OPT_METRIC:
        if (pann_metric_parse(arg, &c->metric) != 0)
            cli_usage_error(c, "--metric: '%s' is not l1, l2 or cosine", arg);
        return true;
    case CLI_OPT_SCALE:
        if (strcmp(arg, "none") == 0) c->encode.scale = PANN_SCALE_NONE;
        else if (strcmp(arg, "std") == 0) c->encode.scale = PANN_SCALE_STD;
        else if (strcmp(arg, "range") == 0) c->encode.scale = PANN_SCALE_RANGE;
        else cli_usage_error(c, "--scale: '%s' is not none, std or range", arg);
        return true;
    case CLI_OPT_MISSING:
        if (strcmp(arg, "error") == 0) c->encode.missing = PANN_MISSING_ERROR;
        else if (strcmp(arg, "drop") == 0) c->encode.missing = PANN_MISSING_DROP;
        else if (strcmp(arg, "impute") == 0) c->encode.missing = PANN_MISSING_IMPUTE;
        else cli_usage_error(c, "--missing: '%s' is not error, drop or impute", arg);
        return true;
    case CLI_OPT_EXACT: c->exact = true; return true;
    case CLI_OPT_SEED: c->seed = cli_parse_count(c, "--seed", arg, 0, UINT64_MAX); return true;
    case 'j': c->threads = (int)cli_parse_count(c, "--threads", arg, 1, 1024); return true;
    case 'o': c->output = arg; return true;
    case 'q': c->quiet = true; c->progress = false; return true;
    case CLI_OPT_PROGRESS: c->progress = true; return true;
    case 'h': print_help(c, program_help); exit(0);
    case 'V':
        printf("%s (pann) %s\n", c->prog, pann_version());
        exit(0);
    case '?': unknown_option(c);
    }
    return false;
}

static void free_loaded(cli_data *data)
{
    cli_data_free(data);
    size_t nfiles = data->nfiles;
    memset(data, 0, sizeof *data);
    data->nfiles = nfiles;
}

/* Whether path names a regular file: a pipe (or "-") is read once, by the
 * general path, never opened here for its header first. */
static bool regular_file(const char *path)
{
    struct stat st;
    return strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* c->matrices_only: plain numeric regular files straight into the matrices.
 * False (nothing kept) when any file needs the general path, which then
 * reads it and reports what is wrong with it. */
static bool load_numeric(const cli *c, const char *const *files, size_t nfiles,
                         const char *const *except, const char *const *options, size_t nexcept,
                         cli_data *data, size_t *except_cols, const pann_encode_opts *base)
{
    pann_error err = {0};
    size_t read = 0;
    while (read < nfiles && regular_file(files[read]) &&
           pann_table_read_header(&data->tables[read], files[read], &c->read, &err) == 0)
        read++;
    pann_encode_opts encode = *base;
    char *columns = NULL;
    bool ok = read == nfiles;
    if (ok && nexcept) {
        size_t cols[8];
        ok = pann_columns_except(&data->tables[0], base->columns, except, options, nexcept,
                                 cols, &columns, &err) == 0;
        encode.columns = columns;
        for (size_t i = 0; ok && i < nexcept; i++)
            except_cols[i] = cols[i];
    }
    bool loaded = false;
    if (ok && pann_load_numeric(data->tables, nfiles, &c->read, &encode, c->threads,
                                &data->schema, data->mats, &loaded, &err) != 0)
        cli_die(c, &err);
    free(columns);
    const pann_matrix *mats_of[3];
    const pann_table *tables_of[3];
    for (size_t i = 0; i < nfiles; i++)
        mats_of[i] = &data->mats[i], tables_of[i] = &data->tables[i];
    /* data that would overflow takes the general path too, which locates
       the cell to blame in the file's text */
    if (loaded && (pann_metric_init(&data->metric, c->metric, &data->schema, &err) != 0 ||
                   pann_check_distances(c->metric, &data->schema, tables_of, mats_of, nfiles,
                                        &err) != 0))
        loaded = false;
    if (!loaded)
        free_loaded(data);   /* the headers read, and anything loaded */
    return loaded;
}

/* .npy files (pann_npy.h): numbers only, so only for matrices. */
void cli_load_npy(const cli *c, const char *const *files, size_t nfiles,
                  const char *cell_option, const pann_encode_opts *encode, cli_data *data)
{
    if (!c->matrices_only || cell_option)
        cli_usage_error(c, "%s is a .npy file, numbers only: %s needs a table's cells; "
                        "give a CSV file", files[0], cell_option ? cell_option
                        : "this program");
    pann_error err = {0};
    const pann_table *tables[3];
    const pann_matrix *mats[3];
    if (pann_npy_load(data->tables, files, nfiles, encode, &data->schema, data->mats, &err))
        cli_die(c, &err);
    for (size_t i = 0; i < nfiles; i++) {
        tables[i] = &data->tables[i];
        mats[i] = &data->mats[i];
    }
    if (pann_metric_init(&data->metric, c->metric, &data->schema, &err) != 0 ||
        pann_check_distances(c->metric, &data->schema, tables, mats, nfiles, &err) != 0)
        cli_die(c, &err);
}

/* A chosen column of the reference that holds a row index or an
 * identifier (pann_column_is_index_like) is named on stderr, -q or not:
 * it would weigh in every distance and figure. */
static void warn_index_columns(const cli *c, const cli_data *data, const char *file)
{
    if (c->metric == PANN_COSINE)
        return;
    for (size_t j = 0; j < data->schema.d; j++) {
        if (!pann_column_is_index_like(&data->schema, &data->mats[0], j))
            continue;
        const char *name = data->schema.names[j];
        fprintf(stderr, "%s: warning: %s: column %s%s%s holds a different value in every row, "
                "as a row index or an identifier does; it weighs in every distance: "
                "leave it out with -c unless it is a feature\n", c->prog, file,
                *name ? "'" : "", *name ? name : "with no name", *name ? "'" : "");
    }
}

void cli_load(const cli *c, const char *const *files, size_t nfiles, cli_data *data)
{
    cli_load_except(c, files, nfiles, NULL, NULL, 0, data, NULL);
}

static void load_except(const cli *c, const char *const *files, size_t nfiles,
                        const char *const *except, const char *const *options, size_t nexcept,
                        cli_data *data, size_t *except_cols);

void cli_load_except(const cli *c, const char *const *files, size_t nfiles,
                     const char *const *except, const char *const *options, size_t nexcept,
                     cli_data *data, size_t *except_cols)
{
    load_except(c, files, nfiles, except, options, nexcept, data, except_cols);
    warn_index_columns(c, data, files[0]);
}

static void load_except(const cli *c, const char *const *files, size_t nfiles,
                        const char *const *except, const char *const *options, size_t nexcept,
                        cli_data *data, size_t *except_cols)
{
    pann_error err = {0};
    memset(data, 0, sizeof *data);
    size_t stdin_count = 0;
    for (size_t i = 0; i < nfiles; i++)
        stdin_count += strcmp(files[i], "-") == 0;
    if (stdin_count > 1)
        cli_usage_error(c, "standard input ('-') can be read only once");
    data->nfiles = nfiles;
    pann_encode_opts encode = c->encode;
    encode.cosine = c->metric == PANN_COSINE;
    const char *given[8], *given_options[8];
    size_t ngiven = 0, cols[8];
    for (size_t i = 0; i < nexcept && ngiven < 8; i++) {
        if (except_cols)
            except_cols[i] = SIZE_MAX;
        if (except[i]) {
            given[ngiven] = except[i];
            given_options[ngiven++] = options[i];
        }
    }
    if (pann_npy_any(files, nfiles)) {
        cli_load_npy(c, files, nfiles, ngiven ? given_options[0] : NULL, &encode, data);
        return;
    }
    if (c->matrices_only &&
        load_numeric(c, files, nfiles, given, given_options, ngiven, data, cols, &encode)) {
        for (size_t i = 0, j = 0; i < nexcept; i++)
            if (except[i])
                except_cols[i] = cols[j++];
        return;
    }
    const pann_table *tables[3];
    if (pann_tables_read(data->tables, files, nfiles, &c->read, c->threads, &err) != 0)
        cli_die(c, &err);
    for (size_t i = 0; i < nfiles; i++)
        tables[i] = &data->tables[i];
    char *columns = NULL;
    if (ngiven) {   /* the header must be read before the list can be made */
        if (pann_columns_except(&data->tables[0], c->encode.columns, given, given_options,
                                ngiven, cols, &columns, &err) != 0)
            cli_die(c, &err);
        encode.columns = columns;
        for (size_t i = 0, j = 0; i < nexcept; i++)
            if (except[i])
                except_cols[i] = cols[j++];
    }
    size_t dropped = 0;
    if (pann_encode(tables, nfiles, &encode, &data->schema, data->mats, &dropped, &err) != 0)
        cli_die(c, &err);
    free(columns);
    if (dropped)
        cli_note(c, "%zu row%s with missing values left out (--missing=drop)",
                 dropped, dropped == 1 ? "" : "s");
    if (pann_metric_init(&data->metric, c->metric, &data->schema, &err) != 0)
        cli_die(c, &err);
    const pann_table *tables_of[3];
    const pann_matrix *mats_of[3];
    for (size_t i = 0; i < nfiles; i++) {
        tables_of[i] = &data->tables[i];
        mats_of[i] = &data->mats[i];
    }
    if (pann_check_distances(c->metric, &data->schema, tables_of, mats_of, nfiles, &err) != 0)
        cli_die(c, &err);
}

void cli_data_drop_cells(cli_data *data)
{
    for (size_t i = 0; i < data->nfiles; i++)
        pann_table_drop_cells(&data->tables[i]);
}

void cli_data_free(cli_data *data)
{
    for (size_t i = 0; i < data->nfiles; i++) {
        pann_matrix_free(&data->mats[i]);
        pann_table_free(&data->tables[i]);
    }
    pann_schema_free(&data->schema);
    pann_metric_free(&data->metric);
}

typedef struct progress_state {
    const cli *c;
    double started, last;
} progress_state;

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void show_progress(void *ctx, uint64_t done, uint64_t total)
{
    progress_state *p = ctx;
    double now = wall_seconds();
    if (now - p->last < 0.25 && !(total && done == total))   /* the end always shows */
        return;
    p->last = now;
    double rate = done / (now - p->started + 1e-9);
    if (total)   /* rows for exact searches, proposals for the anytime one */
        fprintf(stderr, "\r%s: %llu/%llu done (%.0f%%), %.3g/s, %.0f s left   ", p->c->prog,
                (unsigned long long)done, (unsigned long long)total, 100.0 * done / total,
                rate, total > done ? (total - done) / rate : 0.0);
    else
        fprintf(stderr, "\r%s: %llu done, %.3g/s   ", p->c->prog,
                (unsigned long long)done, rate);
}

void cli_engine_opts(const cli *c, pann_engine_opts *o)
{
    pann_engine_opts_init(o);
    cli_engine_apply(c, o);
}

void cli_engine_apply(const cli *c, pann_engine_opts *o)
{
    static progress_state state;
    o->seed = c->seed;
    o->threads = c->threads;
    if (c->progress && !c->quiet) {
        state = (progress_state){ c, wall_seconds(), wall_seconds() };
        o->progress = show_progress;
        o->progress_ctx = &state;
    }
}

void cli_output_open(const cli *c, pann_output *out)
{
    pann_error err = {0};
    if (pann_output_open(out, c->output, &err) != 0)
        cli_die(c, &err);
}

void cli_output_commit(const cli *c, pann_output *out)
{
    pann_error err = {0};
    if (pann_output_commit(out, &err) != 0)
        cli_die(c, &err);
}

void cli_write_table(const cli *c, const char *header, size_t n, cli_format_fn format,
                     const void *ctx)
{
    pann_output out;
    cli_output_open(c, &out);
    fputs(header, out.fp);
    cli_write_items(c, out.fp, n, format, ctx);
    cli_output_commit(c, &out);
}

enum { ITEMS_PER_BLOCK = 8192 };

typedef struct text_block {
    char *buf;
    size_t len, cap;
    bool out_of_memory;
} text_block;

static void format_block(text_block *b, size_t first, size_t end, cli_format_fn format,
                         const void *ctx)
{
    b->len = 0;
    for (size_t i = first; i < end && !b->out_of_memory; i++) {
        if (b->cap - b->len < CLI_LINE_MAX + 1) {
            size_t cap = b->cap ? 2 * b->cap : (size_t)1 << 16;
            char *grown = realloc(b->buf, cap);
            if (!grown) {
                b->out_of_memory = true;
                break;
            }
            b->buf = grown;
            b->cap = cap;
        }
        int written = format(b->buf + b->len, b->cap - b->len, i, ctx);
        if (written > 0)
            b->len += (size_t)written < CLI_LINE_MAX ? (size_t)written : CLI_LINE_MAX;
    }
}

const size_t *cli_row_ids(const pann_matrix *m)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->row_id[i] != i)
            return m->row_id;
    return NULL;
}

void cli_write_items(const cli *c, FILE *fp, size_t n, cli_format_fn format, const void *ctx)
{
    int nth = pann_threads(c->threads);
    size_t per_round = 2 * (size_t)nth;
    text_block *blocks = calloc(per_round, sizeof *blocks);
    bool out_of_memory = !blocks;
    for (size_t first = 0; first < n && !out_of_memory; first += per_round * ITEMS_PER_BLOCK) {
#pragma omp parallel for schedule(static, 1) num_threads(nth) if (n > ITEMS_PER_BLOCK)
        for (size_t b = 0; b < per_round; b++) {
            size_t lo = first + b * ITEMS_PER_BLOCK;
            size_t hi = lo + ITEMS_PER_BLOCK < n ? lo + ITEMS_PER_BLOCK : n;
            blocks[b].len = 0;
            if (lo < n)
                format_block(&blocks[b], lo, hi, format, ctx);
        }
        for (size_t b = 0; b < per_round && !out_of_memory; b++) {
            out_of_memory = blocks[b].out_of_memory;
            if (!out_of_memory && blocks[b].len)
                fwrite(blocks[b].buf, 1, blocks[b].len, fp);
        }
    }
    for (size_t b = 0; blocks && b < per_round; b++)
        free(blocks[b].buf);
    free(blocks);
    if (out_of_memory)
        cli_die(c, &(pann_error){ PANN_ESYSTEM, "out of memory (formatting the output)" });
}
