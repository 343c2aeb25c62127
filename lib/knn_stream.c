/* knn_stream.c — K-NN lists of a query file read chunk by chunk (pann-knn
 * TRAIN QUERY).  TRAIN is held, encoded; QUERY is read, encoded with
 * TRAIN's schema, checked against float overflow, searched and written one
 * chunk at a time, so memory does not grow with QUERY.  Chunk c searches
 * with its own seed (the seed plus c times the golden-ratio constant) and
 * a budget of PANN_DEFAULT_PROPOSALS_PER_ROW * K proposals per row; the
 * lines are query,rank,neighbor,distance,proven with 1-based table rows. */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pann.h"

static int search(const pann_knn_stream_opts *o, const pann_matrix *S, const pann_matrix *T,
                  const pann_metric *m, const pann_engine_opts *e, pann_knn_result *r,
                  pann_error *err)
{
    switch (o->method) {
    case PANN_KNN_EXACT:
        return pann_knn_exact(S, T, m, o->k, e, r, err);
    case PANN_KNN_TREE:
        return pann_knn_tree(S, T, m, o->k, o->leaves, e, r, err);
    default:
        return pann_knn_anytime(S, T, m, o->k, e, r, err);
    }
}

/* One line per neighbour found; a write error is caught by the caller's
 * commit of the output. */
void pann_knn_write_lists(FILE *out, const pann_knn_result *r, const pann_matrix *S,
                          const pann_matrix *T, size_t base)
{
    char line[4 * PANN_FLOAT_CHARS + 8];
    for (size_t q = 0; q < r->n; q++)
        for (size_t j = 0; j < r->k; j++) {
            size_t at = q * r->k + j, len = 0;
            if (r->nn[at] == PANN_NONE)
                continue;
            len += pann_format_index(line + len, base + S->row_id[q] + 1);
            line[len++] = ',';
            len += pann_format_index(line + len, j + 1);
            line[len++] = ',';
            len += pann_format_index(line + len, T->row_id[r->nn[at]] + 1);
            line[len++] = ',';
            len += pann_format_float(line + len, r->dist[at]);
            line[len++] = ',';
            line[len++] = r->proven[q] ? '1' : '0';
            line[len++] = '\n';
            fwrite(line, 1, len, out);
        }
}

static void add_totals(pann_knn_stream_stats *st, const pann_knn_result *r)
{
    for (size_t q = 0; q < r->n; q++)
        if (r->nn[q * r->k + r->k - 1] != PANN_NONE) {
            st->sum_kth += r->dist[q * r->k + r->k - 1];
            st->counted++;
        }
    st->rows += r->n;
    st->nproven += r->nproven;
    st->proposals += r->iterations;
}

static int search_chunk(const pann_matrix *T, const pann_metric *m,
                        const pann_knn_stream_opts *o, const pann_table *chunk,
                        const pann_matrix *S, uint64_t index, size_t base,
                        pann_knn_stream_stats *st, pann_error *err)
{
    pann_engine_opts e = *o->engine;
    e.seed = o->engine->seed + index * 0x9e3779b97f4a7c15ULL;   /* a stream per chunk */
    e.max_iterations = PANN_DEFAULT_PROPOSALS_PER_ROW * (uint64_t)o->k * (S->n ? S->n : 1);
    const pann_table *tables[2] = { o->ref, chunk };
    const pann_matrix *mats[2] = { T, S };
    int rc = pann_check_distances(m->kind, o->schema, tables, mats, 2, err);
    pann_knn_result r;
    if (!rc)
        rc = search(o, S, T, m, &e, &r, err);
    if (rc)
        return rc;
    if (o->out)
        pann_knn_write_lists(o->out, &r, S, T, base);
    if (o->each_chunk)
        rc = o->each_chunk(o->ctx, &r, S, base, err);
    add_totals(st, &r);
    pann_knn_result_free(&r);
    return rc;
}

int pann_knn_stream(const pann_matrix *T, const pann_metric *m, const pann_knn_stream_opts *o,
                    pann_knn_stream_stats *st, pann_error *err)
{
    memset(st, 0, sizeof *st);
    size_t *ref_cols, d;
    int rc = pann_columns_parse(o->ref, o->encode->columns, &ref_cols, &d, err);
    if (rc)
        return rc;
    size_t *query_cols = malloc((d ? d : 1) * sizeof *query_cols);
    pann_reader *rd = NULL;
    rc = query_cols ? pann_reader_open(&rd, o->path, o->read, err)
                    : pann_fail(err, PANN_ESYSTEM, "out of memory");
    pann_encode_opts encode = *o->encode;
    encode.cosine = m->kind == PANN_COSINE;
    if (o->out)
        fputs(PANN_KNN_LISTS_HEADER, o->out);
    size_t base = 0;
    for (uint64_t index = 0; !rc; index++) {
        pann_table chunk;
        pann_matrix S = { 0 };
        size_t dropped = 0;
        rc = pann_reader_next(rd, o->chunk_rows ? o->chunk_rows : PANN_KNN_CHUNK_ROWS, 0,
                              &chunk, err);
        if (rc)
            break;
        if (index == 0)
            rc = pann_columns_match(o->ref, ref_cols, d, &chunk, query_cols, err);
        if (!rc)
            rc = pann_encode_with_schema(o->schema, &chunk, query_cols, &encode, &S, &dropped,
                                         err);
        if (!rc && S.n)
            rc = search_chunk(T, m, o, &chunk, &S, index, base, st, err);
        base += chunk.nrows;
        st->dropped += dropped;
        pann_matrix_free(&S);
        if (chunk.nrows == 0)
            break;
    }
    if (rd)
        pann_reader_close(rd);
    free(ref_cols);
    free(query_cols);
    return rc;
}
