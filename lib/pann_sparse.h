/* pann_sparse.h — sparse variable-length embeddings, the article's Table 1
 * (section 2.1): each word has its own list of (token, weight) pairs.
 * Reading them (two formats), the article's similarity (dot product over
 * shared tokens, norms over all of a word's tokens) and the K nearest
 * words, exact by an inverted index or by the PANN anytime search (see
 * lib/sparse.c).  Included at the end of pann.h; uses its types. */
#ifndef PANN_SPARSE_H
#define PANN_SPARSE_H

#ifdef __cplusplus
extern "C" {
#endif

/* Token names -> ids, shared by the files of a comparison so that the same
 * token has the same id in QUERY and REFERENCE. */
typedef struct pann_sparse_vocab pann_sparse_vocab;
pann_sparse_vocab *pann_sparse_vocab_new(void);
void pann_sparse_vocab_free(pann_sparse_vocab *v);
size_t pann_sparse_vocab_size(const pann_sparse_vocab *v);
const char *pann_sparse_token(const pann_sparse_vocab *v, uint32_t id);

typedef enum {
    PANN_SPARSE_AUTO,        /* LISTS when the first data line has a TAB */
    PANN_SPARSE_LISTS,       /* word<TAB>token:weight token:weight ... */
    PANN_SPARSE_LONG,        /* CSV word,token,weight, one pair per row */
} pann_sparse_format;

typedef struct pann_sparse_read_opts {
    pann_sparse_format format;
    char delim;              /* LONG: field separator (default ',') */
    bool header;             /* LONG: first line names the columns */
} pann_sparse_read_opts;
void pann_sparse_read_opts_init(pann_sparse_read_opts *o);

/* Words in the order of the file; word i's pairs are tok/w[start[i] ..
 * start[i+1]), sorted by token id (so two words merge in one pass). */
typedef struct pann_sparse {
    char *display;           /* file name for messages ("stdin" for "-") */
    size_t n, nnz;
    char **words;
    size_t *line;            /* line where each word is (first) defined */
    size_t *start;           /* n + 1 offsets */
    uint32_t *tok;
    double *w;
    double *norm;            /* sqrt of the sum of squared weights */
} pann_sparse;

/* Read path ("-" = stdin).  Errors located FILE:LINE:FIELD: a pair without
 * ':' or with a weight that is not a finite number, an empty word or token,
 * a token given twice for a word, a word defined twice (LISTS; in LONG a
 * word's rows may be anywhere), a LONG file without exactly 3 columns. */
int pann_sparse_read(pann_sparse *s, const char *path, const pann_sparse_read_opts *o,
                     pann_sparse_vocab *v, pann_error *err);
void pann_sparse_free(pann_sparse *s);

typedef enum { PANN_SPARSE_COSINE = 0, PANN_SPARSE_DOT = 1 } pann_sparse_sim;

/* Dot product over the tokens word i of a and word j of b share, summed in
 * increasing token id. */
double pann_sparse_dot(const pann_sparse *a, size_t i, const pann_sparse *b, size_t j);
/* Cosine: dot / (norm_i * norm_j), 0 when a norm is 0; or the dot itself. */
double pann_sparse_similarity(pann_sparse_sim kind, const pann_sparse *a, size_t i,
                              const pann_sparse *b, size_t j);

/* The K most similar words of T for every word of S, most similar first,
 * ties to the lower row of T; distance is 1 - similarity. */
typedef struct pann_sparse_result {
    size_t n, k;
    uint32_t *nn;            /* n*k rows of T */
    double *sim;             /* n*k similarities */
    unsigned char *proven;   /* every candidate tried: the list is exact */
    size_t nproven;
    uint64_t iterations;     /* similarities computed (anytime search) */
    uint64_t pairs;          /* (query, word) pairs sharing a token (exact) */
    uint64_t epochs;
    bool stopped_by_time;
    double seconds;
} pann_sparse_result;
void pann_sparse_result_free(pann_sparse_result *r);

/* Exact: an inverted index over T's tokens gives each query the words that
 * share a token with it, the only ones whose dot product is not 0; the
 * others all have similarity 0 and fill the list in row order.  Equal to a
 * brute force with pann_sparse_similarity, bit for bit.  Error when k is 0
 * or more than the candidates (T's words, less one with self_exclude). */
int pann_sparse_knn_exact(const pann_sparse *S, const pann_sparse *T, pann_sparse_sim kind,
                          size_t k, bool self_exclude, int threads,
                          pann_sparse_result *r, pann_error *err);

/* The PANN anytime search: each query draws candidates from its own keyed
 * permutation of T (never twice); each epoch the top_fraction of queries
 * whose K-th similarity is worst get one proposal each.  Reads seed,
 * max_iterations (0 = until every candidate is tried: then equal to the
 * exact answer), max_seconds, top_fraction, self_exclude and threads of o.
 * The same seed gives the same answer for any thread count. */
int pann_sparse_knn_anytime(const pann_sparse *S, const pann_sparse *T,
                            pann_sparse_sim kind, size_t k, const pann_engine_opts *o,
                            pann_sparse_result *r, pann_error *err);

#ifdef __cplusplus
}
#endif

#endif
