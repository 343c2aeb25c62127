/* filter_fidelity.c — what a selection did to fidelity: the multivariate
 * ECDF KS (numeric columns) and the mean per-column KS (numeric) or total
 * variation (categorical) between a reference (the holdout rows, or the
 * real rows) and the synthetic rows, before (every row) and after (the
 * kept rows).  The ECDF nodes are every row of both sets, as ecdf-ks
 * --points=all, up to PANN_FIDELITY_ALL_NODES rows in all; above, the same
 * PANN_FIDELITY_NODES random nodes of the reference for both figures
 * (ecdf-ks --points=N).  The counting's bitsets are held to
 * PANN_FIDELITY_MAX_BYTES, and its rank tables (4 d^2 bytes a row) to a
 * seeded sample of PANN_FIDELITY_MAX_ROWS rows of each side. */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pann.h"
#include "internal.h"

#define PANN_FIDELITY_MAX_BYTES (32u << 20)
#define SAMPLE_TAG 0xf1de11700000001ULL

/* The rows i of S with pick[i] (all when pick is NULL), and their decisions. */
static int sample_rows(const pann_matrix *S, const unsigned char *pick,
                       const unsigned char *decision, pann_matrix *out,
                       unsigned char *out_decision, pann_error *err)
{
    size_t n = 0;
    for (size_t i = 0; i < S->n; i++)
        n += !pick || pick[i];
    int rc = pann_matrix_alloc(out, n, S->d, err);
    for (size_t i = 0, k = 0; !rc && i < S->n; i++)
        if (!pick || pick[i]) {
            memcpy(out->v + k * S->d, pann_row(S, i), S->d * sizeof *S->v);
            if (out_decision)
                out_decision[k] = decision[i];
            k++;
        }
    return rc;
}

/* Seeded Bernoulli choice of about max rows of n (NULL: all, n <= max). */
static unsigned char *choose(size_t n, size_t max, uint64_t seed, uint64_t tag)
{
    if (n <= max)
        return NULL;
    unsigned char *pick = malloc(n);
    for (size_t i = 0; pick && i < n; i++)
        pick[i] = pann_uniform3(seed, tag, i) < (double)max / (double)n;
    return pick;
}

static int kept_rows(const pann_matrix *S, const unsigned char *decision, pann_matrix *out,
                     pann_error *err)
{
    size_t n = 0;
    for (size_t i = 0; i < S->n; i++)
        n += decision[i] == PANN_FILTER_KEEP;
    int rc = pann_matrix_alloc(out, n, S->d, err);
    for (size_t i = 0, k = 0; !rc && i < S->n; i++)
        if (decision[i] == PANN_FILTER_KEEP)
            memcpy(out->v + k++ * S->d, pann_row(S, i), S->d * sizeof *S->v);
    return rc;
}

static double mean_marginal(const pann_matrix *ref, const pann_matrix *S, const pann_metric *m)
{
    if (S->n == 0 || ref->n == 0)
        return NAN;
    double sum = 0;
    for (size_t j = 0; j < S->d; j++)
        sum += m->is_cat && m->is_cat[j] ? pann_ecdf_marginal_tv(ref, S, j)
                                         : pann_ecdf_marginal_ks(ref, S, j);
    return S->d ? sum / (double)S->d : NAN;
}

/* KS of ref against S on the nodes (ref u S when nodes is NULL). */
static int ks_on(const pann_matrix *ref, const pann_matrix *S, const pann_matrix *nodes,
                 int threads, double *ks, pann_error *err)
{
    *ks = NAN;
    if (S->n == 0 || ref->n == 0)
        return 0;
    pann_matrix all = { 0 };
    int rc = nodes ? 0 : pann_ecdf_nodes_all(ref, S, &all, err);
    pann_ecdf_opts eo;
    pann_ecdf_opts_init(&eo);
    eo.threads = threads;
    eo.max_bytes = PANN_FIDELITY_MAX_BYTES;
    pann_ecdf_ks_result kr;
    if (!rc)
        rc = pann_ecdf_ks(ref, S, nodes ? nodes : &all, &eo, &kr, NULL, NULL, err);
    if (!rc)
        *ks = kr.ks;
    pann_matrix_free(&all);
    return rc;
}

static int score(const pann_matrix *ref, const pann_matrix *S, const unsigned char *decision,
                 const pann_metric *m, const pann_filter_opts *o, pann_filter_result *r,
                 pann_error *err)
{
    size_t *cols = malloc((S->d ? S->d : 1) * sizeof *cols), nc = 0;
    pann_matrix kept = { 0 }, ref_num = { 0 }, s_num = { 0 }, k_num = { 0 }, nodes = { 0 };
    int rc = cols ? kept_rows(S, decision, &kept, err)
                  : pann_fail(err, PANN_ESYSTEM, "out of memory");
    for (size_t j = 0; cols && j < S->d; j++)
        if (!(m->is_cat && m->is_cat[j]))
            cols[nc++] = j;
    r->ks_before = r->ks_after = NAN;
    r->fidelity_columns = nc;
    if (!rc) {
        r->marg_before = mean_marginal(ref, S, m);
        r->marg_after = mean_marginal(ref, &kept, m);
    }
    if (!rc && nc) {
        rc = pann_ecdf_select_columns(ref, cols, nc, &ref_num, err);
        if (!rc)
            rc = pann_ecdf_select_columns(S, cols, nc, &s_num, err);
        if (!rc)
            rc = pann_ecdf_select_columns(&kept, cols, nc, &k_num, err);
        r->fidelity_all_nodes = ref->n + S->n <= PANN_FIDELITY_ALL_NODES;
        if (!rc && !r->fidelity_all_nodes) {
            pann_ecdf_opts eo;
            pann_ecdf_opts_init(&eo);
            eo.threads = o->threads;
            size_t dropped;
            rc = pann_ecdf_nodes_random(&ref_num, PANN_FIDELITY_NODES, o->seed, &eo, &nodes,
                                        &dropped, err);
        }
        r->fidelity_nodes = r->fidelity_all_nodes ? ref->n + S->n : nodes.n;
        const pann_matrix *nd = r->fidelity_all_nodes ? NULL : &nodes;
        if (!rc)
            rc = ks_on(&ref_num, &s_num, nd, o->threads, &r->ks_before, err);
        if (!rc)
            rc = ks_on(&ref_num, &k_num, nd, o->threads, &r->ks_after, err);
    }
    r->has_fidelity = rc == 0;
    free(cols);
    pann_matrix_free(&kept);
    pann_matrix_free(&ref_num);
    pann_matrix_free(&s_num);
    pann_matrix_free(&k_num);
    pann_matrix_free(&nodes);
    return rc;
}

int pann_filter_fidelity(const pann_matrix *ref, const pann_matrix *S, const pann_metric *m,
                         const pann_filter_opts *o, pann_filter_result *r, pann_error *err)
{
    unsigned char *pick_s = choose(S->n, PANN_FIDELITY_MAX_ROWS, o->seed, SAMPLE_TAG);
    unsigned char *pick_r = choose(ref->n, PANN_FIDELITY_MAX_ROWS, o->seed, SAMPLE_TAG + 1);
    unsigned char *dec = malloc(S->n ? S->n : 1);
    pann_matrix Ss = { 0 }, Rs = { 0 };
    int rc = !dec || (S->n > PANN_FIDELITY_MAX_ROWS && !pick_s)
             || (ref->n > PANN_FIDELITY_MAX_ROWS && !pick_r)
             ? pann_fail(err, PANN_ESYSTEM, "out of memory") : 0;
    if (!rc)
        rc = sample_rows(S, pick_s, r->decision, &Ss, dec, err);
    if (!rc)
        rc = sample_rows(ref, pick_r, NULL, &Rs, NULL, err);
    r->fidelity_rows = Ss.n;
    r->fidelity_ref_rows = Rs.n;
    if (!rc)
        rc = score(&Rs, &Ss, dec, m, o, r, err);
    r->has_fidelity = rc == 0;
    free(pick_s);
    free(pick_r);
    free(dec);
    pann_matrix_free(&Ss);
    pann_matrix_free(&Rs);
    return rc;
}
