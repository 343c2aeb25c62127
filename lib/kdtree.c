/* kdtree.c — a k-d partition of T into small leaves with bounding boxes, so
 * exact search can skip the leaves that cannot hold a better answer.
 *
 * T is split at the median of its widest column until a leaf holds at most
 * the rows asked for (256 for exact search, fewer for a budget); the rows are
 * then laid out leaf by leaf in the blocked SIMD layout of distance.c, each
 * leaf padded to whole blocks.  The build works on a copy of T whose rows
 * move with the partition (or on T itself, when the caller gives it up:
 * kd_build_owned), so a node reads its rows contiguously: one scan gives
 * its box and widest column, a branch-free quickselect on the rows' ranks
 * (value, then position, so equal values split the same way every time)
 * finds the median, and one pass swaps the rows across it.  Large
 * nodes leave their right half to another thread, which builds it into its
 * own node array, appended after the left half: nodes stay numbered in
 * preorder and the tree does not depend on the thread count.  For L1, L2
 * and (on unit rows) cosine, the distance from a query to any row of a leaf
 * is at least the distance from the query to the leaf's box, and at most the
 * distance to the box's far corner; these bounds order the leaves and prune
 * them.  Queries are grouped by the leaf they fall in, so the PANN_QBATCH
 * queries of a group are close together and share their pruning.  Bounds
 * are compared with a small safety margin because they are summed in a
 * different order than the distances they bound.
 */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pann.h"
#include "internal.h"
#include "kdtree.h"

/* Nodes of more rows than this build their halves in parallel, and scan
 * their rows in KD_SCAN_PARTS parts; fixed, so the work split (not the tree)
 * is all that threads change. */
#define KD_TASK_ROWS 65536
#define KD_SCAN_PARTS 16
#define KD_MAX_SCAN_D 64      /* wider rows are scanned one by one */

typedef struct build_ctx {
    float *W;                /* T's rows in the order of rows */
    uint32_t *rows;          /* permutation of T's rows, leaf by leaf */
    uint64_t *rank;          /* scratch: rank_key() of a node's rows */
    size_t d, dbox;
    size_t leaf_rows;
} build_ctx;

/* A subtree's nodes in preorder, numbered from 0, with their boxes. */
typedef struct subtree {
    kd_node *nodes;
    float *lo, *hi;          /* dbox floats per node */
    size_t nnodes, cap, nleaves;
} subtree;

static float column_value(const pann_matrix *T, uint32_t row, size_t col)
{
    return T->v[(size_t)row * T->d + col];
}

/* Quickselect rows[lo..hi) so that rows[mid] has the median value of col. */
void kd_select_median(const pann_matrix *T, uint32_t *rows, size_t lo, size_t hi,
                          size_t mid, size_t col)
{
    ptrdiff_t left = (ptrdiff_t)lo, right = (ptrdiff_t)hi - 1, target = (ptrdiff_t)mid;
    while (left < right) {
        float pivot = column_value(T, rows[left + (right - left) / 2], col);
        ptrdiff_t i = left, j = right;
        while (i <= j) {
            while (column_value(T, rows[i], col) < pivot) i++;
            while (column_value(T, rows[j], col) > pivot) j--;
            if (i <= j) {
                uint32_t tmp = rows[i]; rows[i] = rows[j]; rows[j] = tmp;
                i++;
                j--;
            }
        }
        if (target <= j) right = j;
        else if (target >= i) left = i;
        else return;
    }
}

/* The first column of the widest range (ties keep the lower column). */
static int widest(const float *lo, const float *hi, size_t d, float *width)
{
    int best_col = 0;
    *width = -1.0f;
    for (size_t j = 0; j < d; j++)
        if (hi[j] - lo[j] > *width) {
            *width = hi[j] - lo[j];
            best_col = (int)j;
        }
    return best_col;
}

int kd_widest_column(const pann_matrix *T, const uint32_t *rows, size_t count,
                         float *width)
{
    int best_col = 0;
    *width = -1.0f;
    for (size_t j = 0; j < T->d; j++) {
        float lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < count; i++) {
            float v = column_value(T, rows[i], j);
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        if (hi - lo > *width) {
            *width = hi - lo;
            best_col = (int)j;
        }
    }
    return best_col;
}

/* The box of count consecutive rows of d columns (empty: +inf..-inf).
 * KD_SCAN_ROWS rows at a time are one flat run of floats, so the minima
 * and maxima vectorise whatever d is. */
static void scan_box(const float *rows, size_t d, size_t count, float *lo, float *hi)
{
    enum { KD_SCAN_ROWS = 4 };
    size_t run = KD_SCAN_ROWS * d, whole = count / KD_SCAN_ROWS * KD_SCAN_ROWS;
    float run_lo[KD_SCAN_ROWS * KD_MAX_SCAN_D], run_hi[KD_SCAN_ROWS * KD_MAX_SCAN_D];
    if (d > KD_MAX_SCAN_D)
        whole = 0;
    for (size_t k = 0; k < run && whole; k++) {
        run_lo[k] = INFINITY;
        run_hi[k] = -INFINITY;
    }
    for (size_t i = 0; i < whole; i += KD_SCAN_ROWS) {
        const float *v = rows + i * d;
#pragma omp simd
        for (size_t k = 0; k < run; k++) {
            run_lo[k] = v[k] < run_lo[k] ? v[k] : run_lo[k];
            run_hi[k] = v[k] > run_hi[k] ? v[k] : run_hi[k];
        }
    }
    for (size_t j = 0; j < d; j++) {
        lo[j] = INFINITY;
        hi[j] = -INFINITY;
    }
    for (size_t k = 0; k < run && whole; k++) {
        size_t j = k % d;
        lo[j] = run_lo[k] < lo[j] ? run_lo[k] : lo[j];
        hi[j] = run_hi[k] > hi[j] ? run_hi[k] : hi[j];
    }
    for (size_t i = whole; i < count; i++)
        for (size_t j = 0; j < d; j++) {
            float v = rows[i * d + j];
            lo[j] = v < lo[j] ? v : lo[j];
            hi[j] = v > hi[j] ? v : hi[j];
        }
}

/* The box of rows [first, first + count) of W, a large node's in parts
 * (minima and maxima are exact, so the parts change nothing). */
static void node_box(const float *W, size_t d, size_t first, size_t count, float *lo,
                     float *hi)
{
    float *part = count > KD_TASK_ROWS ? malloc(KD_SCAN_PARTS * 2 * d * sizeof *part) : NULL;
    if (!part) {
        scan_box(W + first * d, d, count, lo, hi);
        return;
    }
#pragma omp taskloop grainsize(1)
    for (size_t p = 0; p < KD_SCAN_PARTS; p++) {
        size_t begin = count * p / KD_SCAN_PARTS, end = count * (p + 1) / KD_SCAN_PARTS;
        scan_box(W + (first + begin) * d, d, end - begin, part + 2 * p * d,
                 part + (2 * p + 1) * d);
    }
    scan_box(part, d, 0, lo, hi);
    for (size_t p = 0; p < KD_SCAN_PARTS; p++)
        for (size_t j = 0; j < d; j++) {
            float plo = part[2 * p * d + j], phi = part[(2 * p + 1) * d + j];
            lo[j] = plo < lo[j] ? plo : lo[j];
            hi[j] = phi > hi[j] ? phi : hi[j];
        }
    free(part);
}

/* A row's place in a node's order: by value (as unsigned bits ordered like
 * the floats, NaNs at the ends), ties by position, so no two rows tie and
 * the lower half is one set whatever finds it. */
static uint64_t rank_key(float v, size_t pos)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    u = u & 0x80000000u ? ~u : u | 0x80000000u;
    return (uint64_t)u << 32 | (uint32_t)pos;
}

static float rank_value(uint64_t rank)
{
    uint32_t u = (uint32_t)(rank >> 32);
    u = u & 0x80000000u ? u & 0x7fffffffu : ~u;
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* The k-th smallest of n distinct ranks: quickselect with a branch-free
 * partition, as the comparisons with the pivot are unpredictable. */
static uint64_t select_rank(uint64_t *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        uint64_t pivot = a[lo + (hi - lo) / 2];
        a[lo + (hi - lo) / 2] = a[hi - 1];
        size_t s = lo;
        for (size_t i = lo; i < hi - 1; i++) {
            uint64_t x = a[i];
            a[i] = a[s];
            a[s] = x;
            s += x < pivot;
        }
        a[hi - 1] = a[s];
        a[s] = pivot;
        if (k == s)
            return pivot;
        if (k < s) hi = s;
        else lo = s + 1;
    }
    return a[lo];
}

/* Swap two rows of the copy, four columns at a time where it can. */
static void swap_rows(const build_ctx *b, size_t i, size_t k)
{
    uint32_t tmp = b->rows[i]; b->rows[i] = b->rows[k]; b->rows[k] = tmp;
    float *wi = b->W + i * b->d, *wk = b->W + k * b->d, four[4];
    size_t j = 0;
    for (; j + 4 <= b->d; j += 4) {
        memcpy(four, wi + j, sizeof four);
        memcpy(wi + j, wk + j, sizeof four);
        memcpy(wk + j, four, sizeof four);
    }
    for (; j < b->d; j++) {
        float v = wi[j]; wi[j] = wk[j]; wk[j] = v;
    }
}

/* Split rows [lo, hi) at the median of col: the mid - lo lowest ranked rows
 * to [lo, mid), each swapped with a row of the upper half in the order the
 * two halves are read.  Returns the median. */
static float split_rows(const build_ctx *b, size_t lo, size_t mid, size_t hi, size_t col)
{
    const float *key = b->W + col;
    size_t d = b->d;
    uint64_t *rank = b->rank + lo;
    for (size_t i = lo; i < hi; i++)
        rank[i - lo] = rank_key(key[i * d], i - lo);
    uint64_t median = select_rank(rank, hi - lo, mid - lo);
    /* a row is read before any swap moves it, so its rank is as above */
    for (size_t i = lo, k = mid;; i++, k++) {
        while (i < mid && rank_key(key[i * d], i - lo) < median)
            i++;
        while (k < hi && rank_key(key[k * d], k - lo) >= median)
            k++;
        if (i == mid)
            break;
        swap_rows(b, i, k);
    }
    return rank_value(median);
}

/* Room for one more node; its box is zero past d. */
static int64_t push_node(subtree *s, size_t d, size_t dbox)
{
    if (s->nnodes == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        kd_node *nodes = realloc(s->nodes, cap * sizeof *nodes);
        if (nodes)
            s->nodes = nodes;
        float *lo = nodes ? realloc(s->lo, cap * dbox * sizeof *lo) : NULL;
        if (lo)
            s->lo = lo;
        float *hi = lo ? realloc(s->hi, cap * dbox * sizeof *hi) : NULL;
        if (!hi)
            return -1;
        s->hi = hi;
        s->cap = cap;
    }
    size_t id = s->nnodes++;
    for (size_t j = d; j < dbox; j++)
        s->lo[id * dbox + j] = s->hi[id * dbox + j] = 0.0f;
    return (int64_t)id;
}

/* Append a subtree built apart, renumbering its nodes and leaves. */
static int append_subtree(subtree *s, const subtree *t, size_t d, size_t dbox)
{
    size_t base = s->nnodes;
    for (size_t k = 0; k < t->nnodes; k++)
        if (push_node(s, d, dbox) < 0)
            return -1;
    for (size_t k = 0; k < t->nnodes; k++) {
        kd_node node = t->nodes[k];
        if (node.leaf >= 0) {
            node.leaf += (int32_t)s->nleaves;
        } else {
            node.left += base;
            node.right += base;
        }
        s->nodes[base + k] = node;
    }
    memcpy(s->lo + base * dbox, t->lo, t->nnodes * dbox * sizeof *t->lo);
    memcpy(s->hi + base * dbox, t->hi, t->nnodes * dbox * sizeof *t->hi);
    s->nleaves += t->nleaves;
    return 0;
}

static void subtree_free(subtree *s)
{
    free(s->nodes);
    free(s->lo);
    free(s->hi);
}

static int build_node(const build_ctx *b, subtree *s, size_t lo, size_t hi);

/* The children of node id, in preorder; a large node's right child is built
 * by another task into its own array, then appended after the left one. */
static int build_children(const build_ctx *b, subtree *s, size_t id, size_t lo, size_t mid,
                          size_t hi)
{
    if (hi - lo <= KD_TASK_ROWS) {
        s->nodes[id].left = s->nnodes;
        if (build_node(b, s, lo, mid))
            return -1;
        s->nodes[id].right = s->nnodes;
        return build_node(b, s, mid, hi);
    }
    subtree right = { 0 };
    int rc_right = 0;
#pragma omp task shared(right, rc_right)
    rc_right = build_node(b, &right, mid, hi);
    s->nodes[id].left = s->nnodes;
    int rc = build_node(b, s, lo, mid);
#pragma omp taskwait
    s->nodes[id].right = s->nnodes;
    if (!rc && !rc_right)
        rc = append_subtree(s, &right, b->d, b->dbox);
    subtree_free(&right);
    return rc || rc_right ? -1 : 0;
}

/* The subtree of rows [lo, hi). */
static int build_node(const build_ctx *b, subtree *s, size_t lo, size_t hi)
{
    size_t d = b->d;
    int64_t id = push_node(s, d, b->dbox);
    if (id < 0)
        return -1;
    float *box_lo = s->lo + (size_t)id * b->dbox, *box_hi = s->hi + (size_t)id * b->dbox;
    node_box(b->W, d, lo, hi - lo, box_lo, box_hi);
    float width;
    int col = widest(box_lo, box_hi, d, &width);
    if (hi - lo <= b->leaf_rows || width <= 0.0f) {
        s->nodes[id] = (kd_node){ .leaf = (int32_t)s->nleaves++, .first = lo, .count = hi - lo };
        return 0;
    }
    size_t mid = lo + (hi - lo) / 2;
    float split = split_rows(b, lo, mid, hi, (size_t)col);
    s->nodes[id] = (kd_node){ .leaf = -1, .col = col, .split = split };
    return build_children(b, s, (size_t)id, lo, mid, hi);
}

/* Write one leaf's rows (copied to `rows_of_leaf`) into its blocks, the
 * lanes past its last row zero and of no row. */
static void layout_leaf(kd_index *ix, const build_ctx *b, const kd_node *node,
                        const float *rows_of_leaf)
{
    size_t d = ix->d, first_slot = (size_t)ix->leaf_block[node->leaf] * PANN_LANES;
    size_t nslots = (size_t)ix->leaf_nblocks[node->leaf] * PANN_LANES;
    float *v = ix->blocks.v + first_slot * d;
    for (size_t i = 0; i < nslots; i++) {
        size_t blk = i / PANN_LANES, lane = i % PANN_LANES;
        bool real = i < node->count;
        const float *row = real ? rows_of_leaf + i * d : NULL;
        ix->slot_row[first_slot + i] = real ? b->rows[node->first + i] : PANN_NONE;
        for (size_t j = 0; j < d; j++)
            v[(blk * d + j) * PANN_LANES + lane] = real ? row[j] : 0.0f;
    }
}

/* Lay the rows out leaf by leaf in blocks, a fresh aligned array, reading
 * W in order and releasing it behind (pann_release_behind), so the index holds T
 * once, not twice, even while it is being laid out. */
static int layout_leaves(kd_index *ix, build_ctx *b, pann_error *err)
{
    size_t d = ix->d, total_blocks = 0, rows_before = 0, leaves_before = 0;
    ix->leaf_block = malloc(ix->nleaves * sizeof *ix->leaf_block);
    ix->leaf_nblocks = malloc(ix->nleaves * sizeof *ix->leaf_nblocks);
    ix->leaf_node = malloc(ix->nleaves * sizeof *ix->leaf_node);
    if (!ix->leaf_block || !ix->leaf_nblocks || !ix->leaf_node)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (index)");
    for (size_t id = 0; id < ix->nnodes; id++) {
        const kd_node *node = &ix->nodes[id];
        if (node->leaf < 0)
            continue;
        /* reading W once, in order, relies on leaves numbered in row order */
        if (node->first != rows_before || (size_t)node->leaf != leaves_before++)
            return pann_fail(err, PANN_ESYSTEM, "internal error: leaves out of row order");
        rows_before += node->count;
        ix->leaf_block[node->leaf] = (uint32_t)total_blocks;
        ix->leaf_node[node->leaf] = (uint32_t)id;
        ix->leaf_nblocks[node->leaf] = (uint32_t)((node->count + PANN_LANES - 1) / PANN_LANES);
        total_blocks += ix->leaf_nblocks[node->leaf];
    }
    size_t slots = total_blocks * PANN_LANES;
    ix->blocks = (pann_blocks){ .n = slots, .d = d, .nblocks = total_blocks };
    ix->slot_row = malloc((slots ? slots : 1) * sizeof *ix->slot_row);
    size_t bytes = (slots ? slots : 1) * (d ? d : 1) * sizeof *ix->blocks.v;
    if (posix_memalign((void **)&ix->blocks.v, 64, bytes) != 0)
        ix->blocks.v = NULL;
    if (!ix->slot_row || !ix->blocks.v)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (index)");
    size_t released = 0;
    for (size_t l = 0; l < ix->nleaves; l++) {
        const kd_node *node = &ix->nodes[ix->leaf_node[l]];
        layout_leaf(ix, b, node, b->W + node->first * d);
        pann_release_behind(b->W, (node->first + node->count) * d * sizeof *b->W, &released);
    }
    return 0;
}

/* Build into the index's own arrays: the root's subtree is the whole tree. */
static int build_tree(kd_index *ix, const build_ctx *b, int threads)
{
    subtree root = { 0 };
    int rc = 0;
#pragma omp parallel num_threads(threads)
#pragma omp single
    rc = build_node(b, &root, 0, ix->n);
    ix->nodes = root.nodes;
    ix->lo = root.lo;
    ix->hi = root.hi;
    ix->nnodes = root.nnodes;
    ix->nleaves = root.nleaves;
    return rc;
}

/* Build the index from W, T's rows row-major, which the build permutes and
 * the layout then releases; the caller frees W. */
static int build_from(kd_index *ix, float *W, size_t n, size_t d, size_t leaf_rows,
                      int threads, pann_error *err)
{
    memset(ix, 0, sizeof *ix);
    ix->n = n;
    ix->d = d;
    ix->dbox = (d + KD_BOX_LANES - 1) / KD_BOX_LANES * KD_BOX_LANES;
    build_ctx b = { .W = W, .d = d, .dbox = ix->dbox, .leaf_rows = leaf_rows ? leaf_rows : 1 };
    b.rows = malloc((n ? n : 1) * sizeof *b.rows);
    b.rank = malloc((n ? n : 1) * sizeof *b.rank);
    int rc = !b.rows || !b.rank;
    if (!rc) {
        for (size_t i = 0; i < n; i++)
            b.rows[i] = (uint32_t)i;
        rc = build_tree(ix, &b, threads);
    }
    free(b.rank);
    rc = rc ? pann_fail(err, PANN_ESYSTEM, "out of memory (index)")
            : layout_leaves(ix, &b, err);
    free(b.rows);
    if (rc)
        kd_free(ix);
    return rc;
}

int kd_build(kd_index *ix, const pann_matrix *T, size_t leaf_rows, int threads,
             pann_error *err)
{
    size_t n = T->n, d = T->d;
    float *W = malloc((n ? n : 1) * (d ? d : 1) * sizeof *W);
    if (!W) {
        memset(ix, 0, sizeof *ix);
        return pann_fail(err, PANN_ESYSTEM, "out of memory (index)");
    }
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t first = 0; first < n; first += KD_TASK_ROWS) {
        size_t count = n - first < KD_TASK_ROWS ? n - first : KD_TASK_ROWS;
        memcpy(W + first * d, T->v + first * d, count * d * sizeof *W);
    }
    int rc = build_from(ix, W, n, d, leaf_rows, threads, err);
    free(W);
    return rc;
}

int kd_build_owned(kd_index *ix, pann_matrix *T, size_t leaf_rows, int threads,
                   pann_error *err)
{
    float *W = T->v;
    T->v = NULL;
    int rc = build_from(ix, W, T->n, T->d, leaf_rows, threads, err);
    free(W);
    return rc;
}

void kd_free(kd_index *ix)
{
    free(ix->nodes);
    free(ix->blocks.v);
    free(ix->slot_row);
    free(ix->leaf_block);
    free(ix->leaf_nblocks);
    free(ix->leaf_node);
    free(ix->lo);
    free(ix->hi);
    memset(ix, 0, sizeof *ix);
}

size_t kd_leaf_of(const kd_index *ix, const float *x)
{
    size_t id = 0;
    while (ix->nodes[id].leaf < 0)
        id = x[ix->nodes[id].col] < ix->nodes[id].split ? ix->nodes[id].left : ix->nodes[id].right;
    return (size_t)ix->nodes[id].leaf;
}
