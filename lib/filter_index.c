/* filter_index.c — the exact nearest-real-row search of nogan-filter's
 * distance rule: the real rows sorted by a projection, cut into tiles, and
 * searched nearest tile first with a proven stop.
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
 * whatever the order or thread. */
#include <config.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pann.h"
#include "internal.h"
#include "filter_internal.h"

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
