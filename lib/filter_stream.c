/* filter_stream.c — nogan-filter's decisions with SYNTH streamed.
 *
 * The same decisions, chunk by chunk: REAL (index, thresholds) stays in
 * memory, SYNTH is read, encoded with REAL's schema, decided and written a
 * chunk at a time; what outlives a chunk is one decision byte, one float
 * and one early flag per row.  Two things need every row first: the
 * --quantile/--keep threshold (rows are then written in a second pass) and
 * the DCR sample, which is drawn from all n rows and needs the exact
 * distance of its rows that were kept early (searched in a second pass).
 * The ratio selection and the fidelity figures hold every encoded row
 * (the matrix, not the text): rows are decided after pass 1 and written in
 * pass 2.
 * A second pass re-reads the file; a pipe is spooled to a temporary file. */
#include <config.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pann.h"
#include "filter_internal.h"

typedef struct stream_state {
    const pann_matrix *R;
    const pann_metric *m;
    const pann_filter_opts *o;
    const pann_filter_input *in;
    pann_filter_index *ix;
    pann_filter_result *r;       /* decision and dist grow with the rows */
    unsigned char *early;        /* NULL unless rows may be kept early */
    size_t cap;
    bool deferred, all_exact, early_keep;
    size_t *cols;                /* SYNTH's columns in schema order */
    size_t *need;                /* rows whose exact distance the DCR needs */
    float *need_dist;
    size_t nneed, rows_read, dropped;
    bool collect;                /* SYNTH's encoded rows are held in all */
    pann_matrix all;
    size_t all_cap;
} stream_state;

int pann_filter_check(const pann_matrix *R, const pann_metric *m,
                      const pann_filter_opts *o, pann_error *err)
{
    return filter_check_opts(R, R, m, o, err);
}

static int stream_grow(stream_state *st, size_t n, pann_error *err)
{
    if (n <= st->cap)
        return 0;
    size_t cap = st->cap ? st->cap : 65536;
    while (cap < n)
        cap *= 2;
    unsigned char *dec = realloc(st->r->decision, cap);
    if (dec)
        st->r->decision = dec;
    float *dist = realloc(st->r->dist, cap * sizeof *dist);
    if (dist)
        st->r->dist = dist;
    unsigned char *early = st->early_keep ? realloc(st->early, cap) : NULL;
    if (early)
        st->early = early;
    if (!dec || !dist || (st->early_keep && !early))
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", n);
    st->cap = cap;
    return 0;
}

/* Distances and decisions of one chunk's rows, appended after the others. */
static int stream_decide(stream_state *st, const pann_matrix *S, pann_error *err)
{
    pann_filter_result *r = st->r;
    size_t base = r->n;
    int rc = stream_grow(st, base + S->n, err);
    if (rc)
        return rc;
    unsigned char *early = st->early ? st->early + base : NULL;
    rc = st->o->exact
         ? filter_brute_nn(S, st->R, st->m, false, st->o->threads, r->dist + base, &r->evaluations, err)
         : pann_filter_nn(st->ix, S, NULL, 0, false, st->early_keep ? r->max_dist : -1.0,
                          st->o->threads, r->dist + base, early, &r->evaluations, err);
    if (rc)
        return rc;
    pann_filter_result view = *r;
    view.n = S->n;
    view.decision = r->decision + base;
    view.dist = r->dist + base;
    filter_decide(st->o, &view, early);
    r->n = base + S->n;
    return 0;
}

/* The chunk's encoded rows appended to st->all (the ratio selection and
 * the fidelity figures need every row). */
static int stream_collect(stream_state *st, const pann_matrix *S, pann_error *err)
{
    pann_matrix *a = &st->all;
    size_t need = a->n + S->n;
    if (need > st->all_cap) {
        size_t cap = st->all_cap ? st->all_cap : 65536;
        while (cap < need)
            cap *= 2;
        pann_matrix grown;
        int rc = pann_matrix_alloc(&grown, cap, S->d, err);
        if (rc)
            return rc;
        if (a->n)
            memcpy(grown.v, a->v, a->n * a->d * sizeof *a->v);
        grown.n = a->n;
        pann_matrix_free(a);
        *a = grown;
        st->all_cap = cap;
    }
    memcpy(a->v + a->n * S->d, S->v, S->n * S->d * sizeof *S->v);
    a->n = need;
    a->d = S->d;
    return 0;
}

/* Ratio selection, pass 1: rows only collected, decided once all are in. */
static int stream_hold(stream_state *st, const pann_matrix *S, pann_error *err)
{
    int rc = stream_grow(st, st->r->n + S->n, err);
    if (!rc)
        st->r->n += S->n;
    return rc;
}

/* Header (first chunk) and the chunk's rows, in file order; base is the
 * result index of the chunk's first matrix row. */
static int stream_emit(stream_state *st, const pann_table *t, const pann_matrix *S,
                       size_t base, bool header, pann_error *err)
{
    const pann_filter_input *in = st->in;
    int rc = header ? in->emit(in->ctx, t, SIZE_MAX, 0, NAN, err) : 0;
    for (size_t i = 0, k = 0; !rc && i < t->nrows; i++) {
        if (k < S->n && S->row_id[k] == i) {
            rc = in->emit(in->ctx, t, i, st->r->decision[base + k], st->r->dist[base + k], err);
            k++;
        } else {
            rc = in->emit(in->ctx, t, i, -1, NAN, err);
        }
    }
    return rc;
}

/* Exact distances of the chunk's rows that the DCR sample still needs. */
static int stream_resolve(stream_state *st, const pann_matrix *S, size_t base, pann_error *err)
{
    size_t lo = 0, hi = st->nneed;      /* need[lo..hi): rows of this chunk */
    while (lo < st->nneed && st->need[lo] < base)
        lo++;
    hi = lo;
    while (hi < st->nneed && st->need[hi] < base + S->n)
        hi++;
    if (hi == lo)
        return 0;
    size_t *rows = malloc((hi - lo) * sizeof *rows);
    if (!rows)
        return pann_fail(err, PANN_ESYSTEM, "out of memory");
    for (size_t i = lo; i < hi; i++)
        rows[i - lo] = st->need[i] - base;
    int rc = pann_filter_nn(st->ix, S, rows, hi - lo, false, -1.0, st->o->threads,
                            st->need_dist + lo, NULL, &st->r->evaluations, err);
    free(rows);
    return rc;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* The sample's rows kept early: their exact distance is still to find. */
static int stream_sample(stream_state *st, size_t **pick_out, size_t *k_out, pann_error *err)
{
    size_t n = st->r->n, ds = st->all_exact ? 0 : st->o->dcr_sample;
    size_t k = ds && ds < n ? ds : n;
    size_t *pick = malloc((n ? n : 1) * sizeof *pick);
    if (!pick)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", n);
    filter_dcr_pick(pick, n, k, st->o->seed);
    st->nneed = 0;
    for (size_t i = 0; i < k; i++)
        st->nneed += isnan(st->r->dist[pick[i]]);
    st->need = malloc((st->nneed ? st->nneed : 1) * sizeof *st->need);
    st->need_dist = malloc((st->nneed ? st->nneed : 1) * sizeof *st->need_dist);
    if (!st->need || !st->need_dist) {
        free(pick);
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", n);
    }
    size_t j = 0;
    for (size_t i = 0; i < k; i++)
        if (isnan(st->r->dist[pick[i]]))
            st->need[j++] = pick[i];
    qsort(st->need, st->nneed, sizeof *st->need, cmp_size);
    *pick_out = pick;
    *k_out = k;
    return 0;
}

/* The median of the sample's exact distances (as filter_synth_median). */
static int stream_median(stream_state *st, const size_t *pick, size_t k, pann_error *err)
{
    float *d = malloc((k ? k : 1) * sizeof *d);
    if (!d)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", k);
    for (size_t i = 0; i < k; i++) {
        d[i] = st->r->dist[pick[i]];
        if (isnan(d[i])) {
            const size_t *at = bsearch(&pick[i], st->need, st->nneed, sizeof *st->need,
                                       cmp_size);
            d[i] = st->need_dist[at - st->need];
        }
    }
    qsort(d, k, sizeof *d, filter_cmp_float);
    st->r->median_synth = pann_median_sorted(d, k);
    st->r->median_synth_rows = k;
    free(d);
    return 0;
}

/* One chunk read and encoded; *S is empty at the end of the input. */
static int stream_chunk(stream_state *st, pann_reader *rd, pann_table *t, pann_matrix *S,
                        size_t *dropped, pann_error *err)
{
    const pann_filter_input *in = st->in;
    size_t rows = in->chunk_rows ? in->chunk_rows : PANN_FILTER_CHUNK_ROWS;
    if (rows == SIZE_MAX)
        rows = 0;
    int rc = pann_reader_next(rd, rows, in->chunk_bytes, t, err);
    if (!rc && !st->cols) {
        size_t d = in->schema->d;
        if (!(st->cols = malloc((d ? d : 1) * sizeof *st->cols)))
            return pann_fail(err, PANN_ESYSTEM, "out of memory");
        rc = pann_columns_match(in->ref, in->ref_cols, d, t, st->cols, err);
    }
    if (!rc)
        rc = pann_encode_with_schema(in->schema, t, st->cols, in->encode, S, dropped, err);
    return rc;
}

/* Pass 1: every row decided; written at once unless the threshold waits. */
static int stream_pass1(stream_state *st, pann_reader *rd, pann_error *err)
{
    const pann_filter_input *in = st->in;
    int rc = 0;
    for (bool first = true; !rc; first = false) {
        pann_table t;
        pann_matrix S = { 0 };
        size_t dropped = 0, base = st->r->n;
        rc = stream_chunk(st, rd, &t, &S, &dropped, err);
        if (!rc && in->check)
            rc = in->check(in->ctx, &t, &S, err);
        bool ratio = st->o->select == PANN_SELECT_RATIO;
        if (!rc && S.n)
            rc = ratio ? stream_hold(st, &S, err) : stream_decide(st, &S, err);
        if (!rc && S.n && st->collect)
            rc = stream_collect(st, &S, err);
        if (!rc && !st->deferred)
            rc = stream_emit(st, &t, &S, base, first, err);
        st->rows_read += t.nrows;
        st->dropped += dropped;
        bool end = t.nrows == 0;
        pann_matrix_free(&S);
        if (end)
            break;
    }
    return rc;
}

/* Pass 2: the DCR sample's missing distances; deferred rows written. */
static int stream_pass2(stream_state *st, pann_reader *rd, pann_error *err)
{
    int rc = pann_reader_rewind(rd, err);
    size_t base = 0;
    for (bool first = true; !rc; first = false) {
        pann_table t;
        pann_matrix S = { 0 };
        rc = stream_chunk(st, rd, &t, &S, NULL, err);
        if (!rc && st->nneed && S.n)
            rc = stream_resolve(st, &S, base, err);
        if (!rc && st->deferred)
            rc = stream_emit(st, &t, &S, base, first, err);
        base += S.n;
        bool end = t.nrows == 0;
        pann_matrix_free(&S);
        if (end)
            break;
    }
    return rc;
}

static int stream_run(stream_state *st, pann_reader *rd, pann_error *err)
{
    pann_filter_result *r = st->r;
    int rc = 0;
    if (!st->o->exact)
        rc = pann_filter_index_build(&st->ix, st->R, st->m, err);
    if (!rc)
        rc = filter_real_thresholds(st->R, st->m, st->ix, st->o, r, err);
    if (!rc)
        rc = stream_pass1(st, rd, err);
    if (!rc && st->o->select == PANN_SELECT_RATIO) {
        st->all.d = st->R->d;
        rc = pann_filter_ratio_decide(st->R, &st->all, st->m, st->o, r, err);
    } else if (!rc && st->deferred) {
        rc = filter_synth_threshold(st->o, r, err);
    }
    size_t *pick = NULL, k = 0;
    if (!rc)
        rc = stream_sample(st, &pick, &k, err);
    if (!rc && (st->deferred || st->nneed))
        rc = stream_pass2(st, rd, err);
    if (!rc)
        rc = stream_median(st, pick, k, err);
    free(pick);
    if (!rc)
        filter_count(r, st->early, st->R);
    if (!rc && st->o->fidelity)
        rc = pann_filter_fidelity(st->o->fidelity_ref ? st->o->fidelity_ref : st->R, &st->all,
                                  st->m, st->o, r, err);
    return rc;
}

int pann_filter_stream(const pann_matrix *R, const pann_metric *m, const pann_filter_opts *o,
                       const pann_filter_input *in, pann_filter_result *r,
                       size_t *rows_read, size_t *dropped, pann_error *err)
{
    memset(r, 0, sizeof *r);
    *rows_read = *dropped = 0;
    int rc = pann_filter_check(R, m, o, err);
    if (rc)
        return rc;
    stream_state st = { .R = R, .m = m, .o = o, .in = in, .r = r };
    bool ratio = o->select == PANN_SELECT_RATIO;
    st.deferred = ratio || o->max_rule == PANN_MAX_SYNTH_QUANTILE || o->max_rule == PANN_MAX_KEEP;
    st.all_exact = o->exact || st.deferred;
    st.early_keep = !st.all_exact && o->min_rule == PANN_MIN_NONE && !o->drop_copies;
    st.collect = ratio || o->fidelity;
    st.all.d = R->d;
    r->min_dist = o->min_rule == PANN_MIN_DIST ? o->min_value : NAN;
    r->max_dist = !ratio && o->max_rule == PANN_MAX_DIST ? o->max_value : NAN;
    r->accept_constant = NAN;
    pann_reader *rd = NULL;
    rc = pann_reader_open(&rd, in->path, in->read, err);
    /* a second pass may be needed: a pipe is copied aside first */
    if (!rc && (st.deferred || st.early_keep))
        rc = pann_reader_spool(rd, err);
    if (!rc)
        rc = stream_run(&st, rd, err);
    *rows_read = st.rows_read;
    *dropped = st.dropped;
    pann_reader_close(rd);
    pann_filter_index_free(st.ix);
    free(st.early);
    free(st.cols);
    free(st.need);
    free(st.need_dist);
    pann_matrix_free(&st.all);
    if (rc)
        pann_filter_result_free(r);
    return rc;
}
