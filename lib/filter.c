/* filter.c — the decisions of nogan-filter (article, section 2.2): which
 * synthetic rows have a real row close enough (kept), none close enough
 * (too far), or one too close (near copy), every decision proven.
 *
 * Why not random proposals: with a threshold at the scale of real NN
 * distances, only a handful of the m real rows lie within it, so a random
 * candidate stream needs about m/k draws to find one, and dropping a row
 * needs all m.  Instead the real rows are sorted by a projection p = w.x
 * with |w.(x-y)| <= dist(x,y) (L1: w a vector of signs; L2: a unit vector;
 * categorical columns weight 0), cut into tiles of 64 rows, and each query
 * visits tiles nearest in p first, with the blocked SIMD kernels.  A tile
 * whose p-gap exceeds the best distance found cannot hold a closer row, so
 * the search stops with the exact NN distance; with an early-keep radius it
 * stops as soon as a row within it is found.  w is the first principal
 * direction of the real rows (signs of it for L1), which makes p spread
 * the rows as much as one number can.  Cosine gets w = 0: no pruning.
 *
 * Determinism: each query's answer is the minimum of the same float values
 * whatever the order or thread, and counts are integer sums.
 */
#include <config.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pann.h"

#define TILE_BLOCKS 4
#define TILE_ROWS (TILE_BLOCKS * PANN_LANES)
#define PCA_MAX_DIMS 64
#define PCA_ITERATIONS 60

struct pann_filter_index {
    const pann_metric *metric;
    pann_matrix sorted;          /* R's rows in increasing projection */
    size_t *orig;                /* R row of each sorted position */
    double *w;                   /* projection weights, d */
    pann_blocks blocks;
    size_t ntiles;
    double *tile_lo, *tile_hi;   /* projection range of each tile */
    double rel_margin;           /* float rounding allowance of kernels */
    bool prune;                  /* false for cosine: no projection bound */
};

void pann_filter_opts_init(pann_filter_opts *o)
{
    memset(o, 0, sizeof *o);
    o->select = PANN_SELECT_RATIO;
    o->ratio_k = PANN_RATIO_K;
    o->accept_quantile = PANN_RATIO_ACCEPT_QUANTILE;
    o->shrink = PANN_RATIO_SHRINK_AUTO;
    o->max_rule = PANN_MAX_REAL_QUANTILE;
    o->max_value = 0.95;
    o->min_rule = PANN_MIN_NONE;
    o->dcr_sample = 10000;
    o->seed = 1;
}

void pann_filter_result_free(pann_filter_result *r)
{
    free(r->decision);
    free(r->dist);
    free(r->real_loo);
    free(r->ratio);
    memset(r, 0, sizeof *r);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

double pann_quantile_sorted(float *v, size_t n, double q)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, cmp_float);
    size_t k = (size_t)ceil(q * (double)n);
    return v[k ? k - 1 : 0];
}

double pann_median_sorted(const float *v, size_t n)
{
    if (n == 0)
        return NAN;
    return n % 2 ? v[n / 2] : 0.5 * ((double)v[n / 2 - 1] + (double)v[n / 2]);
}

static double project(const pann_filter_index *ix, const float *x)
{
    double p = 0;
    for (size_t j = 0; j < ix->sorted.d; j++)
        p += ix->w[j] * (double)x[j];
    return p;
}

/* First principal direction of R's numeric columns by power iteration on
 * their covariance (deterministic start: all ones). */
static void principal_direction(const pann_matrix *R, const unsigned char *is_cat,
                                double *w, double *cov, double *mean)
{
    size_t d = R->d;
    memset(cov, 0, d * d * sizeof *cov);
    memset(mean, 0, d * sizeof *mean);
    for (size_t i = 0; i < R->n; i++)
        for (size_t j = 0; j < d; j++)
            mean[j] += pann_row(R, i)[j] / (double)R->n;
    for (size_t i = 0; i < R->n; i++) {
        const float *x = pann_row(R, i);
        for (size_t a = 0; a < d; a++)
            for (size_t b = 0; b < d; b++)
                cov[a * d + b] += (x[a] - mean[a]) * (x[b] - mean[b]);
    }
    for (size_t j = 0; j < d; j++)
        w[j] = is_cat && is_cat[j] ? 0.0 : 1.0;
    for (int it = 0; it < PCA_ITERATIONS; it++) {
        double norm = 0;
        for (size_t a = 0; a < d; a++) {
            double s = 0;
            for (size_t b = 0; b < d; b++)
                s += cov[a * d + b] * w[b];
            mean[a] = is_cat && is_cat[a] ? 0.0 : s;   /* reuse as scratch */
            norm += mean[a] * mean[a];
        }
        if (!(norm > 0))
            return;      /* all numeric columns constant: keep the ones */
        for (size_t a = 0; a < d; a++)
            w[a] = mean[a] / sqrt(norm);
    }
}

/* Weights with |w.(x-y)| <= dist(x,y) for the metric. */
static int projection_weights(pann_filter_index *ix, const pann_matrix *R, pann_error *err)
{
    const pann_metric *m = ix->metric;
    size_t d = R->d;
    const unsigned char *cat = m->is_cat;
    if (m->kind == PANN_COSINE) {
        memset(ix->w, 0, d * sizeof *ix->w);
        return 0;
    }
    if (d <= PCA_MAX_DIMS) {
        double *cov = malloc((d * d + d + 1) * sizeof *cov);
        if (!cov)
            return pann_fail(err, PANN_ESYSTEM, "out of memory");
        principal_direction(R, cat, ix->w, cov, cov + d * d);
        free(cov);
    } else {
        size_t nnum = 0;
        for (size_t j = 0; j < d; j++)
            nnum += !(cat && cat[j]);
        for (size_t j = 0; j < d; j++)
            ix->w[j] = cat && cat[j] ? 0.0 : 1.0 / sqrt((double)(nnum ? nnum : 1));
    }
    if (m->kind == PANN_L1)    /* dual norm of L1 is max |w_j| <= 1 */
        for (size_t j = 0; j < d; j++)
            ix->w[j] = cat && cat[j] ? 0.0 : (ix->w[j] < 0 ? -1.0 : 1.0);
    return 0;
}

typedef struct proj_key {
    double p;
    size_t i;
} proj_key;

static int cmp_proj(const void *a, const void *b)
{
    const proj_key *x = a, *y = b;
    if (x->p != y->p)
        return x->p < y->p ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* keys[i] = (projection of row i of S, or of rows[i]; i), sorted. */
static proj_key *sorted_projection(const pann_filter_index *ix, const pann_matrix *S,
                                   const size_t *rows, size_t n)
{
    proj_key *keys = malloc((n ? n : 1) * sizeof *keys);
    if (!keys)
        return NULL;
    for (size_t i = 0; i < n; i++)
        keys[i] = (proj_key){ project(ix, pann_row(S, rows ? rows[i] : i)), i };
    qsort(keys, n, sizeof *keys, cmp_proj);
    return keys;
}

static int build_tiles(pann_filter_index *ix, const pann_matrix *R, const proj_key *keys,
                       pann_error *err)
{
    size_t n = R->n, d = R->d;
    for (size_t s = 0; s < n; s++) {
        ix->orig[s] = keys[s].i;
        memcpy(ix->sorted.v + s * d, pann_row(R, keys[s].i), d * sizeof(float));
    }
    int rc = pann_blocks_build(&ix->blocks, &ix->sorted, err);
    if (rc)
        return rc;
    ix->ntiles = (n + TILE_ROWS - 1) / TILE_ROWS;
    ix->tile_lo = malloc((ix->ntiles + 1) * sizeof *ix->tile_lo);
    ix->tile_hi = malloc((ix->ntiles + 1) * sizeof *ix->tile_hi);
    if (!ix->tile_lo || !ix->tile_hi)
        return pann_fail(err, PANN_ESYSTEM, "out of memory");
    for (size_t t = 0; t < ix->ntiles; t++) {
        size_t last = (t + 1) * TILE_ROWS < n ? (t + 1) * TILE_ROWS - 1 : n - 1;
        ix->tile_lo[t] = keys[t * TILE_ROWS].p;
        ix->tile_hi[t] = keys[last].p;
    }
    return 0;
}

int pann_filter_index_build(pann_filter_index **out, const pann_matrix *R,
                            const pann_metric *m, pann_error *err)
{
    *out = NULL;
    if (R->n == 0)
        return pann_fail(err, PANN_EINPUT, "the real table has no rows");
    pann_filter_index *ix = calloc(1, sizeof *ix);
    if (!ix)
        return pann_fail(err, PANN_ESYSTEM, "out of memory");
    ix->metric = m;
    ix->prune = m->kind != PANN_COSINE;
    /* float sums of d terms are within (d+1) ulps of the exact value:
     * a pruning gap must beat the best distance by more than that */
    ix->rel_margin = 4.0 * (double)(R->d + 4) * FLT_EPSILON;
    int rc = pann_matrix_alloc(&ix->sorted, R->n, R->d, err);
    if (rc) {
        free(ix);
        return rc;
    }
    ix->orig = malloc(R->n * sizeof *ix->orig);
    ix->w = malloc((R->d ? R->d : 1) * sizeof *ix->w);
    proj_key *keys = NULL;
    if (!ix->orig || !ix->w)
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory");
    if (!rc)
        rc = projection_weights(ix, R, err);
    if (!rc && !(keys = sorted_projection(ix, R, NULL, R->n)))
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory");
    if (!rc)
        rc = build_tiles(ix, R, keys, err);
    free(keys);
    if (rc) {
        pann_filter_index_free(ix);
        return rc;
    }
    *out = ix;
    return 0;
}

void pann_filter_index_free(pann_filter_index *ix)
{
    if (!ix)
        return;
    pann_matrix_free(&ix->sorted);
    if (ix->blocks.v)
        pann_blocks_free(&ix->blocks);
    free(ix->orig);
    free(ix->w);
    free(ix->tile_lo);
    free(ix->tile_hi);
    free(ix);
}

/* First tile whose upper projection bound is >= p. */
static size_t tile_at(const pann_filter_index *ix, double p)
{
    size_t lo = 0, hi = ix->ntiles;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->tile_hi[mid] < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Lowest comparison value of x with the rows of tile t (self skipped). */
static float scan_tile(const pann_filter_index *ix, const float *x, size_t t, size_t self,
                       float best, uint64_t *evals)
{
    _Alignas(64) float vals[TILE_ROWS];
    size_t first = t * TILE_BLOCKS;
    size_t nblk = ix->blocks.nblocks - first < TILE_BLOCKS ? ix->blocks.nblocks - first
                                                           : TILE_BLOCKS;
    size_t row0 = first * PANN_LANES;
    size_t nrows = ix->sorted.n - row0 < nblk * PANN_LANES ? ix->sorted.n - row0
                                                           : nblk * PANN_LANES;
    pann_block_cmp(ix->metric, &ix->blocks, first, nblk, &x, 1, vals);
    for (size_t i = 0; i < nrows; i++)
        if (vals[i] < best && ix->orig[row0 + i] != self)
            best = vals[i];
    *evals += nrows;
    return best;
}

/* Exact NN distance of x (or an upper bound <= keep_dist, *early = 1):
 * tiles are visited by increasing projection gap; the search ends when the
 * next gap proves that no unvisited row can be closer. */
static float nn_one(const pann_filter_index *ix, const float *x, size_t self,
                    double keep_dist, unsigned char *early, uint64_t *evals)
{
    const pann_metric *m = ix->metric;
    double px = project(ix, x);
    double slack = 1.0 + ix->rel_margin, abs_slack = 1e-9 * (1.0 + fabs(px));
    size_t up = tile_at(ix, px), down = up;      /* down: tiles below `down` */
    float best = INFINITY;
    double best_dist = INFINITY;
    *early = 0;
    for (;;) {
        double gap_up = up < ix->ntiles ? fmax(0.0, ix->tile_lo[up] - px) : INFINITY;
        double gap_down = down > 0 ? fmax(0.0, px - ix->tile_hi[down - 1]) : INFINITY;
        bool go_up = gap_up <= gap_down;
        double gap = go_up ? gap_up : gap_down;
        if (gap == INFINITY || (ix->prune && gap > best_dist * slack + abs_slack))
            break;
        best = scan_tile(ix, x, go_up ? up++ : --down, self, best, evals);
        best_dist = (float)pann_cmp_to_dist(m, best);
        if (keep_dist >= 0 && best_dist <= keep_dist) {
            *early = 1;
            break;
        }
    }
    return (float)best_dist;
}

int pann_filter_nn(const pann_filter_index *ix, const pann_matrix *S,
                   const size_t *rows, size_t nrows, bool self_exclude,
                   double keep_dist, int threads, float *best,
                   unsigned char *early, uint64_t *evaluations, pann_error *err)
{
    size_t n = rows ? nrows : S->n;
    if (S->d != ix->sorted.d)
        return pann_fail(err, PANN_EINPUT, "the two tables have %zu and %zu columns",
                         S->d, ix->sorted.d);
    proj_key *keys = sorted_projection(ix, S, rows, n);
    if (!keys)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", n);
    uint64_t total = 0;
    /* queries in projection order: neighbours share tiles in cache */
#pragma omp parallel for schedule(dynamic, 64) num_threads(pann_threads(threads)) \
    reduction(+:total)
    for (size_t k = 0; k < n; k++) {
        size_t i = keys[k].i, row = rows ? rows[i] : i;
        unsigned char e;
        uint64_t ev = 0;
        best[i] = nn_one(ix, pann_row(S, row), self_exclude ? row : SIZE_MAX,
                         keep_dist, &e, &ev);
        if (early)
            early[i] = e;
        total += ev;
    }
    free(keys);
    *evaluations += total;
    return 0;
}

/* ---- the decisions ------------------------------------------------------ */

/* Exact NN distances by brute force (pann_exact_run): the --exact path. */
static int brute_nn(const pann_matrix *S, const pann_matrix *R, const pann_metric *m,
                    bool self_exclude, int threads, float *dist, uint64_t *evaluations,
                    pann_error *err)
{
    pann_engine_opts eo;
    pann_engine_opts_init(&eo);
    eo.self_exclude = self_exclude;
    eo.threads = threads;
    /* every pair, as documented: the auto choice may take a tree search,
     * whose evaluation count would depend on how the rows are batched */
    eo.exact_method = PANN_EXACT_BRUTE;
    pann_result r;
    int rc = pann_exact_run(S, R, m, &eo, &r, err);
    if (rc)
        return rc;
    memcpy(dist, r.dist, S->n * sizeof *dist);
    *evaluations += r.iterations;
    pann_result_free(&r);
    return 0;
}

/* The near-copy threshold from the holdout: the quantile of the holdout
 * rows' exact NN distances to the real rows. */
static int holdout_threshold(const pann_matrix *R, const pann_metric *m,
                             const pann_filter_index *ix, const pann_filter_opts *o,
                             pann_filter_result *r, pann_error *err)
{
    const pann_matrix *H = o->holdout;
    float *d = malloc((H->n ? H->n : 1) * sizeof *d);
    if (!d)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", H->n);
    int rc = o->exact || !ix
             ? brute_nn(H, R, m, false, o->threads, d, &r->evaluations, err)
             : pann_filter_nn(ix, H, NULL, 0, false, -1.0, o->threads, d, NULL,
                              &r->evaluations, err);
    if (!rc) {
        r->min_dist = pann_quantile_sorted(d, H->n, o->min_value);
        r->holdout_median = pann_median_sorted(d, H->n);
        r->holdout_rows = H->n;
    }
    free(d);
    return rc;
}

/* Real rows' leave-one-out NN distances, sorted; median and thresholds. */
static int real_thresholds(const pann_matrix *R, const pann_metric *m,
                           const pann_filter_index *ix, const pann_filter_opts *o,
                           pann_filter_result *r, pann_error *err)
{
    r->median_real = NAN;
    r->holdout_median = NAN;
    if (o->min_rule == PANN_MIN_HOLDOUT_QUANTILE) {
        int rc = holdout_threshold(R, m, ix, o, r, err);
        if (rc)
            return rc;
    }
    if (R->n < 2)
        return 0;
    float *loo = malloc(R->n * sizeof *loo);
    if (!loo)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", R->n);
    int rc = o->exact ? brute_nn(R, R, m, true, o->threads, loo, &r->evaluations, err)
                      : pann_filter_nn(ix, R, NULL, 0, true, -1.0, o->threads, loo, NULL,
                                       &r->evaluations, err);
    if (!rc) {
        if (o->select == PANN_SELECT_DISTANCE && o->max_rule == PANN_MAX_REAL_QUANTILE)
            r->max_dist = pann_quantile_sorted(loo, R->n, o->max_value);
        if (o->min_rule == PANN_MIN_REAL_QUANTILE)
            r->min_dist = pann_quantile_sorted(loo, R->n, o->min_value);
        qsort(loo, R->n, sizeof *loo, cmp_float);
        r->median_real = pann_median_sorted(loo, R->n);
        free(r->real_loo);      /* kept (sorted) for medians over groups */
        r->real_loo = loo;
        r->nreal_loo = R->n;
    } else {
        free(loo);
    }
    return rc;
}

static bool near_copy(const pann_filter_opts *o, const pann_filter_result *r, float d)
{
    return (!isnan(r->min_dist) && d < r->min_dist) || (o->drop_copies && d == 0.0f);
}

typedef struct ranked {
    float dist;
    size_t row;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->dist != y->dist)
        return x->dist < y->dist ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

/* --quantile and --keep: the threshold comes from the exact distances of
 * the rows that are not near copies; --keep breaks ties by row order. */
static int synth_threshold(const pann_filter_opts *o, pann_filter_result *r, pann_error *err)
{
    ranked *v = malloc((r->n ? r->n : 1) * sizeof *v);
    if (!v)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", r->n);
    size_t count = 0;
    for (size_t k = 0; k < r->n; k++)
        if (r->decision[k] != PANN_FILTER_NEAR_COPY)
            v[count++] = (ranked){ r->dist[k], k };
    qsort(v, count, sizeof *v, cmp_ranked);
    if (o->max_rule == PANN_MAX_KEEP) {
        size_t keep = o->keep < count ? o->keep : count;
        r->max_dist = keep ? v[keep - 1].dist : NAN;
        for (size_t i = keep; i < count; i++)
            r->decision[v[i].row] = PANN_FILTER_TOO_FAR;
    } else {
        size_t k = (size_t)ceil(o->max_value * (double)count);
        r->max_dist = count ? v[k ? k - 1 : 0].dist : NAN;
        for (size_t i = 0; i < count; i++)
            if (v[i].dist > r->max_dist)
                r->decision[v[i].row] = PANN_FILTER_TOO_FAR;
    }
    free(v);
    return 0;
}

/* The DCR sample: pick[0..k) are k of the n rows, chosen by seed. */
static void dcr_pick(size_t *pick, size_t n, size_t k, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        pick[i] = i;
    for (size_t i = 0; i < k && k < n; i++) {   /* partial Fisher-Yates */
        size_t j = i + (size_t)(pann_uniform3(seed, 0xdc5a3b1eULL, i) * (double)(n - i));
        size_t tmp = pick[i]; pick[i] = pick[j]; pick[j] = tmp;
    }
}

/* Median synthetic NN distance: over every row when all are exact, else
 * over a seeded uniform sample whose early-kept rows are searched fully. */
static int synth_median(const pann_matrix *S, const pann_filter_index *ix,
                        const pann_filter_opts *o, pann_filter_result *r, pann_error *err)
{
    size_t n = S->n, k = o->dcr_sample && o->dcr_sample < n ? o->dcr_sample : n;
    size_t *pick = malloc((n ? n : 1) * sizeof *pick);
    float *d = malloc((n ? n : 1) * sizeof *d);
    int rc = 0;
    if (!pick || !d) {
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", n);
        goto done;
    }
    dcr_pick(pick, n, k, o->seed);
    size_t missing = 0;
    for (size_t i = 0; i < k; i++)
        if (isnan(r->dist[pick[i]])) {   /* early-kept: distance unknown */
            size_t tmp = pick[missing]; pick[missing] = pick[i]; pick[i] = tmp;
            missing++;
        }
    if (missing)
        rc = pann_filter_nn(ix, S, pick, missing, false, -1.0, o->threads, d, NULL,
                            &r->evaluations, err);
    /* rebuild the sample's distances: searched ones first, then the rest */
    if (!rc) {
        size_t filled = missing;
        for (size_t i = missing; i < k; i++)
            d[filled++] = r->dist[pick[i]];
        qsort(d, k, sizeof *d, cmp_float);
        r->median_synth = pann_median_sorted(d, k);
        r->median_synth_rows = k;
    }
done:
    free(pick);
    free(d);
    return rc;
}

static int check_opts(const pann_matrix *R, const pann_matrix *S, const pann_metric *m,
                      const pann_filter_opts *o, pann_error *err)
{
    if (R->n == 0)
        return pann_fail(err, PANN_EINPUT, "the real table has no rows");
    if (S->d != R->d || R->d != m->d)
        return pann_fail(err, PANN_EINPUT, "the two tables have %zu and %zu columns",
                         R->d, S->d);
    if (R->n >= PANN_NONE)
        return pann_fail(err, PANN_EINPUT, "the real table has too many rows (%zu)", R->n);
    bool max_q = o->max_rule == PANN_MAX_REAL_QUANTILE || o->max_rule == PANN_MAX_SYNTH_QUANTILE;
    if ((max_q && !(o->max_value >= 0 && o->max_value <= 1))
        || (o->min_rule == PANN_MIN_REAL_QUANTILE && !(o->min_value >= 0 && o->min_value <= 1)))
        return pann_fail(err, PANN_EINPUT, "a quantile must be between 0 and 1");
    bool distance = o->select == PANN_SELECT_DISTANCE;
    if (!distance && (o->ratio_k < 1 || !(o->accept_quantile > 0 && o->accept_quantile <= 1)))
        return pann_fail(err, PANN_EINPUT, "the ratio selection needs K >= 1 and an "
                         "acceptance quantile in (0, 1]");
    if (o->min_rule == PANN_MIN_HOLDOUT_QUANTILE
        && (!o->holdout || o->holdout->n == 0 || o->holdout->d != R->d
            || !(o->min_value >= 0 && o->min_value <= 1)))
        return pann_fail(err, PANN_EINPUT, "the holdout near-copy rule needs holdout rows "
                         "with the real table's columns and a quantile in [0, 1]");
    if (((distance && o->max_rule == PANN_MAX_REAL_QUANTILE)
         || o->min_rule == PANN_MIN_REAL_QUANTILE) && R->n < 2)
        return pann_fail(err, PANN_EINPUT, "a threshold from the real rows' leave-one-out "
                         "distances needs at least 2 real rows (give a distance instead)");
    return 0;
}

/* Decisions from the distances: near copies first, then too far. */
static void decide(const pann_filter_opts *o, pann_filter_result *r, const unsigned char *early)
{
    bool deferred = o->max_rule == PANN_MAX_SYNTH_QUANTILE || o->max_rule == PANN_MAX_KEEP;
    for (size_t k = 0; k < r->n; k++) {
        if (early && early[k]) {
            r->decision[k] = PANN_FILTER_KEEP;
            r->dist[k] = NAN;          /* only an upper bound is known */
        } else if (near_copy(o, r, r->dist[k]))
            r->decision[k] = PANN_FILTER_NEAR_COPY;
        else if (!deferred && r->dist[k] > r->max_dist)
            r->decision[k] = PANN_FILTER_TOO_FAR;
        else
            r->decision[k] = PANN_FILTER_KEEP;
    }
}

static void count(pann_filter_result *r, const unsigned char *early, const pann_matrix *R)
{
    for (size_t k = 0; k < r->n; k++) {
        r->kept += r->decision[k] == PANN_FILTER_KEEP;
        r->too_far += r->decision[k] == PANN_FILTER_TOO_FAR;
        r->near_copy += r->decision[k] == PANN_FILTER_NEAR_COPY;
        r->excess += r->decision[k] == PANN_FILTER_EXCESS;
        r->settled_early += early && early[k];
    }
    r->settled_full = r->n - r->settled_early;
    /* the ratio selection searches SYNTH too */
    double brute = (double)r->n * (double)(R->n + (r->ratio ? r->n : 0));
    r->work_fraction = brute > 0 ? (double)r->evaluations / brute : 0.0;
}

/* The distance rule on rows held in memory. */
static int run_distance(const pann_matrix *R, const pann_matrix *S, const pann_metric *m,
                        const pann_filter_opts *o, pann_filter_result *r, pann_error *err)
{
    unsigned char *early = NULL;
    pann_filter_index *ix = NULL;
    bool all_exact = o->exact || o->max_rule == PANN_MAX_SYNTH_QUANTILE
                     || o->max_rule == PANN_MAX_KEEP;
    int rc = o->exact ? 0 : pann_filter_index_build(&ix, R, m, err);
    if (!rc)
        rc = real_thresholds(R, m, ix, o, r, err);
    /* a row may stop at the first real row within max_dist only when that
     * settles it: no near-copy test and a threshold known in advance */
    bool early_keep = !all_exact && o->min_rule == PANN_MIN_NONE && !o->drop_copies;
    if (!rc && early_keep && !(early = calloc(r->n ? r->n : 1, 1)))
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", r->n);
    if (!rc)
        rc = o->exact ? brute_nn(S, R, m, false, o->threads, r->dist, &r->evaluations, err)
                      : pann_filter_nn(ix, S, NULL, 0, false, early_keep ? r->max_dist : -1.0,
                                       o->threads, r->dist, early, &r->evaluations, err);
    if (!rc) {
        decide(o, r, early);
        if (o->max_rule == PANN_MAX_SYNTH_QUANTILE || o->max_rule == PANN_MAX_KEEP)
            rc = synth_threshold(o, r, err);
    }
    if (!rc)
        rc = synth_median(S, ix, all_exact ? (&(pann_filter_opts){ .dcr_sample = 0 }) : o,
                          r, err);
    if (!rc)
        count(r, early, R);
    free(early);
    pann_filter_index_free(ix);
    return rc;
}

/* The ratio selection on rows held in memory: every distance is exact. */
static int run_ratio(const pann_matrix *R, const pann_matrix *S, const pann_metric *m,
                     const pann_filter_opts *o, pann_filter_result *r, pann_error *err)
{
    pann_filter_index *ix = NULL;
    int rc = o->exact ? 0 : pann_filter_index_build(&ix, R, m, err);
    if (!rc)
        rc = real_thresholds(R, m, ix, o, r, err);
    pann_filter_index_free(ix);
    if (!rc)
        rc = pann_filter_ratio_decide(R, S, m, o, r, err);
    if (!rc)
        rc = synth_median(S, NULL, &(pann_filter_opts){ .dcr_sample = 0 }, r, err);
    if (!rc)
        count(r, NULL, R);
    return rc;
}

int pann_filter_run(const pann_matrix *R, const pann_matrix *S,
                    const pann_metric *m, const pann_filter_opts *o,
                    pann_filter_result *r, pann_error *err)
{
    memset(r, 0, sizeof *r);
    int rc = check_opts(R, S, m, o, err);
    if (rc)
        return rc;
    r->n = S->n;
    r->min_dist = o->min_rule == PANN_MIN_DIST ? o->min_value : NAN;
    r->max_dist = o->select == PANN_SELECT_DISTANCE && o->max_rule == PANN_MAX_DIST
                  ? o->max_value : NAN;
    r->accept_constant = NAN;
    r->decision = malloc(r->n ? r->n : 1);
    r->dist = malloc((r->n ? r->n : 1) * sizeof *r->dist);
    if (!r->decision || !r->dist)
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", r->n);
    if (!rc)
        rc = o->select == PANN_SELECT_RATIO ? run_ratio(R, S, m, o, r, err)
                                            : run_distance(R, S, m, o, r, err);
    if (!rc && o->fidelity)
        rc = pann_filter_fidelity(o->fidelity_ref ? o->fidelity_ref : R, S, m, o, r, err);
    if (rc)
        pann_filter_result_free(r);
    return rc;
}

/* ---- streaming the synthetic rows ---------------------------------------
 * The same decisions, chunk by chunk: REAL (index, thresholds) stays in
 * memory, SYNTH is read, encoded with REAL's schema, decided and written a
 * chunk at a time; what outlives a chunk is one decision byte, one float
 * and one early flag per row.  Two things need every row first: the
 * --quantile/--keep threshold (rows are then written in a second pass) and
 * the DCR sample, which is drawn from all n rows and needs the exact
 * distance of its rows that were kept early (searched in a second pass).
 * The ratio selection and the fidelity figures hold every encoded row
 * (the matrix, not the text): rows are decided after pass 1 and written in
 * pass 2.
 * A second pass re-reads the file; a pipe is spooled to a temporary file. */

typedef struct stream_state {
    const pann_matrix *R;
    const pann_metric *m;
    const pann_filter_opts *o;
    const pann_filter_input *in;
    pann_filter_index *ix;
    pann_filter_result *r;       /* decision and dist grow with the rows */
    unsigned char *early;        /* NULL unless rows may be kept early */
    size_t cap;
    bool deferred, all_exact, early_keep;
    size_t *cols;                /* SYNTH's columns in schema order */
    size_t *need;                /* rows whose exact distance the DCR needs */
    float *need_dist;
    size_t nneed, rows_read, dropped;
    bool collect;                /* SYNTH's encoded rows are held in all */
    pann_matrix all;
    size_t all_cap;
} stream_state;

int pann_filter_check(const pann_matrix *R, const pann_metric *m,
                      const pann_filter_opts *o, pann_error *err)
{
    return check_opts(R, R, m, o, err);
}

static int stream_grow(stream_state *st, size_t n, pann_error *err)
{
    if (n <= st->cap)
        return 0;
    size_t cap = st->cap ? st->cap : 65536;
    while (cap < n)
        cap *= 2;
    unsigned char *dec = realloc(st->r->decision, cap);
    if (dec)
        st->r->decision = dec;
    float *dist = realloc(st->r->dist, cap * sizeof *dist);
    if (dist)
        st->r->dist = dist;
    unsigned char *early = st->early_keep ? realloc(st->early, cap) : NULL;
    if (early)
        st->early = early;
    if (!dec || !dist || (st->early_keep && !early))
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", n);
    st->cap = cap;
    return 0;
}

/* Distances and decisions of one chunk's rows, appended after the others. */
static int stream_decide(stream_state *st, const pann_matrix *S, pann_error *err)
{
    pann_filter_result *r = st->r;
    size_t base = r->n;
    int rc = stream_grow(st, base + S->n, err);
    if (rc)
        return rc;
    unsigned char *early = st->early ? st->early + base : NULL;
    rc = st->o->exact
         ? brute_nn(S, st->R, st->m, false, st->o->threads, r->dist + base, &r->evaluations, err)
         : pann_filter_nn(st->ix, S, NULL, 0, false, st->early_keep ? r->max_dist : -1.0,
                          st->o->threads, r->dist + base, early, &r->evaluations, err);
    if (rc)
        return rc;
    pann_filter_result view = *r;
    view.n = S->n;
    view.decision = r->decision + base;
    view.dist = r->dist + base;
    decide(st->o, &view, early);
    r->n = base + S->n;
    return 0;
}

/* The chunk's encoded rows appended to st->all (the ratio selection and
 * the fidelity figures need every row). */
static int stream_collect(stream_state *st, const pann_matrix *S, pann_error *err)
{
    pann_matrix *a = &st->all;
    size_t need = a->n + S->n;
    if (need > st->all_cap) {
        size_t cap = st->all_cap ? st->all_cap : 65536;
        while (cap < need)
            cap *= 2;
        pann_matrix grown;
        int rc = pann_matrix_alloc(&grown, cap, S->d, err);
        if (rc)
            return rc;
        if (a->n)
            memcpy(grown.v, a->v, a->n * a->d * sizeof *a->v);
        grown.n = a->n;
        pann_matrix_free(a);
        *a = grown;
        st->all_cap = cap;
    }
    memcpy(a->v + a->n * S->d, S->v, S->n * S->d * sizeof *S->v);
    a->n = need;
    a->d = S->d;
    return 0;
}

/* Ratio selection, pass 1: rows only collected, decided once all are in. */
static int stream_hold(stream_state *st, const pann_matrix *S, pann_error *err)
{
    int rc = stream_grow(st, st->r->n + S->n, err);
    if (!rc)
        st->r->n += S->n;
    return rc;
}

/* Header (first chunk) and the chunk's rows, in file order; base is the
 * result index of the chunk's first matrix row. */
static int stream_emit(stream_state *st, const pann_table *t, const pann_matrix *S,
                       size_t base, bool header, pann_error *err)
{
    const pann_filter_input *in = st->in;
    int rc = header ? in->emit(in->ctx, t, SIZE_MAX, 0, NAN, err) : 0;
    for (size_t i = 0, k = 0; !rc && i < t->nrows; i++) {
        if (k < S->n && S->row_id[k] == i) {
            rc = in->emit(in->ctx, t, i, st->r->decision[base + k], st->r->dist[base + k], err);
            k++;
        } else {
            rc = in->emit(in->ctx, t, i, -1, NAN, err);
        }
    }
    return rc;
}

/* Exact distances of the chunk's rows that the DCR sample still needs. */
static int stream_resolve(stream_state *st, const pann_matrix *S, size_t base, pann_error *err)
{
    size_t lo = 0, hi = st->nneed;      /* need[lo..hi): rows of this chunk */
    while (lo < st->nneed && st->need[lo] < base)
        lo++;
    hi = lo;
    while (hi < st->nneed && st->need[hi] < base + S->n)
        hi++;
    if (hi == lo)
        return 0;
    size_t *rows = malloc((hi - lo) * sizeof *rows);
    if (!rows)
        return pann_fail(err, PANN_ESYSTEM, "out of memory");
    for (size_t i = lo; i < hi; i++)
        rows[i - lo] = st->need[i] - base;
    int rc = pann_filter_nn(st->ix, S, rows, hi - lo, false, -1.0, st->o->threads,
                            st->need_dist + lo, NULL, &st->r->evaluations, err);
    free(rows);
    return rc;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* The sample's rows kept early: their exact distance is still to find. */
static int stream_sample(stream_state *st, size_t **pick_out, size_t *k_out, pann_error *err)
{
    size_t n = st->r->n, ds = st->all_exact ? 0 : st->o->dcr_sample;
    size_t k = ds && ds < n ? ds : n;
    size_t *pick = malloc((n ? n : 1) * sizeof *pick);
    if (!pick)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", n);
    dcr_pick(pick, n, k, st->o->seed);
    st->nneed = 0;
    for (size_t i = 0; i < k; i++)
        st->nneed += isnan(st->r->dist[pick[i]]);
    st->need = malloc((st->nneed ? st->nneed : 1) * sizeof *st->need);
    st->need_dist = malloc((st->nneed ? st->nneed : 1) * sizeof *st->need_dist);
    if (!st->need || !st->need_dist) {
        free(pick);
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", n);
    }
    size_t j = 0;
    for (size_t i = 0; i < k; i++)
        if (isnan(st->r->dist[pick[i]]))
            st->need[j++] = pick[i];
    qsort(st->need, st->nneed, sizeof *st->need, cmp_size);
    *pick_out = pick;
    *k_out = k;
    return 0;
}

/* The median of the sample's exact distances (as synth_median). */
static int stream_median(stream_state *st, const size_t *pick, size_t k, pann_error *err)
{
    float *d = malloc((k ? k : 1) * sizeof *d);
    if (!d)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", k);
    for (size_t i = 0; i < k; i++) {
        d[i] = st->r->dist[pick[i]];
        if (isnan(d[i])) {
            const size_t *at = bsearch(&pick[i], st->need, st->nneed, sizeof *st->need,
                                       cmp_size);
            d[i] = st->need_dist[at - st->need];
        }
    }
    qsort(d, k, sizeof *d, cmp_float);
    st->r->median_synth = pann_median_sorted(d, k);
    st->r->median_synth_rows = k;
    free(d);
    return 0;
}

/* One chunk read and encoded; *S is empty at the end of the input. */
static int stream_chunk(stream_state *st, pann_reader *rd, pann_table *t, pann_matrix *S,
                        size_t *dropped, pann_error *err)
{
    const pann_filter_input *in = st->in;
    size_t rows = in->chunk_rows ? in->chunk_rows : PANN_FILTER_CHUNK_ROWS;
    if (rows == SIZE_MAX)
        rows = 0;
    int rc = pann_reader_next(rd, rows, in->chunk_bytes, t, err);
    if (!rc && !st->cols) {
        size_t d = in->schema->d;
        if (!(st->cols = malloc((d ? d : 1) * sizeof *st->cols)))
            return pann_fail(err, PANN_ESYSTEM, "out of memory");
        rc = pann_columns_match(in->ref, in->ref_cols, d, t, st->cols, err);
    }
    if (!rc)
        rc = pann_encode_with_schema(in->schema, t, st->cols, in->encode, S, dropped, err);
    return rc;
}

/* Pass 1: every row decided; written at once unless the threshold waits. */
static int stream_pass1(stream_state *st, pann_reader *rd, pann_error *err)
{
    const pann_filter_input *in = st->in;
    int rc = 0;
    for (bool first = true; !rc; first = false) {
        pann_table t;
        pann_matrix S = { 0 };
        size_t dropped = 0, base = st->r->n;
        rc = stream_chunk(st, rd, &t, &S, &dropped, err);
        if (!rc && in->check)
            rc = in->check(in->ctx, &t, &S, err);
        bool ratio = st->o->select == PANN_SELECT_RATIO;
        if (!rc && S.n)
            rc = ratio ? stream_hold(st, &S, err) : stream_decide(st, &S, err);
        if (!rc && S.n && st->collect)
            rc = stream_collect(st, &S, err);
        if (!rc && !st->deferred)
            rc = stream_emit(st, &t, &S, base, first, err);
        st->rows_read += t.nrows;
        st->dropped += dropped;
        bool end = t.nrows == 0;
        pann_matrix_free(&S);
        if (end)
            break;
    }
    return rc;
}

/* Pass 2: the DCR sample's missing distances; deferred rows written. */
static int stream_pass2(stream_state *st, pann_reader *rd, pann_error *err)
{
    int rc = pann_reader_rewind(rd, err);
    size_t base = 0;
    for (bool first = true; !rc; first = false) {
        pann_table t;
        pann_matrix S = { 0 };
        rc = stream_chunk(st, rd, &t, &S, NULL, err);
        if (!rc && st->nneed && S.n)
            rc = stream_resolve(st, &S, base, err);
        if (!rc && st->deferred)
            rc = stream_emit(st, &t, &S, base, first, err);
        base += S.n;
        bool end = t.nrows == 0;
        pann_matrix_free(&S);
        if (end)
            break;
    }
    return rc;
}

static int stream_run(stream_state *st, pann_reader *rd, pann_error *err)
{
    pann_filter_result *r = st->r;
    int rc = 0;
    if (!st->o->exact)
        rc = pann_filter_index_build(&st->ix, st->R, st->m, err);
    if (!rc)
        rc = real_thresholds(st->R, st->m, st->ix, st->o, r, err);
    if (!rc)
        rc = stream_pass1(st, rd, err);
    if (!rc && st->o->select == PANN_SELECT_RATIO) {
        st->all.d = st->R->d;
        rc = pann_filter_ratio_decide(st->R, &st->all, st->m, st->o, r, err);
    } else if (!rc && st->deferred) {
        rc = synth_threshold(st->o, r, err);
    }
    size_t *pick = NULL, k = 0;
    if (!rc)
        rc = stream_sample(st, &pick, &k, err);
    if (!rc && (st->deferred || st->nneed))
        rc = stream_pass2(st, rd, err);
    if (!rc)
        rc = stream_median(st, pick, k, err);
    free(pick);
    if (!rc)
        count(r, st->early, st->R);
    if (!rc && st->o->fidelity)
        rc = pann_filter_fidelity(st->o->fidelity_ref ? st->o->fidelity_ref : st->R, &st->all,
                                  st->m, st->o, r, err);
    return rc;
}

int pann_filter_stream(const pann_matrix *R, const pann_metric *m, const pann_filter_opts *o,
                       const pann_filter_input *in, pann_filter_result *r,
                       size_t *rows_read, size_t *dropped, pann_error *err)
{
    memset(r, 0, sizeof *r);
    *rows_read = *dropped = 0;
    int rc = pann_filter_check(R, m, o, err);
    if (rc)
        return rc;
    stream_state st = { .R = R, .m = m, .o = o, .in = in, .r = r };
    bool ratio = o->select == PANN_SELECT_RATIO;
    st.deferred = ratio || o->max_rule == PANN_MAX_SYNTH_QUANTILE || o->max_rule == PANN_MAX_KEEP;
    st.all_exact = o->exact || st.deferred;
    st.early_keep = !st.all_exact && o->min_rule == PANN_MIN_NONE && !o->drop_copies;
    st.collect = ratio || o->fidelity;
    st.all.d = R->d;
    r->min_dist = o->min_rule == PANN_MIN_DIST ? o->min_value : NAN;
    r->max_dist = !ratio && o->max_rule == PANN_MAX_DIST ? o->max_value : NAN;
    r->accept_constant = NAN;
    pann_reader *rd = NULL;
    rc = pann_reader_open(&rd, in->path, in->read, err);
    /* a second pass may be needed: a pipe is copied aside first */
    if (!rc && (st.deferred || st.early_keep))
        rc = pann_reader_spool(rd, err);
    if (!rc)
        rc = stream_run(&st, rd, err);
    *rows_read = st.rows_read;
    *dropped = st.dropped;
    pann_reader_close(rd);
    pann_filter_index_free(st.ix);
    free(st.early);
    free(st.cols);
    free(st.need);
    free(st.need_dist);
    pann_matrix_free(&st.all);
    if (rc)
        pann_filter_result_free(r);
    return rc;
}

/* ---- one table per category ------------------------------------------------ */

typedef struct grouped_job {
    const pann_metric *m;
    const pann_filter_opts *o;
    const pann_groups *g;
    pann_filter_result *r;
    pann_filter_group_stats *st;
    float *loo;                  /* every category's real LOO distances */
    size_t nloo;
} grouped_job;

/* One category: its synthetic rows decided against its real rows alone,
 * with its own thresholds; answers written back into the whole result. */
static int grouped_batch(const pann_matrix *Sb, const pann_matrix *Rb,
                         const pann_engine_opts *unused, void *ctx, pann_error *err)
{
    (void)unused;
    grouped_job *job = ctx;
    pann_filter_result rb;
    int rc = pann_filter_run(Rb, Sb, job->m, job->o, &rb, err);
    if (rc) {
        pann_error inner = *err;
        return pann_fail(err, rc, "--group: category '%s': %s",
                         job->g->names[job->g->s_code[Sb->row_id[0]]], inner.msg);
    }
    pann_filter_result *r = job->r;
    for (size_t i = 0; i < Sb->n; i++) {
        r->decision[Sb->row_id[i]] = rb.decision[i];
        r->dist[Sb->row_id[i]] = rb.dist[i];
    }
    r->kept += rb.kept;
    r->too_far += rb.too_far;
    r->near_copy += rb.near_copy;
    r->excess += rb.excess;
    r->settled_early += rb.settled_early;
    r->settled_full += rb.settled_full;
    r->evaluations += rb.evaluations;
    pann_filter_group_stats *st = job->st;
    if (!isnan(rb.max_dist)) {
        st->max_lo = fmin(st->max_lo, rb.max_dist);
        st->max_hi = fmax(st->max_hi, rb.max_dist);
    }
    if (!isnan(rb.min_dist)) {
        st->min_lo = fmin(st->min_lo, rb.min_dist);
        st->min_hi = fmax(st->min_hi, rb.min_dist);
    }
    if (rb.real_loo) {
        memcpy(job->loo + job->nloo, rb.real_loo, rb.nreal_loo * sizeof *job->loo);
        job->nloo += rb.nreal_loo;
    }
    pann_filter_result_free(&rb);
    return 0;
}

int pann_filter_grouped(const pann_matrix *R, const pann_matrix *S, const pann_groups *g,
                        size_t batch, const pann_metric *m, const pann_filter_opts *o,
                        pann_filter_result *r, pann_filter_group_stats *st, pann_error *err)
{
    memset(r, 0, sizeof *r);
    *st = (pann_filter_group_stats){ .max_lo = INFINITY, .max_hi = -INFINITY,
                                     .min_lo = INFINITY, .min_hi = -INFINITY };
    pann_filter_opts exact_dcr = *o;
    exact_dcr.exact = true;      /* every distance known, for medians over all
                                    categories: brute force within each */
    exact_dcr.dcr_sample = 0;
    exact_dcr.fidelity = false;  /* over all categories, at the end */
    int rc = check_opts(R, S, m, o, err);
    if (!rc && o->min_rule == PANN_MIN_HOLDOUT_QUANTILE) {
        /* one threshold for every category: the holdout against all of REAL */
        rc = holdout_threshold(R, m, NULL, &exact_dcr, r, err);
        exact_dcr.min_rule = PANN_MIN_DIST;
        exact_dcr.min_value = r->min_dist;
    }
    if (rc)
        return rc;
    size_t holdout_rows = r->holdout_rows;
    double holdout_median = r->holdout_median, holdout_min = r->min_dist;
    r->n = S->n;
    r->decision = malloc(S->n ? S->n : 1);
    r->dist = malloc((S->n ? S->n : 1) * sizeof *r->dist);
    float *loo = malloc((R->n ? R->n : 1) * sizeof *loo);
    if (!r->decision || !r->dist || !loo) {
        free(loo);
        pann_filter_result_free(r);
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", S->n);
    }
    for (size_t i = 0; i < S->n; i++) {   /* a category with no real row: too far */
        r->decision[i] = PANN_FILTER_TOO_FAR;
        r->dist[i] = INFINITY;
    }
    grouped_job job = { m, &exact_dcr, g, r, st, loo, 0 };
    pann_engine_opts unused;
    pann_engine_opts_init(&unused);
    rc = pann_group_batches(S, R, g, false, batch, &unused, grouped_batch, &job,
                                &st->batches, err);
    if (rc) {
        free(loo);
        pann_filter_result_free(r);
        return rc;
    }
    r->too_far += st->batches.rows_without_reference;
    r->settled_full += st->batches.rows_without_reference;
    r->max_dist = r->min_dist = NAN;   /* per category: see st */
    float *known = malloc((S->n ? S->n : 1) * sizeof *known);
    size_t nknown = 0;
    for (size_t i = 0; known && i < S->n; i++)
        if (isfinite(r->dist[i]))
            known[nknown++] = r->dist[i];
    if (known)
        qsort(known, nknown, sizeof *known, cmp_float);
    qsort(loo, job.nloo, sizeof *loo, cmp_float);
    r->median_synth = known && nknown ? pann_median_sorted(known, nknown) : NAN;
    r->median_synth_rows = nknown;
    r->median_real = job.nloo ? pann_median_sorted(loo, job.nloo) : NAN;
    r->real_loo = loo;
    r->nreal_loo = job.nloo;
    r->work_fraction = S->n && R->n ? (double)r->evaluations / ((double)S->n * R->n) : 0;
    r->holdout_rows = holdout_rows;
    r->holdout_median = holdout_median;
    if (o->min_rule == PANN_MIN_HOLDOUT_QUANTILE)
        r->min_dist = holdout_min;
    r->accept_constant = NAN;
    free(known);
    return o->fidelity ? pann_filter_fidelity(o->fidelity_ref ? o->fidelity_ref : R, S, m, o,
                                              r, err)
                       : 0;
}
