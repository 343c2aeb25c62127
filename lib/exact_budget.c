/* exact_budget.c — the tree search on a budget of leaves per query, best
 * first (nearest mode, no categorical column).
 *
 * With a budget of leaves, depth first spends it all in the first subtree
 * it enters, and one order for the whole group serves its queries unevenly
 * (on W6 of bench/, recall 0.64 for 4,096 rows scanned per query).  Ranking
 * for each query the leaves nearest the group's centre (the method before
 * this one: 2.5 x max_leaves candidates, each query keeping its max_leaves
 * nearest) did better, 0.91 for 32 leaves, but cost more than the
 * distances, and in 10 columns nearly every leaf it kept had a box nearer
 * than the query's answer, so the order of the boxes says little.  What
 * tells where the neighbour is, is the distance to it.  So a group first
 * scans its own leaf, which gives each query q an answer at distance r_q;
 * then q takes the leaves whose box is within beta * r_q (a depth-first
 * walk, the nearer child first, cells bounded incrementally and far
 * children by their boxes), the nearest max_leaves - 1 of them when there
 * are more.  Groups go CHUNK_GROUPS at a time, and each leaf taken is
 * scanned once for the queries of the chunk that took it
 * (exact_visit_chunk), so that the kernel's batches are fuller.  The budget thus bounds the leaves
 * per query, and sets the radius:
 * beta = max_leaves / (max_leaves + RADIUS_HALF), growing towards 1 (for a
 * budget of every leaf, every leaf that is not hopeless is taken).  On W6,
 * 32 leaves take 13 per query on average, for recall 0.96.  A query is
 * proven when nothing it left (a leaf or subtree beyond the radius, or a
 * leaf beyond the budget, bounded by its box or cell) can beat its answer.
 */
#include <config.h>
#include <stdlib.h>
#include "exact_internal.h"

#define RADIUS_HALF 128.0f

static inline void point_node_bounds(const tree_ctx *x, const float *point,
                                     const uint32_t *nodes, size_t n, float *out)
{
    pann_metric_kind kind = x->metric->kind;
    x->point_bounds(x->ix, point, kind != PANN_L1, kind == PANN_COSINE ? 0.5f : 1.0f, nodes, n,
                    out);
}

/* One query's walk.  bound is a lower bound on the distance from the query
 * to the node's cell (the split planes above it), kept one column at a time
 * (off[c]: the query's gap to the cell in column c, in comparison units:
 * Arya and Mount's incremental distance); a leaf is then bounded by its box. */
typedef struct walk {
    const tree_ctx *x;
    pick_scratch *ps;
    const float *point;
    float off[64];
    float radius;            /* take leaves whose box is nearer than this */
    float skipped;           /* the least bound of what was left */
    size_t home;             /* the group's own leaf, scanned already */
    bool squared;            /* L2, cosine: squared gaps, times scale */
    float scale;             /* 0.5 for cosine (1 - cos = |a - b|^2 / 2 on
                                unit rows), else 1 */
} walk;

static void walk_leaves(walk *w, size_t node_id, float bound)
{
    const kd_index *ix = w->x->ix;
    const kd_node *node = &ix->nodes[node_id];
    if (node->leaf >= 0) {
        if ((size_t)node->leaf == w->home)
            return;
        w->ps->cell_node[w->ps->ncells++] = (uint32_t)node_id;   /* boxes: later, at once */
        return;
    }
    /* left rows <= split <= right rows (kdtree.c) */
    size_t c = (size_t)node->col;
    float diff = w->point[c] - node->split;
    walk_leaves(w, diff < 0.0f ? node->left : node->right, bound);
    float gap = w->squared ? w->scale * diff * diff : fabsf(diff), old = w->off[c];
    float far = bound - old + gap;
    if (far < w->radius) {
        /* the far child's own box, tighter than its cell */
        uint32_t id = (uint32_t)(diff < 0.0f ? node->right : node->left);
        float box;
        /* inline: one box through the dispatched routine costs more in
         * calls than in arithmetic */
        box = w->scale * box_gaps(w->point, w->point, ix->lo + (size_t)id * ix->dbox,
                                  ix->hi + (size_t)id * ix->dbox, ix->dbox, w->squared);
        if (!(box < w->radius)) {
            w->skipped = box < w->skipped ? box : w->skipped;
            return;
        }
    }
    if (!(far < w->radius)) {
        w->skipped = far < w->skipped ? far : w->skipped;
        return;
    }
    w->off[c] = gap;
    walk_leaves(w, diff < 0.0f ? node->right : node->left, far);
    w->off[c] = old;
}

/* Reorder v[0..n) so that v[0..k) are the k of least key (ties as they
 * fall: the order is the walk's, which is fixed). */
static void keep_least(leaf_key *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        float pivot = v[lo + (hi - lo) / 2].key;
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i].key < pivot) i++;
            while (v[j].key > pivot) j--;
            if (i <= j) {
                leaf_key t = v[i]; v[i] = v[j]; v[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j) hi = j;          /* v[lo..j] <= pivot <= v[i..hi] */
        else if (k >= i) lo = i;
        else return;
    }
}

/* A self-match: the group's answers so far, offered to its own rows' slots
 * (the least of every offer is the same, whenever they are made). */
static void publish_answers(const tree_ctx *x, const group *g)
{
    if (!x->rev)
        return;
    for (size_t q = 0; q < g->nq; q++) {
        uint32_t row = g->rows[q];
        if (x->nn[row] != PANN_NONE)
            rev_offer(x->rev, g->slots[q], rev_key(x->best[row], x->nn[row]));
    }
}

/* One group: its own leaf scanned, then each query's leaves within its
 * radius noted in ps (bit 8 * gi + q of leaf_mask, the bound in known). */
static void take_leaves(const tree_ctx *x, group *g, size_t gi, pick_scratch *ps,
                        float *skipped, pann_hit *vals)
{
    const kd_index *ix = x->ix;
    size_t home = g->home;
    exact_scan_leaf(x, g, ix->leaf_node[home], ALL_QUERIES, NULL, vals);
    publish_answers(x, g);
    bool every_leaf = x->max_leaves >= ix->nleaves;
    float beta = (float)x->max_leaves / ((float)x->max_leaves + RADIUS_HALF);
    size_t most = x->max_leaves - 1;
    for (size_t q = 0; q < g->nq; q++) {
        float best = row_bound(x, g->rows[q]);
        /* beyond best + margin nothing can beat best (hopeless()) */
        float reach = best + x->abs_margin + 1e-5f * fabsf(best);
        walk w = { .x = x, .ps = ps, .point = g->point[q], .skipped = INFINITY, .home = home,
                   .squared = x->metric->kind != PANN_L1,
                   .scale = x->metric->kind == PANN_COSINE ? 0.5f : 1.0f };
        /* every leaf: take those within reach, leave the hopeless */
        w.radius = every_leaf ? nextafterf(reach, INFINITY) : beta * best < reach ? beta * best
                                                                                 : reach;
        ps->ncells = 0;
        walk_leaves(&w, 0, 0.0f);
        point_node_bounds(x, g->point[q], ps->cell_node, ps->ncells, ps->cell_box);
        ps->nwithin = 0;
        for (size_t i = 0; i < ps->ncells; i++) {
            float box = ps->cell_box[i];
            if (box < w.radius)
                ps->within[ps->nwithin++] =
                    (leaf_key){ box, (uint32_t)ix->nodes[ps->cell_node[i]].leaf };
            else
                w.skipped = box < w.skipped ? box : w.skipped;
        }
        size_t taken = ps->nwithin;
        if (!every_leaf && taken > most) {
            /* the budget: the nearest boxes */
            keep_least(ps->within, taken, most);
            for (size_t i = most; i < taken; i++)
                w.skipped = ps->within[i].key < w.skipped ? ps->within[i].key : w.skipped;
            taken = most;
        }
        size_t bit = gi * PANN_QBATCH + q;
        for (size_t i = 0; i < taken; i++) {
            uint32_t leaf = ps->within[i].leaf;
            if (!ps->leaf_mask[leaf]) {
                ps->place[leaf] = (uint32_t)ps->ntouched;
                ps->touched[ps->ntouched++] = leaf;
            }
            ps->leaf_mask[leaf] |= (chunk_mask)1 << bit;
            ps->known[(size_t)ps->place[leaf] * CHUNK_QUERIES + bit] = ps->within[i].key;
        }
        skipped[q] = w.skipped;
    }
}

/* A taker of a leaf: a query of the chunk, its row and its bound on the leaf. */
typedef struct taker {
    uint32_t row;
    uint32_t bit;
    float known;
} taker;

/* CHUNK_GROUPS consecutive groups at once: every leaf taken is scanned once
 * for all the queries of the chunk that took it, PANN_QBATCH at a time in
 * increasing row order (leaves taken by one query of each group share the
 * kernel's loads); complete[8 * gi + q] says whether query q of group gi is
 * proven. */
void exact_visit_chunk(const tree_ctx *x, group *gs, size_t ng, pick_scratch *ps,
                       bool *complete, pann_hit *vals)
{
    const kd_index *ix = x->ix;
    float skipped[CHUNK_QUERIES];
    ps->ntouched = 0;
    for (size_t gi = 0; gi < ng; gi++)
        take_leaves(x, &gs[gi], gi, ps, skipped + gi * PANN_QBATCH, vals);
    for (size_t i = 0; i < ps->ntouched; i++) {
        uint32_t leaf = ps->touched[i];
        chunk_mask mask = ps->leaf_mask[leaf];
        ps->leaf_mask[leaf] = 0;
        taker t[CHUNK_QUERIES];
        size_t nt = 0;
        for (chunk_mask bits = mask; bits; bits &= bits - 1) {
            uint32_t bit = (uint32_t)__builtin_ctzll(bits);
            taker add = { gs[bit / PANN_QBATCH].rows[bit % PANN_QBATCH], bit,
                          ps->known[(size_t)i * CHUNK_QUERIES + bit] };
            size_t k = nt++;
            for (; k > 0 && t[k - 1].row > add.row; k--)
                t[k] = t[k - 1];
            t[k] = add;
        }
        size_t node_id = ix->leaf_node[leaf];
        const float *queries[PANN_QBATCH];
        uint32_t qrows[PANN_QBATCH];
        float bound[PANN_QBATCH];
        size_t nq = 0;
        for (size_t k = 0; k < nt; k++) {
            float limit = row_bound(x, t[k].row);
            if (!hopeless(x, t[k].known, limit)) {
                queries[nq] = gs[t[k].bit / PANN_QBATCH].point[t[k].bit % PANN_QBATCH];
                qrows[nq] = t[k].row;
                bound[nq++] = limit;
            }
            if (nq == PANN_QBATCH || (k + 1 == nt && nq > 0)) {
                gs[0].evaluations += (uint64_t)nq * ix->nodes[node_id].count;
                exact_run_batch(x, node_id, queries, qrows, bound, nq, vals);
                nq = 0;
            }
        }
    }
    for (size_t gi = 0; gi < ng; gi++) {
        const group *g = &gs[gi];
        publish_answers(x, g);
        for (size_t q = 0; q < g->nq; q++) {
            float limit = row_bound(x, g->rows[q]), left = skipped[gi * PANN_QBATCH + q];
            complete[gi * PANN_QBATCH + q] = left == INFINITY || hopeless(x, left, limit);
        }
    }
}

void exact_pick_scratch_free(pick_scratch *ps)
{
    free(ps->leaf_mask);
    free(ps->touched);
    free(ps->within);
    free(ps->cell_node);
    free(ps->cell_box);
    free(ps->place);
    free(ps->known);
}

bool exact_pick_scratch_alloc(pick_scratch *ps, const kd_index *ix, size_t max_leaves)
{
    size_t n = ix->nleaves ? ix->nleaves : 1;
    /* leaves a chunk takes: at most max_leaves - 1 per query */
    size_t touched = max_leaves < n / CHUNK_QUERIES + 1 ? CHUNK_QUERIES * max_leaves : n;
    ps->leaf_mask = calloc(n, sizeof *ps->leaf_mask);
    ps->touched = malloc(n * sizeof *ps->touched);
    ps->within = malloc(n * sizeof *ps->within);
    ps->cell_node = malloc(n * sizeof *ps->cell_node);
    ps->cell_box = malloc(n * sizeof *ps->cell_box);
    ps->place = malloc(n * sizeof *ps->place);
    ps->known = malloc(touched * CHUNK_QUERIES * sizeof *ps->known);
    if (ps->leaf_mask && ps->touched && ps->within && ps->cell_node && ps->cell_box &&
        ps->place && ps->known)
        return true;
    exact_pick_scratch_free(ps);
    return false;
}
