/* testutil.h — helpers shared by the unit tests: generated matrices and an
 * independent brute-force nearest-neighbour search (a plain double loop, no
 * blocks, no permutations) to compare the library against. */
#ifndef PANN_TESTUTIL_H
#define PANN_TESTUTIL_H

#include <math.h>
#include <stdlib.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include "pann.h"

/* n x d matrix of Gaussian values (sd) or, with levels > 0, small integers in
 * [0, levels) so that ties and duplicate rows are common. */
static inline pann_matrix test_matrix(size_t n, size_t d, unsigned long seed,
                                      double sd, int levels)
{
    pann_matrix m;
    pann_error err;
    if (pann_matrix_alloc(&m, n, d, &err) != 0)
        abort();
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, seed);
    for (size_t i = 0; i < n * d; i++)
        m.v[i] = levels > 0 ? (float)gsl_rng_uniform_int(rng, (unsigned long)levels)
                            : (float)gsl_ran_gaussian(rng, sd);
    gsl_rng_free(rng);
    return m;
}

/* Brute force with pann_cmp: ties to the lowest row, strictly better only. */
static inline void test_brute(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                              pann_mode mode, bool self, bool use_eps, double eps,
                              uint32_t *nn, float *dist)
{
    for (size_t k = 0; k < S->n; k++) {
        uint32_t best_nn = PANN_NONE;
        float best = 0;
        for (size_t j = 0; j < T->n; j++) {
            if (self && j == k)
                continue;
            float c = pann_cmp(m, pann_row(S, k), pann_row(T, j));
            if (use_eps && pann_cmp_to_dist(m, c) < eps)
                continue;
            if (best_nn == PANN_NONE || (mode == PANN_MIN ? c < best : c > best)) {
                best = c;
                best_nn = (uint32_t)j;
            }
        }
        nn[k] = best_nn;
        dist[k] = best_nn == PANN_NONE ? NAN : (float)pann_cmp_to_dist(m, best);
    }
}

/* The same in double from the raw values, for checking the float kernels. */
static inline double test_dist_double(pann_metric_kind kind, const float *a, const float *b,
                                      size_t d)
{
    double acc = 0, na = 0, nb = 0;
    for (size_t j = 0; j < d; j++) {
        double x = a[j], y = b[j];
        if (kind == PANN_L1) acc += fabs(x - y);
        else if (kind == PANN_L2) acc += (x - y) * (x - y);
        else { acc += x * y; na += x * x; nb += y * y; }
    }
    if (kind == PANN_L2) return sqrt(acc);
    if (kind == PANN_COSINE) return 1.0 - acc / sqrt(na * nb);
    return acc;
}

#endif
