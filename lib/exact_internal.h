/* exact_internal.h — the parts of the exact and tree searches shared by
 * their files (exact.c: the entry points; exact_brute.c: the brute force;
 * exact_tree.c: the tree search; exact_budget.c: its budgeted best-first
 * walk; exact_groups.c: the queries grouped by leaf), not installed. */
#ifndef PANN_EXACT_INTERNAL_H
#define PANN_EXACT_INTERNAL_H

#include <math.h>
#include <string.h>
#include "pann.h"
#include "internal.h"
#include "kdtree.h"
#include "kernels.h"

/* Fold the values that passed the kernel's bounds into the answers: a
 * candidate replaces the answer when strictly better, or equal and of a
 * lower row (ties to the lowest row, in whatever order rows are visited). */
static inline void exact_apply_hits(const pann_engine_opts *o, float eps_cmp,
                                    const pann_hit *hits, size_t nh, const uint32_t *qrows,
                                    const uint32_t *slot_row, uint32_t *nn, float *best)
{
    const bool min_mode = o->mode == PANN_MIN;
    for (size_t i = 0; i < nh; i++) {
        uint32_t row = qrows[hits[i].query];
        uint32_t cand = slot_row ? slot_row[hits[i].slot] : hits[i].slot;
        float c = hits[i].value;
        bool wins = min_mode ? c < best[row] : c > best[row];
        if (!wins && !(c == best[row] && cand < nn[row]))
            continue;
        if (cand == PANN_NONE || (o->self_exclude && cand == row))
            continue;
        if (o->use_eps && c < eps_cmp)
            continue;
        best[row] = c;
        nn[row] = cand;
    }
}

/* Rows done so far, out of total, reported by one thread only (callbacks
 * need not be thread-safe). */
void exact_report_rows(const pann_engine_opts *o, uint64_t *done, size_t rows, size_t total);

/* One pass of the blocked brute force (exact_brute.c) over every row of S
 * as a query: T's blocks walked in tiles, each compared with PANN_QBATCH
 * queries at a time.  bound(ctx, row) is what a candidate of query row must
 * beat; apply(ctx, q0, hits, nh) folds the hits of queries q0.. (a hit's
 * query counts from q0).  Threads split the queries in tasks, each owning
 * its rows' answers; with progress, rows done go to its progress callback.
 * With query_blocks, query row i is row i of those blocks (S->v unread,
 * S->n rows): each task gathers its rows into a scratch buffer of its
 * thread. */
typedef struct exact_pass {
    const pann_matrix *S;
    const pann_blocks *blocks;
    const pann_metric *metric;
    pann_mode mode;
    float (*bound)(const void *ctx, size_t row);
    void (*apply)(void *ctx, size_t q0, const pann_hit *hits, size_t nh);
    void *ctx;
    const pann_engine_opts *progress;   /* or NULL */
    const pann_blocks *query_blocks;    /* or NULL: S's rows */
} exact_pass;
int exact_pass_run(const exact_pass *p, int threads, pann_error *err);

/* T's blocks for a pass over S: copied from T (owned NULL) or built from
 * owned's rows (T itself) by pann_blocks_consume, which frees them, so T
 * is held about once.  *query_blocks: b when S's rows are owned's (a
 * self-match, whose queries are then read back from the blocks), else
 * NULL. */
int exact_pass_blocks(pann_blocks *b, const pann_matrix *S, const pann_matrix *T,
                      pann_matrix *owned, const pann_blocks **query_blocks, pann_error *err);

/* The blocked brute force (exact_brute.c): nn/best of every row of S,
 * best set by the caller to +inf (PANN_MIN) or -inf (PANN_MAX).  owned
 * (NULL, or T itself): see exact_pass_blocks; the caller releases what
 * is left of its rows (pann_release_rows). */
int exact_brute_search(const pann_matrix *S, const pann_matrix *T, pann_matrix *owned,
                       const pann_metric *m, const pann_engine_opts *o, uint32_t *nn,
                       float *best, pann_error *err);

/* ---- the tree search ---------------------------------------------------- */

/* Where the queries' coordinates are: the rows of S, or, in a self-match
 * that gave T's memory to the index (kd_build_owned), the index's blocks,
 * found through each row's slot. */
typedef struct query_source {
    const pann_matrix *S;    /* NULL: read from the index */
    const kd_index *ix;
    const uint32_t *row_slot;   /* S == NULL: the slot of each row of T */
    size_t n, d;
} query_source;

/* The coordinates of a query: row of S, or the row in this slot of the
 * index. */
static inline void query_coords(const query_source *qs, size_t row, size_t slot, float *out)
{
    if (qs->S) {
        memcpy(out, pann_row(qs->S, row), qs->d * sizeof *out);
        return;
    }
    size_t d = qs->d;
    const float *block = qs->ix->blocks.v + slot / PANN_LANES * d * PANN_LANES;
    for (size_t j = 0; j < d; j++)
        out[j] = block[j * PANN_LANES + slot % PANN_LANES];
}

typedef struct tree_ctx {
    const query_source *qs;
    const kd_index *ix;
    const pann_metric *metric;
    const pann_engine_opts *o;
    float eps_cmp;
    float abs_margin;        /* rounding allowance of bounds vs distances */
    bool fast_bounds;        /* no categorical column, nearest: box_gaps() */
    size_t max_leaves;       /* per query; 0 = no limit (exact) */
    size_t k;                /* entries per row of the lists below */
                             /* filled == NULL: one answer per row in nn/best;
                                else lists of k sorted entries (min mode) */
    uint32_t *nn;
    float *best;
    uint32_t *filled;        /* k > 1: entries held in each row's list */
    point_bounds_fn point_bounds;   /* fast_bounds only */
    uint64_t *rev;           /* self-match budget: see rev_key() */
    sym_filter_fn sym_filter;
    size_t self_offset;      /* lists: query row i is row self_offset + i of T */
} tree_ctx;

/* What a candidate must beat for row: its answer, or its list's last. */
static inline float row_bound(const tree_ctx *x, size_t row)
{
    if (!x->filled)
        return x->best[row];
    return x->filled[row] == x->k ? x->best[row * x->k + x->k - 1] : INFINITY;
}

typedef struct group {
    size_t nq;
    size_t leaves_left;      /* budget of leaves still to scan (anytime) */
    bool cut;                /* the budget stopped the search: not proven */
    uint64_t evaluations;    /* distances computed */
    size_t home;             /* the leaf holding the queries (query_groups) */
    float worst;             /* the loosest of the queries' bounds */
    uint32_t rows[PANN_QBATCH];
    uint32_t slots[PANN_QBATCH];   /* a self-match's: the rows' slots */
    /* the queries' box and the queries, at the index's box stride (d <= 64
     * on this path), zero past d */
    float lo[64], hi[64];
    float point[PANN_QBATCH][64];
} group;

/* True when nothing in a box with this bound can beat (or tie) best. */
static inline bool hopeless(const tree_ctx *x, float bound, float best)
{
    float margin = x->abs_margin + 1e-5f * fabsf(best);
    return x->o->mode == PANN_MIN ? bound > best + margin : bound < best - margin;
}

/* Every query of a group (bit q: query q). */
#define ALL_QUERIES ((1u << PANN_QBATCH) - 1u)
/* The budgeted best-first search takes groups CHUNK_GROUPS at a time. */
#define CHUNK_GROUPS 8
#define CHUNK_QUERIES (CHUNK_GROUPS * PANN_QBATCH)

/* A leaf within a query's radius, and the query's bound on its box. */
typedef struct leaf_key {
    float key;
    uint32_t leaf;
} leaf_key;

/* Per thread: the leaves the queries of a chunk took, in the order first
 * taken, which queries took each, and their bounds on it. */
/* The queries of a chunk, one bit each. */
typedef uint64_t chunk_mask;
_Static_assert(CHUNK_QUERIES <= 64, "a chunk's queries fit a chunk_mask");

typedef struct pick_scratch {
    chunk_mask *leaf_mask;      /* nleaves: bit 8 * group + query, zero
                                   between chunks */
    uint32_t *touched;          /* nleaves: the leaves taken */
    size_t ntouched;
    uint32_t *place;            /* nleaves: a leaf's index in touched */
    float *known;               /* CHUNK_QUERIES per touched leaf: bounds
                                   (exact_pick_scratch_alloc: how many
                                   leaves) */
    leaf_key *within;           /* nleaves: one query's leaves in radius */
    size_t nwithin;
    uint32_t *cell_node;        /* nleaves: the leaves whose cell is in */
    float *cell_box;            /* nleaves: their boxes' bounds */
    size_t ncells;
} pick_scratch;

/* The query rows in search order and where each group of at most
 * PANN_QBATCH rows starts: rows are ordered by the leaf they fall in (in a
 * self-match on a budget, the leaf that holds them), and a leaf's rows are
 * split into small boxes (split_queries); no group spans two leaves, and a
 * group's rows are in increasing order (the self-match kernel meets equal
 * values lowest row first). */
typedef struct query_groups {
    uint32_t *order;
    uint32_t *slot;          /* with row slots: each query's slot, by order */
    size_t *first;           /* ngroups + 1 entries */
    uint32_t *leaf;          /* each group's leaf */
    size_t ngroups;
} query_groups;

/* The tree search (exact_tree.c): scan leaf node_id for nq queries (of one
 * group or several, in increasing row order) and fold what passes their
 * bounds into their answers. */
void exact_run_batch(const tree_ctx *x, size_t node_id, const float **queries,
                     uint32_t *qrows, const float *bound, size_t nq, pann_hit *hits);
/* Scan a leaf for the group's queries in mask (bit q: query q) that it can
 * still help; known: their bounds on it, when already computed. */
void exact_scan_leaf(const tree_ctx *x, group *g, size_t node_id, unsigned mask,
                     const float *known, pann_hit *hits);
/* owned: T (NULL, or T itself), whose rows the index takes
 * (kd_build_owned); T->v is NULL once the index is built.  In a self-match
 * (S == T == owned) the queries are then read from the index.  k, nn,
 * best, filled: as tree_ctx's; proven (NULL or n flags): the rows whose
 * answers are proven. */
int exact_tree_search(const pann_matrix *S, const pann_matrix *T, pann_matrix *owned,
                      const pann_metric *m, const pann_engine_opts *o, size_t max_leaves,
                      size_t k, uint32_t *nn, float *best, uint32_t *filled,
                      unsigned char *proven, uint64_t *evaluations, pann_error *err);

/* An exact K-NN search with the index built once and the queries given in
 * chunks (pann_knn_exact_chunks): the index takes T's rows (T->v NULL on
 * return) and *scale is their largest |coordinate|; then each chunk S of
 * the queries gets its lists (k, nn, best, filled as tree_ctx's, filled
 * non-NULL), its row i being row self_offset + i of T when o->self_exclude. */
int exact_tree_index_build(kd_index *ix, pann_matrix *T, const pann_engine_opts *o,
                           float *scale, pann_error *err);
int exact_tree_index_knn(const kd_index *ix, float scale, const pann_matrix *S,
                         size_t self_offset, const pann_metric *m, const pann_engine_opts *o,
                         size_t k, uint32_t *nn, float *best, uint32_t *filled,
                         uint64_t *evaluations, pann_error *err);

/* The budgeted best-first walk (exact_budget.c): CHUNK_GROUPS consecutive
 * groups at once; complete[8 * gi + q] says whether query q of group gi is
 * proven. */
void exact_visit_chunk(const tree_ctx *x, group *gs, size_t ng, pick_scratch *ps,
                       bool *complete, pann_hit *vals);
bool exact_pick_scratch_alloc(pick_scratch *ps, const kd_index *ix, size_t max_leaves);
void exact_pick_scratch_free(pick_scratch *ps);

/* The queries grouped by leaf (exact_groups.c).  held: rows grouped by the
 * leaf that holds them (a self-match on a budget).  With qs->row_slot, the
 * groups also get each query's slot.  False when out of memory. */
bool exact_queries_by_leaf(query_groups *qg, const query_source *qs, bool held, int threads);
void exact_query_groups_free(query_groups *qg);

#endif
