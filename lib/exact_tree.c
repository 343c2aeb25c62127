/* exact_tree.c — the exact and budgeted search by the k-d tree (kdtree.c).
 *
 * The tree search visits the leaves of T nearest first and skips those
 * whose bounding box cannot beat the answers found so far; it wins over the
 * brute force in low and moderate dimension.  Queries go in groups of at
 * most PANN_QBATCH rows that form a small box (exact_groups.c), searched
 * depth first here (exact, categorical columns, farthest rows) or best
 * first on a budget of leaves per query (exact_budget.c), proving the rows
 * it can; in a self-match on a budget each distance computed serves both
 * of its rows (kernels_self.c).  Leaves are scanned by the kernels of
 * kernels.c, in increasing row order, so that ties go to the lowest row.
 */
#include <config.h>
#include <stdlib.h>
#include "exact_internal.h"

/* Leaves of the tree: exact search prunes whole leaves, so larger ones cost
 * fewer bounds; a budget is spent more precisely on smaller ones. */
#define EXACT_LEAF_ROWS 256
#define BUDGET_LEAF_ROWS 128

static void apply_list_hits(const tree_ctx *x, const pann_hit *hits, size_t nh,
                            const uint32_t *qrows, const uint32_t *slot_row)
{
    for (size_t i = 0; i < nh; i++) {
        uint32_t row = qrows[hits[i].query], cand = slot_row[hits[i].slot];
        if (cand == PANN_NONE || (x->o->self_exclude && cand == row + x->self_offset))
            continue;
        pann_list_insert(x->best + row * x->k, x->nn + row * x->k, &x->filled[row], x->k,
                         hits[i].value, cand);
    }
}

/* Per-column gap between two boxes: at least (far = false) or at most
 * (far = true) what any pair of points from them differs by. */
static inline float column_gap(bool cat, bool far, float alo, float ahi, float blo, float bhi)
{
    if (cat) {
        bool both_single = alo == ahi && blo == bhi;
        if (far)
            return both_single && alo == blo ? 0.0f : 1.0f;
        return both_single && alo != blo ? 1.0f : 0.0f;
    }
    if (far) {
        float x = bhi - alo, y = ahi - blo;
        return x > y ? x : y;
    }
    float gap = blo - ahi, other = alo - bhi;
    gap = other > gap ? other : gap;
    return gap > 0.0f ? gap : 0.0f;
}

/* Bound, in comparison units, on cmp(a, b) for a in box A and b in box B. */
static float box_bound(const pann_metric *m, bool far, const float *alo, const float *ahi,
                       const float *blo, const float *bhi)
{
    float acc = 0.0f;
    for (size_t j = 0; j < m->d; j++) {
        float gap = column_gap(m->is_cat && m->is_cat[j], far, alo[j], ahi[j], blo[j], bhi[j]);
        acc += m->kind == PANN_L1 ? gap : gap * gap;
    }
    return m->kind == PANN_COSINE ? 0.5f * acc : acc;
}

static inline float node_bound(const tree_ctx *x, const float *alo, const float *ahi,
                               size_t node_id)
{
    const kd_index *ix = x->ix;
    const float *blo = ix->lo + node_id * ix->dbox, *bhi = ix->hi + node_id * ix->dbox;
    if (x->fast_bounds) {
        float acc = box_gaps(alo, ahi, blo, bhi, ix->dbox, x->metric->kind != PANN_L1);
        return x->metric->kind == PANN_COSINE ? 0.5f * acc : acc;
    }
    return box_bound(x->metric, x->o->mode == PANN_MAX, alo, ahi, blo, bhi);
}


static float group_worst(const tree_ctx *x, const group *g)
{
    float worst = x->o->mode == PANN_MIN ? -INFINITY : INFINITY;
    for (size_t q = 0; q < g->nq; q++) {
        float b = row_bound(x, g->rows[q]);
        if (x->o->mode == PANN_MIN ? b > worst : b < worst)
            worst = b;
    }
    return worst;
}

/* Scan a leaf for nq queries (of one group or several, in increasing row
 * order) and fold what passes their bounds into their answers. */
void exact_run_batch(const tree_ctx *x, size_t node_id, const float **queries,
                     uint32_t *qrows, const float *bound, size_t nq, pann_hit *hits)
{
    const kd_index *ix = x->ix;
    const kd_node *node = &ix->nodes[node_id];
    if (x->rev) {
        /* padded with the first (sym512_q) */
        for (size_t q = nq; q < PANN_QBATCH; q++) {
            queries[q] = queries[0];
            qrows[q] = qrows[0];
        }
        size_t first = (size_t)ix->leaf_block[node->leaf] * PANN_LANES;
        size_t nh = x->sym_filter(ix->blocks.v + first * ix->d, ix->leaf_nblocks[node->leaf],
                                  ix->d, x->metric->kind == PANN_L2, queries, qrows, bound, nq,
                                  hits, first, ix->slot_row, x->rev);
        exact_apply_hits(x->o, x->eps_cmp, hits, nh, qrows, ix->slot_row, x->nn, x->best);
        return;
    }
    size_t first = ix->leaf_block[node->leaf], nblk = ix->leaf_nblocks[node->leaf];
    /* A query with no answer yet lets every row through its bound, and
     * folding them all in costs more than the distances: the first block
     * alone gives it an answer that filters the rest. */
    float limit[PANN_QBATCH];
    bool unbounded = false;
    for (size_t q = 0; q < nq; q++) {
        limit[q] = bound[q];
        unbounded = unbounded || isinf(bound[q]);
    }
    size_t head = unbounded && nblk > 1 ? 1 : nblk;
    for (size_t at = first, run = head; run > 0; at += run, run = first + nblk - at) {
        size_t nh = pann_block_filter(x->metric, &ix->blocks, at, run, queries, nq, limit,
                                      x->o->mode, hits);
        if (!x->filled)
            exact_apply_hits(x->o, x->eps_cmp, hits, nh, qrows, ix->slot_row, x->nn, x->best);
        else
            apply_list_hits(x, hits, nh, qrows, ix->slot_row);
        for (size_t q = 0; q < nq; q++)
            limit[q] = row_bound(x, qrows[q]);
    }
}

/* Scan a leaf for the group's queries in mask (bit q: query q) that it
 * can still help; known: their bounds on it, when already computed. */
void exact_scan_leaf(const tree_ctx *x, group *g, size_t node_id, unsigned mask,
                     const float *known, pann_hit *hits)
{
    const kd_index *ix = x->ix;
    const kd_node *node = &ix->nodes[node_id];
    const float *queries[PANN_QBATCH];
    uint32_t qrows[PANN_QBATCH];
    float bound[PANN_QBATCH];
    size_t nq = 0;
    for (size_t q = 0; q < g->nq; q++) {
        if (!(mask >> q & 1u))
            continue;
        float box = known ? known[q] : node_bound(x, g->point[q], g->point[q], node_id);
        float limit = row_bound(x, g->rows[q]);
        if (!hopeless(x, box, limit)) {
            queries[nq] = g->point[q];
            qrows[nq] = g->rows[q];
            bound[nq++] = limit;
        }
    }
    if (nq == 0)
        return;
    g->evaluations += (uint64_t)nq * node->count;
    exact_run_batch(x, node_id, queries, qrows, bound, nq, hits);
    g->worst = group_worst(x, g);
}

/* Depth first, the more promising child first, pruning by box bounds. */
static void visit(const tree_ctx *x, group *g, size_t node_id, float bound, pann_hit *vals)
{
    if (hopeless(x, bound, g->worst))
        return;
    if (g->leaves_left == 0) {
        g->cut = true;
        return;
    }
    const kd_index *ix = x->ix;
    const kd_node *node = &ix->nodes[node_id];
    if (node->leaf >= 0) {
        exact_scan_leaf(x, g, node_id, ALL_QUERIES, NULL, vals);
        g->leaves_left--;
        return;
    }
    bool far = x->o->mode == PANN_MAX;
    float left = node_bound(x, g->lo, g->hi, node->left);
    float right = node_bound(x, g->lo, g->hi, node->right);
    bool left_first = far ? left >= right : left <= right;
    if (left_first) {
        visit(x, g, node->left, left, vals);
        visit(x, g, node->right, right, vals);
    } else {
        visit(x, g, node->right, right, vals);
        visit(x, g, node->left, left, vals);
    }
}

static float coordinate_scale(const pann_matrix *a, const pann_matrix *b)
{
    float top = 0.0f;
    for (size_t i = 0; i < a->n * a->d; i++)
        top = fabsf(a->v[i]) > top ? fabsf(a->v[i]) : top;
    for (size_t i = 0; i < b->n * b->d; i++)
        top = fabsf(b->v[i]) > top ? fabsf(b->v[i]) : top;
    return top;
}

/* A group of the nq queries rows[] (slots[]: their slots, or NULL), whose
 * leaf is home, ready to be searched. */
static void group_init(const tree_ctx *x, group *g, const uint32_t *rows,
                       const uint32_t *slots, size_t nq, size_t home)
{
    /* depth first (categorical columns, farthest rows) the group shares
     * its rows' budgets */
    size_t shared = x->max_leaves <= SIZE_MAX / PANN_QBATCH ? x->max_leaves * nq : SIZE_MAX;
    g->nq = nq;
    g->leaves_left = x->max_leaves ? shared : SIZE_MAX;
    g->cut = false;
    g->evaluations = 0;
    g->home = home;
    size_t d = x->ix->d, dbox = x->ix->dbox;
    for (size_t j = 0; j < dbox; j++) {
        g->lo[j] = j < d ? INFINITY : 0.0f;     /* zero past d (box_gaps) */
        g->hi[j] = j < d ? -INFINITY : 0.0f;
    }
    for (size_t q = 0; q < nq; q++) {
        g->rows[q] = rows[q];
        g->slots[q] = slots ? slots[q] : 0;
        const float *row = g->point[q];
        query_coords(x->qs, rows[q], g->slots[q], g->point[q]);
        for (size_t j = d; j < dbox; j++)
            g->point[q][j] = 0.0f;
        for (size_t j = 0; j < d; j++) {
            g->lo[j] = row[j] < g->lo[j] ? row[j] : g->lo[j];
            g->hi[j] = row[j] > g->hi[j] ? row[j] : g->hi[j];
        }
    }
    g->worst = group_worst(x, g);
}

/* Search one group depth first; complete[q] says whether query q's answer
 * is proven. */
static void search_group(const tree_ctx *x, const uint32_t *rows, const uint32_t *slots,
                         size_t nq, pann_hit *vals, bool *complete, uint64_t *evaluations)
{
    group g;
    group_init(x, &g, rows, slots, nq, 0);
    visit(x, &g, 0, node_bound(x, g.lo, g.hi, 0), vals);
    for (size_t q = 0; q < nq; q++)
        complete[q] = !g.cut;
    *evaluations += g.evaluations;
}

/* The same rows in the same order (a self-match). */
static bool same_matrix(const pann_matrix *a, const pann_matrix *b)
{
    if (a->n != b->n || a->d != b->d)
        return false;
    return a->v == b->v || memcmp(a->v, b->v, a->n * a->d * sizeof *a->v) == 0;
}

/* The slot of each row of the index (the inverse of slot_row). */
static uint32_t *rows_to_slots(const kd_index *ix)
{
    uint32_t *row_slot = malloc((ix->n ? ix->n : 1) * sizeof *row_slot);
    for (size_t slot = 0; row_slot && slot < ix->blocks.n; slot++)
        if (ix->slot_row[slot] != PANN_NONE)
            row_slot[ix->slot_row[slot]] = (uint32_t)slot;
    return row_slot;
}

/* What a search of one query set on a built index needs besides the
 * index: where the queries are, and how the search runs. */
typedef struct tree_plan {
    const pann_matrix *S;
    bool from_index;         /* queries read from the index (S gave it its rows) */
    bool self_budget;        /* a self-match on a budget (see exact_tree_search) */
    float scale;             /* largest |coordinate| of the queries and T */
    size_t self_offset;      /* query row i is row self_offset + i of T */
    size_t max_leaves, k;
} tree_plan;

static int search_index(const kd_index *ix, const tree_plan *pl, const pann_metric *m,
                        const pann_engine_opts *o, uint32_t *nn, float *best,
                        uint32_t *filled, unsigned char *proven, uint64_t *evaluations,
                        pann_error *err);

int exact_tree_search(const pann_matrix *S, const pann_matrix *T, pann_matrix *owned,
                      const pann_metric *m, const pann_engine_opts *o, size_t max_leaves,
                      size_t k, uint32_t *nn, float *best, uint32_t *filled,
                      unsigned char *proven, uint64_t *evaluations, pann_error *err)
{
    /* before an owned build takes the rows: their scale, and whether this
     * is a self-match on a budget, whose rows are grouped by the leaf that
     * holds them and each distance offered to both its rows */
    tree_plan pl = { S, owned && S == owned, max_leaves && o->self_exclude && same_matrix(S, T),
                     coordinate_scale(S, T), 0, max_leaves, k };
    size_t leaf_rows = max_leaves ? BUDGET_LEAF_ROWS : EXACT_LEAF_ROWS;
    int threads = pann_threads(o->threads);
    kd_index ix;
    int rc = owned ? kd_build_owned(&ix, owned, leaf_rows, threads, err)
                   : kd_build(&ix, T, leaf_rows, threads, err);
    if (rc)
        return rc;
    rc = search_index(&ix, &pl, m, o, nn, best, filled, proven, evaluations, err);
    kd_free(&ix);
    return rc;
}

int exact_tree_index_build(kd_index *ix, pann_matrix *T, const pann_engine_opts *o,
                           float *scale, pann_error *err)
{
    *scale = coordinate_scale(T, T);
    return kd_build_owned(ix, T, EXACT_LEAF_ROWS, pann_threads(o->threads), err);
}

int exact_tree_index_knn(const kd_index *ix, float scale, const pann_matrix *S,
                         size_t self_offset, const pann_metric *m, const pann_engine_opts *o,
                         size_t k, uint32_t *nn, float *best, uint32_t *filled,
                         uint64_t *evaluations, pann_error *err)
{
    float top = coordinate_scale(S, S);
    tree_plan pl = { S, false, false, top > scale ? top : scale, self_offset, 0, k };
    pann_engine_opts min_mode = *o;
    min_mode.mode = PANN_MIN;
    min_mode.use_eps = false;
    min_mode.progress = NULL;
    return search_index(ix, &pl, m, &min_mode, nn, best, filled, NULL, evaluations, err);
}

/* The search of pl's queries on ix (see exact_tree_search). */
static int search_index(const kd_index *ix, const tree_plan *pl, const pann_metric *m,
                        const pann_engine_opts *o, uint32_t *nn, float *best,
                        uint32_t *filled, unsigned char *proven, uint64_t *evaluations,
                        pann_error *err)
{
    const pann_matrix *S = pl->S;
    bool from_index = pl->from_index, self_budget = pl->self_budget;
    size_t max_leaves = pl->max_leaves, k = pl->k;
    float scale = pl->scale, d = (float)m->d;
    int threads = pann_threads(o->threads);
    /* slots go with the queries when they are read from the index or
     * offered distances */
    uint32_t *row_slot = from_index || self_budget ? rows_to_slots(ix) : NULL;
    query_source qs = { from_index ? NULL : S, ix, row_slot, S->n, ix->d };
    query_groups qg;
    bool grouped = (row_slot || !(from_index || self_budget))
                   && exact_queries_by_leaf(&qg, &qs, self_budget, threads);
    free(row_slot);   /* the groups hold each query's slot */
    qs.row_slot = NULL;
    if (!grouped)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", S->n);
    float abs_margin = m->kind == PANN_L1 ? 1e-6f * d * scale
                     : m->kind == PANN_L2 ? 4e-6f * d * scale * scale : 1e-6f * d;
    bool has_cat = false;
    for (size_t j = 0; m->is_cat && j < m->d; j++)
        has_cat = has_cat || m->is_cat[j];
    tree_ctx x = { &qs, ix, m, o, pann_dist_to_cmp(m, o->eps), abs_margin,
                   !has_cat && o->mode == PANN_MIN, max_leaves, k, nn, best, filled,
                   NULL, NULL, NULL, pl->self_offset };
    const kernel_set *kernels = pann_kernels();
    x.point_bounds = kernels->point_bounds;
    x.sym_filter = kernels->sym_filter;
    bool symmetric = self_budget && !filled && o->mode == PANN_MIN && !o->use_eps && !has_cat &&
                     (m->kind == PANN_L1 || m->kind == PANN_L2);
    if (symmetric) {
        x.rev = malloc((ix->blocks.n ? ix->blocks.n : 1) * sizeof *x.rev);
        if (!x.rev) {
            exact_query_groups_free(&qg);
            return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", S->n);
        }
#pragma omp parallel for num_threads(threads) schedule(static)
        for (size_t i = 0; i < ix->blocks.n; i++)
            x.rev[i] = UINT64_MAX;
    }
    size_t max_blocks = 1;
    for (size_t l = 0; l < ix->nleaves; l++)
        max_blocks = ix->leaf_nblocks[l] > max_blocks ? ix->leaf_nblocks[l] : max_blocks;
    int out_of_memory = 0;
    uint64_t total = 0, rows_done = 0;
    /* best first for a budget in nearest mode (every node at most once),
     * CHUNK_GROUPS groups at a time */
    bool best_first = max_leaves && o->mode == PANN_MIN && x.fast_bounds;
    size_t per = best_first ? CHUNK_GROUPS : 1;
    size_t units = (qg.ngroups + per - 1) / per;
#pragma omp parallel num_threads(pann_threads(o->threads)) reduction(+:total)
    {
        pann_hit *vals = malloc(PANN_QBATCH * max_blocks * PANN_LANES * sizeof *vals);
        pick_scratch scratch = { 0 };
        pick_scratch *ps = best_first ? &scratch : NULL;
        if (best_first && !exact_pick_scratch_alloc(ps, ix, max_leaves)) {
            free(vals);
            vals = NULL;
        }
#pragma omp for schedule(dynamic, 2)
        for (size_t u = 0; u < units; u++) {
            size_t g0 = u * per, g1 = g0 + per < qg.ngroups ? g0 + per : qg.ngroups;
            if (vals && ps) {
                group gs[CHUNK_GROUPS];
                bool complete[CHUNK_QUERIES];
                for (size_t gi = g0; gi < g1; gi++)
                    group_init(&x, &gs[gi - g0], qg.order + qg.first[gi],
                               qg.slot ? qg.slot + qg.first[gi] : NULL,
                               qg.first[gi + 1] - qg.first[gi], qg.leaf[gi]);
                exact_visit_chunk(&x, gs, g1 - g0, ps, complete, vals);
                for (size_t gi = g0; gi < g1; gi++) {
                    total += gs[gi - g0].evaluations;
                    for (size_t q = 0; proven && q < gs[gi - g0].nq; q++)
                        proven[qg.order[qg.first[gi] + q]] = complete[(gi - g0) * PANN_QBATCH + q];
                }
            } else if (vals) {
                size_t first = qg.first[g0], nq = qg.first[g0 + 1] - first;
                bool complete[PANN_QBATCH];
                search_group(&x, qg.order + first, qg.slot ? qg.slot + first : NULL, nq, vals,
                             complete, &total);
                for (size_t q = 0; proven && q < nq; q++)
                    proven[qg.order[first + q]] = complete[q];
            }
            exact_report_rows(o, &rows_done, qg.first[g1] - qg.first[g0], S->n);
        }
        if (!vals) {
#pragma omp atomic write
            out_of_memory = 1;
        }
        free(vals);
        if (ps)
            exact_pick_scratch_free(ps);
    }
    if (x.rev && !out_of_memory) {
        /* each row's answer: the better of what it found and was offered */
#pragma omp parallel for num_threads(pann_threads(o->threads)) schedule(static)
        for (size_t i = 0; i < ix->blocks.n; i++) {
            uint32_t row = ix->slot_row[i];
            if (row == PANN_NONE || x.rev[i] == UINT64_MAX)
                continue;
            uint32_t from = (uint32_t)x.rev[i], bits = (uint32_t)(x.rev[i] >> 32);
            float v;
            memcpy(&v, &bits, sizeof v);
            if (v < best[row] || (v == best[row] && from < nn[row])) {
                best[row] = v;
                nn[row] = from;
            }
        }
    }
    free(x.rev);
    exact_query_groups_free(&qg);
    *evaluations = total;
    if (o->progress && !out_of_memory)
        o->progress(o->progress_ctx, S->n, S->n);
    return out_of_memory ? pann_fail(err, PANN_ESYSTEM, "out of memory") : 0;
}
