/* exact_groups.c — the queries of the tree search, grouped by leaf.
 *
 * The rows of S are ordered by the leaf of T's index they fall in (in a
 * self-match on a budget, the leaf that holds them), each leaf's rows are
 * split at medians into small boxes of at most PANN_QBATCH rows, and each
 * such group is searched together (exact_tree.c, exact_budget.c): a group
 * that is a small box shares its bounds and its leaves well.
 */
#include <config.h>
#include <stdlib.h>
#include "exact_internal.h"

/* Split the query rows order[lo, hi) at the median of their widest column
 * until at most PANN_QBATCH remain, so each group of PANN_QBATCH consecutive
 * rows is a small box: the budgeted search spends its leaves near every
 * query of a group, and the exact search's shared bound stays tight. */
static void split_queries(const pann_matrix *S, uint32_t *order, size_t count)
{
    if (count <= PANN_QBATCH)
        return;
    float width;
    int col = kd_widest_column(S, order, count, &width);
    /* halves of whole groups, so the groups stay aligned */
    size_t mid = (count + PANN_QBATCH - 1) / PANN_QBATCH / 2 * PANN_QBATCH;
    kd_select_median(S, order, 0, count, mid, (size_t)col);
    split_queries(S, order, mid);
    split_queries(S, order + mid, count - mid);
}

void exact_query_groups_free(query_groups *qg)
{
    free(qg->order);
    free(qg->slot);
    free(qg->first);
    free(qg->leaf);
}

/* Reorder v[0, count) as v[local[0]], v[local[1]], ... (through spare). */
static void permute(uint32_t *v, const uint32_t *local, size_t count, uint32_t *spare)
{
    for (size_t i = 0; i < count; i++)
        spare[i] = v[local[i]];
    memcpy(v, spare, count * sizeof *v);
}

/* Split the queries of one leaf, order[0, count), into small boxes.  With
 * slots, the leaf's queries are first gathered into a small matrix
 * (scratch: count rows; local: twice count numbers), the same values in the
 * same order whether they come from S or from the index, and their slots
 * follow them. */
static void split_leaf_queries(const query_source *qs, uint32_t *order, uint32_t *slot,
                               size_t count, float *scratch, uint32_t *local)
{
    if (!slot) {
        split_queries(qs->S, order, count);
        return;
    }
    pann_matrix gathered = { .n = count, .d = qs->d, .v = scratch };
    for (size_t i = 0; i < count; i++) {
        query_coords(qs, order[i], slot[i], scratch + i * qs->d);
        local[i] = (uint32_t)i;
    }
    split_queries(&gathered, local, count);
    permute(order, local, count, local + count);
    permute(slot, local, count, local + count);
}

/* Each query's leaf: the leaf that holds it (held), or kd_leaf_of, from the
 * rows of S or from the index, read there in slot order (in row order every
 * read would be a cache miss). */
static void leaf_of_queries(const query_source *qs, bool held, uint32_t *leaf, int threads)
{
    const kd_index *ix = qs->ix;
    if (held) {
#pragma omp parallel for num_threads(threads) schedule(static)
        for (size_t l = 0; l < ix->nleaves; l++) {
            size_t first = (size_t)ix->leaf_block[l] * PANN_LANES;
            size_t slots = (size_t)ix->leaf_nblocks[l] * PANN_LANES;
            for (size_t i = first; i < first + slots; i++)
                if (ix->slot_row[i] != PANN_NONE)
                    leaf[ix->slot_row[i]] = (uint32_t)l;
        }
        return;
    }
    size_t count = qs->S ? qs->n : ix->blocks.n;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t k = 0; k < count; k++) {
        float point[64];
        uint32_t row = qs->S ? (uint32_t)k : ix->slot_row[k];
        if (row == PANN_NONE)
            continue;
        query_coords(qs, row, k, point);
        leaf[row] = (uint32_t)kd_leaf_of(ix, point);
    }
}

/* Split every leaf's queries (split_leaf_queries); false when out of memory. */
static bool split_leaves(query_groups *qg, const query_source *qs, const size_t *end,
                         size_t most, int threads)
{
    const kd_index *ix = qs->ix;
    int failed = 0;
#pragma omp parallel num_threads(threads)
    {
        bool gather = qg->slot != NULL;
        float *scratch = gather ? malloc((most ? most : 1) * qs->d * sizeof *scratch) : NULL;
        uint32_t *local = gather ? malloc(2 * (most ? most : 1) * sizeof *local) : NULL;
        bool have = !gather || (scratch && local);
#pragma omp for schedule(dynamic, 64)
        for (size_t l = 0; l < ix->nleaves; l++) {
            size_t begin = l ? end[l - 1] : 0;
            if (have)
                split_leaf_queries(qs, qg->order + begin, gather ? qg->slot + begin : NULL,
                                   end[l] - begin, scratch, local);
        }
        if (!have) {
#pragma omp atomic write
            failed = 1;
        }
        free(scratch);
        free(local);
    }
    return !failed;
}

/* Each group's rows in increasing order, their slots with them. */
static void sort_groups(query_groups *qg, int threads)
{
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t gi = 0; gi < qg->ngroups; gi++) {
        uint32_t *rows = qg->order + qg->first[gi];
        uint32_t *slots = qg->slot ? qg->slot + qg->first[gi] : NULL;
        size_t count = qg->first[gi + 1] - qg->first[gi];
        for (size_t i = 1; i < count; i++)
            for (size_t k = i; k > 0 && rows[k - 1] > rows[k]; k--) {
                uint32_t r = rows[k]; rows[k] = rows[k - 1]; rows[k - 1] = r;
                if (slots) {
                    r = slots[k]; slots[k] = slots[k - 1]; slots[k - 1] = r;
                }
            }
    }
}

/* See exact_internal.h. */
bool exact_queries_by_leaf(query_groups *qg, const query_source *qs, bool held, int threads)
{
    const kd_index *ix = qs->ix;
    size_t n = qs->n;
    /* a leaf's c queries make ceil(c / PANN_QBATCH) groups */
    size_t most_groups = n / PANN_QBATCH + ix->nleaves + 1;
    memset(qg, 0, sizeof *qg);
    qg->order = malloc((n ? n : 1) * sizeof *qg->order);
    qg->slot = qs->row_slot ? malloc((n ? n : 1) * sizeof *qg->slot) : NULL;
    qg->first = malloc(most_groups * sizeof *qg->first);
    qg->leaf = malloc(most_groups * sizeof *qg->leaf);
    uint32_t *leaf = malloc((n ? n : 1) * sizeof *leaf);
    size_t *end = calloc(ix->nleaves + 1, sizeof *end);
    bool ok = qg->order && (!qs->row_slot || qg->slot) && qg->first && qg->leaf && leaf && end;
    if (ok) {
        leaf_of_queries(qs, held, leaf, threads);
        for (size_t k = 0; k < n; k++)
            end[leaf[k] + 1]++;
        size_t most = 0;
        for (size_t l = 0; l < ix->nleaves; l++) {
            most = end[l + 1] > most ? end[l + 1] : most;
            end[l + 1] += end[l];
        }
        for (size_t k = 0; k < n; k++) {
            if (qg->slot)
                qg->slot[end[leaf[k]]] = qs->row_slot[k];
            qg->order[end[leaf[k]]++] = (uint32_t)k;
        }
        free(leaf);
        leaf = NULL;
        ok = split_leaves(qg, qs, end, most, threads);
        qg->ngroups = 0;
        for (size_t l = 0, begin = 0; ok && l < ix->nleaves; begin = end[l++])
            for (size_t k = begin; k < end[l]; k += PANN_QBATCH) {
                qg->leaf[qg->ngroups] = (uint32_t)l;
                qg->first[qg->ngroups++] = k;
            }
        qg->first[qg->ngroups] = n;
        if (ok)
            sort_groups(qg, threads);
    }
    if (!ok)
        exact_query_groups_free(qg);
    free(leaf);
    free(end);
    return ok;
}
