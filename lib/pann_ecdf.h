/* pann_ecdf.h — the multivariate ECDF comparison behind ecdf-ks.
 *
 * This module owns dominance counting (for each node z, how many rows p have
 * p_j <= z_j in every column; ties count as dominated), the KS statistic
 * KS = max over nodes |F_synth(z) - F_real(z)|, the node sets it is
 * evaluated on, and the per-column view.  It is included at the end of
 * pann.h and relies on the types declared there (pann_matrix, pann_error).
 *
 * Categorical columns.  Their codes are numbered in order of first
 * appearance, so "code a <= code b" means nothing and any ECDF built on it
 * would change with the row order of the file.  The decision: categorical
 * columns are left out of the multivariate ECDF (the program removes them
 * with pann_ecdf_select_columns and prints a warning naming them), and their
 * per-column score is the total-variation distance between the category
 * frequencies (pann_ecdf_marginal_tv), which for a discrete variable is what
 * KS measures for an ordered one: both are in [0,1] and 1 - score is the
 * "complement" reported for every column.
 *
 * Values must not be NaN (encoding imputes or drops missing cells).
 */
#ifndef PANN_ECDF_H
#define PANN_ECDF_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pann_ecdf_opts {
    int threads;          /* 0 = OpenMP default */
    size_t block;         /* rows between stored prefix bitsets; 0 = auto
                             (64, doubled until the bitsets fit max_bytes) */
    size_t max_bytes;     /* memory allowed for the bitsets; 0 = 256 MiB */
} pann_ecdf_opts;

void pann_ecdf_opts_init(pann_ecdf_opts *o);

/* count[i] = number of rows p of P with p_j <= Z[i]_j for all j.
 * P and Z have the same d >= 1; P may be empty.  Bitset columns sorted by
 * value, see lib/ecdf.c for the algorithm, its cost and its memory. */
int pann_ecdf_count(const pann_matrix *P, const pann_matrix *Z,
                    const pann_ecdf_opts *o, uint32_t *count, pann_error *err);
/* The same counts by brute force, O(|P| |Z| d), vectorised over tiles of P:
 * the reference for tests and the bench. */
int pann_ecdf_count_brute(const pann_matrix *P, const pann_matrix *Z,
                          int threads, uint32_t *count, pann_error *err);

typedef struct pann_ecdf_ks_result {
    double ks;            /* max over nodes |F_synth - F_real| */
    size_t argmax;        /* first node where it is reached */
    size_t npoints;       /* nodes evaluated */
    double f_real, f_synth;           /* at argmax */
    uint64_t count_real, count_synth; /* rows dominated by the argmax node */
} pann_ecdf_ks_result;

/* KS between real and synth over the nodes.  f_real and f_synth, when not
 * NULL, receive F at every node (nodes->n values each). */
int pann_ecdf_ks(const pann_matrix *real, const pann_matrix *synth,
                 const pann_matrix *nodes, const pann_ecdf_opts *o,
                 pann_ecdf_ks_result *r, double *f_real, double *f_synth,
                 pann_error *err);

/* Node sets.  _all: every row of real then every row of synth (the exact
 * maximum over observed rows).  _random: npoints nodes built as in the
 * article's evaluation library: for node i and column j, level
 * u^(1/d) with u = pann_uniform3(seed, i, j), value = the linear-interpolated
 * (numpy "linear") quantile of real column j at that level; nodes with
 * F_real = 0 are left out (*dropped says how many). */
int pann_ecdf_nodes_all(const pann_matrix *real, const pann_matrix *synth,
                        pann_matrix *nodes, pann_error *err);
int pann_ecdf_nodes_random(const pann_matrix *real, size_t npoints,
                           uint64_t seed, const pann_ecdf_opts *o,
                           pann_matrix *nodes, size_t *dropped,
                           pann_error *err);

/* The columns cols[0..ncols) of in, in that order, as a new matrix. */
int pann_ecdf_select_columns(const pann_matrix *in, const size_t *cols,
                             size_t ncols, pann_matrix *out, pann_error *err);

/* Per-column scores, exact.  marginal_ks: the classical two-sample KS of
 * column col; marginal_tv: total-variation distance between the
 * frequencies of the distinct values (categorical codes) of column col.
 * Both return NAN when a side has no rows. */
double pann_ecdf_marginal_ks(const pann_matrix *real, const pann_matrix *synth,
                             size_t col);
double pann_ecdf_marginal_tv(const pann_matrix *real, const pann_matrix *synth,
                             size_t col);

#ifdef __cplusplus
}
#endif

#endif
