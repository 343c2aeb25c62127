/* kdtree.c — a k-d partition of T into small leaves with bounding boxes, so
 * exact search can skip the leaves that cannot hold a better answer.
 *
 * T is split at the median of its widest column until a leaf holds at most
 * the rows asked for (256 for exact search, fewer for a budget); the rows are then laid out leaf by leaf in the blocked
 * SIMD layout of distance.c, each leaf padded to whole blocks.  For L1, L2
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
#include "kdtree.h"

typedef struct build_ctx {
    const pann_matrix *T;
    uint32_t *rows;          /* permutation of T's rows, leaf by leaf */
    kd_node *nodes;
    size_t nnodes, cap_nodes;
    size_t nleaves;
    size_t leaf_rows;
} build_ctx;

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

static int64_t build_node(build_ctx *b, size_t lo, size_t hi)
{
    if (b->nnodes == b->cap_nodes) {
        size_t cap = b->cap_nodes ? 2 * b->cap_nodes : 256;
        kd_node *grown = realloc(b->nodes, cap * sizeof *grown);
        if (!grown)
            return -1;
        b->nodes = grown;
        b->cap_nodes = cap;
    }
    size_t id = b->nnodes++;
    float width;
    int col = kd_widest_column(b->T, b->rows + lo, hi - lo, &width);
    if (hi - lo <= b->leaf_rows || width <= 0.0f) {
        b->nodes[id] = (kd_node){ .leaf = (int32_t)b->nleaves++, .first = lo, .count = hi - lo };
        return (int64_t)id;
    }
    size_t mid = lo + (hi - lo) / 2;
    kd_select_median(b->T, b->rows, lo, hi, mid, (size_t)col);
    float split = column_value(b->T, b->rows[mid], (size_t)col);
    b->nodes[id] = (kd_node){ .leaf = -1, .col = col, .split = split };
    int64_t left = build_node(b, lo, mid);
    int64_t right = left < 0 ? -1 : build_node(b, mid, hi);
    if (right < 0)
        return -1;
    b->nodes[id].left = (size_t)left;
    b->nodes[id].right = (size_t)right;
    return (int64_t)id;
}

static void leaf_box(const pann_matrix *T, const uint32_t *rows, size_t count,
                     float *lo, float *hi)
{
    for (size_t j = 0; j < T->d; j++) {
        lo[j] = INFINITY;
        hi[j] = -INFINITY;
    }
    for (size_t i = 0; i < count; i++)
        for (size_t j = 0; j < T->d; j++) {
            float v = column_value(T, rows[i], j);
            lo[j] = v < lo[j] ? v : lo[j];
            hi[j] = v > hi[j] ? v : hi[j];
        }
}

/* Lay the rows out leaf by leaf in blocks, and record each leaf's box. */
static int layout_leaves(kd_index *ix, const pann_matrix *T, const uint32_t *rows,
                         pann_error *err)
{
    size_t d = T->d, total_blocks = 0;
    ix->leaf_block = malloc(ix->nleaves * sizeof *ix->leaf_block);
    ix->leaf_nblocks = malloc(ix->nleaves * sizeof *ix->leaf_nblocks);
    ix->leaf_node = malloc(ix->nleaves * sizeof *ix->leaf_node);
    size_t dbox = ix->dbox;
    ix->lo = calloc(ix->nnodes * dbox, sizeof *ix->lo);
    ix->hi = calloc(ix->nnodes * dbox, sizeof *ix->hi);
    if (!ix->leaf_block || !ix->leaf_nblocks || !ix->leaf_node || !ix->lo || !ix->hi)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (index)");
    for (size_t id = 0; id < ix->nnodes; id++) {
        const kd_node *node = &ix->nodes[id];
        if (node->leaf < 0)
            continue;
        ix->leaf_block[node->leaf] = (uint32_t)total_blocks;
        ix->leaf_node[node->leaf] = (uint32_t)id;
        ix->leaf_nblocks[node->leaf] = (uint32_t)((node->count + PANN_LANES - 1) / PANN_LANES);
        total_blocks += ix->leaf_nblocks[node->leaf];
        leaf_box(T, rows + node->first, node->count, ix->lo + id * dbox,
                 ix->hi + id * dbox);
    }
    size_t slots = total_blocks * PANN_LANES;
    ix->blocks = (pann_blocks){ .n = slots, .d = d, .nblocks = total_blocks };
    ix->slot_row = malloc(slots * sizeof *ix->slot_row);
    if (!ix->slot_row || posix_memalign((void **)&ix->blocks.v, 64,
                                        (slots ? slots : 1) * (d ? d : 1) * sizeof(float)))
        return pann_fail(err, PANN_ESYSTEM, "out of memory (index)");
    memset(ix->blocks.v, 0, slots * d * sizeof(float));
    for (size_t s = 0; s < slots; s++)
        ix->slot_row[s] = PANN_NONE;
    for (size_t id = 0; id < ix->nnodes; id++) {
        const kd_node *node = &ix->nodes[id];
        if (node->leaf < 0)
            continue;
        size_t first_slot = (size_t)ix->leaf_block[node->leaf] * PANN_LANES;
        for (size_t i = 0; i < node->count; i++) {
            size_t slot = first_slot + i, blk = slot / PANN_LANES, lane = slot % PANN_LANES;
            uint32_t row = rows[node->first + i];
            ix->slot_row[slot] = row;
            for (size_t j = 0; j < d; j++)
                ix->blocks.v[(blk * d + j) * PANN_LANES + lane] = column_value(T, row, j);
        }
    }
    return 0;
}

/* Nodes are numbered in preorder, so children come after their parent. */
static void inner_boxes(kd_index *ix)
{
    size_t d = ix->d, dbox = ix->dbox;
    for (size_t id = ix->nnodes; id-- > 0;) {
        const kd_node *node = &ix->nodes[id];
        if (node->leaf >= 0)
            continue;
        const float *llo = ix->lo + node->left * dbox, *lhi = ix->hi + node->left * dbox;
        const float *rlo = ix->lo + node->right * dbox, *rhi = ix->hi + node->right * dbox;
        for (size_t j = 0; j < d; j++) {
            ix->lo[id * dbox + j] = llo[j] < rlo[j] ? llo[j] : rlo[j];
            ix->hi[id * dbox + j] = lhi[j] > rhi[j] ? lhi[j] : rhi[j];
        }
    }
}

int kd_build(kd_index *ix, const pann_matrix *T, size_t leaf_rows, pann_error *err)
{
    memset(ix, 0, sizeof *ix);
    ix->n = T->n;
    ix->d = T->d;
    ix->dbox = (T->d + KD_BOX_LANES - 1) / KD_BOX_LANES * KD_BOX_LANES;
    build_ctx b = { .T = T, .leaf_rows = leaf_rows ? leaf_rows : 1 };
    b.rows = malloc((T->n ? T->n : 1) * sizeof *b.rows);
    if (!b.rows)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (index)");
    for (size_t i = 0; i < T->n; i++)
        b.rows[i] = (uint32_t)i;
    if (build_node(&b, 0, T->n) < 0) {
        free(b.rows);
        free(b.nodes);
        return pann_fail(err, PANN_ESYSTEM, "out of memory (index)");
    }
    ix->nodes = b.nodes;
    ix->nnodes = b.nnodes;
    ix->nleaves = b.nleaves;
    int rc = layout_leaves(ix, T, b.rows, err);
    free(b.rows);
    if (!rc)
        inner_boxes(ix);
    if (rc)
        kd_free(ix);
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
