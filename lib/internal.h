/* internal.h — helpers shared by libpann's search modules, not installed. */
#ifndef PANN_INTERNAL_H
#define PANN_INTERNAL_H

#include <math.h>
#include <time.h>
#include "pann.h"

/* ---- blocked rows and their kernels (kernels.c), for the searches and the
 * tests; not part of the installed interface ---------------------------- */

/* T rearranged in blocks of PANN_LANES rows, column-major inside a block,
 * for SIMD kernels that compare several queries with 16 rows at a time. */
#define PANN_LANES 16
#define PANN_QBATCH 8
typedef struct pann_blocks {
    size_t n, d, nblocks;
    float *v;                /* nblocks * d * PANN_LANES */
} pann_blocks;

int pann_blocks_build(pann_blocks *b, const pann_matrix *t, pann_error *err);
/* pann_blocks_build from t's own rows: the whole pages of the rows already
 * copied go back to the system as the copy goes on (pann_release_behind),
 * and t's rows are freed (t->v = NULL) once every block is built, so t and
 * the blocks together stay near the size of one of them.  On failure t is
 * left whole.  Only for rows that nothing reads afterwards. */
int pann_blocks_consume(pann_blocks *b, pann_matrix *t, pann_error *err);
/* Give back to the system the whole pages of base's first `used` bytes,
 * past the *released bytes given back already (updated): only pages
 * wholly inside [base, base + used), never the allocator's header before
 * base, and in steps of at least a megabyte, to keep the system calls
 * few.  What those pages held reads as zeros afterwards.  Without
 * madvise, nothing. */
void pann_release_behind(const void *base, size_t used, size_t *released);
void pann_blocks_free(pann_blocks *b);
/* Comparison values of nq queries with the rows of blocks
 * [first, first + nblk): out[q * nblk * PANN_LANES + i] is row
 * first * PANN_LANES + i.  Lanes past the end of T are +inf. */
void pann_block_cmp(const pann_metric *m, const pann_blocks *b, size_t first,
                    size_t nblk, const float *const *queries, size_t nq, float *out);

/* A value that passed a bound: query q of the batch, slot of T in the
 * blocked layout (its row, for pann_blocks_build), comparison value. */
typedef struct pann_hit {
    uint32_t query;
    uint32_t slot;
    float value;
} pann_hit;

/* Compare nq (<= PANN_QBATCH) queries with blocks [first, first + nblk) of
 * b and write to hits every value that passes its query's bound: value <=
 * bound[q] in PANN_MIN mode, >= in PANN_MAX mode.  hits must hold
 * nq * nblk * PANN_LANES entries; returns how many were written, in block,
 * then query, then lane order.  Values are bit-identical to pann_cmp. */
size_t pann_block_filter(const pann_metric *m, const pann_blocks *b, size_t first,
                         size_t nblk, const float *const *queries, size_t nq,
                         const float *bound, pann_mode mode, pann_hit *hits);
/* ---- random streams (rng.c) -------------------------------------------- */

/* Counter-based: the same (seed, a, b) gives the same value on any thread. */
uint64_t pann_hash3(uint64_t seed, uint64_t a, uint64_t b);
double pann_uniform3(uint64_t seed, uint64_t a, uint64_t b); /* in [0,1) */

/* A keyed pseudo-random permutation of [0, m): candidate i of a row is
 * pann_perm_at(&p, i).  Drawing i = 0, 1, 2, ... never repeats, which is how
 * the engine never proposes a candidate twice with O(1) memory per row. */
typedef struct pann_perm {
    uint64_t m;
    unsigned half_bits;
    uint64_t half_mask;
    uint64_t key[4];
} pann_perm;
void pann_perm_init(pann_perm *p, uint64_t m, uint64_t seed, uint64_t stream);
uint64_t pann_perm_at(const pann_perm *p, uint64_t i);


/* Monotonic seconds, for budgets (--time) and reported run times. */
static inline double pann_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Read exactly len bytes of fd at offset (pread, EINTR retried); false on
 * an error or a short file. */
bool pann_read_at(int fd, void *buf, size_t len, size_t offset);

/* The checks every search makes: same columns, a usable reference. */
int pann_check_search(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                      pann_error *err);
/* A zeroed result for n rows: no neighbour, NaN distances, nothing proven. */
int pann_result_alloc(pann_result *r, size_t n, pann_error *err);

/* Whether an anytime search may go on: under its proposal budget and time
 * limit (reaching the latter sets *stopped_by_time). */
static inline bool pann_budget_left(const pann_engine_opts *o, uint64_t iterations,
                                    double started, bool *stopped_by_time)
{
    if (o->max_iterations && iterations >= o->max_iterations)
        return false;
    if (o->max_seconds > 0 && pann_now() - started >= o->max_seconds) {
        *stopped_by_time = true;
        return false;
    }
    return true;
}

/* ---- the sorted list of a query's K nearest rows (knn.c, exact.c) ----- */

/* (c, row) before (c2, row2): the total order of brute force. */
static inline bool pann_key_less(float c, uint32_t row, float c2, uint32_t row2)
{
    return c < c2 || (c == c2 && row < row2);
}

/* Insert (c, row) into the list of `*filled` entries (capacity k) when it
 * belongs to the k smallest; false when it does not. */
static inline bool pann_list_insert(float *cmp, uint32_t *nn, uint32_t *filled, size_t k,
                                    float c, uint32_t row)
{
    if (c != c)
        c = INFINITY;          /* a NaN ranks last, never breaks the order */
    size_t pos = *filled;
    if (pos == k) {
        if (!pann_key_less(c, row, cmp[k - 1], nn[k - 1]))
            return false;
        pos = k - 1;
    } else {
        (*filled)++;
    }
    for (; pos > 0 && pann_key_less(c, row, cmp[pos - 1], nn[pos - 1]); pos--) {
        cmp[pos] = cmp[pos - 1];
        nn[pos] = nn[pos - 1];
    }
    cmp[pos] = c;
    nn[pos] = row;
    return true;
}

/* The rows an epoch processes: keys ordered by badness (larger first), then
 * row; pann_select_top moves the k first in that order to keys[0..k). */
typedef struct pann_sel_key {
    float badness;
    uint32_t row;
} pann_sel_key;
void pann_select_top(pann_sel_key *keys, size_t count, size_t k);
/* An epoch's rows, in row order: the top fraction of the active rows (kept
 * in row order) by gain(ctx, row), what each has to gain (larger first).  keys and epoch_rows hold nactive
 * entries, chosen one byte per row, all zero (and left so). */
size_t pann_select_epoch(const uint32_t *active, size_t nactive, double top_fraction,
                         float (*gain)(const void *ctx, size_t row), const void *ctx,
                         pann_sel_key *keys, unsigned char *chosen, uint32_t *epoch_rows);
/* The active rows (in order) that still have untried candidates: tried[row]
 * of the m; returns how many are kept at the front of active. */
size_t pann_drop_exhausted(const uint32_t *tried, size_t m, uint32_t *active, size_t nactive);

/* Whether the k-d tree search pays on these matrices (exact.c). */
bool pann_tree_suits(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                     const pann_engine_opts *o);

/* K nearest rows by the k-d tree, min mode, no eps: lists of k entries
 * per row of S in nn/cmp (n*k), filled[] entries each (zeroed by the
 * caller), self excluded when o->self_exclude.  Exact with max_leaves 0;
 * otherwise each query scans at most max_leaves leaves (see
 * pann_match_tree), and proven (NULL or n flags) says which rows' lists are
 * proven exact. */
int pann_tree_knn(const pann_matrix *S, const pann_matrix *T, pann_matrix *owned,
                  const pann_metric *m, const pann_engine_opts *o, size_t k,
                  size_t max_leaves, uint32_t *nn, float *cmp, uint32_t *filled,
                  unsigned char *proven, uint64_t *evaluations, pann_error *err);
/* owned (NULL, or T itself): the search may build its index in T's rows,
 * and releases them (T->v = NULL) whatever the outcome; pann_release_rows
 * does that for the paths without a tree. */
void pann_release_rows(pann_matrix *owned);

/* ---- encoding pieces shared with the numeric loader (encode.c) --------- */

/* A field s[0..len) (not NUL-terminated) as pann_parse_number reads it:
 * blanks trimmed, the whole field a finite number. */
bool pann_parse_span(const char *s, size_t len, double *v);
/* Statistics of a numeric column, accumulated in row order. */
typedef struct pann_col_stats {
    size_t m;                /* values seen */
    double mean, lo, hi, big, ss;
} pann_col_stats;
void pann_col_stats_init(pann_col_stats *c);
/* The d columns of the row-major n x d values v, all numbers. */
void pann_col_stats_rows(const double *v, size_t n, size_t d, pann_col_stats *c);
/* Center, scale and imputed (encoded) value, as the encoder sets them. */
void pann_col_stats_finish(const pann_col_stats *c, pann_scale scale, double *center,
                           double *scale_out, double *impute);
/* The schema's arrays for d columns named after ref's columns idx[]: every
 * column numeric with scale 1 until set.  Returns -1 when out of memory. */
int pann_schema_alloc(pann_schema *s, const pann_table *ref, const size_t *idx, size_t d);
/* A numeric value as encoded: the encoder and the numeric loader both call
 * this, so their floats agree bit for bit. */
static inline float pann_encode_value(double v, double center, double scale)
{
    return (float)((v - center) / scale);
}
/* Each row scaled to unit L2 norm (zero rows left as they are). */
void pann_normalise_rows(pann_matrix *m);
/* Whether a field s[0..len) is missing once trimmed (empty, NA, NaN). */
bool pann_is_missing_span(const char *s, size_t len);

/* ---- the exact self-match in chunks (knn.c) ---------------------------- */

/* fetch writes rows q0 .. q0 + n - 1 of the queries (n * d floats); take
 * receives their lists (r->n = n); non-zero stops the search with that
 * status (err set). */
typedef int (*pann_fetch_rows)(void *ctx, size_t q0, size_t n, float *rows, pann_error *err);
typedef int (*pann_take_lists)(void *ctx, size_t q0, const pann_knn_result *r,
                               pann_error *err);
/* The lists of pann_knn_exact(T, T, ...), chunk rows at a time, in order:
 * T's rows go to the index (T->v NULL on return, whatever the outcome), so
 * fetch gives them back as queries, row for row.  Memory: the index and
 * one chunk's lists, not n * K. */
int pann_knn_exact_self_chunks(pann_matrix *T, const pann_metric *m, size_t k,
                               const pann_engine_opts *o, size_t chunk,
                               pann_fetch_rows fetch, pann_take_lists take, void *ctx,
                               pann_error *err);

/* ---- the category dictionary (dict.c) --------------------------------- */

typedef struct pann_dict {
    char **keys;             /* by code, owned */
    size_t *count;           /* by code: for the caller (the reference's counts) */
    size_t n, cap;
    size_t *slot;            /* code + 1, 0 = empty; mask + 1 slots */
    size_t mask;
} pann_dict;
/* The code of key[0..len), added (copied, count 0) when new; codes are 0,
 * 1, 2 ... in order of first appearance.  SIZE_MAX when out of memory. */
size_t pann_dict_code(pann_dict *dc, const char *key, size_t len);
/* The code of key[0..len) when the dictionary holds it, else SIZE_MAX. */
size_t pann_dict_find(const pann_dict *dc, const char *key, size_t len);
/* The code with the largest count, the lowest on ties (0 when empty). */
size_t pann_dict_mode(const pann_dict *dc);
/* The keys by code, now the caller's (an array of one NULL when empty);
 * NULL when out of memory.  The dictionary keeps only its slots. */
char **pann_dict_take_keys(pann_dict *dc);
void pann_dict_free(pann_dict *dc);

#endif
