/* search_util.h — what the search tests share: a metric from its parts,
 * rows scaled to unit length, exact and exhausted anytime searches checked
 * against the brute force of testutil.h, an anytime run with a history,
 * copies of matrices for the consuming variants and comparisons of whole
 * results.  Every function is static inline: each test file uses some. */
#ifndef PANN_TEST_SEARCH_UTIL_H
#define PANN_TEST_SEARCH_UTIL_H
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include "testutil.h"
#include "internal.h"

static inline pann_metric metric_of(pann_metric_kind kind, size_t d, const unsigned char *cat)
{
    pann_metric m = { kind, d, cat };
    return m;
}

static inline void normalise_rows(pann_matrix *m)
{
    for (size_t i = 0; i < m->n; i++) {
        double s = 0;
        for (size_t j = 0; j < m->d; j++) s += (double)m->v[i * m->d + j] * m->v[i * m->d + j];
        for (size_t j = 0; j < m->d && s > 0; j++) m->v[i * m->d + j] /= (float)sqrt(s);
    }
}

/* Run exact or exhausted anytime search and compare with brute force. */
static int exact_method = PANN_EXACT_AUTO;
static const unsigned char *categorical_flags = NULL;

static inline void check_against_brute(const pann_matrix *S, const pann_matrix *T, pann_metric_kind kind,
                                       pann_mode mode, bool self, bool use_eps, double eps,
                                       bool anytime, int threads, double decay, double top)
{
    pann_metric m = metric_of(kind, S->d, kind == PANN_COSINE ? NULL : categorical_flags);
    pann_engine_opts o;
    pann_engine_opts_init(&o);
    o.mode = mode; o.self_exclude = self; o.use_eps = use_eps; o.eps = eps;
    o.threads = threads; o.decay = decay; o.top_fraction = top; o.seed = 99;
    o.max_iterations = 0;   /* anytime: until every candidate is tried */
    o.exact_method = exact_method;
    pann_result r;
    pann_error err = {0};
    int rc = anytime ? pann_match_anytime(S, T, &m, &o, &r, &err)
                     : pann_match_exact(S, T, &m, &o, &r, &err);
    cr_assert_eq(rc, 0, "%s", err.msg);
    uint32_t *nn = malloc(S->n * sizeof *nn);
    float *dist = malloc(S->n * sizeof *dist);
    test_brute(S, T, &m, mode, self, use_eps, eps, nn, dist);
    for (size_t k = 0; k < S->n; k++) {
        cr_assert_eq(r.nn[k], nn[k], "row %zu: %u vs brute %u (kind %d mode %d anytime %d)",
                     k, r.nn[k], nn[k], kind, mode, anytime);
        if (nn[k] != PANN_NONE)
            cr_assert(memcmp(&r.dist[k], &dist[k], sizeof(float)) == 0);
        cr_assert_eq(r.proven[k], 1);
    }
    cr_assert_eq(r.nproven, S->n);
    if (anytime)   /* each row drew each candidate exactly once */
        cr_assert_eq(r.steps, (uint64_t)S->n * T->n);
    free(nn);
    free(dist);
    pann_result_free(&r);
}


static inline pann_result run_engine(const pann_matrix *S, const pann_matrix *T, pann_metric *m,
                                     pann_mode mode, double decay, uint64_t iters, int threads,
                                     uint64_t every)
{
    pann_engine_opts o;
    pann_engine_opts_init(&o);
    o.mode = mode; o.decay = decay; o.max_iterations = iters; o.threads = threads;
    o.history_every = every; o.seed = 57; o.self_exclude = S == T;
    pann_result r;
    pann_error err = {0};
    cr_assert_eq(pann_match_anytime(S, T, m, &o, &r, &err), 0, "%s", err.msg);
    return r;
}


/* Rows scaled to unit length, as the encoder does for cosine. */
static inline void unit_rows(pann_matrix *a)
{
    for (size_t i = 0; i < a->n; i++) {
        double norm = 0;
        for (size_t j = 0; j < a->d; j++)
            norm += (double)a->v[i * a->d + j] * a->v[i * a->d + j];
        for (size_t j = 0; j < a->d; j++)
            a->v[i * a->d + j] = (float)(a->v[i * a->d + j] / sqrt(norm));
    }
}


/* A copy of a matrix, for the self variants that consume theirs. */
static inline pann_matrix matrix_copy(const pann_matrix *a)
{
    pann_matrix c;
    if (pann_matrix_alloc(&c, a->n, a->d, NULL) != 0)
        abort();
    memcpy(c.v, a->v, a->n * a->d * sizeof *c.v);
    return c;
}

static inline void expect_same_result(const pann_result *a, const pann_result *b, const char *what)
{
    cr_assert_eq(a->n, b->n, "%s", what);
    cr_assert_eq(a->nproven, b->nproven, "%s", what);
    cr_assert_eq(a->iterations, b->iterations, "%s", what);
    cr_assert(memcmp(a->nn, b->nn, a->n * sizeof *a->nn) == 0, "%s: neighbours differ", what);
    cr_assert(memcmp(a->dist, b->dist, a->n * sizeof *a->dist) == 0, "%s: distances differ", what);
    cr_assert(memcmp(a->proven, b->proven, a->n) == 0, "%s: proofs differ", what);
}

static inline void expect_same_lists(const pann_knn_result *a, const pann_knn_result *b, const char *what)
{
    size_t entries = a->n * a->k;
    cr_assert_eq(a->nproven, b->nproven, "%s", what);
    cr_assert(memcmp(a->nn, b->nn, entries * sizeof *a->nn) == 0, "%s: lists differ", what);
    cr_assert(memcmp(a->dist, b->dist, entries * sizeof *a->dist) == 0, "%s: distances differ",
              what);
    cr_assert(memcmp(a->proven, b->proven, a->n) == 0, "%s: proofs differ", what);
}


#endif
