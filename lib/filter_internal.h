/* filter_internal.h — the parts of the filter module shared by its files
 * (filter.c, filter_stream.c, filter_group.c), not installed. */
#ifndef PANN_FILTER_INTERNAL_H
#define PANN_FILTER_INTERNAL_H

#include "pann.h"

int filter_cmp_float(const void *a, const void *b);
/* Exact NN distances of S among R by brute force (pann_match_exact). */
int filter_brute_nn(const pann_matrix *S, const pann_matrix *R, const pann_metric *m,
                    bool self_exclude, int threads, float *dist, uint64_t *evaluations,
                    pann_error *err);
/* The near-copy threshold from o->holdout (r->min_dist, holdout_*). */
int filter_holdout_threshold(const pann_matrix *R, const pann_metric *m,
                             const pann_filter_index *ix, const pann_filter_opts *o,
                             pann_filter_result *r, pann_error *err);
/* The real rows' LOO distances: median, thresholds, the holdout's. */
int filter_real_thresholds(const pann_matrix *R, const pann_metric *m,
                           const pann_filter_index *ix, const pann_filter_opts *o,
                           pann_filter_result *r, pann_error *err);
/* --quantile and --keep of the distance rule, from every exact distance. */
int filter_synth_threshold(const pann_filter_opts *o, pann_filter_result *r, pann_error *err);
/* pick[0..k) are k of the n rows, chosen by seed (the DCR sample). */
void filter_dcr_pick(size_t *pick, size_t n, size_t k, uint64_t seed);
/* The median synthetic NN distance (over a sample when some are unknown). */
int filter_synth_median(const pann_matrix *S, const pann_filter_index *ix,
                        const pann_filter_opts *o, pann_filter_result *r, pann_error *err);
int filter_check_opts(const pann_matrix *R, const pann_matrix *S, const pann_metric *m,
                      const pann_filter_opts *o, pann_error *err);
/* The distance rule's decisions from the distances. */
void filter_decide(const pann_filter_opts *o, pann_filter_result *r, const unsigned char *early);
/* The result's counts and work fraction from its decisions. */
void filter_count(pann_filter_result *r, const unsigned char *early, const pann_matrix *R);

#endif
