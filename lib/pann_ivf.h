/* pann_ivf.h — the anytime search for high dimension: T partitioned into
 * cells by k-means on a sample (an inverted file, IVF), each query row
 * offered the rows of its cells in order of centroid distance.  Included
 * at the end of pann.h; uses its types. */
#ifndef PANN_IVF_H
#define PANN_IVF_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pann_ivf_opts {
    size_t cells;            /* k-means cells; 0 = automatic (pann_ivf_auto_cells) */
    size_t probes;           /* cells scanned per query row, nearest centroid
                                first; 0 or >= cells = every cell (exact) */
    size_t sample;           /* rows of T the k-means is trained on; 0 = 32
                                per cell, at most an eighth of T (at least
                                one per cell) */
    size_t kmeans_rounds;    /* Lloyd iterations on the sample (default 8) */
} pann_ivf_opts;

void pann_ivf_opts_init(pann_ivf_opts *o);
/* The default number of cells for nq query rows and nt reference rows:
 * 2 sqrt(nq), at most nt / 32, at least 1.  Building costs nt x cells
 * distances, scanning p probes nq x p x nt / cells: for a few probes the
 * two balance near sqrt(4 nq) cells. */
size_t pann_ivf_auto_cells(size_t nq, size_t nt);

/* Nearest row of T for every row of S by the IVF strategy.  Build: a
 * k-means of o->seed's sample of T (the same for any thread count), then
 * every row of T assigned to its nearest centroid; both with the blocked
 * kernels of pann_block_filter.  Search: the query rows scan their cells
 * by rank (every row's nearest cell first, then the second, ...), in
 * passes of 1, 1, 2, 4, 8, ... ranks; within a pass each cell is compared
 * with all the query rows that probe it, eight at a time.  A candidate is
 * accepted when closer (ties: the lower row).  After each pass the search
 * may stop (o->max_seconds, at a pass boundary), a history record is made
 * when o->history_every is set, and a row is proven exact when every cell
 * is scanned or no unscanned cell can hold a closer row (its centroid
 * distance less its radius, by the triangle inequality; L1, L2, and cosine
 * on unit rows); proven rows scan no further.  Min mode, no eps, numeric
 * columns; self excluded with o->self_exclude.  r->iterations counts the
 * distances computed, the build's included. */
int pann_match_ivf(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                   const pann_engine_opts *o, const pann_ivf_opts *io, pann_result *r,
                   pann_error *err);

#ifdef __cplusplus
}
#endif

#endif
