/* cli_mpi.h — the programs on several processes: under mpirun (a build
 * configured --with-mpi) each rank searches its own share of the query
 * file's rows against the reference, and rank 0 writes what one process
 * writes.  Started without mpirun, or in a build without MPI, every call
 * here does what the program did alone (cli_mpi_load_except is then
 * cli_load_except), so a program calls them unconditionally. */
#ifndef PANN_CLI_MPI_H
#define PANN_CLI_MPI_H

#include "cli.h"
#include "pann_knn.h"

/* This rank's part of the query file. */
typedef struct cli_mpi_share {
    bool split;           /* the query rows are shared out among the ranks */
    size_t query;         /* which of data->mats holds them */
    size_t first_row;     /* the query file's (0-based) data row where this
                             rank's table rows start */
    size_t total_rows;    /* the query file's data rows, all ranks */
} cli_mpi_share;

/* After cli_init: join the ranks when started by mpirun.  Ranks other than
 * 0 are quiet and write nothing to stdout or stderr; every rank parses the
 * same arguments, so a usage error exits every rank alike. */
void cli_mpi_init(cli *c);
int cli_mpi_rank(void);
int cli_mpi_size(void);
/* Work that cannot be split (a self-match, stdin, the anytime search):
 * ranks other than 0 leave (status 0) and rank 0 runs it alone. */
void cli_mpi_alone(void);

/* cli_load_except with files[nfiles - 1] (the query file, nfiles of 2)
 * shared out when there are several ranks: each rank reads its share's
 * bytes only and the whole reference, files[0].  Any error, on any rank,
 * or any file whose rows the shares could encode otherwise than one
 * process does (quotes, text columns not named by --categorical), makes
 * every rank load the whole files as one process does: the error is then
 * one process's (printed by rank 0, once), and a success keeps only the
 * rank's rows.  Row ids stay those of the rank's own table. */
void cli_mpi_load_except(const cli *c, cli_mpi_share *sh, const char *const *files,
                         size_t nfiles, const char *const *except,
                         const char *const *options, size_t nexcept, cli_data *data,
                         size_t *except_cols);

/* The shares' query rows gathered to rank 0, which then runs alone (the
 * other ranks leave): for a search whose answers depend on all the query
 * rows together. */
void cli_mpi_gather_queries(const cli *c, cli_mpi_share *sh, cli_data *data);

/* The answers of every rank gathered to rank 0 in the query file's order
 * (with the rows of the queries too when rows is true and some answer is
 * not proven, for the estimate of the exact mean); counts add up, seconds
 * are the slowest rank's.  Rank 0 goes on with the whole result, data's
 * query matrix holding every rank's rows (row ids of the query file); the
 * other ranks leave. */
void cli_mpi_gather_result(const cli *c, cli_mpi_share *sh, cli_data *data, pann_result *r,
                           bool rows);
/* The same for K-neighbour lists. */
void cli_mpi_gather_knn(const cli *c, cli_mpi_share *sh, cli_data *data, pann_knn_result *r);

/* pann_knn_stream of the query file o->path shared out when there are
 * several ranks: each rank streams its own share's rows (read as the
 * pann-match loading cuts them) against T, the same on every rank, and
 * rank 0 opens the output (cli_output_open) and writes the header and
 * every rank's lines in the file's order, st then holding the totals of
 * all ranks as one process's stream has them.  True on rank 0 when so done
 * (the other ranks leave); false when the file cannot be cut (stdin, a
 * quote, a lone CR) or any rank's share fails: rank 0 then goes on alone,
 * the other ranks leave, and the caller streams the whole file as one
 * process does, so that an error is one process's. */
bool cli_mpi_knn_stream(const cli *c, const pann_matrix *T, const pann_metric *m,
                        const pann_knn_stream_opts *o, pann_output *out,
                        pann_knn_stream_stats *st);

#endif
