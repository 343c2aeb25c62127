/* cli_mpi.c — the programs over the ranks of mpirun (see cli_mpi.h).
 *
 * Loading: each rank cuts the query file at line starts (lib/mpi_share.c)
 * and loads its share with the whole reference, by the same loaders as one
 * process.  A share is kept only when its encoding provably equals one
 * process's: every rank loaded, every column is numeric or named by
 * --categorical (a column's kind then does not depend on the other
 * shares), and the columns' spans over all shares pass the overflow check.
 * Anything else, on any rank (MPI_Allreduce of a flag), sends every rank
 * to the whole files through cli_load_except: an error is then exactly
 * one process's, and since every rank fails alike at the same place, all
 * leave together with its status while only rank 0 has printed it.
 *
 * Ending: every rank exits through MPI_Finalize when the ranks end
 * together (a usage or input error seen by all, or the end of the run);
 * a rank that fails alone (a system error in the middle of the work) ends
 * the job with MPI_Abort, so no rank waits forever for it, and rank 0's
 * temporary -o file goes with it (pann_output_abort_all on SIGTERM).
 *
 * Results: rank 0 gathers the answers in the query file's order
 * (MPI_Gatherv), adds up the counts and then writes, formats and
 * summarises exactly as one process does.
 *
 * Streams (pann-knn --exact TRAIN QUERY): each rank streams its share of
 * the query file through pann_knn_stream, as one process streams the
 * whole file, into a temporary file of binary lists; a failure on any
 * rank sends rank 0 alone to the whole file.  Otherwise rank 0 takes the
 * ranks' lists in order, in windows, and writes them with the query rows
 * renumbered from the rows of the shares before, adding up the K-th
 * distances in the file's order as one process does.
 */
#include <config.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli_mpi.h"
#ifdef HAVE_MPI
#include <mpi.h>
#include "pann_mpi.h"
#endif

static int world_rank = 0, ranks = 1;

int cli_mpi_rank(void)
{
    return world_rank;
}

int cli_mpi_size(void)
{
    return ranks;
}

static void load_alone(const cli *c, cli_mpi_share *sh, const char *const *files,
                       size_t nfiles, const char *const *except,
                       const char *const *options, size_t nexcept, cli_data *data,
                       size_t *except_cols)
{
    cli_mpi_alone();
    cli_load_except(c, files, nfiles, except, options, nexcept, data, except_cols);
    memset(sh, 0, sizeof *sh);
    sh->query = nfiles - 1;
    sh->total_rows = data->tables[sh->query].nrows;
}

#ifndef HAVE_MPI

void cli_mpi_init(cli *c)
{
    (void)c;
}

void cli_mpi_alone(void)
{
}

void cli_mpi_load_except(const cli *c, cli_mpi_share *sh, const char *const *files,
                         size_t nfiles, const char *const *except,
                         const char *const *options, size_t nexcept, cli_data *data,
                         size_t *except_cols)
{
    load_alone(c, sh, files, nfiles, except, options, nexcept, data, except_cols);
}

void cli_mpi_gather_queries(const cli *c, cli_mpi_share *sh, cli_data *data)
{
    (void)c, (void)sh, (void)data;
}

void cli_mpi_gather_result(const cli *c, cli_mpi_share *sh, cli_data *data, pann_result *r,
                           bool rows)
{
    (void)c, (void)sh, (void)data, (void)r, (void)rows;
}

void cli_mpi_gather_knn(const cli *c, cli_mpi_share *sh, cli_data *data, pann_knn_result *r)
{
    (void)c, (void)sh, (void)data, (void)r;
}

bool cli_mpi_knn_stream(const cli *c, const pann_matrix *T, const pann_metric *m,
                        const pann_knn_stream_opts *o, pann_output *out,
                        pann_knn_stream_stats *st)
{
    (void)c, (void)T, (void)m, (void)o, (void)out, (void)st;
    return false;
}

#else

/* ---- joining and leaving ------------------------------------------------ */

/* Every rank still running ends at the same point (usage and input errors
 * seen by all, the end): MPI_Finalize.  Otherwise a failing rank aborts the
 * job. */
static bool together = true;

static void leave(int status, void *arg)
{
    (void)arg;
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized)
        return;
    if (status != 0 && !together)
        MPI_Abort(MPI_COMM_WORLD, status);
    MPI_Finalize();
}

static void on_signal(int sig)
{
    pann_output_abort_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

static bool started_by_mpirun(void)
{
    static const char *const vars[] = { "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE",
                                        "PMI_RANK" };
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (getenv(vars[i]))
            return true;
    return false;
}

void cli_mpi_init(cli *c)
{
    if (!started_by_mpirun())
        return;
    int provided, size;
    MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    ranks = size;
    on_exit(leave, NULL);
    if (world_rank == 0) {
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
        return;
    }
    c->quiet = true;
    c->progress = false;
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        close(null);
    }
}

void cli_mpi_alone(void)
{
    if (ranks > 1 && world_rank != 0)
        exit(0);
    ranks = 1;
    together = true;   /* the others are gone or waiting in MPI_Finalize */
}

/* What PANN_MPI_TRACE=1 reports at the end of a split run, per rank: the
 * bytes of the query file read (its share, or the whole file) and the
 * bytes sent to other ranks. */
static uint64_t query_bytes_read, bytes_sent;

static int any_rank(int flag)
{
    int any = 0;
    MPI_Allreduce(&flag, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return any;
}

static uint64_t sum_ranks(uint64_t v)
{
    uint64_t sum = 0;
    MPI_Allreduce(&v, &sum, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    return sum;
}

static uint64_t before_rank(uint64_t v)
{
    uint64_t before = 0;
    MPI_Exscan(&v, &before, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    return world_rank == 0 ? 0 : before;
}

/* ---- loading a share ---------------------------------------------------- */

typedef struct share_load {
    const cli *c;
    const char *const *except, *const *options;
    size_t nexcept;
    size_t *except_cols;
    cli_data *data;
} share_load;

static int column_list(share_load *l, char **columns, pann_encode_opts *encode,
                       pann_error *err)
{
    *encode = l->c->encode;
    encode->cosine = l->c->metric == PANN_COSINE;
    if (!l->nexcept)
        return 0;
    if (pann_columns_except(&l->data->tables[0], l->c->encode.columns, l->except, l->options,
                            l->nexcept, l->except_cols, columns, err) != 0)
        return 1;
    encode->columns = *columns;
    return 0;
}

/* The tables of paths by the numeric loader, else the general reader: 0,
 * or 1 when they do not load (the whole files will say why). */
static int load_tables(share_load *l, const char *const *paths, size_t n, size_t *dropped)
{
    pann_error err = {0};
    cli_data *data = l->data;
    pann_encode_opts encode;
    char *columns = NULL;
    size_t read = 0;
    while (read < n && pann_table_read_header(&data->tables[read], paths[read], &l->c->read,
                                              &err) == 0)
        read++;
    bool loaded = false;
    if (read == n && !column_list(l, &columns, &encode, &err) &&
        pann_load_numeric(data->tables, n, &l->c->read, &encode, l->c->threads,
                          &data->schema, data->mats, &loaded, &err) != 0)
        loaded = false;
    for (size_t i = 0; !loaded && i < read; i++)
        pann_table_free(&data->tables[i]);
    free(columns);
    columns = NULL;
    *dropped = 0;
    if (!loaded &&
        (pann_tables_read(data->tables, paths, n, &l->c->read, l->c->threads, &err) != 0 ||
         column_list(l, &columns, &encode, &err) ||
         pann_encode((const pann_table *const[]){ &data->tables[0], &data->tables[1] }, n,
                     &encode, &data->schema, data->mats, dropped, &err) != 0)) {
        free(columns);
        return 1;
    }
    free(columns);
    return pann_metric_init(&data->metric, l->c->metric, &data->schema, &err) != 0;
}

/* A column whose kind the other shares could change: text not forced
 * categorical by --categorical. */
static bool kinds_depend_on_shares(const cli *c, const cli_data *data)
{
    const pann_schema *s = &data->schema;
    size_t *forced = NULL, nforced = 0;
    pann_error err;
    const char *list = c->encode.categorical;
    if (list && *list && pann_columns_parse(&data->tables[0], list, &forced, &nforced, &err))
        return true;
    bool depends = false;
    for (size_t j = 0; j < s->d && !depends; j++) {
        if (s->kind[j] != PANN_CATEGORICAL)
            continue;
        bool named = false;
        for (size_t k = 0; k < nforced && !named; k++)
            named = strcmp(data->tables[0].colnames[forced[k]], s->names[j]) == 0;
        depends = !named;
    }
    free(forced);
    return depends;
}

static int swap_name(pann_table *t, const char *path)
{
    free(t->path);
    free(t->display);
    t->path = strdup(path);
    t->display = strdup(path);
    return !t->path || !t->display;
}

/* An empty share: the reference alone, and no query row. */
static int load_empty_share(share_load *l, const char *const *files, size_t *dropped)
{
    cli_data *data = l->data;
    pann_error err = {0};
    if (load_tables(l, files, 1, dropped))
        return 1;
    return pann_table_read_header(&data->tables[1], files[1], &l->c->read, &err) != 0 ||
           pann_matrix_alloc(&data->mats[1], 0, data->schema.d, &err) != 0;
}

/* This rank's share of files[1] with the whole files[0]: 0, or 1 when the
 * whole files must be read instead; lines: LFs before the share. */
static int load_share(share_load *l, const char *const *files, size_t *lines,
                      size_t *dropped)
{
    pann_error err = {0};
    pann_table head;
    struct stat st;   /* a pipe is read once, by rank 0 alone */
    if (stat(files[1], &st) != 0 || !S_ISREG(st.st_mode))
        return 1;
    if (pann_table_read_header(&head, files[1], &l->c->read, &err) != 0)
        return 1;
    pann_share share;
    int rc = pann_share_open(&share, files[1], &head, &l->c->read, (size_t)world_rank,
                             (size_t)ranks, &err);
    pann_table_free(&head);
    if (rc || !share.plain)
        return 1;
    l->data->nfiles = 2;
    if (share.begin == share.end) {
        rc = load_empty_share(l, files, dropped);
    } else {
        const char *paths[2] = { files[0], share.path };
        rc = load_tables(l, paths, 2, dropped);
    }
    pann_share_close(&share);
    *lines = share.lines;
    query_bytes_read = share.data_begin + (share.end - share.begin);
    if (!rc)
        rc = swap_name(&l->data->tables[1], files[1]) ||
             kinds_depend_on_shares(l->c, l->data);
    return rc;
}

/* The columns' spans over every rank's rows pass pann_check_distances: the
 * smallest and largest value of each column, all ranks, as a matrix of
 * two rows. */
static int spans_overflow(const cli *c, const cli_data *data)
{
    const pann_schema *s = &data->schema;
    size_t d = s->d;
    double *lo = malloc((2 * d + 1) * sizeof *lo), *hi = lo + d;
    pann_matrix span = {0};
    pann_error err = {0};
    int bad = !lo || pann_matrix_alloc(&span, 2, d, &err) != 0;
    for (size_t j = 0; !bad && j < d; j++) {
        lo[j] = INFINITY;
        hi[j] = -INFINITY;
        for (size_t t = 0; t < 2; t++)
            for (size_t i = 0; i < data->mats[t].n; i++) {
                double v = data->mats[t].v[i * d + j];
                lo[j] = v < lo[j] ? v : lo[j];
                hi[j] = v > hi[j] ? v : hi[j];
            }
    }
    bad = any_rank(bad);
    if (!bad) {
        MPI_Allreduce(MPI_IN_PLACE, lo, (int)d, MPI_DOUBLE, MPI_MIN, MPI_COMM_WORLD);
        MPI_Allreduce(MPI_IN_PLACE, hi, (int)d, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        for (size_t j = 0; j < d; j++) {
            span.v[j] = isfinite(lo[j]) ? (float)lo[j] : 0.0f;
            span.v[d + j] = isfinite(hi[j]) ? (float)hi[j] : 0.0f;
        }
        pann_table t = { .display = (char *)"", .ncols = 0 };
        const pann_table *tables[1] = { &t };
        const pann_matrix *mats[1] = { &span };
        bad = pann_check_distances(c->metric, s, tables, mats, 1, &err) != 0;
    }
    pann_matrix_free(&span);
    free(lo);
    return bad;
}

static void free_loaded(cli_data *data)
{
    cli_data_free(data);
    memset(data, 0, sizeof *data);
}

/* Rows [from, to) of m, the others freed. */
static void keep_rows(const cli *c, pann_matrix *m, size_t from, size_t to)
{
    pann_matrix kept;
    pann_error err = {0};
    if (pann_matrix_alloc(&kept, to - from, m->d, &err) != 0)
        cli_die(c, &err);
    memcpy(kept.v, m->v + from * m->d, (to - from) * m->d * sizeof *m->v);
    for (size_t i = from; i < to; i++)
        kept.row_id[i - from] = m->row_id[i];
    pann_matrix_free(m);
    *m = kept;
}

/* Every rank reads the whole files, as one process; a success keeps the
 * rank's rows of the query matrix. */
static void load_whole(const cli *c, cli_mpi_share *sh, const char *const *files,
                       size_t nfiles, const char *const *except,
                       const char *const *options, size_t nexcept, cli_data *data,
                       size_t *except_cols)
{
    cli_load_except(c, files, nfiles, except, options, nexcept, data, except_cols);
    struct stat st;
    query_bytes_read = stat(files[1], &st) == 0 ? (uint64_t)st.st_size : 0;
    pann_matrix *S = &data->mats[1];
    size_t n = S->n, p = (size_t)ranks, k = (size_t)world_rank;
    keep_rows(c, S, n / p * k + (k < n % p ? k : n % p),
              n / p * (k + 1) + (k + 1 < n % p ? k + 1 : n % p));
    sh->first_row = 0;
    sh->total_rows = data->tables[1].nrows;
}

void cli_mpi_load_except(const cli *c, cli_mpi_share *sh, const char *const *files,
                         size_t nfiles, const char *const *except,
                         const char *const *options, size_t nexcept, cli_data *data,
                         size_t *except_cols)
{
    bool from_stdin = false;   /* or a pipe: read once, by rank 0 alone */
    for (size_t i = 0; i < nfiles; i++) {
        struct stat st;
        from_stdin |= strcmp(files[i], "-") == 0 || stat(files[i], &st) != 0 ||
                      !S_ISREG(st.st_mode);
    }
    if (ranks == 1 || nfiles != 2 || from_stdin || pann_npy_any(files, nfiles)) {
        load_alone(c, sh, files, nfiles, except, options, nexcept, data, except_cols);
        return;
    }
    memset(sh, 0, sizeof *sh);
    memset(data, 0, sizeof *data);
    sh->split = true;
    sh->query = 1;
    const char *given[8], *given_options[8];
    size_t ngiven = 0, cols[8] = {0}, lines = 0, dropped = 0;
    for (size_t i = 0; i < nexcept && ngiven < 8; i++)
        if (except[i]) {
            given[ngiven] = except[i];
            given_options[ngiven++] = options[i];
        }
    share_load l = { c, given, given_options, ngiven, cols, data };
    int whole = any_rank(load_share(&l, files, &lines, &dropped));
    uint64_t rows = whole ? 0 : data->tables[1].nrows;
    if (!whole && (sum_ranks(rows) == 0 || spans_overflow(c, data)))
        whole = 1;
    if (whole) {
        free_loaded(data);
        load_whole(c, sh, files, nfiles, except, options, nexcept, data, except_cols);
        together = false;
        return;
    }
    for (size_t i = 0, j = 0; i < nexcept && except_cols; i++)
        except_cols[i] = except[i] ? cols[j++] : SIZE_MAX;
    sh->first_row = before_rank(rows);
    sh->total_rows = sum_ranks(rows);
    size_t line_offset = before_rank(lines);
    pann_table *q = &data->tables[1];
    for (size_t i = 0; q->row_line && i < q->nrows; i++)
        q->row_line[i] += line_offset;
    size_t query_dropped = sum_ranks(q->nrows - data->mats[1].n);
    size_t all_dropped = query_dropped + (data->tables[0].nrows - data->mats[0].n);
    (void)dropped;
    if (all_dropped)
        cli_note(c, "%zu row%s with missing values left out (--missing=drop)",
                 all_dropped, all_dropped == 1 ? "" : "s");
    together = false;
}

/* ---- gathering ---------------------------------------------------------- */

typedef struct layout {
    int *counts, *displs;
    size_t total;
} layout;

/* Every rank's count of items, and where each rank's start. */
static void gather_layout(const cli *c, size_t n, layout *lay)
{
    lay->counts = world_rank == 0 ? calloc((size_t)ranks, sizeof *lay->counts) : NULL;
    lay->displs = world_rank == 0 ? calloc((size_t)ranks, sizeof *lay->displs) : NULL;
    int failed = world_rank == 0 && (!lay->counts || !lay->displs);
    if (n > INT32_MAX)
        failed = 1;
    int mine = (int)n;
    if (failed)
        cli_die(c, &(pann_error){ PANN_ESYSTEM, "out of memory (gathering the results)" });
    MPI_Gather(&mine, 1, MPI_INT, lay->counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
    lay->total = 0;
    for (int r = 0; world_rank == 0 && r < ranks; r++) {
        if (lay->total > INT32_MAX)
            cli_die(c, &(pann_error){ PANN_ESYSTEM, "too many rows to gather" });
        lay->displs[r] = (int)lay->total;
        lay->total += (size_t)lay->counts[r];
    }
}

static void layout_free(layout *lay)
{
    free(lay->counts);
    free(lay->displs);
}

/* Items of `size` bytes each (as MPI type `type`, count items per row)
 * into a new array on rank 0 (NULL elsewhere). */
static void *gather_items(const cli *c, const layout *lay, const void *mine, size_t n,
                          size_t size, MPI_Datatype type)
{
    void *all = NULL;
    if (world_rank == 0 && !(all = malloc((lay->total ? lay->total : 1) * size)))
        cli_die(c, &(pann_error){ PANN_ESYSTEM, "out of memory (gathering the results)" });
    MPI_Gatherv(mine, (int)n, type, all, lay->counts, lay->displs, type, 0, MPI_COMM_WORLD);
    if (world_rank != 0)
        bytes_sent += n * size;
    return all;
}

/* The query matrix's row ids of the query file (this rank's first row
 * added), gathered. */
static size_t *gather_ids(const cli *c, const cli_mpi_share *sh, const layout *lay,
                          const pann_matrix *S)
{
    uint64_t *ids = malloc((S->n ? S->n : 1) * sizeof *ids);
    if (!ids)
        cli_die(c, &(pann_error){ PANN_ESYSTEM, "out of memory (gathering the results)" });
    for (size_t i = 0; i < S->n; i++)
        ids[i] = S->row_id[i] + sh->first_row;
    uint64_t *all = gather_items(c, lay, ids, S->n, sizeof *all, MPI_UINT64_T);
    free(ids);
    return (size_t *)all;   /* size_t is 64 bits wherever MPI_UINT64_T is used so */
}

/* The query matrix on rank 0 becomes every rank's rows (with values when
 * values is true). */
static void gather_matrix(const cli *c, const cli_mpi_share *sh, const layout *lay,
                          cli_data *data, bool values)
{
    pann_matrix *S = &data->mats[sh->query];
    size_t *ids = gather_ids(c, sh, lay, S);
    float *v = NULL;
    if (values) {
        MPI_Datatype row;
        MPI_Type_contiguous((int)S->d, MPI_FLOAT, &row);
        MPI_Type_commit(&row);
        if (world_rank == 0 && posix_memalign((void **)&v, 64,
                                              (lay->total ? lay->total : 1) * S->d * 4))
            cli_die(c, &(pann_error){ PANN_ESYSTEM, "out of memory (gathering the rows)" });
        MPI_Gatherv(S->v, (int)S->n, row, v, lay->counts, lay->displs, row, 0,
                    MPI_COMM_WORLD);
        if (world_rank != 0)
            bytes_sent += S->n * S->d * sizeof *S->v;
        MPI_Type_free(&row);
    }
    if (world_rank != 0)
        return;
    free(S->row_id);
    S->row_id = ids;
    S->n = lay->total;
    if (values) {
        free(S->v);
        S->v = v;
    }
    data->tables[sh->query].nrows = sh->total_rows;
}

static void trace(const cli *c)
{
    const char *want = getenv("PANN_MPI_TRACE");
    if (!want || strcmp(want, "1") != 0)
        return;
    uint64_t mine[2] = { query_bytes_read, bytes_sent };
    uint64_t *all = world_rank == 0 ? calloc(2 * (size_t)ranks, sizeof *all) : NULL;
    MPI_Gather(mine, 2, MPI_UINT64_T, all, 2, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    for (int r = 0; all && r < ranks; r++)
        fprintf(stderr, "%s: rank %d of %d: %llu bytes of the query file read, "
                "%llu bytes sent\n", c->prog, r, ranks, (unsigned long long)all[2 * r],
                (unsigned long long)all[2 * r + 1]);
    free(all);
}

/* The others leave; rank 0 goes on alone. */
static void finish_split(const cli *c, cli_mpi_share *sh)
{
    trace(c);
    sh->split = false;
    sh->first_row = 0;
    cli_mpi_alone();
}

void cli_mpi_gather_queries(const cli *c, cli_mpi_share *sh, cli_data *data)
{
    if (!sh->split)
        return;
    layout lay;
    gather_layout(c, data->mats[sh->query].n, &lay);
    gather_matrix(c, sh, &lay, data, true);
    layout_free(&lay);
    finish_split(c, sh);
}

static void sum_counts(uint64_t *v, size_t n)
{
    MPI_Reduce(world_rank == 0 ? MPI_IN_PLACE : v, v, (int)n, MPI_UINT64_T, MPI_SUM, 0,
               MPI_COMM_WORLD);
}

static void slowest(double *seconds)
{
    MPI_Reduce(world_rank == 0 ? MPI_IN_PLACE : seconds, seconds, 1, MPI_DOUBLE, MPI_MAX, 0,
               MPI_COMM_WORLD);
}

void cli_mpi_gather_result(const cli *c, cli_mpi_share *sh, cli_data *data, pann_result *r,
                           bool rows)
{
    if (!sh->split)
        return;
    size_t unproven = 0;
    for (size_t k = 0; rows && k < r->n; k++)
        unproven += r->nn[k] != PANN_NONE && !r->proven[k];
    rows = rows && sum_ranks(unproven) > 0;
    layout lay;
    gather_layout(c, r->n, &lay);
    uint32_t *nn = gather_items(c, &lay, r->nn, r->n, sizeof *nn, MPI_UINT32_T);
    float *dist = gather_items(c, &lay, r->dist, r->n, sizeof *dist, MPI_FLOAT);
    unsigned char *proven = gather_items(c, &lay, r->proven, r->n, 1, MPI_UNSIGNED_CHAR);
    uint64_t counts[6] = { r->steps, r->iterations, r->swaps, r->epochs, r->nproven,
                           r->stopped_by_time };
    sum_counts(counts, 6);
    slowest(&r->seconds);
    gather_matrix(c, sh, &lay, data, rows);
    if (world_rank == 0) {
        free(r->nn);
        free(r->dist);
        free(r->proven);
        r->nn = nn, r->dist = dist, r->proven = proven;
        r->n = lay.total;
        r->steps = counts[0], r->iterations = counts[1], r->swaps = counts[2];
        r->epochs = counts[3], r->nproven = counts[4], r->stopped_by_time = counts[5] != 0;
    }
    layout_free(&lay);
    finish_split(c, sh);
}

void cli_mpi_gather_knn(const cli *c, cli_mpi_share *sh, cli_data *data, pann_knn_result *r)
{
    if (!sh->split)
        return;
    layout lay;
    gather_layout(c, r->n, &lay);
    MPI_Datatype list_nn, list_dist;
    MPI_Type_contiguous((int)r->k, MPI_UINT32_T, &list_nn);
    MPI_Type_contiguous((int)r->k, MPI_FLOAT, &list_dist);
    MPI_Type_commit(&list_nn);
    MPI_Type_commit(&list_dist);
    uint32_t *nn = gather_items(c, &lay, r->nn, r->n, r->k * sizeof *nn, list_nn);
    float *dist = gather_items(c, &lay, r->dist, r->n, r->k * sizeof *dist, list_dist);
    unsigned char *proven = gather_items(c, &lay, r->proven, r->n, 1, MPI_UNSIGNED_CHAR);
    MPI_Type_free(&list_nn);
    MPI_Type_free(&list_dist);
    uint64_t counts[6] = { r->steps, r->iterations, r->swaps, r->epochs, r->nproven,
                           r->stopped_by_time };
    sum_counts(counts, 6);
    slowest(&r->seconds);
    gather_matrix(c, sh, &lay, data, false);
    if (world_rank == 0) {
        free(r->nn);
        free(r->dist);
        free(r->proven);
        r->nn = nn, r->dist = dist, r->proven = proven;
        r->n = lay.total;
        r->steps = counts[0], r->iterations = counts[1], r->swaps = counts[2];
        r->epochs = counts[3], r->nproven = counts[4], r->stopped_by_time = counts[5] != 0;
    }
    layout_free(&lay);
    finish_split(c, sh);
}


/* ---- K-NN lists streamed from the shares -------------------------------- */

/* A rank's lists, spooled to a temporary file until rank 0 takes them in
 * the file's order: per query row its row of the share (uint64), its K
 * neighbours (uint32 rows of T), their K distances and the proven flag. */
typedef struct spool {
    FILE *fp;
    size_t k, rows;   /* rows: lists spooled */
} spool;

static size_t record_size(size_t k)
{
    return sizeof(uint64_t) + k * (sizeof(uint32_t) + sizeof(float)) + 1;
}

static int spool_open(spool *sp, size_t k, pann_error *err)
{
    const char *dir = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/pann-lists.XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(tmpl);
    sp->k = k, sp->rows = 0;
    sp->fp = fd >= 0 ? fdopen(fd, "w+") : NULL;
    if (fd >= 0)
        unlink(tmpl);   /* the open file stays readable */
    if (!sp->fp) {
        if (fd >= 0)
            close(fd);
        return pann_fail(err, PANN_ESYSTEM, "%s: %s", tmpl, strerror(errno));
    }
    return 0;
}

static int spool_chunk(void *ctx, const pann_knn_result *r, const pann_matrix *S,
                       size_t first, pann_error *err)
{
    spool *sp = ctx;
    size_t k = r->k;
    for (size_t q = 0; q < r->n; q++) {
        uint64_t row = first + S->row_id[q];
        if (fwrite(&row, sizeof row, 1, sp->fp) != 1 ||
            fwrite(r->nn + q * k, sizeof *r->nn, k, sp->fp) != k ||
            fwrite(r->dist + q * k, sizeof *r->dist, k, sp->fp) != k ||
            fwrite(r->proven + q, 1, 1, sp->fp) != 1)
            return pann_fail(err, PANN_ESYSTEM, "spooling the lists: %s", strerror(errno));
    }
    sp->rows += r->n;
    return 0;
}

/* Lists taken per message: about 4 MB, at least one. */
static size_t window_rows(size_t k)
{
    size_t n = ((size_t)4 << 20) / record_size(k);
    return n ? n : 1;
}

/* Ranks other than 0: the spooled lists to rank 0, a count then windows. */
static void send_lists(const cli *c, spool *sp)
{
    size_t size = record_size(sp->k), w = window_rows(sp->k);
    char *buf = malloc(w * size);
    uint64_t n = sp->rows;
    if (!buf || fseek(sp->fp, 0, SEEK_SET) != 0)
        cli_die(c, &(pann_error){ PANN_ESYSTEM, "out of memory (sending the lists)" });
    MPI_Send(&n, 1, MPI_UINT64_T, 0, 0, MPI_COMM_WORLD);
    for (size_t done = 0; done < sp->rows;) {
        size_t take = sp->rows - done < w ? sp->rows - done : w;
        if (fread(buf, size, take, sp->fp) != take)
            cli_die(c, &(pann_error){ PANN_ESYSTEM, "reading the spooled lists back" });
        MPI_Send(buf, (int)(take * size), MPI_BYTE, 0, 1, MPI_COMM_WORLD);
        bytes_sent += take * size;
        done += take;
    }
    free(buf);
}

typedef struct lists_out {
    const cli *c;
    const pann_matrix *T;
    FILE *fp;
    size_t k;
    char *buf;                  /* a window of records */
    size_t *rows;               /* decoded: the window's query rows */
    pann_knn_result r;          /* and lists */
    double sum_kth;             /* over the rows with K neighbours, in order */
} lists_out;

/* Rank 0: a window of n records written as pann_knn_stream writes them, the
 * query rows counted from first. */
static void write_window(lists_out *lo, size_t n, size_t first)
{
    size_t k = lo->k, size = record_size(k);
    for (size_t q = 0; q < n; q++) {
        const char *rec = lo->buf + q * size;
        uint64_t row;
        memcpy(&row, rec, sizeof row);
        lo->rows[q] = (size_t)row;
        memcpy(lo->r.nn + q * k, rec + sizeof row, k * sizeof *lo->r.nn);
        memcpy(lo->r.dist + q * k, rec + sizeof row + k * sizeof *lo->r.nn,
               k * sizeof *lo->r.dist);
        lo->r.proven[q] = (unsigned char)rec[size - 1];
        if (lo->r.nn[q * k + k - 1] != PANN_NONE)
            lo->sum_kth += lo->r.dist[q * k + k - 1];
    }
    lo->r.n = n;
    pann_matrix S = { .n = n, .d = 0, .v = NULL, .row_id = lo->rows };
    pann_knn_write_lists(lo->fp, &lo->r, &S, lo->T, first);
}

/* Rank 0: every rank's lists in rank order (its own from its spool), the
 * rows of rank r counted from firsts[r]. */
static void write_all_lists(const cli *c, spool *sp, const pann_matrix *T, FILE *fp,
                            const uint64_t *firsts, double *sum_kth)
{
    size_t k = sp->k, size = record_size(k), w = window_rows(k);
    lists_out lo = { .c = c, .T = T, .fp = fp, .k = k, .buf = malloc(w * size),
                     .rows = malloc(w * sizeof *lo.rows), .r = { .k = k } };
    lo.r.nn = malloc(w * k * sizeof *lo.r.nn);
    lo.r.dist = malloc(w * k * sizeof *lo.r.dist);
    lo.r.proven = malloc(w);
    if (!lo.buf || !lo.rows || !lo.r.nn || !lo.r.dist || !lo.r.proven ||
        fseek(sp->fp, 0, SEEK_SET) != 0)
        cli_die(c, &(pann_error){ PANN_ESYSTEM, "out of memory (writing the lists)" });
    for (int from = 0; from < ranks; from++) {
        uint64_t n = sp->rows;
        if (from > 0)
            MPI_Recv(&n, 1, MPI_UINT64_T, from, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        for (uint64_t done = 0; done < n;) {
            size_t take = n - done < w ? (size_t)(n - done) : w;
            if (from > 0)
                MPI_Recv(lo.buf, (int)(take * size), MPI_BYTE, from, 1, MPI_COMM_WORLD,
                         MPI_STATUS_IGNORE);
            else if (fread(lo.buf, size, take, sp->fp) != take)
                cli_die(c, &(pann_error){ PANN_ESYSTEM, "reading the spooled lists back" });
            write_window(&lo, take, (size_t)firsts[from]);
            done += take;
        }
    }
    *sum_kth = lo.sum_kth;
    free(lo.buf);
    free(lo.rows);
    free(lo.r.nn);
    free(lo.r.dist);
    free(lo.r.proven);
}

/* This rank's share of o->path streamed into sp: 0, or 1 when the file
 * cannot be cut (not a regular file: a pipe is read by rank 0 alone) or
 * the share fails. */
static int stream_share(const pann_matrix *T, const pann_metric *m,
                        const pann_knn_stream_opts *o, spool *sp,
                        pann_knn_stream_stats *mine)
{
    pann_error err = {0};
    pann_table head;
    struct stat st;
    if (strcmp(o->path, "-") == 0 || stat(o->path, &st) != 0 || !S_ISREG(st.st_mode) ||
        pann_table_read_header(&head, o->path, o->read, &err))
        return 1;
    pann_share share;
    int rc = pann_share_open(&share, o->path, &head, o->read, (size_t)world_rank,
                             (size_t)ranks, &err);
    pann_table_free(&head);
    if (rc || !share.plain)
        return 1;
    query_bytes_read = share.data_begin + (share.end - share.begin);
    pann_knn_stream_opts so = *o;
    so.path = share.path;
    so.out = NULL;
    so.each_chunk = spool_chunk;
    so.ctx = sp;
    rc = spool_open(sp, o->k, &err) || pann_knn_stream(T, m, &so, mine, &err) != 0 ||
         fflush(sp->fp) != 0;
    pann_share_close(&share);
    return rc;
}

bool cli_mpi_knn_stream(const cli *c, const pann_matrix *T, const pann_metric *m,
                        const pann_knn_stream_opts *o, pann_output *out,
                        pann_knn_stream_stats *st)
{
    if (ranks == 1)
        return false;
    spool sp = { NULL, o->k, 0 };
    pann_knn_stream_stats mine = {0};
    if (any_rank(stream_share(T, m, o, &sp, &mine))) {
        if (sp.fp)
            fclose(sp.fp);
        cli_mpi_alone();
        return false;
    }
    together = false;
    /* the rows of the file before each rank's share: its table rows, the
     * searched and the left out */
    uint64_t table_rows = mine.rows + mine.dropped;
    uint64_t *firsts = world_rank == 0 ? calloc((size_t)ranks, sizeof *firsts) : NULL;
    if (world_rank == 0 && !firsts)
        cli_die(c, &(pann_error){ PANN_ESYSTEM, "out of memory (gathering the lists)" });
    MPI_Gather(&table_rows, 1, MPI_UINT64_T, firsts, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    uint64_t counts[5] = { mine.rows, mine.dropped, mine.nproven, mine.counted,
                           mine.proposals };
    sum_counts(counts, 5);
    if (world_rank != 0) {
        send_lists(c, &sp);
        fclose(sp.fp);
        trace(c);
        cli_mpi_alone();   /* leaves */
    }
    uint64_t before = 0;
    for (int r = 0; r < ranks; r++) {
        uint64_t here = firsts[r];
        firsts[r] = before;
        before += here;
    }
    cli_output_open(c, out);
    fputs(PANN_KNN_LISTS_HEADER, out->fp);
    memset(st, 0, sizeof *st);
    write_all_lists(c, &sp, T, out->fp, firsts, &st->sum_kth);
    fclose(sp.fp);
    free(firsts);
    st->rows = counts[0], st->dropped = counts[1], st->nproven = counts[2];
    st->counted = counts[3], st->proposals = counts[4];
    trace(c);
    cli_mpi_alone();
    return true;
}
#endif
