/* profile.c — turning whole data sets or time series into feature vectors
 * (article section 2.3): the fixed set of summary statistics, Pearson
 * correlations, textbook autocorrelations, and the feature table built from
 * pann_tables, one row per table or one per column (series).  Everything is
 * in double and computed in one fixed order, so the output does not depend
 * on anything but the input.
 */
#include <config.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pann.h"

const char *const pann_profile_stat_names[PANN_PROFILE_NSTATS] = {
    "mean", "sd", "min", "q25", "median", "q75", "max", "skewness", "kurtosis",
};

void pann_profile_opts_init(pann_profile_opts *o)
{
    memset(o, 0, sizeof *o);
    o->stats = true;
    o->correlations = true;
}

static int oom(pann_error *err) { return pann_fail(err, PANN_ESYSTEM, "out of memory"); }

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b;
}

/* R's type 7: linear interpolation between order statistics at (n-1)p. */
static double quantile_sorted(const double *s, size_t n, double p)
{
    double h = (double)(n - 1) * p;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return s[n - 1];
    return s[lo] + (h - (double)lo) * (s[lo + 1] - s[lo]);
}

static double mean_of(const double *x, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    return sum / (double)n;
}

int pann_profile_stats(const double *x, size_t n, double out[PANN_PROFILE_NSTATS],
                       pann_error *err)
{
    if (n < 2)
        return pann_fail(err, PANN_EINPUT, "%zu value%s; statistics need at least 2", n,
                         n == 1 ? "" : "s");
    double *s = malloc(n * sizeof *s);
    if (!s)
        return oom(err);
    memcpy(s, x, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    double m = mean_of(x, n), m2 = 0, m3 = 0, m4 = 0;
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - m, d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
    }
    double ss = m2;
    m2 /= (double)n;
    m3 /= (double)n;
    m4 /= (double)n;
    out[0] = m;
    out[1] = sqrt(ss / (double)(n - 1));
    out[2] = s[0];
    out[3] = quantile_sorted(s, n, 0.25);
    out[4] = quantile_sorted(s, n, 0.5);
    out[5] = quantile_sorted(s, n, 0.75);
    out[6] = s[n - 1];
    out[7] = m2 > 0 ? m3 / pow(m2, 1.5) : 0.0;
    out[8] = m2 > 0 ? m4 / (m2 * m2) - 3.0 : 0.0;
    free(s);
    return 0;
}

void pann_profile_acf(const double *x, size_t n, size_t lags, double *out)
{
    double m = mean_of(x, n), den = 0;
    for (size_t t = 0; t < n; t++)
        den += (x[t] - m) * (x[t] - m);
    for (size_t k = 1; k <= lags; k++) {
        double num = 0;
        for (size_t t = 0; t + k < n; t++)
            num += (x[t] - m) * (x[t + k] - m);
        out[k - 1] = den > 0 ? num / den : 0.0;
    }
}

double pann_profile_corr(const double *x, const double *y, size_t n)
{
    double mx = mean_of(x, n), my = mean_of(y, n), sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0.0;
}

/* ---- the feature table -------------------------------------------------- */

void pann_profile_free(pann_profile *p)
{
    for (size_t i = 0; p->row_names && i < p->nrows; i++)
        free(p->row_names[i]);
    for (size_t j = 0; p->col_names && j < p->ncols; j++)
        free(p->col_names[j]);
    free(p->row_names);
    free(p->col_names);
    free(p->v);
    memset(p, 0, sizeof *p);
}

static char *joined(const char *a, const char *sep, const char *b)
{
    size_t la = strlen(a), ls = strlen(sep), lb = strlen(b);
    char *s = malloc(la + ls + lb + 1);
    if (s) {
        memcpy(s, a, la);
        memcpy(s + la, sep, ls);
        memcpy(s + la + ls, b, lb + 1);
    }
    return s;
}

/* The features of one column named prefix (NULL in series mode):
 * statistics, then autocorrelations. */
static size_t column_features(const pann_profile_opts *o)
{
    return (o->stats ? PANN_PROFILE_NSTATS : 0) + o->lags;
}

static int name_column_features(char **names, const char *prefix, const pann_profile_opts *o)
{
    size_t at = 0;
    char buf[64];
    for (size_t s = 0; o->stats && s < PANN_PROFILE_NSTATS; s++)
        if (!(names[at++] = prefix ? joined(prefix, "_", pann_profile_stat_names[s])
                                   : strdup(pann_profile_stat_names[s])))
            return -1;
    for (size_t k = 1; k <= o->lags; k++) {
        snprintf(buf, sizeof buf, "acf_%zu", k);
        if (!(names[at++] = prefix ? joined(prefix, "_", buf) : strdup(buf)))
            return -1;
    }
    return 0;
}

/* Column col of t as numbers; missing cells skipped or an error. */
static int column_values(const pann_table *t, size_t col, const pann_profile_opts *o,
                         double *x, size_t *n, pann_error *err)
{
    *n = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        const char *cell = pann_cell(t, r, col);
        bool missing = pann_is_missing(cell);
        if (missing && o->skip_missing)
            continue;
        if (pann_cell_number(t, r, col, false, missing ? "--missing=drop leaves missing "
                             "values out" : "choose numeric columns with --columns",
                             &x[(*n)++], err))
            return PANN_EINPUT;
        /* moments of larger values overflow, and the features feed float32
           searches anyway */
        if (fabs(x[*n - 1]) > FLT_MAX / 1e6)
            return pann_fail(err, PANN_EINPUT, "%s:%zu:%zu: value '%s' is too large for "
                             "summary statistics (beyond %g)", t->display, t->row_line[r],
                             col + 1, cell, FLT_MAX / 1e6);
    }
    return 0;
}

/* Features of one column's values into out. */
static int fill_column(const pann_table *t, size_t col, const double *x, size_t n,
                       const pann_profile_opts *o, double *out, pann_error *err)
{
    if (n < 2 || n <= o->lags)
        return pann_fail(err, PANN_EINPUT, "%s: column '%s' has %zu value%s; %s", t->display,
                         t->colnames[col], n, n == 1 ? "" : "s",
                         n < 2 ? "at least 2 are needed" : "--lags must be below that");
    int rc = 0;
    if (o->stats)
        rc = pann_profile_stats(x, n, out, err);
    pann_profile_acf(x, n, o->lags, out + (o->stats ? PANN_PROFILE_NSTATS : 0));
    return rc;
}

/* Pearson over the rows where both columns have a value. */
static double pair_corr(const pann_table *t, size_t a, size_t b, double *x, double *y)
{
    size_t n = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        const char *ca = pann_cell(t, r, a), *cb = pann_cell(t, r, b);
        if (pann_is_missing(ca) || pann_is_missing(cb))
            continue;
        pann_parse_number(ca, &x[n]);          /* checked by column_values */
        pann_parse_number(cb, &y[n++]);
    }
    return n >= 2 ? pann_profile_corr(x, y, n) : 0.0;
}

static int alloc_profile(pann_profile *p, size_t nrows, size_t ncols, pann_error *err)
{
    p->nrows = nrows;
    p->ncols = ncols;
    p->row_names = calloc(nrows + 1, sizeof *p->row_names);
    p->col_names = calloc(ncols + 1, sizeof *p->col_names);
    p->v = calloc(nrows * ncols + 1, sizeof *p->v);
    return p->row_names && p->col_names && p->v ? 0 : oom(err);
}

/* One table's row: each column's features, then the correlations. */
static int table_row(const pann_table *t, const size_t *idx, size_t d,
                     const pann_profile_opts *o, double *row, pann_error *err)
{
    double *x = malloc((t->nrows + 1) * sizeof *x), *y = malloc((t->nrows + 1) * sizeof *y);
    int rc = x && y ? 0 : oom(err);
    size_t per = column_features(o), n;
    for (size_t c = 0; !rc && c < d; c++)
        if (!(rc = column_values(t, idx[c], o, x, &n, err)))
            rc = fill_column(t, idx[c], x, n, o, row + c * per, err);
    double *corr = row + d * per;
    for (size_t a = 0; !rc && o->correlations && a < d; a++)
        for (size_t b = a + 1; b < d; b++)
            *corr++ = pair_corr(t, idx[a], idx[b], x, y);
    free(x);
    free(y);
    return rc;
}

static int build_tables(const pann_table *const *tables, size_t ntables,
                        const pann_profile_opts *o, pann_profile *p, pann_error *err)
{
    size_t *idx = NULL, *other = NULL, d;
    int rc = pann_columns_parse(tables[0], o->columns, &idx, &d, err);
    size_t per = column_features(o), npairs = o->correlations ? d * (d - 1) / 2 : 0;
    if (!rc && per * d + npairs == 0)
        rc = pann_fail(err, PANN_EINPUT, "no features: turn on statistics, correlations "
                       "(2 columns or more) or --lags");
    if (!rc)
        rc = alloc_profile(p, ntables, per * d + npairs, err);
    for (size_t c = 0; !rc && c < d; c++)
        if (name_column_features(p->col_names + c * per, tables[0]->colnames[idx[c]], o))
            rc = oom(err);
    char **name = p->col_names + per * d;
    for (size_t a = 0; !rc && o->correlations && a < d; a++)
        for (size_t b = a + 1; !rc && b < d; b++) {
            char *ab = joined(tables[0]->colnames[idx[a]], "_", tables[0]->colnames[idx[b]]);
            if (!ab || !(*name++ = joined("corr", "_", ab)))
                rc = oom(err);
            free(ab);
        }
    if (!rc && !(other = malloc((d + 1) * sizeof *other)))
        rc = oom(err);
    for (size_t i = 0; !rc && i < ntables; i++) {
        if (!(p->row_names[i] = strdup(tables[i]->display)))
            rc = oom(err);
        else if (!(rc = pann_columns_match(tables[0], idx, d, tables[i], other, err)))
            rc = table_row(tables[i], other, d, o, p->v + i * p->ncols, err);
    }
    free(idx);
    free(other);
    return rc;
}

static int build_series(const pann_table *const *tables, size_t ntables,
                        const pann_profile_opts *o, pann_profile *p, pann_error *err)
{
    size_t per = column_features(o), total = 0, *d = calloc(ntables + 1, sizeof *d);
    size_t **idx = calloc(ntables + 1, sizeof *idx);
    int rc = d && idx ? 0 : oom(err);
    for (size_t i = 0; !rc && i < ntables; i++) {
        rc = pann_columns_parse(tables[i], o->columns, &idx[i], &d[i], err);
        total += d[i];
    }
    if (!rc && per == 0)
        rc = pann_fail(err, PANN_EINPUT, "no features: a series needs statistics or --lags");
    if (!rc)
        rc = alloc_profile(p, total, per, err);
    if (!rc && name_column_features(p->col_names, NULL, o))
        rc = oom(err);
    size_t row = 0;
    double *x = NULL;
    for (size_t i = 0; !rc && i < ntables; i++) {
        const pann_table *t = tables[i];
        free(x);
        if (!(x = malloc((t->nrows + 1) * sizeof *x)))
            rc = oom(err);
        for (size_t c = 0; !rc && c < d[i]; c++, row++) {
            const char *cn = t->colnames[idx[i][c]];
            size_t n;
            p->row_names[row] = ntables > 1 ? joined(t->display, ":", cn) : strdup(cn);
            if (!p->row_names[row])
                rc = oom(err);
            else if (!(rc = column_values(t, idx[i][c], o, x, &n, err)))
                rc = fill_column(t, idx[i][c], x, n, o, p->v + row * per, err);
        }
    }
    free(x);
    for (size_t i = 0; idx && i < ntables; i++)
        free(idx[i]);
    free(idx);
    free(d);
    return rc;
}

int pann_profile_build(const pann_table *const *tables, size_t ntables,
                       const pann_profile_opts *o, pann_profile *p, pann_error *err)
{
    memset(p, 0, sizeof *p);
    if (ntables == 0)
        return pann_fail(err, PANN_EINPUT, "no input");
    int rc = o->series ? build_series(tables, ntables, o, p, err)
                       : build_tables(tables, ntables, o, p, err);
    if (rc)
        pann_profile_free(p);
    return rc;
}

int pann_profile_write(const pann_profile *p, FILE *fp)
{
    fputs("name", fp);
    for (size_t j = 0; j < p->ncols; j++) {
        fputc(',', fp);
        pann_csv_field(fp, p->col_names[j]);
    }
    fputc('\n', fp);
    for (size_t i = 0; i < p->nrows; i++) {
        pann_csv_field(fp, p->row_names[i]);
        for (size_t j = 0; j < p->ncols; j++)
            fprintf(fp, ",%.9g", p->v[i * p->ncols + j] == 0 ? 0.0 : p->v[i * p->ncols + j]);
        fputc('\n', fp);
    }
    return ferror(fp) ? -1 : 0;
}
