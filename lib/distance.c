/* distance.c — metrics and the blocked layout: L1 (the article's choice),
 * L2 and cosine over encoded rows, where a categorical column adds a 0/1
 * mismatch.
 *
 * pann_cmp compares one pair of rows: the engine's random proposals touch
 * one candidate at a time.  Exact searches compare many queries with T
 * rearranged in blocks of PANN_LANES rows (pann_blocks_build, or
 * pann_blocks_consume, which gives T's pages back as it copies them),
 * through the SIMD kernels of kernels.c.  Every path adds the columns in the same order
 * in float, so the engine and the exact searches produce bit-identical
 * distances, which is what lets "exhausted anytime search == brute force"
 * be tested exactly.  pann_check_distances refuses data whose float sums
 * could overflow, before any search.
 */
#include <config.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef HAVE_SYS_MMAN_H
#include <sys/mman.h>
#endif
#include <unistd.h>
#include "pann.h"
#include "internal.h"

int pann_metric_parse(const char *name, pann_metric_kind *kind)
{
    if (strcmp(name, "l1") == 0 || strcmp(name, "L1") == 0) *kind = PANN_L1;
    else if (strcmp(name, "l2") == 0 || strcmp(name, "L2") == 0) *kind = PANN_L2;
    else if (strcmp(name, "cosine") == 0) *kind = PANN_COSINE;
    else return -1;
    return 0;
}

const char *pann_metric_name(pann_metric_kind kind)
{
    switch (kind) {
    case PANN_L1: return "l1";
    case PANN_L2: return "l2";
    case PANN_COSINE: return "cosine";
    }
    return "?";
}

int pann_metric_init(pann_metric *m, pann_metric_kind kind,
                     const pann_schema *s, pann_error *err)
{
    m->kind = kind;
    m->d = s ? s->d : 0;
    m->is_cat = NULL;
    if (!s)
        return 0;
    unsigned char *flags = NULL;
    for (size_t j = 0; j < s->d; j++) {
        if (s->kind[j] != PANN_CATEGORICAL)
            continue;
        if (kind == PANN_COSINE)
            return pann_fail(err, PANN_EINPUT,
                             "--metric=cosine needs numeric columns; column '%s' is categorical",
                             s->names[j]);
        if (!flags && !(flags = calloc(s->d, 1)))
            return pann_fail(err, PANN_ESYSTEM, "out of memory");
        flags[j] = 1;
    }
    m->is_cat = flags;
    return 0;
}

void pann_metric_free(pann_metric *m)
{
    free((void *)m->is_cat);
    m->is_cat = NULL;
}

/* L2 and cosine accumulate with fused multiply-adds, as the SIMD kernels
 * do, so a distance rounds the same whichever computes it.  fmaf() is one
 * instruction only where the compiler may assume FMA, so the body is
 * compiled twice and one copy is chosen at the first call (by hand:
 * target_clones on an exported function is not linked by clang 14). */
__attribute__((always_inline))
static inline float cmp_body(const pann_metric *m, const float *a, const float *b)
{
    const size_t d = m->d;
    const unsigned char *cat = m->is_cat;
    float acc = 0.0f;
    switch (m->kind) {
    case PANN_L1:
        for (size_t j = 0; j < d; j++)
            acc += (cat && cat[j]) ? (a[j] != b[j] ? 1.0f : 0.0f) : fabsf(a[j] - b[j]);
        return acc;
    case PANN_L2:
        for (size_t j = 0; j < d; j++) {
            float diff = (cat && cat[j]) ? (a[j] != b[j] ? 1.0f : 0.0f) : a[j] - b[j];
            acc = fmaf(diff, diff, acc);
        }
        return acc;
    case PANN_COSINE:
        for (size_t j = 0; j < d; j++)
            acc = fmaf(a[j], b[j], acc);
        return 1.0f - acc;
    }
    return acc;
}

typedef float (*cmp_fn)(const pann_metric *, const float *, const float *);

static float cmp_plain(const pann_metric *m, const float *a, const float *b)
{
    return cmp_body(m, a, b);
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("fma")))
static float cmp_fma(const pann_metric *m, const float *a, const float *b)
{
    return cmp_body(m, a, b);
}
#endif

static cmp_fn chosen_cmp;

float pann_cmp(const pann_metric *m, const float *a, const float *b)
{
    cmp_fn f = __atomic_load_n(&chosen_cmp, __ATOMIC_RELAXED);
    if (!f) {
        f = cmp_plain;
#if defined(__x86_64__) && defined(__GNUC__)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("fma"))
            f = cmp_fma;
#endif
        __atomic_store_n(&chosen_cmp, f, __ATOMIC_RELAXED);
    }
    return f(m, a, b);
}

double pann_cmp_to_dist(const pann_metric *m, float c)
{
    if (m->kind == PANN_L2)
        return sqrt((double)c);
    return (double)c;
}

float pann_dist_to_cmp(const pann_metric *m, double dist)
{
    if (m->kind == PANN_L2)
        return (float)(dist * dist);
    return (float)dist;
}

/* The blocks' array for t's rows, lanes past the end left to the copy. */
static int blocks_alloc(pann_blocks *b, const pann_matrix *t, pann_error *err)
{
    b->n = t->n;
    b->d = t->d;
    b->nblocks = (t->n + PANN_LANES - 1) / PANN_LANES;
    size_t count = b->nblocks * (t->d ? t->d : 1) * PANN_LANES;
    b->v = NULL;
    if (posix_memalign((void **)&b->v, 64, (count ? count : 1) * sizeof(float)) != 0) {
        b->v = NULL;
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows in blocks)", t->n);
    }
    return 0;
}

/* Rows blk * PANN_LANES .. + PANN_LANES - 1 of t into block blk, zeros
 * past the last row. */
static void block_copy(pann_blocks *b, const pann_matrix *t, size_t blk)
{
    float *base = b->v + blk * t->d * PANN_LANES;
    for (size_t r = 0; r < PANN_LANES; r++) {
        size_t row = blk * PANN_LANES + r;
        for (size_t j = 0; j < t->d; j++)
            base[j * PANN_LANES + r] = row < t->n ? t->v[row * t->d + j] : 0.0f;
    }
}

int pann_blocks_build(pann_blocks *b, const pann_matrix *t, pann_error *err)
{
    int rc = blocks_alloc(b, t, err);
    for (size_t blk = 0; !rc && blk < b->nblocks; blk++)
        block_copy(b, t, blk);
    return rc;
}

void pann_release_behind(const void *base, size_t used, size_t *released)
{
#if defined(HAVE_MADVISE) && defined(MADV_DONTNEED)
    long page_size = sysconf(_SC_PAGESIZE);
    const uintptr_t page = page_size > 0 ? (uintptr_t)page_size : 4096;
    const uintptr_t step = (uintptr_t)1 << 20;
    uintptr_t at = (uintptr_t)base;
    uintptr_t begin = (at + *released + page - 1) / page * page;
    uintptr_t end = (at + used) / page * page;
    if (end <= begin || end - begin < step)
        return;
    if (madvise((void *)begin, end - begin, MADV_DONTNEED) == 0)
        *released = end - at;
#else
    (void)base;
    (void)used;
    (void)released;
#endif
}

int pann_blocks_consume(pann_blocks *b, pann_matrix *t, pann_error *err)
{
    int rc = blocks_alloc(b, t, err);
    size_t released = 0, row_bytes = t->d * sizeof *t->v;
    for (size_t blk = 0; !rc && blk < b->nblocks; blk++) {
        block_copy(b, t, blk);
        size_t rows = (blk + 1) * PANN_LANES < t->n ? (blk + 1) * PANN_LANES : t->n;
        pann_release_behind(t->v, rows * row_bytes, &released);
    }
    if (!rc)
        pann_release_rows(t);
    return rc;
}

void pann_blocks_free(pann_blocks *b)
{
    free(b->v);
    b->v = NULL;
}

/* Every value, through the filtering kernel (kernels.c) with bounds that
 * everything passes: one kernel family to keep fast and exact. */
void pann_block_cmp(const pann_metric *m, const pann_blocks *b, size_t first,
                    size_t nblk, const float *const *queries, size_t nq, float *out)
{
    enum { STEP = 16 };   /* blocks per kernel call: the hits fit on the stack */
    pann_hit hits[PANN_QBATCH * STEP * PANN_LANES];
    float everything[PANN_QBATCH];
    for (size_t q = 0; q < PANN_QBATCH; q++)
        everything[q] = INFINITY;
    size_t stride = nblk * PANN_LANES;
    for (size_t q = 0; q < nq; q++)   /* lanes past the end of T stay +inf */
        for (size_t i = 0; i < stride; i++)
            out[q * stride + i] = INFINITY;
    for (size_t done = 0; done < nblk; done += STEP) {
        size_t count = nblk - done < STEP ? nblk - done : STEP;
        size_t nh = pann_block_filter(m, b, first + done, count, queries, nq, everything,
                                      PANN_MIN, hits);
        for (size_t h = 0; h < nh; h++)
            out[hits[h].query * stride + (hits[h].slot - first * PANN_LANES)] = hits[h].value;
    }
}

/* Column j's span over the matrices (1 for a category: a 0/1 mismatch) and
 * where its largest magnitude is, as matrix t and row i. */
static double column_span(const pann_schema *s, const pann_matrix *const *mats, size_t n,
                          size_t j, size_t *at_t, size_t *at_i)
{
    double lo = INFINITY, hi = -INFINITY, big = -1;
    for (size_t t = 0; t < n; t++) {
        const pann_matrix *m = mats[t];
        for (size_t i = 0; i < m->n; i++) {
            double v = m->v[i * m->d + j];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
            if (fabs(v) > big) {
                big = fabs(v);
                *at_t = t;
                *at_i = i;
            }
        }
    }
    if (s->kind[j] != PANN_NUMERIC)
        return 1;
    return hi > lo ? hi - lo : 0;
}

/* Distances are summed (L1) or summed in squares (L2) in float: values that
 * are each representable can still add up past FLT_MAX, and an infinite
 * distance would be a silently wrong result.  The largest comparison value
 * is bounded by the columns' spans; past a quarter of FLT_MAX (room for
 * rounding) it overflows.  The column to blame, or -1 when none is. */
static long overflowing_column(pann_metric_kind kind, const pann_schema *s,
                               const pann_matrix *const *mats, size_t n, size_t *at_t,
                               size_t *at_i)
{
    if (kind == PANN_COSINE)
        return -1;
    double total = 0, worst = -1;
    long worst_j = -1;
    for (size_t j = 0; j < s->d; j++) {
        size_t t = 0, i = 0;
        double span = column_span(s, mats, n, j, &t, &i);
        double term = kind == PANN_L2 ? span * span : span;
        total += term;
        if (term > worst) {
            worst = term;
            *at_t = t, *at_i = i, worst_j = (long)j;
        }
    }
    return total <= FLT_MAX / 4 ? -1 : worst_j;
}

/* The error names the largest value of the worst column, at its cell. */
int pann_check_distances(pann_metric_kind kind, const pann_schema *s,
                         const pann_table *const *tables, const pann_matrix *const *mats,
                         size_t n, pann_error *err)
{
    size_t worst_t = 0, worst_i = 0;
    long worst_j = overflowing_column(kind, s, mats, n, &worst_t, &worst_i);
    if (worst_j < 0)
        return 0;
    const pann_table *tb = tables[worst_t];
    size_t row = mats[worst_t]->row_id[worst_i], col = 0;
    while (col + 1 < tb->ncols && strcmp(tb->colnames[col], s->names[worst_j]) != 0)
        col++;
    if (!tb->row_line)   /* a .npy matrix: no text, its rows are the lines */
        return pann_fail(err, PANN_EINPUT, "%s:%zu:%zu: value %.9g is too large: %s distances "
                         "would overflow single precision (try --scale=std or --scale=range)",
                         tb->display, row + 1, col + 1,
                         (double)mats[worst_t]->v[worst_i * s->d + (size_t)worst_j],
                         kind == PANN_L2 ? "L2" : "L1");
    return pann_fail(err, PANN_EINPUT, "%s:%zu:%zu: value '%s' is too large: %s distances "
                     "would overflow single precision (try --scale=std or --scale=range)",
                     tb->display, tb->row_line[row], col + 1, pann_cell(tb, row, col),
                     kind == PANN_L2 ? "L2" : "L1");
}
