/* privacy.c — the privacy figures of pann-privacy: where synthetic rows
 * (SYNTH) sit relative to the real rows a synthesizer learned from (TRAIN)
 * and to real rows it never saw (HOLDOUT), from exact nearest neighbours
 * (pann_knn_exact), and two fidelity figures scored against HOLDOUT: the
 * accuracy of a leave-one-out K-NN classifier telling HOLDOUT from SYNTH
 * (a classifier two-sample test) and the difference of the pairwise
 * dependences.  Every figure is a count, a sort or a sum over rows in row
 * order, so the thread count never changes a value.
 */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pann_privacy.h"
#include "internal.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

double pann_quantile_linear(const double *sorted, size_t n, double q)
{
    if (n == 0)
        return NAN;
    double h = q * (double)(n - 1);
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return sorted[n - 1];
    return sorted[lo] + (h - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

double pann_auc_sorted(const float *a, size_t na, const float *b, size_t nb)
{
    if (na == 0 || nb == 0)
        return NAN;
    /* for each a[i]: b's values above it count 1, equal ones one half */
    double wins = 0;
    size_t below = 0, upto = 0;   /* b values < a[i], <= a[i] */
    for (size_t i = 0; i < na; i++) {
        while (below < nb && b[below] < a[i])
            below++;
        if (upto < below)
            upto = below;
        while (upto < nb && b[upto] <= a[i])
            upto++;
        wins += (double)(nb - upto) + 0.5 * (double)(upto - below);
    }
    return wins / ((double)na * (double)nb);
}

static pann_engine_opts search_opts(const pann_engine_opts *o, bool self)
{
    pann_engine_opts e;
    pann_engine_opts_init(&e);
    e.seed = o->seed;
    e.threads = o->threads;
    e.self_exclude = self;
    return e;
}

/* What the two nearest TRAIN rows of each query row give. */
typedef struct nearest_two {
    float *d1;             /* n distances to the nearest TRAIN row */
    double exact_share, nndr_median, q05, q50;
} nearest_two;

static int two_nearest(const pann_matrix *Q, const pann_matrix *T, const pann_metric *m,
                       const pann_engine_opts *o, nearest_two *out, pann_error *err)
{
    pann_engine_opts e = search_opts(o, false);
    pann_knn_result r;
    int rc = pann_knn_exact(Q, T, m, 2, &e, &r, err);
    if (rc)
        return rc;
    size_t n = Q->n, zero = 0;
    double *sorted = malloc((n ? n : 1) * sizeof *sorted);
    out->d1 = malloc((n ? n : 1) * sizeof *out->d1);
    if (!sorted || !out->d1) {
        free(sorted);
        free(out->d1);
        pann_knn_result_free(&r);
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", n);
    }
    for (size_t q = 0; q < n; q++) {
        float d1 = r.dist[2 * q], d2 = r.dist[2 * q + 1];
        out->d1[q] = d1;
        zero += d1 == 0;
        sorted[q] = d1 == 0 ? 0.0 : (double)d1 / (double)d2;
    }
    pann_knn_result_free(&r);
    qsort(sorted, n, sizeof *sorted, cmp_double);
    out->nndr_median = pann_quantile_linear(sorted, n, 0.5);
    for (size_t q = 0; q < n; q++)
        sorted[q] = out->d1[q];
    qsort(sorted, n, sizeof *sorted, cmp_double);
    out->q05 = pann_quantile_linear(sorted, n, 0.05);
    out->q50 = pann_quantile_linear(sorted, n, 0.5);
    out->exact_share = n ? (double)zero / (double)n : NAN;
    free(sorted);
    return 0;
}

/* Distances of Q's rows to their nearest row of R; *sorted_out in
 * increasing order when sort is set. */
static int nearest_one(const pann_matrix *Q, const pann_matrix *R, const pann_metric *m,
                       const pann_engine_opts *o, bool sort, float **dist, pann_error *err)
{
    pann_engine_opts e = search_opts(o, false);
    pann_knn_result r;
    int rc = pann_knn_exact(Q, R, m, 1, &e, &r, err);
    if (rc)
        return rc;
    *dist = r.dist;
    r.dist = NULL;
    pann_knn_result_free(&r);
    if (sort)
        qsort(*dist, Q->n, sizeof **dist, cmp_float);
    return 0;
}

/* dcr_share from each SYNTH row's distance to TRAIN and to HOLDOUT. */
static double dcr_share(const float *to_train, const float *to_holdout, size_t n)
{
    double nearer = 0;
    for (size_t i = 0; i < n; i++)
        nearer += to_train[i] < to_holdout[i] ? 1.0 : to_train[i] == to_holdout[i] ? 0.5 : 0.0;
    return n ? nearer / (double)n : NAN;
}

/* The distance membership-inference attack: TRAIN and HOLDOUT rows scored
 * by their distance to the nearest SYNTH row. */
static int mia_auc(const pann_matrix *T, const pann_matrix *S, const pann_matrix *H,
                   const pann_metric *m, const pann_engine_opts *o, double *auc,
                   pann_error *err)
{
    float *t_dist = NULL, *h_dist = NULL;
    int rc = nearest_one(T, S, m, o, true, &t_dist, err);
    if (!rc)
        rc = nearest_one(H, S, m, o, true, &h_dist, err);
    if (!rc)
        *auc = pann_auc_sorted(t_dist, T->n, h_dist, H->n);
    free(t_dist);
    free(h_dist);
    return rc;
}

/* ---- detection: a classifier two-sample test ---------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The first `take` rows of a keyed permutation of M's n rows, in row
 * order; NULL when out of memory. */
static uint32_t *sample_rows(size_t n, size_t take, uint64_t seed)
{
    uint32_t *rows = malloc((take ? take : 1) * sizeof *rows);
    if (!rows)
        return NULL;
    pann_perm perm;
    pann_perm_init(&perm, n, seed, 0);
    for (size_t i = 0; i < take; i++)
        rows[i] = (uint32_t)(take == n ? i : pann_perm_at(&perm, i));
    qsort(rows, take, sizeof *rows, cmp_u32);
    return rows;
}

/* The detection table U: HOLDOUT's sampled rows, then SYNTH's, each class
 * `each` rows; its rows are read here when U is built and again, chunk by
 * chunk, as the queries of its self-match, whose lists are voted on as
 * they come. */
typedef struct detection_table {
    const pann_matrix *H, *S;
    size_t each;
    uint32_t *h_rows, *s_rows;  /* the samples, in row order */
    uint32_t *cls;            /* by row of U: 0 HOLDOUT, 1 SYNTH */
    uint32_t *pred;           /* one chunk's votes */
    size_t correct;
} detection_table;

#define DETECTION_CHUNK 65536

static int fetch_rows(void *ctx, size_t q0, size_t n, float *rows, pann_error *err)
{
    (void)err;
    const detection_table *u = ctx;
    size_t d = u->H->d;
    for (size_t i = q0; i < q0 + n; i++) {
        const float *row = i < u->each ? pann_row(u->H, u->h_rows[i])
                                       : pann_row(u->S, u->s_rows[i - u->each]);
        memcpy(rows + (i - q0) * d, row, d * sizeof *rows);
    }
    return 0;
}

static int vote_lists(void *ctx, size_t q0, const pann_knn_result *r, pann_error *err)
{
    detection_table *u = ctx;
    int rc = pann_knn_vote(r, u->cls, false, u->pred, err);
    for (size_t i = 0; !rc && i < r->n; i++)
        u->correct += u->pred[i] == u->cls[q0 + i];
    return rc;
}

static int detection(const pann_matrix *S, const pann_matrix *H, const pann_metric *m,
                     size_t k, const pann_engine_opts *o, pann_privacy *p, pann_error *err)
{
    size_t each = S->n < H->n ? S->n : H->n, n = 2 * each;
    if (n <= k)
        return pann_fail(err, PANN_EINPUT, "detection: K = %zu neighbours need more than "
                         "%zu rows (%zu of each table)", k, n, each);
    if (S->n >= PANN_NONE || H->n >= PANN_NONE)
        return pann_fail(err, PANN_EINPUT, "detection: a table of %zu rows is too large",
                         S->n > H->n ? S->n : H->n);
    detection_table u = { H, S, each, sample_rows(H->n, each, o->seed),
                          sample_rows(S->n, each, o->seed), malloc(n * sizeof *u.cls),
                          malloc(DETECTION_CHUNK * sizeof *u.pred), 0 };
    pann_matrix U = { 0 };
    int rc = u.h_rows && u.s_rows && u.cls && u.pred ? 0
           : pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", n);
    if (!rc)
        rc = pann_matrix_alloc(&U, n, S->d, err);
    free(U.row_id);   /* U's rows are only ever numbered 0 .. n - 1 */
    U.row_id = NULL;
    for (size_t i = 0; !rc && i < n; i++)
        u.cls[i] = i >= each;
    if (!rc)
        rc = fetch_rows(&u, 0, n, U.v, err);
    pann_engine_opts e = search_opts(o, true);
    if (!rc)   /* the index takes U's values; the queries come back in chunks */
        rc = pann_knn_exact_self_chunks(&U, m, k, &e, DETECTION_CHUNK, fetch_rows,
                                        vote_lists, &u, err);
    if (!rc) {
        p->detection = (double)u.correct / (double)n;
        p->detection_rows = each;
    }
    pann_matrix_free(&U);
    free(u.h_rows);
    free(u.s_rows);
    free(u.cls);
    free(u.pred);
    return rc;
}

/* ---- pairwise dependence ------------------------------------------------ */

/* Pearson correlation of columns a and b of M; 0 when one is constant. */
static double pearson(const pann_matrix *M, size_t a, size_t b)
{
    double ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0;
    for (size_t i = 0; i < M->n; i++) {
        ma += M->v[i * M->d + a];
        mb += M->v[i * M->d + b];
    }
    ma /= (double)M->n;
    mb /= (double)M->n;
    for (size_t i = 0; i < M->n; i++) {
        double x = M->v[i * M->d + a] - ma, y = M->v[i * M->d + b] - mb;
        saa += x * x;
        sbb += y * y;
        sab += x * y;
    }
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0.0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Count of each code of column j (codes are small whole numbers), and the
 * number of codes present. */
static size_t level_counts(const pann_matrix *M, size_t j, size_t *count, size_t ncodes)
{
    memset(count, 0, ncodes * sizeof *count);
    size_t present = 0;
    for (size_t i = 0; i < M->n; i++)
        present += count[(size_t)M->v[i * M->d + j]]++ == 0;
    return present;
}

typedef struct cramer_scratch {
    uint64_t *keys;
    size_t *ca, *cb, ncodes;
} cramer_scratch;

/* Cramer's V of columns a and b of M: chi2 = n (sum n_ij^2 / (n_i n_j) - 1)
 * over the cells present, found by sorting the (code a, code b) pairs. */
static double cramers_v(const pann_matrix *M, size_t a, size_t b, cramer_scratch *w)
{
    size_t ra = level_counts(M, a, w->ca, w->ncodes), rb = level_counts(M, b, w->cb, w->ncodes);
    size_t n = M->n, levels = ra < rb ? ra : rb;
    if (levels < 2)
        return 0.0;
    for (size_t i = 0; i < n; i++)
        w->keys[i] = (uint64_t)M->v[i * M->d + a] << 32 | (uint64_t)M->v[i * M->d + b];
    qsort(w->keys, n, sizeof *w->keys, cmp_u64);
    double sum = 0;
    for (size_t i = 0, run; i < n; i += run) {
        for (run = 1; i + run < n && w->keys[i + run] == w->keys[i]; run++)
            ;
        double nij = (double)run;
        sum += nij * nij / ((double)w->ca[w->keys[i] >> 32] *
                            (double)w->cb[w->keys[i] & 0xffffffffu]);
    }
    double chi2 = (double)n * (sum - 1.0);
    double v2 = chi2 / ((double)n * (double)(levels - 1));
    return v2 > 0 ? sqrt(v2) : 0.0;
}

static size_t max_code(const pann_matrix *A, const pann_matrix *B, const pann_metric *m)
{
    float top = 0;
    for (size_t j = 0; m->is_cat && j < m->d; j++) {
        if (!m->is_cat[j])
            continue;
        for (size_t i = 0; i < A->n; i++)
            top = A->v[i * A->d + j] > top ? A->v[i * A->d + j] : top;
        for (size_t i = 0; i < B->n; i++)
            top = B->v[i * B->d + j] > top ? B->v[i * B->d + j] : top;
    }
    return (size_t)top + 1;
}

int pann_dependence_diff(const pann_matrix *A, const pann_matrix *B, const pann_metric *m,
                         pann_dependence *out, pann_error *err)
{
    memset(out, 0, sizeof *out);
    size_t nmax = A->n > B->n ? A->n : B->n;
    cramer_scratch w = { .ncodes = max_code(A, B, m) };
    w.keys = malloc((nmax ? nmax : 1) * sizeof *w.keys);
    w.ca = malloc(w.ncodes * sizeof *w.ca);
    w.cb = malloc(w.ncodes * sizeof *w.cb);
    if (!w.keys || !w.ca || !w.cb) {
        free(w.keys), free(w.ca), free(w.cb);
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", nmax);
    }
    double corr = 0, cramer = 0;
    for (size_t a = 0; a < m->d; a++)
        for (size_t b = a + 1; b < m->d && A->n && B->n; b++) {
            bool ca = m->is_cat && m->is_cat[a], cb = m->is_cat && m->is_cat[b];
            if (!ca && !cb) {
                corr += fabs(pearson(A, a, b) - pearson(B, a, b));
                out->numeric_pairs++;
            } else if (ca && cb) {
                cramer += fabs(cramers_v(A, a, b, &w) - cramers_v(B, a, b, &w));
                out->categorical_pairs++;
            }
        }
    free(w.keys), free(w.ca), free(w.cb);
    size_t pairs = out->numeric_pairs + out->categorical_pairs;
    out->correlation = out->numeric_pairs ? corr / (double)out->numeric_pairs : NAN;
    out->cramers_v = out->categorical_pairs ? cramer / (double)out->categorical_pairs : NAN;
    out->all = pairs ? (corr + cramer) / (double)pairs : NAN;
    return 0;
}

/* ---- everything --------------------------------------------------------- */

static int check_sizes(const pann_matrix *T, const pann_matrix *S, const pann_matrix *H,
                       pann_error *err)
{
    if (T->n < 2)
        return pann_fail(err, PANN_EINPUT, "TRAIN has %zu row%s: the nearest-neighbour "
                         "distance ratio needs 2", T->n, T->n == 1 ? "" : "s");
    if (S->n == 0 || H->n == 0)
        return pann_fail(err, PANN_EINPUT, "%s has no row", S->n == 0 ? "SYNTH" : "HOLDOUT");
    return 0;
}

int pann_privacy_run(const pann_matrix *T, const pann_matrix *S, const pann_matrix *H,
                     const pann_metric *m, size_t detection_k, const pann_engine_opts *o,
                     pann_privacy *p, pann_error *err)
{
    memset(p, 0, sizeof *p);
    p->detection = NAN;
    int rc = check_sizes(T, S, H, err);
    if (rc)
        return rc;
    p->ntrain = T->n, p->nsynth = S->n, p->nholdout = H->n;
    p->dcr_share_ideal = (double)T->n / (double)(T->n + H->n);
    nearest_two st = {0}, ht = {0};
    float *s_to_h = NULL;
    rc = two_nearest(S, T, m, o, &st, err);
    if (!rc)
        rc = two_nearest(H, T, m, o, &ht, err);
    free(ht.d1);
    if (!rc)
        rc = nearest_one(S, H, m, o, false, &s_to_h, err);
    if (!rc)
        p->dcr_share = dcr_share(st.d1, s_to_h, S->n);
    free(st.d1);
    free(s_to_h);
    p->exact_match_share = st.exact_share, p->holdout_exact_match_share = ht.exact_share;
    p->nndr_median = st.nndr_median, p->holdout_nndr_median = ht.nndr_median;
    p->synth_q05 = st.q05, p->synth_q50 = st.q50;
    p->holdout_q05 = ht.q05, p->holdout_q50 = ht.q50;
    if (!rc)
        rc = mia_auc(T, S, H, m, o, &p->mia_auc, err);
    if (!rc && detection_k)
        rc = detection(S, H, m, detection_k, o, p, err);
    if (!rc)
        rc = pann_dependence_diff(S, H, m, &p->dependence, err);
    if (!rc)
        rc = pann_dependence_diff(T, H, m, &p->holdout_dependence, err);
    return rc;
}
