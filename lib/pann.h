/* pann.h — the public interface of libpann.
 *
 * libpann owns every step of the suite except option parsing: reading
 * CSV/TSV tables, choosing and encoding columns, distance kernels, the PANN
 * anytime search of the article, exact search, the power-law fit of the
 * convergence curve and the estimate of the exact mean NN distance.  Every
 * function that can fail takes a pann_error and returns 0 on success or the
 * exit status the program should use (1 bad input/usage, 2 system error);
 * the message it leaves is "FILE:LINE:FIELD: what is wrong" when a place in
 * a file is to blame, so a program only prefixes its own name.
 *
 * Rows and columns are 0-based in the API and 1-based in every message and
 * output, like lines in sed and fields in cut.
 */
#ifndef PANN_H
#define PANN_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

const char *pann_version(void);

/* ---- errors ----------------------------------------------------------- */

enum { PANN_OK = 0, PANN_EINPUT = 1, PANN_ESYSTEM = 2 };

typedef struct pann_error {
    int status;          /* PANN_OK, PANN_EINPUT or PANN_ESYSTEM */
    char msg[1024];
} pann_error;

/* Set err (when not NULL) and return status. */
int pann_fail(pann_error *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- tables (reader.c) -------------------------------------------------- */

typedef struct pann_read_opts {
    char delim;          /* ',' by default; '\t' for TSV */
    bool delim_given;    /* delim chosen by the user: a first line of one
                            field holding a tab is then no error (false) */
    bool header;         /* first line names the columns (default true) */
    bool keep_text;      /* keep the text for pann_table_write_row (default
                            true); false frees it once parsed, about half
                            the table's memory */
} pann_read_opts;

void pann_read_opts_init(pann_read_opts *o);

/* A table as read: the whole text of the file (so rows can be written out
 * verbatim), one span per row, and every field's unescaped text.  Nothing is
 * interpreted as a number here; encoding does that for chosen columns. */
typedef struct pann_table {
    char *path;              /* as given; "-" for stdin */
    char *display;           /* name used in messages ("stdin" for "-") */
    size_t nrows, ncols;
    char **colnames;         /* ncols names ("1", "2", ... without header) */
    char *text;              /* the whole input, BOM removed */
    size_t text_len;
    size_t header_start, header_end;   /* span of the header line (with its
                                          terminator); empty without header */
    size_t *row_start, *row_end;       /* span of each data row in text,
                                          terminator included */
    size_t *row_line;                  /* line number where each row starts */
    char *cells;                       /* unescaped fields, NUL-terminated */
    size_t *row_cells;                 /* where each row's fields start in cells */
    uint32_t *cell_off;                /* nrows*ncols offsets from the row's
                                          start (4 bytes a cell, not 8) */
} pann_table;

/* Read path ("-" = stdin).  Errors: unreadable file, empty input, ragged rows,
 * malformed quoting, NUL bytes; each located as FILE:LINE:FIELD. */
int pann_table_read(pann_table *t, const char *path, const pann_read_opts *o,
                    pann_error *err);
/* Several files, in order, each parsed by up to threads threads (as
 * pann_threads(); a file without quote characters is split at line starts
 * and parsed in parallel, with the same result as a serial parse).  On
 * failure the error is the first failing file's and no table is left.
 * pann_table_read uses every core. */
int pann_tables_read(pann_table *tables, const char *const *paths, size_t n,
                     const pann_read_opts *o, int threads, pann_error *err);
void pann_table_free(pann_table *t);
/* Free the text and the cells once they are encoded, keeping the names,
 * the shape and each row's line (for locating errors): for programs that
 * write no cell and read none again, so a long search runs on the
 * matrices alone.  The cells' accessors must not be used afterwards. */
void pann_table_drop_cells(pann_table *t);
static inline const char *pann_cell(const pann_table *t, size_t row, size_t col)
{
    return t->cells + t->row_cells[row] + t->cell_off[row * t->ncols + col];
}
/* Write row (or the header when row == SIZE_MAX) verbatim; a row whose text
 * lacks a terminator gets "\n".  Returns 0, or -1 on a write error or when
 * the table was read without keep_text. */
int pann_table_write_row(const pann_table *t, size_t row, FILE *out);

/* Reading a table in chunks of rows, for inputs too large to hold: each
 * chunk is a pann_table with the header names and span (the header line
 * heads every chunk's text, so it can be written out) and up to max_rows
 * rows (0 = no limit), or fewer once its text reaches max_bytes (0 = no
 * limit; a chunk always ends on a whole record).  Rows keep the file's line
 * numbers, so every error is located as by pann_table_read.  The chunk
 * points into the reader's buffers: valid until the next call, never freed
 * by the caller.  A chunk of 0 rows means the end of the input (the first
 * call still gives the header).  stdin is "-". */
typedef struct pann_reader pann_reader;
int pann_reader_open(pann_reader **r, const char *path, const pann_read_opts *o,
                     pann_error *err);
/* The same on an open stream; path names it in messages ("-" = stdin). */
int pann_reader_open_file(pann_reader **r, FILE *fp, bool close_fp, const char *path,
                          const pann_read_opts *o, pann_error *err);
int pann_reader_next(pann_reader *r, size_t max_rows, size_t max_bytes,
                     pann_table *chunk, pann_error *err);
void pann_reader_close(pann_reader *r);
/* A regular file can be read again from the start: pann_reader_rewind.  A
 * pipe must first be spooled (before the first pann_reader_next) to an
 * unlinked temporary file in $TMPDIR or /tmp, which costs disk, not memory. */
bool pann_reader_seekable(const pann_reader *r);
int pann_reader_spool(pann_reader *r, pann_error *err);
int pann_reader_rewind(pann_reader *r, pann_error *err);

/* ---- column selection (columns.c) -------------------------------------- */

/* Parse LIST ("age,bmi", "1,3-5", "2-" for 2 to the last; NULL or "" = all
 * columns) against t's header.  Names are matched exactly; a name that is
 * also a number is taken as a name when such a column exists.  *idx is
 * malloc'ed. */
int pann_columns_parse(const pann_table *t, const char *list, size_t **idx,
                       size_t *n, pann_error *err);
/* The columns of other with the same names as ref's chosen ones (by position
 * when the tables have no header).  Error names the missing column. */
int pann_columns_match(const pann_table *ref, const size_t *ref_idx, size_t n,
                       const pann_table *other, size_t *other_idx,
                       pann_error *err);

/* The column LIST for distances: `columns` (NULL or "" = all) without the
 * nexcept (at most 8) columns except[] (names or 1-based indices, e.g. a
 * label and a group), whose 0-based indices go to except_cols[].  A
 * `columns` naming one of them is an error; messages name the option of
 * options[].  *list is malloc'ed. */
int pann_columns_except(const pann_table *t, const char *columns,
                        const char *const *except, const char *const *options,
                        size_t nexcept, size_t *except_cols, char **list, pann_error *err);

/* Cell (row, col) of t as a number into *v.  A missing cell is NAN when
 * missing_ok, otherwise the error "FILE:LINE:FIELD: missing value in column
 * 'NAME' (why)"; text is "FILE:LINE:FIELD: 'TEXT' is not a number (why)",
 * where a NULL why names the column instead. */
int pann_cell_number(const pann_table *t, size_t row, size_t col, bool missing_ok,
                     const char *why, double *v, pann_error *err);
/* What pann_column_numbers does with a missing cell. */
typedef enum { PANN_CELLS_NAN, PANN_CELLS_SKIP, PANN_CELLS_FAIL } pann_cells_missing;
/* Column col of t as numbers into v (room for t->nrows), in row order, by
 * pann_cell_number; missing cells are NAN, left out or an error.  *n is the
 * number of values written. */
int pann_column_numbers(const pann_table *t, size_t col, pann_cells_missing missing,
                        const char *why, double *v, size_t *n, pann_error *err);

/* ---- encoding (encode.c) ------------------------------------------------ */

typedef enum { PANN_NUMERIC = 0, PANN_CATEGORICAL = 1 } pann_kind;
typedef enum { PANN_SCALE_NONE, PANN_SCALE_STD, PANN_SCALE_RANGE } pann_scale;
typedef enum { PANN_MISSING_ERROR, PANN_MISSING_DROP, PANN_MISSING_IMPUTE }
    pann_missing;

/* True for "", "NA", "NaN" (any case), after trimming blanks. */
bool pann_is_missing(const char *s);
/* Strict number parser: whole field, finite, no thousands separators.
 * Returns false when s is not such a number. */
bool pann_parse_number(const char *s, double *v);

/* What the chosen columns are and how they are scaled; shared by all the
 * files of a comparison so that codes and scales agree. */
typedef struct pann_schema {
    size_t d;
    char **names;            /* d column names */
    pann_kind *kind;
    double *center, *scale;  /* numeric: value -> (value-center)/scale */
    double *impute;          /* value used for a missing cell (encoded) */
    size_t *ncat;            /* categorical: number of categories */
    char ***cats;            /* categorical: category names by code */
} pann_schema;

typedef struct pann_encode_opts {
    const char *columns;     /* LIST as for pann_columns_parse; NULL = all */
    const char *categorical; /* LIST of columns forced categorical, or NULL */
    pann_scale scale;
    pann_missing missing;
    bool cosine;             /* normalise each row to unit L2 norm */
} pann_encode_opts;

void pann_encode_opts_init(pann_encode_opts *o);

/* Row-major float32 matrix of encoded rows.  row_id[i] is the table row the
 * matrix row came from (rows may be dropped under PANN_MISSING_DROP). */
typedef struct pann_matrix {
    size_t n, d;
    float *v;                /* n*d, row i at v + i*d, 64-byte aligned */
    size_t *row_id;
} pann_matrix;

static inline const float *pann_row(const pann_matrix *m, size_t i)
{
    return m->v + i * m->d;
}

/* Whether column j of M (encoded with s; not under cosine) holds what a
 * row index or an identifier holds: in each of at least
 * PANN_INDEX_LIKE_ROWS rows a different whole number (numeric) or a
 * different category.  Such a column weighs in every distance while saying
 * nothing about the rows. */
#define PANN_INDEX_LIKE_ROWS 20
bool pann_column_is_index_like(const pann_schema *s, const pann_matrix *M, size_t j);

/* Encode tables[0] (the reference: its statistics give the scaling) and the
 * other tables with the same schema.  Kinds are decided on all tables
 * together; a column numeric in one file and text in another is an error
 * located at the first offending field.  out[i] receives tables[i]. */
int pann_encode(const pann_table *const *tables, size_t ntables,
                const pann_encode_opts *o, pann_schema *schema,
                pann_matrix *out, size_t *dropped, pann_error *err);
/* Encode t with a schema made before (pann_encode on the reference): the
 * same kinds, scaling, imputed values and category codes; cols are t's
 * columns in schema order (pann_columns_match).  A category the schema
 * lacks gets a code of its own, a mismatch with every reference category;
 * a value that is not a number in a numeric column is an error located in
 * t; missing values follow o->missing (rows left out are counted in
 * *dropped; out->row_id gives the table rows kept); o->cosine normalises. */
int pann_encode_with_schema(const pann_schema *s, const pann_table *t, const size_t *cols,
                            const pann_encode_opts *o, pann_matrix *out, size_t *dropped,
                            pann_error *err);
void pann_schema_free(pann_schema *s);
void pann_matrix_free(pann_matrix *m);

/* ---- numeric files straight to matrices (load.c) ----------------------- */

/* The header of path alone: names, number of columns, and the header line's
 * text (t->text, header_end); no rows.  Errors as pann_table_read's. */
int pann_table_read_header(pann_table *t, const char *path, const pann_read_opts *o,
                           pann_error *err);
/* What pann_tables_read then pann_encode give, for regular files whose
 * chosen cells are all plain numbers, without ever holding their text:
 * each file is read in windows by up to threads threads, the reference's
 * numbers held as doubles until scaled, the others encoded as read.  The
 * tables come from pann_table_read_header; a loaded table gets nrows, but
 * neither cells nor row lines (pann_cell, row_line and pann_table_write_row
 * must not be used on it: every error about its cells was ruled out).  Any file the general path could read differently, or would
 * refuse (quotes, blank lines, missing or text cells, ragged rows, NUL
 * bytes, values out of range, o->categorical set, stdin), sets *loaded to
 * false and leaves nothing allocated: read it with pann_tables_read, which
 * locates any error.  Returns non-zero only on a system error. */
int pann_load_numeric(pann_table *tables, size_t ntables, const pann_read_opts *ro,
                      const pann_encode_opts *eo, int threads, pann_schema *schema,
                      pann_matrix *out, bool *loaded, pann_error *err);
/* Allocate an n*d matrix (zeroed, row_id = identity). */
int pann_matrix_alloc(pann_matrix *m, size_t n, size_t d, pann_error *err);

/* ---- distances (distance.c) ------------------------------------------- */

typedef enum { PANN_L1 = 0, PANN_L2 = 1, PANN_COSINE = 2 } pann_metric_kind;

typedef struct pann_metric {
    pann_metric_kind kind;
    size_t d;
    const unsigned char *is_cat;   /* d flags, or NULL for all numeric */
} pann_metric;

/* metric from a schema (categorical columns add a 0/1 mismatch).
 * Cosine with a categorical column is an error. */
int pann_metric_init(pann_metric *m, pann_metric_kind kind,
                     const pann_schema *s, pann_error *err);
void pann_metric_free(pann_metric *m);
int pann_metric_parse(const char *name, pann_metric_kind *kind);
const char *pann_metric_name(pann_metric_kind kind);

/* Refuse data whose float distances could overflow: the columns' spans over
 * the n matrices must not add up (L1) or add up in squares (L2) past a
 * quarter of FLT_MAX.  The error names the largest value of the worst
 * column, located in tables[] (FILE:LINE:FIELD; row and column of a
 * matrix without text).  Every search over encoded data needs this check
 * first; a program reading chunks does it per chunk. */
int pann_check_distances(pann_metric_kind kind, const pann_schema *s,
                         const pann_table *const *tables, const pann_matrix *const *mats,
                         size_t n, pann_error *err);
/* The comparison value: L1 sum, L2 squared sum, cosine 1 - dot (rows are
 * unit-normalised at encoding).  All kernels accumulate columns in order
 * 0..d-1 in float, so every path gives bit-identical values. */
float pann_cmp(const pann_metric *m, const float *a, const float *b);
/* Comparison value -> reported distance (sqrt for L2). */
double pann_cmp_to_dist(const pann_metric *m, float c);
/* Reported distance -> comparison value. */
float pann_dist_to_cmp(const pann_metric *m, double dist);

typedef enum pann_mode { PANN_MIN = 0, PANN_MAX = 1 } pann_mode;

/* The kernel in use: "avx512", "avx2" or "generic".  The best one the CPU
 * has is chosen at the first call; PANN_KERNEL=NAME in the environment or
 * pann_kernel_select(NAME) forces another (NULL: back to the best).
 * pann_kernel_select returns -1 when the CPU lacks it. */
const char *pann_kernel_name(void);
int pann_kernel_select(const char *name);

/* ---- the PANN engine (engine.c) ---------------------------------------- */


typedef struct pann_history_rec {
    uint64_t step;           /* candidates drawn, including skipped ones */
    uint64_t iteration;      /* proposals evaluated (distance computed) */
    uint64_t swaps;          /* accepted proposals */
    double mean_best;        /* mean of each row's best distance so far */
    double mean_current;     /* mean of each row's current distance */
} pann_history_rec;

enum { PANN_EXACT_AUTO = 0, PANN_EXACT_BRUTE = 1, PANN_EXACT_TREE = 2 };

typedef struct pann_engine_opts {
    pann_mode mode;
    double decay;            /* temperature tau(t) = decay / log(2 + t) */
    double top_fraction;     /* share of rows processed each epoch (0,1] */
    double eps;              /* exclude candidates at distance < eps */
    bool use_eps;
    bool self_exclude;       /* S and T are the same rows: skip i == k */
    uint64_t seed;
    uint64_t max_iterations; /* proposals; 0 = until exhausted */
    double max_seconds;      /* 0 = no time limit */
    uint64_t history_every;  /* record history every N proposals; 0 = never */
    int threads;             /* 0 = all cores */
    int exact_method;        /* exact search: PANN_EXACT_AUTO, _BRUTE, _TREE */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
    /* Called after each history record with every row's current and best
     * neighbour (PANN_NONE when unassigned), e.g. to draw a frame. */
    void (*snapshot)(void *ctx, const pann_history_rec *rec,
                     const uint32_t *current_nn, const uint32_t *best_nn, size_t n);
    void *snapshot_ctx;
} pann_engine_opts;

void pann_engine_opts_init(pann_engine_opts *o);
/* The programs' default budget, the article's: 50 proposals per query row
 * (per neighbour and query row for K-NN). */
#define PANN_DEFAULT_PROPOSALS_PER_ROW 50


typedef struct pann_result {
    size_t n;
    uint32_t *nn;            /* best neighbour so far (row of T), or
                                PANN_NONE when no admissible candidate */
    float *dist;             /* its reported distance */
    unsigned char *proven;   /* 1 when every candidate was tried: exact */
    uint64_t steps, iterations, swaps, epochs;
    size_t nproven;
    bool stopped_by_time;
    pann_history_rec *history;
    size_t nhistory;
    double seconds;
} pann_result;

#define PANN_NONE UINT32_MAX

/* Run the anytime search of every row of S among the rows of T. */
int pann_match_anytime(const pann_matrix *S, const pann_matrix *T,
                       const pann_metric *m, const pann_engine_opts *o,
                       pann_result *r, pann_error *err);
void pann_result_free(pann_result *r);

/* ---- exact search (exact.c) -------------------------------------------- */

/* Same neighbour and distance as brute force for every row of S (ties: the
 * lowest row of T), in min or max mode; all threads; self and eps exclusion
 * as in the engine options (only mode, eps, use_eps, self_exclude, threads
 * are read).  r->proven is all ones. */
int pann_match_exact(const pann_matrix *S, const pann_matrix *T,
                     const pann_metric *m, const pann_engine_opts *o,
                     pann_result *r, pann_error *err);

/* Anytime search guided by a k-d tree of T (a proposal strategy beyond the
 * article's uniform one), leaves of 128 rows: each query row scans the leaf
 * its group lies in, then at most max_leaves - 1 more, the nearest of those
 * whose box lies within beta * r of it (r: its answer after the first leaf,
 * beta = max_leaves / (max_leaves + 128)); with categorical columns or
 * PANN_MAX a group of 8 nearby rows visits the leaves nearest first and
 * shares its rows' budgets.  A candidate is accepted when it is closer;
 * max_leaves 0 = no limit, which is exact.  In a self-match (S and T
 * equal, self excluded) each distance computed is offered to both its
 * rows.  A row is proven exact when no leaf it did not scan can hold a
 * better row.  Needs 1 to 64 columns; cosine needs rows of non-zero norm. */
int pann_match_tree(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                    const pann_engine_opts *o, size_t max_leaves, pann_result *r,
                    pann_error *err);

/* The same searches for a caller with no further use for T's values: the
 * tree (or the brute force's blocks) is built in T's own memory, so T's
 * rows are never held twice, and T's values are consumed — T->v is freed
 * and NULL on return, whatever the outcome (n, d and row_id stay).  S may
 * be T itself (a self-match: the queries are then read back from the tree
 * or the blocks).  The answers are those of
 * pann_match_exact(S, T, ...) and pann_match_tree(S, T, ...). */
int pann_match_exact_consume(const pann_matrix *S, pann_matrix *T, const pann_metric *m,
                             const pann_engine_opts *o, pann_result *r, pann_error *err);
int pann_match_tree_consume(const pann_matrix *S, pann_matrix *T, const pann_metric *m,
                            const pann_engine_opts *o, size_t max_leaves, pann_result *r,
                            pann_error *err);

/* ---- one table per category (group.c) ---------------------------------- */

/* Category codes of a group column in the two tables (sorted names). */
typedef struct pann_groups {
    size_t ngroups;
    char **names;            /* by code */
    uint32_t *s_code;        /* code of each row of S (matrix rows) */
    uint32_t *t_code;        /* code of each row of T */
} pann_groups;

/* Codes of column s_col of ts for the rows of S (S->row_id gives their
 * table rows) and of column t_col of tt for the rows of T. */
int pann_groups_build(const pann_table *ts, const pann_matrix *S, size_t s_col,
                      const pann_table *tt, const pann_matrix *T, size_t t_col,
                      pann_groups *g, pann_error *err);
void pann_groups_free(pann_groups *g);

typedef struct pann_group_stats {
    size_t groups;                 /* categories with query rows */
    size_t batches;                /* searches run */
    size_t rows_without_reference; /* query rows whose category has none */
    uint64_t pairs;                /* query x reference pairs within batches */
    double all_pairs;              /* n * m of an ungrouped search */
} pann_group_stats;

/* A search on one batch: pann_match_exact, pann_match_anytime or a wrapper. */
typedef int (*pann_search_fn)(const pann_matrix *S, const pann_matrix *T,
                              const pann_metric *m, const pann_engine_opts *o,
                              void *ctx, pann_result *r, pann_error *err);

/* A search on one batch whose row_id[i] are rows of the whole S and T. */
typedef int (*pann_batch_fn)(const pann_matrix *Sb, const pann_matrix *Tb,
                             const pann_engine_opts *o, void *ctx, pann_error *err);

/* Call run on every batch: the query rows of each category with its
 * reference rows, categories with more than `batch` reference rows (0 = no
 * limit) split into batches.  same: S and T are the same rows (a batch is a
 * run of the category's rows, self excluded); otherwise the category's
 * query rows are dealt round robin to its batches.  A budget in
 * o->max_iterations is shared in proportion to rows; history is off. */
int pann_group_batches(const pann_matrix *S, const pann_matrix *T, const pann_groups *g,
                       bool same, size_t batch, const pann_engine_opts *o,
                       pann_batch_fn run, void *ctx, pann_group_stats *st, pann_error *err);

/* Search each query row only among the reference rows of its category,
 * categories with more than `batch` reference rows (0 = no limit) being
 * split into batches searched separately.  same: S and T are the same rows
 * (self excluded; a batch is a run of the category's rows).  Otherwise the
 * category's query rows are dealt round robin to its batches.  A budget in
 * o->max_iterations is shared in proportion to rows; history is off.  A
 * query row whose category has no reference row gets PANN_NONE. */
int pann_match_group(const pann_matrix *S, const pann_matrix *T, const pann_groups *g,
                     bool same, size_t batch, const pann_metric *m,
                     const pann_engine_opts *o, pann_search_fn search, void *ctx,
                     pann_result *r, pann_group_stats *st, pann_error *err);

/* ---- proposals from a neighbour graph of T (graph.c) ------------------- */

/* K neighbours of every row of T (lists sorted, filled[u] entries each). */
typedef struct pann_graph {
    size_t n, k;
    uint32_t *nn;
    float *cmp;
    uint32_t *filled;
} pann_graph;

/* Build the graph: rough lists from the k-d tree (or random candidates in
 * high dimension), then up to `rounds` rounds in which every row is offered
 * the neighbours of its neighbours and of the rows listing it (NN-descent's
 * idea), each round read-only on the previous one (deterministic).  Stops
 * early when under 0.1 % of entries change.  *evaluations counts distances. */
int pann_graph_build(const pann_matrix *T, const pann_metric *m, size_t k, size_t rounds,
                     const pann_engine_opts *o, pann_graph *g, uint64_t *evaluations,
                     pann_error *err);
void pann_graph_free(pann_graph *g);

/* Nearest row of T for every row of S: from the tree's rough answers, a
 * best-first walk on the graph keeping the ef best rows seen, each expanded
 * once.  Min mode, no eps; self excluded with o->self_exclude.  Answers
 * are not proven. */
int pann_match_graph(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                     const pann_engine_opts *o, const pann_graph *g, size_t ef,
                     pann_result *r, pann_error *err);

/* ---- power-law fit (fit.c) --------------------------------------------- */

typedef struct pann_fit {
    double a, b, c;          /* y = a + b * t^c */
    double se_a, se_b, se_c; /* standard errors (NAN when undefined) */
    double rss;
    size_t npoints;
    bool at_bound;           /* a parameter ended on a bound */
} pann_fit;

/* Least squares with the article's bounds: a >= 0, b >= 0 and c in [-1, 0]
 * (PANN_MIN) or [0, 1] (PANN_MAX).  t must be > 0. */
int pann_fit_power(const double *t, const double *y, size_t n, pann_mode mode,
                   pann_fit *out, pann_error *err);

/* ---- estimate of the exact mean NN distance (estimate.c) ---------------- */

typedef struct pann_estimate {
    double mean;             /* estimate of the exact mean NN distance */
    double se;               /* its standard error */
    double lo, hi;           /* 95 % confidence interval */
    size_t sample;           /* rows whose exact NN was computed */
    double work_fraction;    /* distance evaluations / (n*m) for the sample */
} pann_estimate;

/* Difference estimator: mean of the anytime best distances over all rows,
 * minus the mean gap (anytime - exact) over a uniform random sample of rows
 * whose exact distance is computed by brute force.  Unbiased whatever the
 * state of the search; sample = 0 chooses ceil(sqrt(n)). */
int pann_estimate_mean(const pann_matrix *S, const pann_matrix *T,
                       const pann_metric *m, const pann_engine_opts *o,
                       const pann_result *r, size_t sample,
                       pann_estimate *out, pann_error *err);

/* ---- output (output.c) ------------------------------------------------- */

/* Numbers as the result lines write them (format.c): v as printf's "%.7g"
 * writes it, exactly, and an index in decimal; NUL-terminated, the length
 * returned.  buf holds at least PANN_FLOAT_CHARS bytes. */
#define PANN_FLOAT_CHARS 32
size_t pann_format_float(char *buf, float v);
size_t pann_format_index(char *buf, size_t v);

/* Output to a file written atomically (temporary file in the same directory,
 * renamed on commit) or to stdout when path is NULL or "-".  Errors on
 * stdout (closed, full) are caught at commit. */
typedef struct pann_output {
    FILE *fp;
    char *path, *tmp;
} pann_output;

int pann_output_open(pann_output *o, const char *path, pann_error *err);
int pann_output_commit(pann_output *o, pann_error *err);
void pann_output_abort(pann_output *o);
/* Abort every output opened and not yet committed or aborted: what a
 * program does before it exits on an error, so no temporary file stays. */
void pann_output_abort_all(void);

/* Write a CSV field, quoted when it needs to be. */
void pann_csv_field(FILE *fp, const char *s);

/* Threads actually used for threads = 0 (all cores) or n. */
int pann_threads(int requested);

#ifdef __cplusplus
}
#endif

/* The programs' own modules, one header each. */
#include "pann_ecdf.h"
#include "pann_filter.h"
#include "pann_knn.h"
#include "pann_extreme.h"
#include "pann_synth.h"
#include "pann_svg.h"
#include "pann_sparse.h"
#include "pann_profile.h"
#include "pann_privacy.h"
#include "pann_npy.h"
#include "pann_ivf.h"

#endif
