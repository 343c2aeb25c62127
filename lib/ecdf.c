/* ecdf.c — dominance counting and the multivariate ECDF KS.
 *
 * This file owns everything declared in pann_ecdf.h: counting, for each node
 * z, the rows of a point set P that z dominates (p_j <= z_j for every j), the
 * KS statistic built on those counts, the node sets, and the per-column
 * scores.  Categorical columns: see the rationale in pann_ecdf.h.
 *
 * The counting algorithm (pann_ecdf_count).  Number the rows of P by their
 * rank in column 0 ("position").  For a node z and column j let c_j be the
 * number of rows with p_j <= z_j: those rows are the first c_j of P sorted by
 * column j, whatever the order among ties.  In position numbering the rows
 * with p_0 <= z_0 are simply the bits [0, c_0).  For every other column j we
 * store, every B rows of the column-j order, the bitset (over positions) of
 * the rows before that point: a "checkpoint".  A node then needs
 *   popcount( [0,c_0) AND checkpoint_j(floor(c_j/B)) for j >= 1 )
 * plus a fix-up of the < B rows of each column between its checkpoint and
 * c_j, each checked on its integer ranks.  A fix-up row is counted by the
 * first column whose checkpoint leaves it out, so no row is counted twice.
 * Columns where c_j = n constrain nothing and are skipped (common with ties).
 *
 * Cost: building, O(d n log n) sorts + the checkpoints; each node, d binary
 * searches + (d-1) c_0/64 word ANDs + at most (d-1) B fix-up rows of d
 * comparisons.  Memory: (d-1) (n/B + 1) n/8 bytes of checkpoints (137 MB for
 * n = 100,000, d = 8, B = 64; B doubles until they fit opts.max_bytes, 256
 * MiB by default) + 4 d^2 n bytes of ranks for the fix-ups + 4 d k bytes per
 * node set of k nodes.  Bitsets are swept one cache line of words ("slice")
 * at a time for all nodes, so the 700 KB of checkpoints of a slice stay in
 * cache instead of streaming 137 MB from memory for every node.
 */
#include "pann.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define SLICE_WORDS 8            /* one 64-byte cache line of bitset */
#define SLICE_BITS (SLICE_WORDS * 64)
#define DEFAULT_MAX_BYTES ((size_t)256 << 20)
#define COARSE 32                /* sorted values per coarse search step */

/* popcnt is not in baseline x86-64: without it every popcount is a libgcc
 * call, which triples the cost of the bitset sweep. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__POPCNT__)
#define HOT_CLONES __attribute__((target_clones("popcnt", "default")))
#else
#define HOT_CLONES
#endif

void pann_ecdf_opts_init(pann_ecdf_opts *o)
{
    memset(o, 0, sizeof *o);
}

static int thread_count(int requested)
{
#ifdef _OPENMP
    return requested > 0 ? requested : omp_get_max_threads();
#else
    (void)requested;
    return 1;
#endif
}

/* ---- the index over P -------------------------------------------------- */

typedef struct keyed { float v; uint32_t i; } keyed;

static int keyed_cmp(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

typedef struct dom_index {
    size_t n, d;
    size_t block;            /* B: rows between checkpoints */
    size_t nck;              /* checkpoints per column: n/B + 1 */
    size_t nslices;          /* bitset words / SLICE_WORDS */
    size_t slice_stride;     /* words of one slice: (d-1) nck SLICE_WORDS */
    float *vals;             /* d columns of n sorted values */
    float *coarse;           /* d columns of every COARSE-th sorted value */
    size_t ncoarse;
    uint32_t *fix;           /* column j >= 1, position in its order -> the
                                d ranks of that row: fix[((j-1)n + pos)d + j'] */
    uint64_t *ck;            /* [slice][j-1][t][SLICE_WORDS] */
} dom_index;

static void index_free(dom_index *ix)
{
    free(ix->vals);
    free(ix->coarse);
    free(ix->fix);
    free(ix->ck);
    memset(ix, 0, sizeof *ix);
}

static size_t choose_block(size_t n, size_t d, const pann_ecdf_opts *o)
{
    if (o && o->block)
        return o->block;
    size_t budget = o && o->max_bytes ? o->max_bytes : DEFAULT_MAX_BYTES;
    size_t words = (n + SLICE_BITS - 1) / SLICE_BITS * SLICE_WORDS;
    size_t block = 64;
    while (block < n && (d - 1) * (n / block + 1) * words * 8 > budget)
        block *= 2;
    return block;
}

/* Sort every column; ranks[j*n + row] = position of row in column j. */
static int index_sort(dom_index *ix, const pann_matrix *P, uint32_t *ranks, int nth)
{
    size_t n = ix->n, d = ix->d;
    keyed *keys = malloc(n * d * sizeof *keys);
    if (!keys)
        return -1;
    (void)nth;               /* unused without OpenMP */
    #pragma omp parallel for schedule(dynamic, 1) num_threads(nth)
    for (size_t j = 0; j < d; j++) {
        keyed *kj = keys + j * n;
        for (size_t i = 0; i < n; i++)
            kj[i] = (keyed){ pann_row(P, i)[j], (uint32_t)i };
        qsort(kj, n, sizeof *kj, keyed_cmp);
        for (size_t pos = 0; pos < n; pos++) {
            ix->vals[j * n + pos] = kj[pos].v;
            ranks[j * n + kj[pos].i] = (uint32_t)pos;
        }
    }
    /* fix-up table: the rows of column j in its order, with all ranks */
    #pragma omp parallel for schedule(static) num_threads(nth)
    for (size_t j = 1; j < d; j++)
        for (size_t pos = 0; pos < n; pos++) {
            uint32_t row = keys[j * n + pos].i;
            uint32_t *f = ix->fix + ((j - 1) * n + pos) * d;
            for (size_t jj = 0; jj < d; jj++)
                f[jj] = ranks[jj * n + row];
        }
    free(keys);
    return 0;
}

/* Checkpoint t of column j: positions of the first t*B rows in column-j
 * order, scattered into the slice-major layout. */
static void index_checkpoints(dom_index *ix, size_t j, uint64_t *cur)
{
    size_t n = ix->n, d = ix->d, B = ix->block;
    size_t words = ix->nslices * SLICE_WORDS;
    memset(cur, 0, words * sizeof *cur);
    const uint32_t *f = ix->fix + (j - 1) * n * d;
    for (size_t t = 0; t < ix->nck; t++) {
        for (size_t s = 0; s < ix->nslices; s++)
            memcpy(ix->ck + s * ix->slice_stride +
                       ((j - 1) * ix->nck + t) * SLICE_WORDS,
                   cur + s * SLICE_WORDS, SLICE_WORDS * sizeof *cur);
        size_t end = (t + 1) * B < n ? (t + 1) * B : n;
        for (size_t pos = t * B; pos < end; pos++) {
            uint32_t q = f[pos * d];          /* its position (rank in 0) */
            cur[q / 64] |= (uint64_t)1 << (q % 64);
        }
    }
}

static int index_build(dom_index *ix, const pann_matrix *P,
                       const pann_ecdf_opts *o, int nth)
{
    size_t n = P->n, d = P->d;
    memset(ix, 0, sizeof *ix);
    ix->n = n;
    ix->d = d;
    ix->block = choose_block(n, d, o);
    ix->nck = n / ix->block + 1;
    ix->nslices = (n + SLICE_BITS - 1) / SLICE_BITS;
    ix->slice_stride = (d - 1) * ix->nck * SLICE_WORDS;
    uint32_t *ranks = malloc(n * d * sizeof *ranks);
    ix->vals = malloc(n * d * sizeof *ix->vals);
    ix->fix = malloc((d - 1) * n * d * sizeof *ix->fix + 1);
    ix->ck = malloc(ix->nslices * ix->slice_stride * sizeof *ix->ck + 1);
    uint64_t *cur = malloc(d * ix->nslices * SLICE_WORDS * sizeof *cur + 1);
    int rc = -1;
    (void)nth;               /* unused without OpenMP */
    if (ranks && ix->vals && ix->fix && ix->ck && cur &&
        index_sort(ix, P, ranks, nth) == 0) {
        size_t words = ix->nslices * SLICE_WORDS;
        #pragma omp parallel for schedule(dynamic, 1) num_threads(nth)
        for (size_t j = 1; j < d; j++)
            index_checkpoints(ix, j, cur + j * words);
        ix->ncoarse = (n + COARSE - 1) / COARSE;
        ix->coarse = malloc(d * ix->ncoarse * sizeof *ix->coarse + 1);
        for (size_t j = 0; ix->coarse && j < d; j++)
            for (size_t t = 0; t < ix->ncoarse; t++)
                ix->coarse[j * ix->ncoarse + t] = ix->vals[j * n + t * COARSE];
        rc = ix->coarse ? 0 : -1;
    }
    free(ranks);
    free(cur);
    if (rc)
        index_free(ix);
    return rc;
}

/* ---- per-node plan ------------------------------------------------------ */

#define NODE_DEAD UINT32_MAX     /* some c_j = 0: nothing dominated */

typedef struct node_plan {
    size_t k, d;
    uint32_t *c;         /* k*d: rows with p_j <= z_j */
    uint32_t *act;       /* k*d: columns j >= 1 with c_j < n, first nact */
    uint32_t *off;       /* k*d: their checkpoint offset inside a slice */
    uint32_t *nact;      /* k: count of active columns, or NODE_DEAD */
    unsigned char *sweep;/* k: the bitset sweep has something to count */
} node_plan;

static void plan_free(node_plan *pl)
{
    free(pl->c);
    free(pl->act);
    free(pl->off);
    free(pl->nact);
    free(pl->sweep);
}

/* Number of sorted values <= z, searching in [lo, hi). */
static size_t upper_bound(const float *sorted, size_t lo, size_t hi, float z)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sorted[mid] <= z)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* c_j for value z: first among every COARSE-th value (a few KB that stay
 * in L1), then inside one run of COARSE values; two cache-friendly searches
 * instead of one that misses cache at every level. */
static uint32_t column_count(const dom_index *ix, size_t j, float z)
{
    const float *coarse = ix->coarse + j * ix->ncoarse;
    size_t t = upper_bound(coarse, 0, ix->ncoarse, z);
    if (t == 0)
        return 0;
    size_t lo = (t - 1) * COARSE + 1, hi = t * COARSE;
    return (uint32_t)upper_bound(ix->vals + j * ix->n, lo,
                                 hi < ix->n ? hi : ix->n, z);
}

static void plan_node(const dom_index *ix, const float *z, uint32_t *c,
                      uint32_t *act, uint32_t *off, uint32_t *nact,
                      unsigned char *sweep)
{
    size_t n = ix->n, d = ix->d;
    uint32_t na = 0;
    bool dead = false, all_ck = true;
    for (size_t j = 0; j < d; j++) {
        c[j] = column_count(ix, j, z[j]);
        dead |= c[j] == 0;
        if (j == 0 || c[j] == n)
            continue;
        size_t t = c[j] / ix->block;
        all_ck &= t > 0;      /* checkpoint 0 is empty: the AND is 0 */
        act[na] = (uint32_t)j;
        off[na++] = (uint32_t)(((j - 1) * ix->nck + t) * SLICE_WORDS);
    }
    /* Most selective column first: the AND of a slice then tends to reach
     * zero after one or two columns and the sweep stops there. */
    for (uint32_t a = 1; a < na; a++)
        for (uint32_t b = a; b > 0 && c[act[b]] < c[act[b - 1]]; b--) {
            uint32_t tj = act[b], to = off[b];
            act[b] = act[b - 1];
            off[b] = off[b - 1];
            act[b - 1] = tj;
            off[b - 1] = to;
        }
    *nact = dead ? NODE_DEAD : na;
    *sweep = !dead && na > 0 && all_ck;
}

static int plan_build(node_plan *pl, const dom_index *ix, const pann_matrix *Z,
                      int nth)
{
    size_t k = Z->n, d = Z->d;
    pl->k = k;
    pl->d = d;
    (void)nth;               /* unused without OpenMP */
    pl->c = malloc(k * d * sizeof *pl->c + 1);
    pl->act = malloc(k * d * sizeof *pl->act + 1);
    pl->off = malloc(k * d * sizeof *pl->off + 1);
    pl->nact = malloc(k * sizeof *pl->nact + 1);
    pl->sweep = malloc(k + 1);
    if (!pl->c || !pl->act || !pl->off || !pl->nact || !pl->sweep) {
        plan_free(pl);
        return -1;
    }
    #pragma omp parallel for schedule(static) num_threads(nth)
    for (size_t i = 0; i < k; i++)
        plan_node(ix, pann_row(Z, i), pl->c + i * d, pl->act + i * d,
                  pl->off + i * d, pl->nact + i, pl->sweep + i);
    return 0;
}

/* ---- counting ----------------------------------------------------------- */

/* Rows of the partial blocks [floor_j, c_j), each counted by the first
 * column whose checkpoint leaves it out. */
static uint32_t node_fixups(const dom_index *ix, const uint32_t *c,
                            const uint32_t *act, uint32_t nact)
{
    size_t n = ix->n, d = ix->d, B = ix->block;
    uint32_t count = 0;
    for (uint32_t a = 0; a < nact; a++) {
        size_t j = act[a], floor_j = c[j] / B * B;
        const uint32_t *r = ix->fix + ((j - 1) * n + floor_j) * d;
        for (size_t pos = floor_j; pos < c[j]; pos++, r += d) {
            if (r[0] >= c[0])
                continue;
            bool ok = true;
            for (uint32_t b = 0; b < nact && ok; b++) {
                uint32_t jj = act[b];
                uint32_t lim = b < a ? c[jj] / B * B : c[jj];
                ok = r[jj] < lim;
            }
            count += ok;
        }
    }
    return count;
}

/* Words of [0, c0) inside slice s. */
static inline uint64_t prefix_word(uint32_t c0, size_t bit0)
{
    if (c0 >= bit0 + 64)
        return ~(uint64_t)0;
    if (c0 <= bit0)
        return 0;
    return ((uint64_t)1 << (c0 - bit0)) - 1;
}

/* The nodes the sweep needs, by decreasing c_0, packed one after the other
 * as { c_0, nact, off[0..nact) } in a stride of d + 1: every slice streams
 * this table in order instead of gathering from the k x d plan arrays,
 * whose random accesses otherwise cost more than the ANDs themselves. */
typedef struct sweep_table {
    size_t len, stride;
    uint32_t *node;          /* len: node index of each entry */
    uint32_t *rec;           /* len * stride */
} sweep_table;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int sweep_table_build(sweep_table *st, const node_plan *pl)
{
    size_t k = pl->k, d = pl->d, m = 0;
    uint64_t *keys = malloc(k * sizeof *keys + 1);
    st->stride = d + 1;
    st->node = malloc(k * sizeof *st->node + 1);
    st->rec = malloc(k * st->stride * sizeof *st->rec + 1);
    if (!keys || !st->node || !st->rec) {
        free(keys);
        free(st->node);
        free(st->rec);
        return -1;
    }
    for (size_t i = 0; i < k; i++)
        if (pl->sweep[i])
            keys[m++] = (uint64_t)(UINT32_MAX - pl->c[i * d]) << 32 | i;
    qsort(keys, m, sizeof *keys, cmp_u64);
    for (size_t e = 0; e < m; e++) {
        uint32_t i = (uint32_t)keys[e], *r = st->rec + e * st->stride;
        st->node[e] = i;
        r[0] = pl->c[(size_t)i * d];
        r[1] = pl->nact[i];
        memcpy(r + 2, pl->off + (size_t)i * d, r[1] * sizeof *r);
    }
    st->len = m;
    free(keys);
    return 0;
}

/* One slice of the bitsets against every entry that reaches it (entries
 * are by decreasing c_0, so the loop stops at the first that does not). */
HOT_CLONES
static void sweep_slice(const dom_index *ix, const sweep_table *st, size_t s,
                        uint32_t *local)
{
    const uint64_t *base = ix->ck + s * ix->slice_stride;
    size_t bit0 = s * SLICE_BITS;
    const uint32_t *r = st->rec;
    for (size_t e = 0; e < st->len; e++, r += st->stride) {
        uint32_t c0 = r[0], nact = r[1];
        if (c0 <= bit0)
            break;
        uint64_t acc[SLICE_WORDS], any = 1;
        for (int w = 0; w < SLICE_WORDS; w++)
            acc[w] = prefix_word(c0, bit0 + 64 * (size_t)w);
        for (uint32_t a = 0; a < nact && any; a++) {
            const uint64_t *ck = base + r[2 + a];
            any = 0;
            for (int w = 0; w < SLICE_WORDS; w++) {
                acc[w] &= ck[w];
                any |= acc[w];
            }
        }
        if (!any)
            continue;
        uint32_t cnt = 0;
        for (int w = 0; w < SLICE_WORDS; w++)
            cnt += (uint32_t)__builtin_popcountll(acc[w]);
        local[e] += cnt;
    }
}

static int sweep_all(const dom_index *ix, const node_plan *pl, int nth,
                     uint32_t *count)
{
    sweep_table st;
    if (sweep_table_build(&st, pl))
        return -1;
    uint32_t *local = calloc((size_t)nth * st.len + 1, sizeof *local);
    if (!local) {
        free(st.node);
        free(st.rec);
        return -1;
    }
    #pragma omp parallel num_threads(nth)
    {
#ifdef _OPENMP
        uint32_t *mine = local + (size_t)omp_get_thread_num() * st.len;
#else
        uint32_t *mine = local;
#endif
        #pragma omp for schedule(dynamic, 1)
        for (size_t s = 0; s < ix->nslices; s++)
            sweep_slice(ix, &st, s, mine);
    }
    for (int t = 0; t < nth; t++)
        for (size_t e = 0; e < st.len; e++)
            count[st.node[e]] += local[(size_t)t * st.len + e];
    free(st.node);
    free(st.rec);
    free(local);
    return 0;
}

static int check_shapes(const pann_matrix *P, const pann_matrix *Z,
                        pann_error *err)
{
    if (P->d == 0 || P->d != Z->d)
        return pann_fail(err, PANN_EINPUT,
                         "ecdf: points have %zu columns and nodes %zu",
                         P->d, Z->d);
    if (P->n >= UINT32_MAX)
        return pann_fail(err, PANN_EINPUT, "ecdf: too many rows (%zu)", P->n);
    return 0;
}

int pann_ecdf_count(const pann_matrix *P, const pann_matrix *Z,
                    const pann_ecdf_opts *o, uint32_t *count, pann_error *err)
{
    int rc = check_shapes(P, Z, err);
    if (rc)
        return rc;
    memset(count, 0, Z->n * sizeof *count);
    if (P->n == 0 || Z->n == 0)
        return 0;
    int nth = thread_count(o ? o->threads : 0);
    dom_index ix;
    node_plan pl;
    if (index_build(&ix, P, o, nth))
        return pann_fail(err, PANN_ESYSTEM, "ecdf: out of memory");
    if (plan_build(&pl, &ix, Z, nth)) {
        index_free(&ix);
        return pann_fail(err, PANN_ESYSTEM, "ecdf: out of memory");
    }
    rc = sweep_all(&ix, &pl, nth, count);
    if (rc == 0) {
        size_t d = P->d;
        #pragma omp parallel for schedule(dynamic, 256) num_threads(nth)
        for (size_t i = 0; i < Z->n; i++) {
            const uint32_t *c = pl.c + i * d;
            if (pl.nact[i] == NODE_DEAD)
                count[i] = 0;
            else if (pl.nact[i] == 0)
                count[i] = c[0];
            else
                count[i] += node_fixups(&ix, c, pl.act + i * d, pl.nact[i]);
        }
    }
    plan_free(&pl);
    index_free(&ix);
    return rc ? pann_fail(err, PANN_ESYSTEM, "ecdf: out of memory") : 0;
}

/* ---- brute force -------------------------------------------------------- */

#define BRUTE_TILE 1024          /* rows of P kept in L1/L2 ... */
#define BRUTE_NODES 128          /* ... while this many nodes use them */

/* P column-major by tiles of BRUTE_TILE rows; padding rows are NaN, which
 * no node dominates. */
static float *brute_tiles(const pann_matrix *P, size_t *ntiles)
{
    size_t d = P->d, nt = (P->n + BRUTE_TILE - 1) / BRUTE_TILE;
    float *tiles = malloc(nt * d * BRUTE_TILE * sizeof *tiles + 1);
    if (!tiles)
        return NULL;
    for (size_t t = 0; t < nt; t++)
        for (size_t j = 0; j < d; j++)
            for (size_t r = 0; r < BRUTE_TILE; r++) {
                size_t i = t * BRUTE_TILE + r;
                tiles[(t * d + j) * BRUTE_TILE + r] =
                    i < P->n ? pann_row(P, i)[j] : NAN;
            }
    *ntiles = nt;
    return tiles;
}

static uint32_t brute_tile(const float *tile, size_t d, const float *z)
{
    int32_t in[BRUTE_TILE];
    #pragma omp simd
    for (size_t r = 0; r < BRUTE_TILE; r++)
        in[r] = tile[r] <= z[0];
    for (size_t j = 1; j < d; j++) {
        const float *col = tile + j * BRUTE_TILE;
        float zj = z[j];
        #pragma omp simd
        for (size_t r = 0; r < BRUTE_TILE; r++)
            in[r] &= col[r] <= zj;
    }
    int32_t cnt = 0;
    #pragma omp simd reduction(+ : cnt)
    for (size_t r = 0; r < BRUTE_TILE; r++)
        cnt += in[r];
    return (uint32_t)cnt;
}

int pann_ecdf_count_brute(const pann_matrix *P, const pann_matrix *Z,
                          int threads, uint32_t *count, pann_error *err)
{
    int rc = check_shapes(P, Z, err);
    if (rc)
        return rc;
    memset(count, 0, Z->n * sizeof *count);
    size_t nt, d = P->d, k = Z->n;
    int nth = thread_count(threads);
    (void)nth;               /* unused without OpenMP */
    float *tiles = brute_tiles(P, &nt);
    if (!tiles)
        return pann_fail(err, PANN_ESYSTEM, "ecdf: out of memory");
    #pragma omp parallel for schedule(dynamic, 1) num_threads(nth)
    for (size_t z0 = 0; z0 < k; z0 += BRUTE_NODES) {
        size_t z1 = z0 + BRUTE_NODES < k ? z0 + BRUTE_NODES : k;
        for (size_t t = 0; t < nt; t++)
            for (size_t i = z0; i < z1; i++)
                count[i] += brute_tile(tiles + t * d * BRUTE_TILE, d,
                                       pann_row(Z, i));
    }
    free(tiles);
    return 0;
}

/* ---- KS ----------------------------------------------------------------- */

/* Exact comparison of |cs/m - cr/n| as |cs n - cr m| over the same n m. */
static void ks_scan(const uint32_t *cr, const uint32_t *cs, size_t k,
                    size_t n, size_t m, pann_ecdf_ks_result *r)
{
    uint64_t best = 0;
    r->argmax = 0;
    for (size_t i = 0; i < k; i++) {
        uint64_t a = (uint64_t)cs[i] * n, b = (uint64_t)cr[i] * m;
        uint64_t diff = a > b ? a - b : b - a;
        if (diff > best) {
            best = diff;
            r->argmax = i;
        }
    }
    r->ks = (double)best / ((double)n * (double)m);
    r->count_real = cr[r->argmax];
    r->count_synth = cs[r->argmax];
    r->f_real = (double)r->count_real / (double)n;
    r->f_synth = (double)r->count_synth / (double)m;
    r->npoints = k;
}

int pann_ecdf_ks(const pann_matrix *real, const pann_matrix *synth,
                 const pann_matrix *nodes, const pann_ecdf_opts *o,
                 pann_ecdf_ks_result *r, double *f_real, double *f_synth,
                 pann_error *err)
{
    memset(r, 0, sizeof *r);
    if (real->d != synth->d)
        return pann_fail(err, PANN_EINPUT,
                         "ecdf: real has %zu columns and synth %zu",
                         real->d, synth->d);
    if (real->n == 0 || synth->n == 0)
        return pann_fail(err, PANN_EINPUT, "ecdf: %s has no rows",
                         real->n == 0 ? "real" : "synth");
    if (nodes->n == 0)
        return pann_fail(err, PANN_EINPUT, "ecdf: no evaluation points");
    size_t k = nodes->n;
    uint32_t *cr = malloc(k * sizeof *cr), *cs = malloc(k * sizeof *cs);
    int rc = !cr || !cs ? pann_fail(err, PANN_ESYSTEM, "ecdf: out of memory")
                        : pann_ecdf_count(real, nodes, o, cr, err);
    if (rc == 0)
        rc = pann_ecdf_count(synth, nodes, o, cs, err);
    if (rc == 0) {
        ks_scan(cr, cs, k, real->n, synth->n, r);
        for (size_t i = 0; i < k; i++) {
            if (f_real)
                f_real[i] = (double)cr[i] / (double)real->n;
            if (f_synth)
                f_synth[i] = (double)cs[i] / (double)synth->n;
        }
    }
    free(cr);
    free(cs);
    return rc;
}

/* ---- node sets ---------------------------------------------------------- */

int pann_ecdf_nodes_all(const pann_matrix *real, const pann_matrix *synth,
                        pann_matrix *nodes, pann_error *err)
{
    if (real->d != synth->d)
        return pann_fail(err, PANN_EINPUT,
                         "ecdf: real has %zu columns and synth %zu",
                         real->d, synth->d);
    int rc = pann_matrix_alloc(nodes, real->n + synth->n, real->d, err);
    if (rc)
        return rc;
    size_t d = real->d;
    if (real->n)
        memcpy(nodes->v, real->v, real->n * d * sizeof *real->v);
    if (synth->n)
        memcpy(nodes->v + real->n * d, synth->v, synth->n * d * sizeof *synth->v);
    return 0;
}

/* numpy's "linear" quantile of sorted x[0..n) at level q in [0,1]. */
static float quantile_linear(const float *x, size_t n, double q)
{
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo >= n - 1)
        return x[n - 1];
    double frac = h - (double)lo;
    return (float)((double)x[lo] + frac * ((double)x[lo + 1] - (double)x[lo]));
}

static int sorted_columns(const pann_matrix *M, float **out)
{
    size_t n = M->n, d = M->d;
    keyed *keys = malloc(n * sizeof *keys + 1);
    float *cols = malloc(n * d * sizeof *cols + 1);
    if (!keys || !cols) {
        free(keys);
        free(cols);
        return -1;
    }
    for (size_t j = 0; j < d; j++) {
        for (size_t i = 0; i < n; i++)
            keys[i] = (keyed){ pann_row(M, i)[j], (uint32_t)i };
        qsort(keys, n, sizeof *keys, keyed_cmp);
        for (size_t i = 0; i < n; i++)
            cols[j * n + i] = keys[i].v;
    }
    free(keys);
    *out = cols;
    return 0;
}

static void keep_dominating(pann_matrix *nodes, const uint32_t *count,
                            size_t *dropped)
{
    size_t kept = 0, d = nodes->d;
    for (size_t i = 0; i < nodes->n; i++)
        if (count[i] > 0) {
            memmove(nodes->v + kept * d, nodes->v + i * d, d * sizeof *nodes->v);
            nodes->row_id[kept++] = i;
        }
    *dropped = nodes->n - kept;
    nodes->n = kept;
}

int pann_ecdf_nodes_random(const pann_matrix *real, size_t npoints,
                           uint64_t seed, const pann_ecdf_opts *o,
                           pann_matrix *nodes, size_t *dropped,
                           pann_error *err)
{
    size_t n = real->n, d = real->d;
    *dropped = 0;
    if (n == 0 || d == 0)
        return pann_fail(err, PANN_EINPUT, "ecdf: real has no rows");
    float *cols;
    if (sorted_columns(real, &cols))
        return pann_fail(err, PANN_ESYSTEM, "ecdf: out of memory");
    int rc = pann_matrix_alloc(nodes, npoints, d, err);
    bool allocated = rc == 0;
    uint32_t *count = rc ? NULL : malloc(npoints * sizeof *count + 1);
    if (rc == 0 && !count)
        rc = pann_fail(err, PANN_ESYSTEM, "ecdf: out of memory");
    if (rc == 0) {
        /* level u^(1/d) is distributed as the largest of d uniform levels:
         * with independent columns F_real(node) is about the product of the
         * levels, whose log has mean -1 whatever d, so the nodes do not
         * pile up at F_real = 0 as plain uniform levels would for large d. */
        for (size_t i = 0; i < npoints; i++)
            for (size_t j = 0; j < d; j++) {
                double u = pann_uniform3(seed, i, j);
                nodes->v[i * d + j] =
                    quantile_linear(cols + j * n, n, pow(u, 1.0 / (double)d));
            }
        rc = pann_ecdf_count(real, nodes, o, count, err);
    }
    if (rc == 0)
        keep_dominating(nodes, count, dropped);
    else if (allocated)
        pann_matrix_free(nodes);
    free(count);
    free(cols);
    return rc;
}

int pann_ecdf_select_columns(const pann_matrix *in, const size_t *cols,
                             size_t ncols, pann_matrix *out, pann_error *err)
{
    for (size_t c = 0; c < ncols; c++)
        if (cols[c] >= in->d)
            return pann_fail(err, PANN_EINPUT,
                             "ecdf: column %zu out of range (%zu columns)",
                             cols[c] + 1, in->d);
    int rc = pann_matrix_alloc(out, in->n, ncols, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < in->n; i++) {
        for (size_t c = 0; c < ncols; c++)
            out->v[i * ncols + c] = pann_row(in, i)[cols[c]];
        out->row_id[i] = in->row_id ? in->row_id[i] : i;
    }
    return 0;
}

/* ---- per-column scores --------------------------------------------------- */

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static float *sorted_column(const pann_matrix *M, size_t col)
{
    float *x = malloc(M->n * sizeof *x + 1);
    if (!x)
        return NULL;
    for (size_t i = 0; i < M->n; i++)
        x[i] = pann_row(M, i)[col];
    qsort(x, M->n, sizeof *x, cmp_float);
    return x;
}

/* Walk both sorted columns value by value; at each distinct value v,
 * cr and cs are the counts <= v.  ks: max |cs n - cr m|; tv: sum of
 * |(cs - cs_prev) n - (cr - cr_prev) m|, each over n m. */
static double marginal_walk(const pann_matrix *real, const pann_matrix *synth,
                            size_t col, bool tv)
{
    size_t n = real->n, m = synth->n;
    if (n == 0 || m == 0 || col >= real->d || col >= synth->d)
        return NAN;
    float *x = sorted_column(real, col), *y = sorted_column(synth, col);
    double result = NAN;
    if (x && y) {
        size_t i = 0, k = 0;
        uint64_t best = 0, sum = 0;
        while (i < n || k < m) {
            float v = k >= m || (i < n && x[i] <= y[k]) ? x[i] : y[k];
            size_t i0 = i, k0 = k;
            while (i < n && x[i] == v)
                i++;
            while (k < m && y[k] == v)
                k++;
            uint64_t a = (uint64_t)k * n, b = (uint64_t)i * m;
            uint64_t da = (uint64_t)(k - k0) * n, db = (uint64_t)(i - i0) * m;
            best = a > b ? (a - b > best ? a - b : best)
                         : (b - a > best ? b - a : best);
            sum += da > db ? da - db : db - da;
        }
        result = tv ? 0.5 * (double)sum / ((double)n * (double)m)
                    : (double)best / ((double)n * (double)m);
    }
    free(x);
    free(y);
    return result;
}

double pann_ecdf_marginal_ks(const pann_matrix *real, const pann_matrix *synth,
                             size_t col)
{
    return marginal_walk(real, synth, col, false);
}

double pann_ecdf_marginal_tv(const pann_matrix *real, const pann_matrix *synth,
                             size_t col)
{
    return marginal_walk(real, synth, col, true);
}
