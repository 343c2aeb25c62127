/* pann_knn.h — K nearest neighbours by the article's K-copies rule
 * (section 2.3), exact K-neighbour lists, majority-vote classification and
 * clustering by connected components of the K-NN graph (see lib/knn.c).
 * Included at the end of pann.h; uses its types. */
#ifndef PANN_KNN_H
#define PANN_KNN_H

#ifdef __cplusplus
extern "C" {
#endif

/* The K neighbours of every row of S among the rows of T. */
typedef struct pann_knn_result {
    size_t n, k;
    uint32_t *nn;            /* n*k rows of T, row q at nn + q*k, nearest
                                first (ties: the lower row) */
    float *dist;             /* n*k reported distances, same layout */
    unsigned char *proven;   /* n flags: every candidate tried, list exact */
    size_t nproven;
    uint64_t steps;          /* candidates drawn, self included */
    uint64_t iterations;     /* proposals evaluated (distance computed) */
    uint64_t swaps;          /* proposals that entered a list */
    uint64_t epochs;
    bool stopped_by_time;
    double seconds;
} pann_knn_result;

void pann_knn_result_free(pann_knn_result *r);

/* Anytime search, the K-copies rule: the K copies of a query share the
 * query's stream of candidates (a keyed permutation of T, so nothing is
 * proposed twice) and never hold the same row, so a proposal better than the
 * worst copy replaces it.  The first pass gives every query K admissible
 * candidates whatever the budget; then each epoch gives one proposal to the
 * top fraction of queries by their worst copy's distance.  Reads seed,
 * max_iterations (proposals in all, first pass included; 0 = until every
 * candidate is tried, which is exact), max_seconds, top_fraction,
 * self_exclude, threads and progress of o; mode must be PANN_MIN.  Output is
 * the same for any thread count.  Error when k is 0 or larger than the
 * number of candidates (T's rows, less one with self exclusion). */
int pann_knn_anytime(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                     size_t k, const pann_engine_opts *o, pann_knn_result *r,
                     pann_error *err);

/* Exact K nearest by brute force over the blocked kernels; equal to a plain
 * double loop keeping the K smallest (distance, row).  Reads self_exclude
 * and threads of o. */
int pann_knn_exact(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                   size_t k, const pann_engine_opts *o, pann_knn_result *r,
                   pann_error *err);

/* The K nearest from the k-d tree of T, each query row scanning at most
 * max_leaves leaves, within a radius of its first K-th distance (0: until
 * proven, = exact; see pann_match_tree).
 * A row is proven when no leaf it did not scan can hold a closer row; a
 * short list ends with PANN_NONE.  Needs 1 to 64 columns (and rows of
 * non-zero norm for cosine). */
int pann_knn_tree(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                  size_t k, size_t max_leaves, const pann_engine_opts *o,
                  pann_knn_result *r, pann_error *err);

/* The same with T's values consumed, as by pann_match_exact_consume (T->v NULL
 * on return; S may be T itself). */
int pann_knn_exact_consume(const pann_matrix *S, pann_matrix *T, const pann_metric *m,
                           size_t k, const pann_engine_opts *o, pann_knn_result *r,
                           pann_error *err);
int pann_knn_tree_consume(const pann_matrix *S, pann_matrix *T, const pann_metric *m,
                          size_t k, size_t max_leaves, const pann_engine_opts *o,
                          pann_knn_result *r, pann_error *err);

/* ---- classification ------------------------------------------------ */

/* The column LIST to encode for distances: `columns` (NULL or "" = all
 * columns of t) without the label column, whose 0-based index goes to
 * *label_col.  A `columns` that names the label is an error: the label
 * never enters the distance.  *list is malloc'ed. */
int pann_knn_feature_columns(const pann_table *t, const char *columns,
                             const char *label, size_t *label_col, char **list,
                             pann_error *err);

/* The label column of `query` matching column label_col of `train` (by
 * name, or by position without a header); SIZE_MAX when it has none. */
size_t pann_knn_query_label(const pann_table *train, size_t label_col,
                            const pann_table *query);

/* Class codes: names sorted by strcmp over TRAIN's and QUERY's labels. */
typedef struct pann_labels {
    size_t nclasses;
    char **names;            /* nclasses names by code */
    uint32_t *train;         /* class of each row of the TRAIN matrix */
    uint32_t *query;         /* actual class of each query row, PANN_NONE
                                when missing or when QUERY has no label */
} pann_labels;

/* Labels of the rows of T (from column tcol of tt; a missing label is an
 * error located FILE:LINE:FIELD) and of S (column qcol of qt, SIZE_MAX or
 * qt NULL for none; a missing one is PANN_NONE). */
int pann_labels_build(const pann_table *tt, const pann_matrix *T, size_t tcol,
                      const pann_table *qt, const pann_matrix *S, size_t qcol,
                      pann_labels *l, pann_error *err);
void pann_labels_free(pann_labels *l);

/* Weight of a neighbour at distance d under distance weighting. */
#define PANN_KNN_WEIGHT_EPS 1e-9
/* pred[q]: the class with the largest vote among q's K neighbours (weight 1,
 * or 1 / (d + PANN_KNN_WEIGHT_EPS) when weighted); ties go to the class of
 * the nearest neighbour among the tied classes. */
int pann_knn_vote(const pann_knn_result *r, const uint32_t *train_class, bool weighted,
                  uint32_t *pred, pann_error *err);

/* counts[a * nclasses + p]: queries of actual class a predicted p (queries
 * without an actual class are left out; *scored counts the others and
 * *correct the diagonal).  counts is malloc'ed. */
int pann_knn_confusion(const uint32_t *pred, const uint32_t *actual, size_t n,
                       size_t nclasses, uint64_t **counts, size_t *scored,
                       size_t *correct, pann_error *err);

/* ---- clustering ------------------------------------------------------ */

/* Connected components of the K-NN graph of T with itself (r from S = T):
 * an edge q - j when j is in q's list (or, mutual, when each is in the
 * other's).  cluster[q] in 0..nclusters-1, numbered by the lowest row of
 * each cluster, so the answer does not depend on the order of the search. */
int pann_knn_cluster(const pann_knn_result *r, bool mutual, uint32_t *cluster,
                     size_t *nclusters, pann_error *err);

/* One table per category (--group): each query row's K neighbours among
 * the training rows of its category only (see pann_group_batches; `same`:
 * TRAIN against itself), by exact search, by the tree with a budget of
 * tree_leaves leaves per query row (tree_leaves > 0, not exact), or by the
 * article's K copies.  A category with fewer than K candidates, or a query
 * category absent from TRAIN, is an error. */
int pann_knn_group(const pann_matrix *S, const pann_matrix *T, const pann_groups *g,
                   bool same, size_t batch, const pann_metric *m, size_t k, bool exact,
                   size_t tree_leaves, const pann_engine_opts *o, pann_knn_result *r,
                   pann_group_stats *st, pann_error *err);

/* ---- queries streamed from a file (knn_stream.c) ---------------------- */

#define PANN_KNN_CHUNK_ROWS 65536
#define PANN_KNN_LISTS_HEADER "query,rank,neighbor,distance,proven\n"
typedef enum pann_knn_method {
    PANN_KNN_COPIES,         /* the article's K copies (pann_knn_anytime) */
    PANN_KNN_EXACT,          /* pann_knn_exact */
    PANN_KNN_TREE            /* pann_knn_tree with a budget of leaves */
} pann_knn_method;

typedef struct pann_knn_stream_opts {
    const char *path;                /* the query rows; "-" = stdin */
    const pann_read_opts *read;
    const pann_encode_opts *encode;  /* columns, missing-value policy */
    const pann_table *ref;           /* TRAIN as read */
    const pann_schema *schema;       /* from encoding TRAIN */
    size_t chunk_rows;               /* 0 = PANN_KNN_CHUNK_ROWS */
    pann_knn_method method;
    size_t k, leaves;                /* leaves: PANN_KNN_TREE's budget */
    const pann_engine_opts *engine;  /* seed, threads, progress */
    FILE *out;                       /* the CSV lines go here (NULL: none) */
    /* When set, called with each chunk's lists after they are written:
     * S's row ids plus first are the chunk's rows of the file (0-based);
     * a nonzero return stops the stream with that status and err. */
    int (*each_chunk)(void *ctx, const pann_knn_result *r, const pann_matrix *S,
                      size_t first, pann_error *err);
    void *ctx;
} pann_knn_stream_opts;

typedef struct pann_knn_stream_stats {
    size_t rows, dropped;            /* searched; left out for a missing value */
    size_t nproven, counted;         /* counted: rows with K neighbours */
    double sum_kth;                  /* their K-th neighbour's distances */
    uint64_t proposals;
} pann_knn_stream_stats;

/* The K-NN lists of every row of the file o->path among T's rows (T
 * encoded from o->ref with o->schema), read, encoded, checked (as
 * pann_check_distances), searched and written as
 * "query,rank,neighbor,distance,proven" lines (1-based rows, header first)
 * one chunk at a time: memory does not grow with the file.  Chunk c has
 * seed o->engine->seed + c * 0x9e3779b97f4a7c15 and, for the K copies, a
 * budget of PANN_DEFAULT_PROPOSALS_PER_ROW * K proposals per row. */
int pann_knn_stream(const pann_matrix *T, const pann_metric *m, const pann_knn_stream_opts *o,
                    pann_knn_stream_stats *st, pann_error *err);

/* The lines pann_knn_stream writes for r (no header): one per neighbour
 * found, query S->row_id[q] + first + 1, neighbour T->row_id[nn] + 1. */
void pann_knn_write_lists(FILE *out, const pann_knn_result *r, const pann_matrix *S,
                          const pann_matrix *T, size_t first);

#ifdef __cplusplus
}
#endif

#endif
