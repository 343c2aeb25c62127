/* pann_privacy.h — how close synthetic rows sit to the real rows a
 * synthesizer learned from (TRAIN) compared with real rows it never saw
 * (HOLDOUT), from exact nearest neighbours, and two fidelity checks scored
 * against HOLDOUT: a classifier two-sample test and the difference of the
 * pairwise dependences (see lib/privacy.c). */
#ifndef PANN_PRIVACY_H
#define PANN_PRIVACY_H

#include "pann.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Mean |r_A - r_B| of the pairwise dependences of two tables: Pearson
 * correlations over pairs of numeric columns, Cramer's V over pairs of
 * categorical ones, and over both together (NAN without such pairs). */
typedef struct pann_dependence {
    double correlation, cramers_v, all;
    size_t numeric_pairs, categorical_pairs;
} pann_dependence;

/* Every figure of pann_privacy_run; distances are the metric's.  NAN marks
 * a figure not computed (detection off, or no pair of columns of a kind). */
typedef struct pann_privacy {
    size_t ntrain, nsynth, nholdout;
    /* share of SYNTH rows strictly nearer to TRAIN than to HOLDOUT, ties
     * one half; ideal ntrain / (ntrain + nholdout) */
    double dcr_share, dcr_share_ideal;
    /* share of SYNTH (HOLDOUT) rows at distance 0 from a TRAIN row */
    double exact_match_share, holdout_exact_match_share;
    /* median of d1/d2 to the two nearest TRAIN rows (0 when d1 = 0) */
    double nndr_median, holdout_nndr_median;
    /* AUC of telling TRAIN from HOLDOUT rows by their distance to the
     * nearest SYNTH row, nearer = member, ties one half; ideal 0.5 */
    double mia_auc;
    /* 5 % and 50 % quantiles of the NN distances to TRAIN */
    double synth_q05, synth_q50, holdout_q05, holdout_q50;
    /* accuracy of a leave-one-out K-NN classifier telling HOLDOUT rows from
     * as many sampled SYNTH rows (or the other way round when SYNTH is the
     * smaller); detection_rows rows of each */
    double detection;
    size_t detection_rows;
    /* dependences of SYNTH against HOLDOUT, and of TRAIN against HOLDOUT:
     * the floor that sampling alone gives */
    pann_dependence dependence, holdout_dependence;
} pann_privacy;

/* Exact searches of SYNTH and HOLDOUT in TRAIN (two nearest), of SYNTH in
 * HOLDOUT and of TRAIN and HOLDOUT in SYNTH, then every figure above.
 * detection_k = 0 leaves detection out.  Reads seed (the detection
 * sample) and threads of o; the output does not depend on threads.
 * TRAIN needs 2 rows, SYNTH and HOLDOUT 1, detection 2 * rows > K. */
int pann_privacy_run(const pann_matrix *T, const pann_matrix *S, const pann_matrix *H,
                     const pann_metric *m, size_t detection_k, const pann_engine_opts *o,
                     pann_privacy *p, pann_error *err);

/* The q-quantile of n sorted values, interpolated between order statistics
 * (position q * (n - 1), numpy's default); NAN for n = 0. */
double pann_quantile_linear(const double *sorted, size_t n, double q);

/* Share of pairs (i, j) with a[i] < b[j], ties one half, for sorted a and
 * b: the AUC of "smaller = positive" with a the positives. */
double pann_auc_sorted(const float *a, size_t na, const float *b, size_t nb);

/* The dependences of A against B; columns are categorical where
 * m->is_cat says so (codes as encoded).  A column constant in a table has
 * correlation and V 0 there.  Cramer's V is sqrt(chi2 / (n (min(r, c) - 1)))
 * over the r x c levels present, without bias correction. */
int pann_dependence_diff(const pann_matrix *A, const pann_matrix *B, const pann_metric *m,
                         pann_dependence *out, pann_error *err);

#ifdef __cplusplus
}
#endif

#endif
