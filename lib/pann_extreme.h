/* pann_extreme.h — extreme points (the envelope of a data set, found by
 * maximising the loss with S = T) and outliers ranked by the distance to
 * their K-th nearest neighbour; see lib/extreme.c. */
#ifndef PANN_EXTREME_H
#define PANN_EXTREME_H

#ifdef __cplusplus
extern "C" {
#endif

/* One row of a ranking: a row of the matrix (0-based; map it to the table
 * with row_id) and its score. */
typedef struct pann_scored_row {
    size_t row;
    double score;
} pann_scored_row;

/* The envelope of X (article, section 2.3 and Figure 3): every row looks
 * for its farthest other row (a row is never its own candidate), with the
 * engine in max mode under o's budget, or exactly when exact is true.  A
 * row chosen by at least one row is an extreme point; its score is how many
 * rows chose it.  o's mode and self_exclude are overridden here.  r gets the
 * search result (nproven tells how many farthest rows are proven); *points
 * (malloc'ed, *npoints entries) are sorted by score, highest first, ties by
 * row. */
int pann_extreme_envelope(const pann_matrix *X, const pann_metric *m,
                          const pann_engine_opts *o, bool exact, pann_result *r,
                          pann_scored_row **points, size_t *npoints, pann_error *err);

/* The counting step alone, from the result of any search of a set among
 * itself: rows chosen as r->nn, with how often, in the order above. */
int pann_extreme_count(const pann_result *r, pann_scored_row **points, size_t *npoints,
                       pann_error *err);

/* Exact distance from every row of X to its k-th nearest other row (other
 * by index: a duplicate row is a neighbour at distance 0), by the blocked
 * kernels over threads workers (0 = all cores; the values do not depend on
 * it).  k must be from 1 to X->n - 1.  dist has X->n entries. */
int pann_kth_distance(const pann_matrix *X, const pann_metric *m, size_t k, int threads,
                      double *dist, pann_error *err);

/* Every row of X ranked by that distance, most isolated first, ties by row;
 * *ranked is malloc'ed with X->n entries. */
int pann_extreme_outliers(const pann_matrix *X, const pann_metric *m, size_t k,
                          int threads, pann_scored_row **ranked, pann_error *err);

#ifdef __cplusplus
}
#endif

#endif
