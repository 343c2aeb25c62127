/* pann_profile.h — one feature vector per data set or per time series
 * (article section 2.3): summary statistics of columns, correlations
 * between columns, autocorrelations at lags 1..L, so that pann-match and
 * pann-knn find the most similar data set or series in a collection (see
 * lib/profile.c).  Included at the end of pann.h; uses its types. */
#ifndef PANN_PROFILE_H
#define PANN_PROFILE_H

#ifdef __cplusplus
extern "C" {
#endif

/* The fixed set of summary statistics of a column, in output order:
 * mean, sd (n - 1 denominator), min, q25, median, q75, max (quantiles by
 * linear interpolation between order statistics, R's type 7), skewness
 * m3 / m2^1.5 and excess kurtosis m4 / m2^2 - 3 (central moments mk with
 * denominator n).  For a constant column, skewness and kurtosis are 0. */
#define PANN_PROFILE_NSTATS 9
extern const char *const pann_profile_stat_names[PANN_PROFILE_NSTATS];

/* The statistics of x[0..n), n >= 2.  x is left untouched. */
int pann_profile_stats(const double *x, size_t n, double out[PANN_PROFILE_NSTATS],
                       pann_error *err);
/* Textbook autocorrelation r_k = sum_{t<n-k} (x_t - m)(x_{t+k} - m) /
 * sum_t (x_t - m)^2 for k = 1..lags into out[0..lags); lags < n.  All 0 for
 * a constant series. */
void pann_profile_acf(const double *x, size_t n, size_t lags, double *out);
/* Pearson correlation; 0 when either column is constant. */
double pann_profile_corr(const double *x, const double *y, size_t n);

typedef struct pann_profile_opts {
    const char *columns;     /* LIST as for pann_columns_parse; NULL = all */
    bool series;             /* one row per column instead of per table */
    bool stats;              /* the summary statistics of each column */
    bool correlations;       /* per table: correlation of each column pair */
    size_t lags;             /* autocorrelations at lags 1..lags; 0 = none */
    bool skip_missing;       /* leave missing cells out (else an error) */
} pann_profile_opts;

/* Defaults of the per-table mode: stats and correlations, no lags. */
void pann_profile_opts_init(pann_profile_opts *o);

/* A feature table: one row per input, named feature columns. */
typedef struct pann_profile {
    size_t nrows, ncols;
    char **row_names;
    char **col_names;
    double *v;               /* nrows * ncols, row-major */
} pann_profile;

/* Per table (series = false): row name = the file name; features of each
 * selected column (COL_mean, ..., COL_acf_1, ...) then corr_A_B for each
 * pair, the columns of every table matched by name to those of tables[0].
 * Per series (series = true): one row per selected column of each table,
 * named COLUMN (FILE:COLUMN with several tables); features mean, ...,
 * acf_1, ....  Errors: a field that is not a number (FILE:LINE:FIELD), a
 * missing value without skip_missing, a column with fewer than 2 values or
 * not more than lags values, no feature chosen. */
int pann_profile_build(const pann_table *const *tables, size_t ntables,
                       const pann_profile_opts *o, pann_profile *p, pann_error *err);
void pann_profile_free(pann_profile *p);

/* CSV: name, then the features (%.9g); names quoted when needed.
 * Returns 0 or -1 on a write error. */
int pann_profile_write(const pann_profile *p, FILE *fp);

#ifdef __cplusplus
}
#endif

#endif
