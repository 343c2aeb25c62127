/* kdtree.h — the spatial index behind exact search (internal to libpann). */
#ifndef PANN_KDTREE_H
#define PANN_KDTREE_H

#include "pann.h"
#include "internal.h"

#define KD_BOX_LANES 8       /* boxes are compared 8 columns at a time */

typedef struct kd_node {
    int32_t leaf;            /* leaf number, or -1 for an inner node */
    int col;                 /* inner: split column and value */
    float split;
    size_t left, right;      /* inner: children */
    size_t first, count;     /* leaf: its rows in the permuted order */
} kd_node;

typedef struct kd_index {
    size_t n, d, nleaves;
    size_t dbox;             /* stride of lo/hi: d rounded up to KD_BOX_LANES */
    kd_node *nodes;
    size_t nnodes;           /* inner nodes and leaves */
    pann_blocks blocks;      /* rows leaf by leaf, each leaf padded to blocks */
    uint32_t *slot_row;      /* row of T in each slot, PANN_NONE for padding */
    uint32_t *leaf_block;    /* first block of each leaf */
    uint32_t *leaf_nblocks;
    uint32_t *leaf_node;     /* node id of each leaf */
    float *lo, *hi;          /* nnodes * dbox: each node's bounding box,
                                zero past d so padded columns add no gap */
} kd_index;

/* Leaves of at most leaf_rows rows (more only where all rows are equal);
 * the tree is the same whatever the number of threads. */
int kd_build(kd_index *ix, const pann_matrix *T, size_t leaf_rows, int threads,
             pann_error *err);
/* The same index built in T's own memory, for a search that has no further
 * use for T's rows (a self-match reads its queries from the blocks): T->v
 * is taken and freed, NULL on return whatever the outcome, and the rows are
 * never held twice. */
int kd_build_owned(kd_index *ix, pann_matrix *T, size_t leaf_rows, int threads,
                   pann_error *err);
void kd_free(kd_index *ix);
/* Quickselect rows[lo..hi) of T so that rows[mid] holds the median of col. */
void kd_select_median(const pann_matrix *T, uint32_t *rows, size_t lo, size_t hi, size_t mid,
                      size_t col);
/* The column of T with the widest range over these rows, and that range. */
int kd_widest_column(const pann_matrix *T, const uint32_t *rows, size_t count, float *width);
/* The leaf a point falls in (for grouping queries). */
size_t kd_leaf_of(const kd_index *ix, const float *x);

#endif
