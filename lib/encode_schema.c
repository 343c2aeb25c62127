/* encode_schema.c — encoding a table with a schema made before, from other
 * data: the chunks of a file read piece by piece (nogan-filter's SYNTH),
 * scaled and coded exactly as the reference was.  Kinds, scales, imputed
 * values and category codes all come from the schema; nothing is learnt
 * from the table, so every chunk is encoded alike whatever came before. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pann.h"
#include "internal.h"

/* The schema's categories of column j as a dictionary: code c is cats[c]. */
static int cat_dict_build(pann_dict *dc, char *const *cats, size_t ncat)
{
    for (size_t c = 0; c < ncat; c++)
        if (pann_dict_code(dc, cats[c], strlen(cats[c])) != c)
            return -1;
    return 0;
}

/* The code of s; a category the schema never saw gets code ncat, which
 * differs from every reference category (a 0/1 mismatch with all of them:
 * unseen categories are only ever compared with the reference). */
static size_t cat_code(const pann_dict *dc, size_t ncat, const char *s)
{
    size_t c = pann_dict_find(dc, s, strlen(s));
    return c == SIZE_MAX ? ncat : c;
}

static int located(const pann_table *t, size_t row, size_t col, pann_error *err,
                   const char *fmt, const char *a, const char *b)
{
    char what[768];
    snprintf(what, sizeof what, fmt, a, b);
    return pann_fail(err, PANN_EINPUT, "%s:%zu:%zu: %s", t->display, t->row_line[row],
                     col + 1, what);
}

/* Under PANN_MISSING_ERROR the first missing cell in file order is named;
 * under PANN_MISSING_DROP keep[i] says whether row i has none. */
static int check_missing_cells(const pann_schema *s, const pann_table *t, const size_t *cols,
                               pann_missing policy, bool *keep, pann_error *err)
{
    for (size_t i = 0; i < t->nrows; i++) {
        keep[i] = true;
        for (size_t j = 0; j < s->d && keep[i]; j++) {
            if (!pann_is_missing(pann_cell(t, i, cols[j])))
                continue;
            if (policy == PANN_MISSING_ERROR) {
                char col[32];
                snprintf(col, sizeof col, "%zu", cols[j] + 1);
                bool by_name = *s->names[j] && !strchr(s->names[j], ',');
                return located(t, i, cols[j], err, "missing value in column '%s' "
                               "(use --missing=drop or --missing=impute)%s",
                               by_name ? s->names[j] : col, "");
            }
            keep[i] = policy != PANN_MISSING_DROP;
        }
    }
    return 0;
}

/* One cell of column j as the schema encodes it. */
static int encode_cell(const pann_schema *s, const pann_dict *ci, const pann_table *t,
                       size_t i, size_t j, size_t col, float *out, pann_error *err)
{
    const char *cell = pann_cell(t, i, col);
    bool missing = pann_is_missing(cell);
    if (s->kind[j] == PANN_CATEGORICAL) {
        *out = missing ? (float)s->impute[j]
                       : (float)cat_code(&ci[j], s->ncat[j], cell);
        return 0;
    }
    double v;
    if (missing)
        *out = (float)s->impute[j];
    else if (pann_parse_number(cell, &v))
        *out = (float)((v - s->center[j]) / s->scale[j]);
    else
        return located(t, i, col, err, "'%s' is not a number, but column '%s' is numeric "
                       "in the reference (use --categorical to treat the column as text)",
                       cell, s->names[j]);
    if (!isfinite(*out))
        return located(t, i, col, err, "value '%s' is out of range once encoded in "
                       "single precision (column '%s')", missing ? "(imputed)" : cell,
                       s->names[j]);
    return 0;
}

static void normalise(float *row, size_t d)
{
    double ss = 0;
    for (size_t j = 0; j < d; j++)
        ss += (double)row[j] * row[j];
    if (ss > 0) {
        double norm = sqrt(ss);
        for (size_t j = 0; j < d; j++)
            row[j] = (float)(row[j] / norm);
    }
}

static int encode_rows(const pann_schema *s, const pann_table *t, const size_t *cols,
                       const pann_encode_opts *o, const bool *keep, const pann_dict *ci,
                       pann_matrix *out, pann_error *err)
{
    size_t k = 0;
    for (size_t i = 0; i < t->nrows; i++) {
        if (!keep[i])
            continue;
        float *row = out->v + k * s->d;
        for (size_t j = 0; j < s->d; j++) {
            int rc = encode_cell(s, ci, t, i, j, cols[j], &row[j], err);
            if (rc)
                return rc;
        }
        if (o->cosine)
            normalise(row, s->d);
        out->row_id[k++] = i;
    }
    out->n = k;
    return 0;
}

int pann_encode_with_schema(const pann_schema *s, const pann_table *t, const size_t *cols,
                            const pann_encode_opts *o, pann_matrix *out, size_t *dropped,
                            pann_error *err)
{
    memset(out, 0, sizeof *out);
    if (dropped)
        *dropped = 0;
    bool *keep = malloc((t->nrows ? t->nrows : 1) * sizeof *keep);
    pann_dict *ci = calloc(s->d ? s->d : 1, sizeof *ci);
    int rc = keep && ci ? 0 : pann_fail(err, PANN_ESYSTEM, "out of memory");
    for (size_t j = 0; !rc && j < s->d; j++)
        if (s->kind[j] == PANN_CATEGORICAL && cat_dict_build(&ci[j], s->cats[j], s->ncat[j]))
            rc = pann_fail(err, PANN_ESYSTEM, "out of memory");
    if (!rc)
        rc = check_missing_cells(s, t, cols, o->missing, keep, err);
    if (!rc)
        rc = pann_matrix_alloc(out, t->nrows, s->d, err);
    if (!rc)
        rc = encode_rows(s, t, cols, o, keep, ci, out, err);
    if (!rc && dropped)
        *dropped = t->nrows - out->n;
    if (rc)
        pann_matrix_free(out);
    for (size_t j = 0; ci && j < s->d; j++)
        pann_dict_free(&ci[j]);
    free(ci);
    free(keep);
    return rc;
}
