/* ivf_internal.h — the IVF index shared by ivf_build.c and ivf.c. */
#ifndef PANN_IVF_INTERNAL_H
#define PANN_IVF_INTERNAL_H

#include "pann.h"
#include "internal.h"
#include "kernels.h"

/* T partitioned into cells: centroids, and T's rows grouped by cell in
 * blocks of PANN_LANES, each cell starting on a block (its last block
 * padded with rows that are no row of T: slot_row PANN_NONE). */
typedef struct ivf_index {
    size_t ncells, d;
    pann_matrix centroids;       /* ncells x d */
    pann_blocks cblocks;         /* the centroids, blocked */
    pann_blocks rows;            /* T by cell */
    size_t *cell_block;          /* ncells + 1: first block of each cell */
    size_t *cell_size;           /* rows of T in each cell */
    uint32_t *slot_row;          /* T's row at each slot of rows */
    float *radius;               /* largest distance of a member to its
                                    centroid (reported distance) */
    uint64_t evaluations;        /* distances computed to build */
} ivf_index;

int ivf_build(ivf_index *ix, const pann_matrix *T, const pann_metric *m, size_t ncells,
              size_t sample, size_t rounds, uint64_t seed, int threads, pann_error *err);
void ivf_free(ivf_index *ix);

/* A thread's kernel for rows against blocks: the matrix-product kernel
 * (GEMM_MAX_QUERIES rows by GEMM_TILE_BLOCKS blocks a call) where it
 * serves the metric, else the blocked kernel (PANN_QBATCH rows by `tile`
 * blocks); both give the values of pann_cmp bit for bit.  values and hits
 * are its scratch, hits holding one call's. */
#define IVF_CELL_TILE 16   /* centroid blocks per blocked-kernel call */
#define IVF_MAX_BATCH (GEMM_MAX_QUERIES > PANN_QBATCH ? GEMM_MAX_QUERIES : PANN_QBATCH)

typedef struct ivf_kernel {
    const pann_metric *m;
    bool gemm;
    size_t batch, tile;          /* rows and blocks per call */
    float *values;
    pann_hit *hits;
} ivf_kernel;

int ivf_kernel_init(ivf_kernel *k, const pann_metric *m, size_t tile);
void ivf_kernel_free(ivf_kernel *k);
/* The hits of rows[0..nq) (nq <= k->batch) with blocks [first, first +
 * nb) of b (nb <= k->tile) under bound, as pann_block_filter's in PANN_MIN
 * mode, into k->hits; returns how many. */
size_t ivf_filter(const ivf_kernel *k, const pann_blocks *b, size_t first, size_t nb,
                  const float *const *rows, size_t nq, const float *bound);

/* The comparison values of rows[0..nq) (nq <= k->batch) with every
 * centroid: out[q * ncells + c]. */
void ivf_centroid_cmp(const ivf_index *ix, const ivf_kernel *k, const float *const *rows,
                      size_t nq, float *out);
/* A comparison value as a distance that obeys the triangle inequality:
 * L1 as it is, L2's root, cosine's chord sqrt(2c) between unit rows. */
double ivf_metric_dist(const pann_metric *m, float c);

#endif
