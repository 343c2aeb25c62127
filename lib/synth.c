/* synth.c — the NoGAN synthesizer (article, section 2.2; pann_synth.h).
 *
 * This module owns the model of a real table as NoGAN sees it: quantile
 * bins per numeric column, categories as their own bins, the non-empty
 * multi-column boxes (found by hashing each row's tuple of bin codes) with
 * their real counts; and the generation of new rows: counts per box from a
 * multinomial on the real proportions (or the real counts), values drawn
 * inside the box.  Values are read from the cells' text, in double, so that
 * the synthetic rows keep the real columns' precision; a drawn value is
 * rounded to the real column's decimals without ever leaving its bin, which
 * keeps the invariant "every synthetic row lies in a non-empty real box"
 * exact on the printed text.
 */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include "pann.h"
#include "internal.h"

/* ---- bins ---------------------------------------------------------------- */

static int parse_bins_value(const char *s, size_t len, size_t *v)
{
    if (len == 0 || len > 9)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        n = n * 10 + (size_t)(s[i] - '0');
    }
    if (n < 1 || n > 1000000)
        return -1;
    *v = n;
    return 0;
}

bool pann_synth_is_discrete(size_t n, size_t distinct)
{
    return distinct <= 2 || n >= PANN_SYNTH_DISCRETE_REPEATS * distinct;
}

size_t pann_synth_auto_bins(size_t n, size_t distinct)
{
    size_t bins = (size_t)lround(cbrt((double)n));
    if (bins > distinct)
        bins = distinct;
    return bins > 0 ? bins : 1;
}

/* Position in cols of the column NAME (header name, or 1-based index). */
static size_t find_chosen(const pann_table *t, const size_t *cols, size_t d,
                          const char *name, size_t len)
{
    for (size_t j = 0; j < d; j++)
        if (strlen(t->colnames[cols[j]]) == len && memcmp(t->colnames[cols[j]], name, len) == 0)
            return j;
    size_t idx;
    if (parse_bins_value(name, len, &idx) == 0)
        for (size_t j = 0; j < d; j++)
            if (cols[j] + 1 == idx)
                return j;
    return SIZE_MAX;
}

int pann_synth_parse_bins(const pann_table *t, const size_t *cols, size_t d,
                          const char *spec, size_t *bins, pann_error *err)
{
    for (size_t j = 0; j < d; j++)
        bins[j] = PANN_SYNTH_AUTO_BINS;
    if (!spec || !*spec)
        return 0;
    const char *p = spec;
    while (*p) {
        size_t len = strcspn(p, ",");
        const char *colon = memchr(p, ':', len);
        size_t v;
        const char *num = colon ? colon + 1 : p;
        size_t numlen = colon ? len - (size_t)(colon + 1 - p) : len;
        if (parse_bins_value(num, numlen, &v) != 0)
            return pann_fail(err, PANN_EINPUT, "--bins: '%.*s' is not N or NAME:N with N "
                             "from 1 to 1000000", (int)len, p);
        if (colon) {
            size_t j = find_chosen(t, cols, d, p, (size_t)(colon - p));
            if (j == SIZE_MAX)
                return pann_fail(err, PANN_EINPUT, "--bins: no chosen column '%.*s'",
                                 (int)(colon - p), p);
            bins[j] = v;
        } else {
            for (size_t j = 0; j < d; j++)
                bins[j] = v;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Digits after the decimal point of a number's text; -1 with an exponent. */
static int text_decimals(const char *s)
{
    if (strpbrk(s, "eE"))
        return -1;
    const char *dot = strchr(s, '.');
    if (!dot)
        return 0;
    int n = 0;
    for (const char *c = dot + 1; *c >= '0' && *c <= '9'; c++)
        n++;
    return n;
}

/* Sorted non-missing values of a numeric column into v (room for nrows);
 * the column's decimals and missing token into c.  Returns the count. */
static int collect_values(const pann_table *t, pann_synth_column *c, double *v, size_t *n,
                          pann_error *err)
{
    *n = 0;
    c->decimals = 0;
    for (size_t i = 0; i < t->nrows; i++) {
        const char *s = pann_cell(t, i, c->col);
        if (pann_cell_number(t, i, c->col, true, NULL, &v[*n], err))
            return PANN_EINPUT;
        if (isnan(v[*n])) {
            if (!c->missing_text && !(c->missing_text = strdup(s)))
                return pann_fail(err, PANN_ESYSTEM, "out of memory");
            continue;
        }
        ++*n;
        int dec = text_decimals(s);
        if (c->decimals >= 0)
            c->decimals = dec < 0 || dec > 12 ? -1 : (dec > c->decimals ? dec : c->decimals);
    }
    qsort(v, *n, sizeof *v, cmp_double);
    return 0;
}

static size_t count_distinct(const double *v, size_t n)
{
    size_t k = n > 0;
    for (size_t i = 1; i < n; i++)
        k += v[i] != v[i - 1];
    return k;
}

/* Quantile edges of the sorted v[0..n), equal edges merged.  A discrete
 * column with no more values than bins gets one bin per value; otherwise a
 * maximum that is itself a quantile edge gets a bin of its own.  Bin
 * nbins-1 [edges[nbins-1], edges[nbins]] may then be [max, max]. */
static void set_edges(pann_synth_column *c, const double *v, size_t n, size_t bins)
{
    c->nbins = 0;
    if (c->discrete && c->nvals <= bins) {
        for (size_t i = 0; i < n; i++)
            if (i == 0 || v[i] != v[i - 1])
                c->edges[c->nbins++] = v[i];
        c->edges[c->nbins] = v[n - 1];
        return;
    }
    c->edges[0] = v[0];
    for (size_t i = 1; i < bins; i++) {
        double e = v[(size_t)((double)i * n / bins)];
        if (e > c->edges[c->nbins])
            c->edges[++c->nbins] = e;
    }
    if (v[n - 1] > c->edges[c->nbins] || c->nbins == 0 || c->discrete)
        c->edges[++c->nbins] = v[n - 1];   /* the closing edge, or the max's own bin */
}

/* First position of sorted v[0..n) whose value is >= x (n if none). */
static size_t lower_bound(const double *v, size_t n, double x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Edges of numeric column c for this many bins, and their ranks. */
static int bin_column(pann_synth_column *c, size_t bins, pann_error *err)
{
    free(c->edges);
    free(c->rank);
    c->nbins = 0;
    c->edges = malloc((bins + 2) * sizeof *c->edges);
    c->rank = malloc((bins + 2) * sizeof *c->rank);
    if (!c->edges || !c->rank)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (bins)");
    size_t n = c->nsorted;
    if (n == 0)
        return 0;
    set_edges(c, c->sorted, n, bins);
    for (size_t b = 0; b < c->nbins; b++)
        c->rank[b] = lower_bound(c->sorted, n, c->edges[b]);
    c->rank[c->nbins] = n;
    return 0;
}

/* Numeric column: sorted values, decimals, the missing token, whether it
 * is discrete. */
static int fit_numeric(const pann_table *t, pann_synth_column *c, pann_error *err)
{
    if (!(c->sorted = malloc((t->nrows + 1) * sizeof *c->sorted)))
        return pann_fail(err, PANN_ESYSTEM, "out of memory (values)");
    int rc = collect_values(t, c, c->sorted, &c->nsorted, err);
    c->nvals = count_distinct(c->sorted, c->nsorted);
    c->discrete = c->nsorted > 0 && pann_synth_is_discrete(c->nsorted, c->nvals);
    return rc;
}

static int fit_categorical(const pann_table *t, pann_synth_column *c, pann_error *err)
{
    for (size_t i = 0; i < t->nrows; i++) {
        const char *s = pann_cell(t, i, c->col);
        size_t k = 0;
        while (k < c->ncat && strcmp(c->cats[k], s) != 0)
            k++;
        if (k < c->ncat)
            continue;
        char **grown = realloc(c->cats, (c->ncat + 1) * sizeof *grown);
        if (!grown || !(grown[c->ncat] = strdup(s))) {
            if (grown)
                c->cats = grown;
            return pann_fail(err, PANN_ESYSTEM, "out of memory (categories)");
        }
        c->cats = grown;
        c->ncat++;
    }
    return 0;
}

uint32_t pann_synth_code(const pann_synth_model *m, size_t j, const char *cell)
{
    const pann_synth_column *c = &m->cols[j];
    if (c->categorical) {
        size_t k = 0;
        while (k < c->ncat && strcmp(c->cats[k], cell) != 0)
            k++;
        return (uint32_t)k;
    }
    double x;
    if (pann_is_missing(cell))
        return PANN_SYNTH_MISSING;
    if (!pann_parse_number(cell, &x) || c->nbins == 0 || x < c->edges[0] || x > c->edges[c->nbins])
        return (uint32_t)c->nbins;
    size_t lo = 0, hi = c->nbins;        /* largest i < nbins with edges[i] <= x */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (c->edges[mid] <= x)
            lo = mid;
        else
            hi = mid;
    }
    return (uint32_t)lo;
}

/* ---- boxes ----------------------------------------------------------------- */

static uint64_t key_hash(const uint32_t *key, size_t d)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (size_t j = 0; j < d; j++)
        h = pann_hash3(h, j, key[j]);
    return h;
}

/* Slot of key in the hash table: where it is, or the empty slot for it. */
static size_t find_slot(const pann_synth_model *m, const uint32_t *key)
{
    size_t mask = m->hash_size - 1, s = (size_t)key_hash(key, m->d) & mask;
    while (m->hash[s] != UINT32_MAX
           && memcmp(m->keys + (size_t)m->hash[s] * m->d, key, m->d * sizeof *key) != 0)
        s = (s + 1) & mask;
    return s;
}

size_t pann_synth_box(const pann_synth_model *m, const uint32_t *key)
{
    uint32_t b = m->hash[find_slot(m, key)];
    return b == UINT32_MAX ? SIZE_MAX : b;
}

static int build_boxes(const pann_table *t, pann_synth_model *m, pann_error *err)
{
    size_t d = m->d;
    free(m->hash);
    free(m->keys);
    free(m->count);
    m->nboxes = 0;
    m->hash_size = 16;
    while (m->hash_size < 2 * t->nrows)
        m->hash_size *= 2;
    m->hash = malloc(m->hash_size * sizeof *m->hash);
    m->keys = malloc((t->nrows * d + 1) * sizeof *m->keys);
    m->count = malloc((t->nrows + 1) * sizeof *m->count);
    if (!m->hash || !m->keys || !m->count)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (boxes)");
    memset(m->hash, 0xff, m->hash_size * sizeof *m->hash);
    for (size_t i = 0; i < t->nrows; i++) {
        uint32_t *key = m->keys + m->nboxes * d;   /* a new box's place */
        for (size_t j = 0; j < d; j++)
            key[j] = pann_synth_code(m, j, pann_cell(t, i, m->cols[j].col));
        size_t s = find_slot(m, key);
        if (m->hash[s] == UINT32_MAX) {
            m->hash[s] = (uint32_t)m->nboxes;
            m->count[m->nboxes++] = 0;
        }
        m->count[m->hash[s]]++;
    }
    return 0;
}

static bool near_copies(const pann_synth_model *m)
{
    size_t singles = 0;
    for (size_t b = 0; b < m->nboxes; b++)
        singles += m->count[b] == 1;
    return singles * 2 > m->nboxes;
}

/* Bin every numeric column (automatic ones at most cap bins) and find the
 * boxes. */
static int bin_all(const pann_table *t, pann_synth_model *m, const size_t *want,
                   const bool *is_auto, size_t cap, pann_error *err)
{
    for (size_t j = 0; j < m->d; j++) {
        if (m->cols[j].categorical)
            continue;
        size_t bins = is_auto[j] && want[j] > cap ? cap : want[j];
        int rc = bin_column(&m->cols[j], bins, err);
        if (rc)
            return rc;
    }
    return build_boxes(t, m, err);
}

/* The automatic bins: pann_synth_auto_bins per column, then, when most
 * boxes would hold a single real row, the largest common cap (at least 2)
 * under which they do not (binary search; a cap of 2 if none does). */
static int bin_automatic(const pann_table *t, pann_synth_model *m, const size_t *want,
                         const bool *is_auto, pann_error *err)
{
    size_t top = 0;
    for (size_t j = 0; j < m->d; j++)
        if (is_auto[j] && want[j] > top)
            top = want[j];
    int rc = bin_all(t, m, want, is_auto, SIZE_MAX, err);
    if (rc || top <= 2 || !near_copies(m))
        return rc;
    size_t lo = 2, hi = top - 1;         /* the answer lies in [lo, hi] */
    while (lo < hi) {
        size_t mid = (lo + hi + 1) / 2;
        if ((rc = bin_all(t, m, want, is_auto, mid, err)) != 0)
            return rc;
        if (near_copies(m))
            hi = mid - 1;
        else
            lo = mid;
    }
    m->auto_cap = lo;
    return bin_all(t, m, want, is_auto, lo, err);
}

int pann_synth_fit(const pann_table *t, const size_t *cols, size_t d,
                   const size_t *bins, const unsigned char *is_cat,
                   pann_synth_model *m, pann_error *err)
{
    memset(m, 0, sizeof *m);
    if (d == 0)
        return pann_fail(err, PANN_EINPUT, "%s: no columns chosen", t->display);
    if (t->nrows == 0)
        return pann_fail(err, PANN_EINPUT, "%s: no data rows", t->display);
    if (t->nrows >= UINT32_MAX)
        return pann_fail(err, PANN_EINPUT, "%s: too many rows", t->display);
    m->d = d;
    m->nrows = t->nrows;
    m->cols = calloc(d, sizeof *m->cols);
    m->names = calloc(d, sizeof *m->names);
    if (!m->cols || !m->names)
        return pann_fail(err, PANN_ESYSTEM, "out of memory");
    for (size_t j = 0; j < d; j++) {
        pann_synth_column *c = &m->cols[j];
        c->col = cols[j];
        if (!(m->names[j] = strdup(t->colnames[cols[j]])))
            return pann_fail(err, PANN_ESYSTEM, "out of memory");
        bool numeric = !(is_cat && is_cat[j]);
        for (size_t i = 0; numeric && i < t->nrows; i++) {
            const char *s = pann_cell(t, i, c->col);
            double x;
            numeric = pann_is_missing(s) || pann_parse_number(s, &x);
        }
        c->categorical = !numeric;
        int rc = numeric ? fit_numeric(t, c, err) : fit_categorical(t, c, err);
        if (rc)
            return rc;
    }
    size_t *want = malloc(d * sizeof *want);
    bool *is_auto = malloc(d * sizeof *is_auto);
    if (!want || !is_auto) {
        free(want);
        free(is_auto);
        return pann_fail(err, PANN_ESYSTEM, "out of memory");
    }
    for (size_t j = 0; j < d; j++) {
        const pann_synth_column *c = &m->cols[j];
        is_auto[j] = !c->categorical && (!bins || bins[j] == PANN_SYNTH_AUTO_BINS);
        want[j] = !is_auto[j] ? (bins ? bins[j] : 0)
                              : pann_synth_auto_bins(c->nsorted, c->nvals);
    }
    int rc = bin_automatic(t, m, want, is_auto, err);
    free(want);
    free(is_auto);
    return rc;
}

void pann_synth_free(pann_synth_model *m)
{
    for (size_t j = 0; m->cols && j < m->d; j++) {
        pann_synth_column *c = &m->cols[j];
        free(c->edges);
        free(c->missing_text);
        free(c->sorted);
        free(c->rank);
        for (size_t k = 0; k < c->ncat; k++)
            free(c->cats[k]);
        free(c->cats);
        free(m->names[j]);
    }
    free(m->cols);
    free(m->names);
    free(m->keys);
    free(m->count);
    free(m->hash);
    memset(m, 0, sizeof *m);
}

/* ---- generation ------------------------------------------------------------ */

void pann_synth_opts_init(pann_synth_opts *o)
{
    memset(o, 0, sizeof *o);
    o->rows = 1000;
    o->counts = PANN_SYNTH_PROPORTIONAL;
    o->draw = PANN_SYNTH_EMPIRICAL;
    o->sd = 0.25;
    o->seed = 1;
    o->header = true;
}

/* A value in bin [lo, hi) (closed when last): uniform, or Gaussian around
 * the centre with sd = sd_frac * width, redrawn until inside. */
static double draw_in_bin(gsl_rng *rng, const pann_synth_opts *o, double lo, double hi)
{
    if (o->draw == PANN_SYNTH_GAUSSIAN) {
        double centre = 0.5 * (lo + hi), sd = o->sd * (hi - lo);
        for (int tries = 0; tries < 1000; tries++) {
            double x = centre + gsl_ran_gaussian(rng, sd);
            if (x >= lo && x <= hi)
                return x;
        }
        return centre;
    }
    return lo + gsl_rng_uniform(rng) * (hi - lo);
}

/* Write x, drawn in bin [lo, hi) (hi included when last), so that the
 * printed text still lies in the bin: on the real column's decimal grid
 * (lo and hi are on it), or with the fewest %g digits that stay inside. */
static void write_number(FILE *out, const pann_synth_column *c, double x, double lo,
                         double hi, bool last)
{
    if (c->decimals >= 0) {
        double scale = pow(10.0, c->decimals);
        double r = nearbyint(x * scale), L = nearbyint(lo * scale), H = nearbyint(hi * scale);
        if (!last && r >= H)
            r = H - 1;
        if (r > H)
            r = H;
        if (r < L)
            r = L;
        fprintf(out, "%.*f", c->decimals, r / scale);
        return;
    }
    if (x < lo)
        x = lo;
    if (!last && x >= hi)                 /* lo + u (hi - lo) may round up */
        x = nextafter(hi, lo);
    if (x > hi)
        x = hi;
    char buf[64];
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, x);
        double y = strtod(buf, NULL);
        if (y >= lo && (y < hi || (last && y <= hi)))
            break;
    }
    fputs(buf, out);
}

/* A real value of discrete column c inside bin b, with its real frequency. */
static double draw_value(gsl_rng *rng, const pann_synth_column *c, size_t b)
{
    size_t lo = c->rank[b], span = c->rank[b + 1] - lo;
    return c->sorted[lo + (span > 1 ? gsl_rng_uniform_int(rng, (unsigned long)span) : 0)];
}

/* Continuous column c, bin b, by the real values' quantile function: a
 * uniform position u in the bin's ranks, the value interpolated between
 * sorted[floor u] and the next one (the next bin's first value, or for the
 * last bin no further than the maximum). */
static double draw_empirical(gsl_rng *rng, const pann_synth_column *c, size_t b)
{
    size_t lo = c->rank[b], hi = c->rank[b + 1];
    if (b + 1 == c->nbins)
        hi--;                            /* the last bin ends at the maximum */
    if (hi <= lo)
        return c->sorted[lo];
    double u = (double)lo + gsl_rng_uniform(rng) * (double)(hi - lo);
    size_t i = (size_t)u;
    if (i >= hi)
        i = hi - 1;
    double f = u - (double)i;
    return c->sorted[i] + f * (c->sorted[i + 1] - c->sorted[i]);
}

/* A real value, written as the real column writes it: with its decimals,
 * or with the fewest %g digits that read back to the same double. */
static void write_value(FILE *out, const pann_synth_column *c, double x)
{
    if (c->decimals >= 0) {
        fprintf(out, "%.*f", c->decimals, x);
        return;
    }
    char buf[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            break;
    }
    fputs(buf, out);
}

static void write_field(FILE *out, const char *s, char delim)
{
    size_t len = strlen(s);
    bool quote = len > 0 && (s[0] == ' ' || s[len - 1] == ' ');
    for (const char *p = s; !quote && *p; p++)
        quote = *p == delim || *p == '"' || *p == '\r' || *p == '\n';
    if (!quote) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

static void write_row(FILE *out, gsl_rng *rng, const pann_synth_model *m,
                      const pann_synth_opts *o, const uint32_t *key, char delim)
{
    for (size_t j = 0; j < m->d; j++) {
        const pann_synth_column *c = &m->cols[j];
        if (j)
            fputc(delim, out);
        if (c->categorical) {
            write_field(out, c->cats[key[j]], delim);
        } else if (key[j] == PANN_SYNTH_MISSING) {
            write_field(out, c->missing_text, delim);
        } else if (c->discrete) {
            write_value(out, c, draw_value(rng, c, key[j]));
        } else {
            double lo = c->edges[key[j]], hi = c->edges[key[j] + 1];
            bool last = key[j] + 1 == c->nbins;
            double x = lo == hi ? lo
                       : o->draw == PANN_SYNTH_EMPIRICAL ? draw_empirical(rng, c, key[j])
                       : draw_in_bin(rng, o, lo, hi);
            write_number(out, c, x, lo, hi, last);
        }
    }
    fputc('\n', out);
}

/* Systematic sampling: box b gets floor((C_b rows + U) / N) -
 * floor((C_{b-1} rows + U) / N) rows, C_b the real rows in boxes 0..b, N
 * all real rows, U uniform in [0, N): the real share of rows rounded down
 * or up, rows in all. */
static void proportional_counts(const pann_synth_model *m, size_t rows, gsl_rng *rng,
                                unsigned int *n)
{
    uint64_t N = m->nrows, U = N > 1 ? gsl_rng_uniform_int(rng, (unsigned long)N) : 0;
    uint64_t cum = 0, before = U / N;
    for (size_t b = 0; b < m->nboxes; b++) {
        cum += m->count[b];
        uint64_t upto = (cum * rows + U) / N;
        n[b] = (unsigned int)(upto - before);
        before = upto;
    }
}

/* Rows per box as o->counts says. */
static int box_counts(const pann_synth_model *m, const pann_synth_opts *o, gsl_rng *rng,
                      size_t total, unsigned int *n, pann_error *err)
{
    size_t K = m->nboxes;
    if (o->counts == PANN_SYNTH_REAL) {
        for (size_t b = 0; b < K; b++)
            n[b] = (unsigned int)m->count[b];
    } else if (o->counts == PANN_SYNTH_PROPORTIONAL) {
        proportional_counts(m, total, rng, n);
    } else {
        double *p = malloc(K * sizeof *p);
        if (!p)
            return pann_fail(err, PANN_ESYSTEM, "out of memory");
        for (size_t b = 0; b < K; b++)
            p[b] = (double)m->count[b];
        gsl_ran_multinomial(rng, K, (unsigned int)total, p, n);
        free(p);
    }
    return 0;
}

/* Box of every output row, counts as o->counts says, in shuffled order. */
static int assign_boxes(const pann_synth_model *m, const pann_synth_opts *o, gsl_rng *rng,
                        uint32_t **box_of_row, size_t *nout, uint64_t *counts,
                        pann_error *err)
{
    size_t K = m->nboxes;
    size_t total = o->counts == PANN_SYNTH_REAL ? m->nrows : o->rows;
    unsigned int *n = malloc(K * sizeof *n);
    uint32_t *rows = malloc((total + 1) * sizeof *rows);
    if (!n || !rows) {
        free(n);
        free(rows);
        return pann_fail(err, PANN_ESYSTEM, "out of memory (%zu rows)", total);
    }
    int rc = box_counts(m, o, rng, total, n, err);
    if (rc) {
        free(n);
        free(rows);
        return rc;
    }
    size_t at = 0;
    for (size_t b = 0; b < K; b++) {
        for (unsigned int i = 0; i < n[b]; i++)
            rows[at++] = (uint32_t)b;
        if (counts)
            counts[b] = n[b];
    }
    free(n);
    if (total > 1)
        gsl_ran_shuffle(rng, rows, total, sizeof *rows);
    *box_of_row = rows;
    *nout = total;
    return 0;
}

int pann_synth_generate(const pann_synth_model *m, const pann_synth_opts *o,
                        char delim, FILE *out, uint64_t *counts, pann_error *err)
{
    if (o->counts != PANN_SYNTH_REAL && o->rows > UINT32_MAX)
        return pann_fail(err, PANN_EINPUT, "--rows: at most %u rows", UINT32_MAX);
    if (o->draw == PANN_SYNTH_GAUSSIAN && !(o->sd > 0))
        return pann_fail(err, PANN_EINPUT, "--sd: must be positive");
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!rng)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (random generator)");
    /* mt19937 takes an unsigned long seed; fold 64 bits so that every seed
     * gives its own stream (0 would mean mt19937's default seed). */
    gsl_rng_set(rng, (unsigned long)(pann_hash3(o->seed, 0x5e7d, 0) | 1));
    uint32_t *rows = NULL;
    size_t total = 0;
    int rc = assign_boxes(m, o, rng, &rows, &total, counts, err);
    if (rc) {
        gsl_rng_free(rng);
        return rc;
    }
    for (size_t j = 0; o->header && j < m->d; j++)
        write_field(out, m->names[j], delim), fputc(j + 1 < m->d ? delim : '\n', out);
    for (size_t i = 0; i < total; i++) {
        write_row(out, rng, m, o, m->keys + (size_t)rows[i] * m->d, delim);
        if (o->progress && (i & 0xffff) == 0)
            o->progress(o->progress_ctx, i, total);
    }
    free(rows);
    gsl_rng_free(rng);
    return ferror(out) ? pann_fail(err, PANN_ESYSTEM, "write error") : 0;
}
