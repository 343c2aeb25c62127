/* group.c — one table per category (the article's XLLM layout, section 2.1).
 *
 * With a group column, a row's neighbours are searched only among the
 * reference rows of the same category: sum of N_i^2 pairs instead of N^2.
 * A category larger than the batch size is further split into batches
 * searched separately — the article's accuracy-for-speed trade; exact
 * search stays exact within a batch.  Each batch is an ordinary search
 * (anytime, tree or exact) on copied sub-matrices, so every search
 * strategy works per group unchanged; answers are mapped back to the rows
 * of the whole tables.
 */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pann.h"
#include "internal.h"

void pann_groups_free(pann_groups *g)
{
    for (size_t i = 0; i < g->ngroups; i++)
        free(g->names[i]);
    free(g->names);
    free(g->s_code);
    free(g->t_code);
    memset(g, 0, sizeof *g);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Category names of both tables, sorted, without duplicates. */
static int collect_names(const pann_table *ts, const pann_matrix *S, size_t s_col,
                         const pann_table *tt, const pann_matrix *T, size_t t_col,
                         pann_groups *g, pann_error *err)
{
    size_t total = S->n + T->n, count = 0;
    char **all = malloc((total ? total : 1) * sizeof *all);
    if (!all)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (groups)");
    for (size_t i = 0; i < S->n; i++)
        all[count++] = (char *)pann_cell(ts, S->row_id[i], s_col);
    for (size_t i = 0; i < T->n; i++)
        all[count++] = (char *)pann_cell(tt, T->row_id[i], t_col);
    qsort(all, count, sizeof *all, cmp_names);
    size_t unique = 0;
    for (size_t i = 0; i < count; i++)
        if (unique == 0 || strcmp(all[unique - 1], all[i]) != 0)
            all[unique++] = all[i];
    g->names = calloc(unique ? unique : 1, sizeof *g->names);
    if (!g->names) {
        free(all);
        return pann_fail(err, PANN_ESYSTEM, "out of memory (groups)");
    }
    for (size_t i = 0; i < unique; i++)
        if (!(g->names[i] = strdup(all[i]))) {
            g->ngroups = i;
            free(all);
            return pann_fail(err, PANN_ESYSTEM, "out of memory (groups)");
        }
    g->ngroups = unique;
    free(all);
    return 0;
}

static uint32_t code_of(const pann_groups *g, const char *name)
{
    size_t lo = 0, hi = g->ngroups;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(g->names[mid], name);
        if (c == 0)
            return (uint32_t)mid;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return PANN_NONE;   /* cannot happen: every name was collected */
}

int pann_groups_build(const pann_table *ts, const pann_matrix *S, size_t s_col,
                      const pann_table *tt, const pann_matrix *T, size_t t_col,
                      pann_groups *g, pann_error *err)
{
    memset(g, 0, sizeof *g);
    int rc = collect_names(ts, S, s_col, tt, T, t_col, g, err);
    g->s_code = malloc((S->n ? S->n : 1) * sizeof *g->s_code);
    g->t_code = malloc((T->n ? T->n : 1) * sizeof *g->t_code);
    if (!rc && (!g->s_code || !g->t_code))
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory (groups)");
    if (rc) {
        pann_groups_free(g);
        return rc;
    }
    for (size_t i = 0; i < S->n; i++)
        g->s_code[i] = code_of(g, pann_cell(ts, S->row_id[i], s_col));
    for (size_t i = 0; i < T->n; i++)
        g->t_code[i] = code_of(g, pann_cell(tt, T->row_id[i], t_col));
    return 0;
}

/* Rows of M listed in rows[0..count), as a matrix whose row_id[i] is the
 * row of M (not of the table). */
static int sub_matrix(const pann_matrix *M, const uint32_t *rows, size_t count,
                      pann_matrix *out, pann_error *err)
{
    int rc = pann_matrix_alloc(out, count, M->d, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < count; i++) {
        memcpy(out->v + i * M->d, pann_row(M, rows[i]), M->d * sizeof *out->v);
        out->row_id[i] = rows[i];
    }
    return 0;
}

/* rows of each group, grouped: members[start[g] .. start[g + 1]) */
static int group_lists(const uint32_t *code, size_t n, size_t ngroups, uint32_t **members,
                       size_t **start)
{
    *members = malloc((n ? n : 1) * sizeof **members);
    *start = calloc(ngroups + 1, sizeof **start);
    size_t *fill = calloc(ngroups + 1, sizeof *fill);
    if (!*members || !*start || !fill) {
        free(fill);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        (*start)[code[i] + 1]++;
    for (size_t g = 0; g < ngroups; g++)
        (*start)[g + 1] += (*start)[g];
    for (size_t i = 0; i < n; i++)
        (*members)[(*start)[code[i]] + fill[code[i]]++] = (uint32_t)i;
    free(fill);
    return 0;
}

typedef struct batch_job {
    const pann_matrix *S, *T;
    const pann_engine_opts *o;
    pann_batch_fn run;
    void *ctx;
    pann_group_stats *st;
} batch_job;

/* Copy one batch's rows and hand it to the caller's search. */
static int run_batch(const batch_job *job, const uint32_t *s_rows, size_t ns,
                     const uint32_t *t_rows, size_t nt, bool same, pann_error *err)
{
    pann_matrix Sb, Tb;
    int rc = sub_matrix(job->S, s_rows, ns, &Sb, err);
    if (rc)
        return rc;
    if (!same && (rc = sub_matrix(job->T, t_rows, nt, &Tb, err))) {
        pann_matrix_free(&Sb);
        return rc;
    }
    pann_engine_opts o = *job->o;
    o.self_exclude = same;
    o.history_every = 0;
    o.snapshot = NULL;
    if (o.max_iterations)   /* the same budget per row as ungrouped */
        o.max_iterations = (uint64_t)ceil((double)o.max_iterations * (double)ns
                                          / (double)job->S->n);
    rc = job->run(&Sb, same ? &Sb : &Tb, &o, job->ctx, err);
    if (!rc) {
        job->st->pairs += (uint64_t)ns * nt;
        job->st->batches++;
    }
    pann_matrix_free(&Sb);
    if (!same)
        pann_matrix_free(&Tb);
    return rc;
}

/* One category: split into batches of at most `batch` reference rows. */
static int run_group(const batch_job *job, const uint32_t *s_rows, size_t ns,
                     const uint32_t *t_rows, size_t nt, bool same, size_t batch,
                     pann_error *err)
{
    size_t nbatches = batch && nt > batch ? (nt + batch - 1) / batch : 1;
    if (same) {   /* the same rows on both sides: cut them into balanced runs */
        for (size_t b = 0; b < nbatches; b++) {
            size_t lo = ns * b / nbatches, hi = ns * (b + 1) / nbatches;
            int rc = run_batch(job, s_rows + lo, hi - lo, NULL, hi - lo, true, err);
            if (rc)
                return rc;
        }
        return 0;
    }
    uint32_t *assigned = malloc((ns ? ns : 1) * sizeof *assigned);
    if (!assigned)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (groups)");
    int rc = 0;
    for (size_t b = 0; b < nbatches && !rc; b++) {
        size_t lo = nt * b / nbatches, hi = nt * (b + 1) / nbatches, count = 0;
        for (size_t i = b; i < ns; i += nbatches)   /* query rows dealt round robin */
            assigned[count++] = s_rows[i];
        if (count)
            rc = run_batch(job, assigned, count, t_rows + lo, hi - lo, false, err);
    }
    free(assigned);
    return rc;
}

int pann_group_batches(const pann_matrix *S, const pann_matrix *T, const pann_groups *g,
                       bool same, size_t batch, const pann_engine_opts *o,
                       pann_batch_fn run, void *ctx, pann_group_stats *st, pann_error *err)
{
    memset(st, 0, sizeof *st);
    uint32_t *s_members = NULL, *t_members = NULL;
    size_t *s_start = NULL, *t_start = NULL;
    int rc = 0;
    if (group_lists(g->s_code, S->n, g->ngroups, &s_members, &s_start)
        || group_lists(g->t_code, T->n, g->ngroups, &t_members, &t_start))
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory (groups)");
    batch_job job = { S, T, o, run, ctx, st };
    for (size_t grp = 0; !rc && grp < g->ngroups; grp++) {
        size_t ns = s_start[grp + 1] - s_start[grp], nt = t_start[grp + 1] - t_start[grp];
        if (ns == 0)
            continue;
        st->groups++;
        if (nt == 0) {
            st->rows_without_reference += ns;
            continue;
        }
        rc = run_group(&job, s_members + s_start[grp], ns, t_members + t_start[grp], nt,
                       same, batch, err);
    }
    st->all_pairs = (double)S->n * (double)T->n;
    free(s_members);
    free(t_members);
    free(s_start);
    free(t_start);
    return rc;
}

/* 1-NN per batch: run the search, write its answers into the whole result. */
typedef struct nn_batches {
    const pann_metric *m;
    pann_search_fn search;
    void *ctx;
    pann_result *r;
} nn_batches;

static int nn_batch(const pann_matrix *Sb, const pann_matrix *Tb, const pann_engine_opts *o,
                    void *ctx, pann_error *err)
{
    nn_batches *job = ctx;
    pann_result rb;
    int rc = job->search(Sb, Tb, job->m, o, job->ctx, &rb, err);
    if (rc)
        return rc;
    pann_result *r = job->r;
    for (size_t i = 0; i < Sb->n; i++) {
        size_t k = Sb->row_id[i];
        r->nn[k] = rb.nn[i] == PANN_NONE ? PANN_NONE : (uint32_t)Tb->row_id[rb.nn[i]];
        r->dist[k] = rb.dist[i];
        r->proven[k] = rb.proven[i];
    }
    r->iterations += rb.iterations;
    r->steps += rb.steps;
    r->swaps += rb.swaps;
    r->nproven += rb.nproven;
    r->seconds += rb.seconds;
    pann_result_free(&rb);
    return 0;
}

int pann_match_group(const pann_matrix *S, const pann_matrix *T, const pann_groups *g,
                     bool same, size_t batch, const pann_metric *m,
                     const pann_engine_opts *o, pann_search_fn search, void *ctx,
                     pann_result *r, pann_group_stats *st, pann_error *err)
{
    int rc = pann_result_alloc(r, S->n, err);
    nn_batches job = { m, search, ctx, r };
    if (!rc)
        rc = pann_group_batches(S, T, g, same, batch, o, nn_batch, &job, st, err);
    if (rc)
        pann_result_free(r);
    return rc;
}
