/* encode.c — from table cells to the float matrix the distance kernels read.
 * It owns what a value means: which cells are missing, what is a number,
 * whether a column is numeric or categorical (decided over all the tables of
 * a comparison together, so codes and scales agree), the scaling taken from
 * the reference table, the missing-value policy and cosine normalisation.
 * Columns are processed in groups of up to GROUP: a group's cells are parsed
 * row by row, so the cells of one row, adjacent in memory, are read together
 * instead of one cache miss per cell and column; the scratch arrays hold one
 * group, so memory beyond the matrices stays O(rows x GROUP). */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pann.h"
#include "internal.h"

/* ---- values ------------------------------------------------------------ */

/* s[0..*len) without leading and trailing blanks. */
static void trim_span(const char **s, size_t *len)
{
    const char *a = *s, *b = *s + *len;
    while (a < b && isspace((unsigned char)*a))
        a++;
    while (b > a && isspace((unsigned char)b[-1]))
        b--;
    *s = a;
    *len = (size_t)(b - a);
}

static void trim(const char **s, size_t *len)
{
    *len = strlen(*s);
    trim_span(s, len);
}

static bool is_missing_trimmed(const char *s, size_t len)
{
    return len == 0 || (len == 2 && strncasecmp(s, "NA", 2) == 0) ||
           (len == 3 && strncasecmp(s, "NaN", 3) == 0);
}

bool pann_is_missing_span(const char *s, size_t len)
{
    trim_span(&s, &len);
    return is_missing_trimmed(s, len);
}

bool pann_is_missing(const char *s)
{
    /* A cell starting with neither a blank nor an N is not empty, NA or NaN
     * once trimmed, whatever follows: most cells are decided without strlen. */
    unsigned char c = (unsigned char)*s;
    if (c && c != 'N' && c != 'n' && !isspace(c))
        return false;
    size_t len;
    trim(&s, &len);
    return is_missing_trimmed(s, len);
}

/* Plain decimals ("-12.375", "4e-3") with at most 15 significant digits
 * and a power of ten within 10^±22: the digits are an exact double, and so
 * is the power, so one multiplication or division rounds correctly and the
 * result is strtod's, bit for bit (Clinger's fast path).  Anything else
 * returns false and goes to strtod.  Most CSV cells take this path, and it
 * is several times faster than strtod's general algorithm. */
static bool parse_decimal_fast(const char *s, size_t len, double *v)
{
    static const double pow10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
    const char *p = s, *end = s + len;
    bool negative = p < end && *p == '-';
    if (p < end && (*p == '-' || *p == '+'))
        p++;
    uint64_t digits = 0;
    int ndigits = 0, scale = 0, seen = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++, seen++)
        if (digits || *p != '0') {
            digits = digits * 10 + (uint64_t)(*p - '0');
            ndigits++;
        }
    if (p < end && *p == '.')
        for (p++; p < end && *p >= '0' && *p <= '9'; p++, seen++) {
            scale--;
            if (digits || *p != '0') {
                digits = digits * 10 + (uint64_t)(*p - '0');
                ndigits++;
            }
        }
    if (seen == 0 || ndigits > 15)
        return false;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        bool exp_negative = p < end && *p == '-';
        if (p < end && (*p == '-' || *p == '+'))
            p++;
        int exponent = 0, exp_digits = 0;
        for (; p < end && *p >= '0' && *p <= '9' && exponent < 1000; p++, exp_digits++)
            exponent = exponent * 10 + (*p - '0');
        if (exp_digits == 0)
            return false;
        scale += exp_negative ? -exponent : exponent;
    }
    if (p != end || scale < -22 || scale > 22)
        return false;
    double x = (double)digits;
    x = scale < 0 ? x / pow10[-scale] : x * pow10[scale];
    *v = negative ? -x : x;
    return true;
}

/* pann_parse_number on a field already trimmed to s[0..len). */
static bool parse_trimmed(const char *s, size_t len, double *v)
{
    if (len == 0)
        return false;
    /* strtod also reads hex floats, "inf" and "nan": none is a data value a
     * user means as a number here. */
    if (parse_decimal_fast(s, len, v))
        return true;
    if (memchr(s, 'x', len) || memchr(s, 'X', len))
        return false;
    /* strtod stops at the trailing blanks, so the whole field was a number
     * exactly when it stops at the end of the trimmed text. */
    char *end;
    double x = strtod(s, &end);
    if (end != s + len || !isfinite(x))
        return false;
    *v = x;
    return true;
}

bool pann_parse_span(const char *s, size_t len, double *v)
{
    trim_span(&s, &len);
    return parse_trimmed(s, len, v);
}

bool pann_parse_number(const char *s, double *v)
{
    size_t len;
    trim(&s, &len);
    return parse_trimmed(s, len, v);
}

void pann_encode_opts_init(pann_encode_opts *o)
{
    memset(o, 0, sizeof *o);
    o->scale = PANN_SCALE_NONE;
    o->missing = PANN_MISSING_ERROR;
}

/* ---- matrices and schemas ---------------------------------------------- */

int pann_matrix_alloc(pann_matrix *m, size_t n, size_t d, pann_error *err)
{
    memset(m, 0, sizeof *m);
    if (d && n > SIZE_MAX / sizeof(float) / d)
        return pann_fail(err, PANN_ESYSTEM, "matrix of %zu x %zu is too large", n, d);
    size_t bytes = n * d * sizeof(float);
    void *v = NULL;
    if (posix_memalign(&v, 64, bytes ? bytes : 64) != 0)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (matrix of %zu x %zu)", n, d);
    memset(v, 0, bytes);
    m->row_id = malloc((n ? n : 1) * sizeof *m->row_id);
    if (!m->row_id) {
        free(v);
        return pann_fail(err, PANN_ESYSTEM, "out of memory (matrix of %zu x %zu)", n, d);
    }
    for (size_t i = 0; i < n; i++)
        m->row_id[i] = i;
    m->v = v;
    m->n = n;
    m->d = d;
    return 0;
}

void pann_matrix_free(pann_matrix *m)
{
    if (!m)
        return;
    free(m->v);
    free(m->row_id);
    memset(m, 0, sizeof *m);
}

void pann_schema_free(pann_schema *s)
{
    if (!s)
        return;
    for (size_t j = 0; j < s->d; j++) {
        if (s->names)
            free(s->names[j]);
        if (s->cats && s->cats[j]) {
            for (size_t c = 0; c < s->ncat[j]; c++)
                free(s->cats[j][c]);
            free(s->cats[j]);
        }
    }
    free(s->names);
    free(s->kind);
    free(s->center);
    free(s->scale);
    free(s->impute);
    free(s->ncat);
    free(s->cats);
    memset(s, 0, sizeof *s);
}

int pann_schema_alloc(pann_schema *s, const pann_table *ref, const size_t *idx, size_t d)
{
    s->d = d;
    s->names = calloc(d, sizeof *s->names);
    s->kind = calloc(d, sizeof *s->kind);
    s->center = calloc(d, sizeof *s->center);
    s->scale = calloc(d, sizeof *s->scale);
    s->impute = calloc(d, sizeof *s->impute);
    s->ncat = calloc(d, sizeof *s->ncat);
    s->cats = calloc(d, sizeof *s->cats);
    if (!s->names || !s->kind || !s->center || !s->scale || !s->impute ||
        !s->ncat || !s->cats)
        return -1;
    for (size_t j = 0; j < d; j++) {
        s->scale[j] = 1;
        if (!(s->names[j] = strdup(ref->colnames[idx[j]])))
            return -1;
    }
    return 0;
}

/* ---- the encoder ------------------------------------------------------- */

enum { CELL_MISSING, CELL_NUMBER, CELL_TEXT };

/* Columns parsed together.  Wider groups leave fewer partial cache lines at
 * the edges of each row's slice: encoding 110,000 rows of 128 numeric
 * columns took 0.68 s in groups of 8, 0.55 s of 16, 0.49 s of 32, 0.43 s of
 * 64 (1.0 s a column at a time).  32 keeps the scratch at 9 bytes x 32 =
 * 288 bytes per row, below the 512 of a 128-column matrix's row; narrower
 * tables get smaller groups (alloc_scratch). */
enum { GROUP = 32 };

/* pann_is_missing, then pann_parse_number, trimming the cell once. */
static unsigned char classify_cell(const char *s, double *v)
{
    size_t len;
    trim(&s, &len);
    if (is_missing_trimmed(s, len))
        return CELL_MISSING;
    return parse_trimmed(s, len, v) ? CELL_NUMBER : CELL_TEXT;
}

typedef struct encoder {
    const pann_table *const *tables;
    size_t ntables, d;
    const pann_encode_opts *o;
    pann_schema *schema;
    pann_matrix *out;
    pann_error *err;
    size_t **idx;            /* per table: the d chosen columns */
    bool *forced;            /* d flags: listed in o->categorical */
    /* Per table, per column of the group at hand (column j in slot
     * j % GROUP), per row: the cell's CELL_* and number; once the column is
     * encoded, vals holds the encoded value (a float, exactly) until
     * write_group copies the group into the matrix. */
    unsigned char **cls;
    double **vals;
    bool **keep;             /* per table, per row: no chosen cell missing */
    size_t group;            /* columns parsed together, <= GROUP */
} encoder;

/* How one column looks in one table. */
typedef struct col_count {
    size_t present, numbers;         /* non-missing cells; those that parse */
    size_t first_text, first_number; /* rows, SIZE_MAX when none */
} col_count;

static int oom(encoder *e)
{
    return pann_fail(e->err, PANN_ESYSTEM, "out of memory");
}

/* Column j's scratch arrays in table t: rows of one column are contiguous,
 * so the per-column passes after parsing read them sequentially. */
static unsigned char *cls_of(const encoder *e, size_t t, size_t j)
{
    return e->cls[t] + j % e->group * e->tables[t]->nrows;
}

static double *vals_of(const encoder *e, size_t t, size_t j)
{
    return e->vals[t] + j % e->group * e->tables[t]->nrows;
}

/* The name to suggest in "--categorical=NAME". */
static void column_ref(const encoder *e, size_t j, char *buf, size_t size)
{
    const char *name = e->schema->names[j];
    if (*name && !strchr(name, ','))
        snprintf(buf, size, "%s", name);
    else
        snprintf(buf, size, "%zu", e->idx[0][j] + 1);
}

static int fail_at(const encoder *e, size_t t, size_t row, size_t j,
                   const char *what)
{
    const pann_table *tb = e->tables[t];
    return pann_fail(e->err, PANN_EINPUT, "%s:%zu:%zu: %s", tb->display,
                     tb->row_line[row], e->idx[t][j] + 1, what);
}

static int choose_columns(encoder *e)
{
    const pann_table *ref = e->tables[0];
    size_t d;
    int rc = pann_columns_parse(ref, e->o->columns, &e->idx[0], &d, e->err);
    if (rc != 0)
        return rc;
    e->d = d;
    for (size_t t = 1; t < e->ntables; t++) {
        if (!(e->idx[t] = malloc((d ? d : 1) * sizeof **e->idx)))
            return oom(e);
        rc = pann_columns_match(ref, e->idx[0], d, e->tables[t], e->idx[t], e->err);
        if (rc != 0)
            return rc;
    }
    if (!(e->forced = calloc(d ? d : 1, sizeof *e->forced)))
        return oom(e);
    if (!e->o->categorical || !*e->o->categorical)
        return 0;
    size_t *cat, ncat;
    rc = pann_columns_parse(ref, e->o->categorical, &cat, &ncat, e->err);
    if (rc != 0)
        return rc;
    for (size_t k = 0; k < ncat; k++)
        for (size_t j = 0; j < d; j++)
            if (e->idx[0][j] == cat[k])
                e->forced[j] = true;
    free(cat);
    return 0;
}

static int alloc_scratch(encoder *e)
{
    /* at most GROUP columns, and scratch (9 bytes a cell) no larger than
     * the matrix (4 bytes a cell): narrow tables are not worth the memory */
    e->group = e->d * 4 / 9;
    e->group = e->group < 1 ? 1 : e->group > GROUP ? GROUP : e->group;
    for (size_t t = 0; t < e->ntables; t++) {
        size_t n = e->tables[t]->nrows ? e->tables[t]->nrows : 1;
        size_t w = e->group;
        if (n > SIZE_MAX / w / sizeof **e->vals)
            return oom(e);
        e->cls[t] = malloc(n * w);
        e->vals[t] = malloc(n * w * sizeof **e->vals);
        e->keep[t] = malloc(n * sizeof **e->keep);
        if (!e->cls[t] || !e->vals[t] || !e->keep[t])
            return oom(e);
        for (size_t i = 0; i < e->tables[t]->nrows; i++)
            e->keep[t][i] = true;
        int rc = pann_matrix_alloc(&e->out[t], e->tables[t]->nrows, e->d, e->err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Before any kind or missing-value error: a column the reference never
 * fills cannot be scaled or encoded at all. */
static int check_has_values(const encoder *e)
{
    const pann_table *ref = e->tables[0];
    for (size_t j = 0; j < e->d; j++) {
        size_t i = 0;
        while (i < ref->nrows && pann_is_missing(pann_cell(ref, i, e->idx[0][j])))
            i++;
        if (i == ref->nrows)   /* e.g. the empty trailing columns of an export */
            return pann_fail(e->err, PANN_EINPUT, "%s: column %zu ('%s') has no values; "
                             "leave it out with --columns", ref->display, e->idx[0][j] + 1,
                             e->schema->names[j]);
    }
    return 0;
}

/* Under PANN_MISSING_ERROR the first missing cell in file order is named. */
static int check_missing(const encoder *e)
{
    for (size_t t = 0; t < e->ntables; t++) {
        const pann_table *tb = e->tables[t];
        for (size_t i = 0; i < tb->nrows; i++)
            for (size_t j = 0; j < e->d; j++) {
                if (!pann_is_missing(pann_cell(tb, i, e->idx[t][j])))
                    continue;
                char what[512], col[256];
                column_ref(e, j, col, sizeof col);
                snprintf(what, sizeof what, "missing value in column '%s' "
                         "(use --missing=drop or --missing=impute)", col);
                return fail_at(e, t, i, j, what);
            }
    }
    return 0;
}

static col_count count_column(const unsigned char *cls, size_t n, bool *keep)
{
    col_count c = { 0, 0, SIZE_MAX, SIZE_MAX };
    for (size_t i = 0; i < n; i++) {
        if (cls[i] == CELL_MISSING) {
            keep[i] = false;
            continue;
        }
        c.present++;
        if (cls[i] == CELL_NUMBER) {
            c.numbers++;
            if (c.first_number == SIZE_MAX)
                c.first_number = i;
        } else if (c.first_text == SIZE_MAX) {
            c.first_text = i;
        }
    }
    return c;
}

/* Columns j0 .. j0+w-1 (w <= GROUP), row by row; count[(j - j0) * ntables
 * + t] receives column j in table t. */
static void classify_group(encoder *e, size_t j0, size_t w, col_count *count)
{
    for (size_t t = 0; t < e->ntables; t++) {
        const pann_table *tb = e->tables[t];
        const size_t *cols = e->idx[t] + j0;
        unsigned char *cls = cls_of(e, t, j0);
        double *vals = vals_of(e, t, j0);
        const size_t rows = tb->nrows;
        const long n = (long)rows;
        /* one parallel region per group: with few rows and many columns
         * the regions' barriers cost more than the parsing, and on an
         * oversubscribed machine spinning threads make them cost seconds */
#pragma omp parallel for schedule(static) if (n >= 8192)
        for (long i = 0; i < n; i++)
            for (size_t g = 0; g < w; g++) {
                size_t k = g * rows + (size_t)i;
                cls[k] = classify_cell(pann_cell(tb, (size_t)i, cols[g]), &vals[k]);
            }
        for (size_t g = 0; g < w; g++)
            count[g * e->ntables + t] = count_column(cls + g * rows, rows, e->keep[t]);
    }
}

/* A column whose values are all numbers in one file and all text in another
 * is a mismatch between the files, whatever the majority says. */
static int check_agreement(const encoder *e, size_t j, const col_count *count)
{
    const col_count *ref = &count[0];
    bool ref_numeric = ref->numbers == ref->present;
    bool ref_text = ref->numbers == 0;
    char what[1024], col[256];
    column_ref(e, j, col, sizeof col);
    for (size_t t = 1; t < e->ntables; t++) {
        const col_count *c = &count[t];
        if (c->present == 0)
            continue;
        if (ref_numeric && c->numbers == 0) {
            size_t i = c->first_text;
            snprintf(what, sizeof what, "'%s' is not a number, but column '%s' "
                     "is numeric in %s (use --categorical=%s to treat the column "
                     "as text)", pann_cell(e->tables[t], i, e->idx[t][j]),
                     e->schema->names[j], e->tables[0]->display, col);
            return fail_at(e, t, i, j, what);
        }
        if (ref_text && c->numbers == c->present) {
            size_t i = c->first_number;
            snprintf(what, sizeof what, "'%s' is a number, but column '%s' is "
                     "text in %s (use --categorical=%s to treat the column as "
                     "text)", pann_cell(e->tables[t], i, e->idx[t][j]),
                     e->schema->names[j], e->tables[0]->display, col);
            return fail_at(e, t, i, j, what);
        }
    }
    return 0;
}

static int decide_kind(encoder *e, size_t j, const col_count *count,
                       pann_kind *kind)
{
    *kind = PANN_CATEGORICAL;
    if (e->forced[j])
        return 0;
    size_t present = 0, numbers = 0;
    for (size_t t = 0; t < e->ntables; t++) {
        present += count[t].present;
        numbers += count[t].numbers;
    }
    if (numbers == present) {
        *kind = PANN_NUMERIC;
        return 0;
    }
    int rc = check_agreement(e, j, count);
    if (rc != 0 || numbers == 0 || 2 * numbers < present)
        return rc;
    size_t t = 0;
    while (count[t].first_text == SIZE_MAX)
        t++;
    size_t i = count[t].first_text;
    char what[1024], col[256];
    column_ref(e, j, col, sizeof col);
    snprintf(what, sizeof what, "'%s' is not a number in numeric column '%s' "
             "(use --categorical=%s to treat the column as text)",
             pann_cell(e->tables[t], i, e->idx[t][j]), e->schema->names[j], col);
    return fail_at(e, t, i, j, what);
}

/* A column's statistics, accumulated in row order by three passes: a
 * running mean (with the range), the largest deviation from it, then the
 * squares of deviations relative to the largest one (a plain sum of squares
 * overflows from about 1e154 on, and the fallback scale of 1 would then
 * silently push every value out of range).  The encoder (a column at a time)
 * and the numeric loader (load.c, a row at a time) share these steps, so
 * both give the same scales bit for bit. */
static inline void stats_pass1(pann_col_stats *c, double v)
{
    c->m++;
    c->mean += v / (double)c->m - c->mean / (double)c->m;
    c->lo = v < c->lo ? v : c->lo;
    c->hi = v > c->hi ? v : c->hi;
}

static inline void stats_pass2(pann_col_stats *c, double v)
{
    if (fabs(v - c->mean) > c->big)
        c->big = fabs(v - c->mean);
}

static inline void stats_pass3(pann_col_stats *c, double v)
{
    if (c->big > 0)
        c->ss += ((v - c->mean) / c->big) * ((v - c->mean) / c->big);
}

void pann_col_stats_init(pann_col_stats *c)
{
    *c = (pann_col_stats){ .lo = INFINITY, .hi = -INFINITY };
}

void pann_col_stats_finish(const pann_col_stats *c, pann_scale scale, double *center,
                           double *scale_out, double *impute)
{
    double centre = 0, spread = 1;
    if (scale == PANN_SCALE_STD) {
        centre = c->mean;
        spread = c->m > 1 ? c->big * sqrt(c->ss / (double)(c->m - 1)) : 0;
    } else if (scale == PANN_SCALE_RANGE) {
        centre = c->lo;
        spread = c->hi - c->lo;
    }
    if (!(spread > 0) || !isfinite(spread))
        spread = 1;     /* a constant column: never divide by zero */
    *center = centre;
    *scale_out = spread;
    *impute = (c->mean - centre) / spread;
}

void pann_col_stats_rows(const double *v, size_t n, size_t d, pann_col_stats *c)
{
    for (size_t j = 0; j < d; j++)
        pann_col_stats_init(&c[j]);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            stats_pass1(&c[j], v[i * d + j]);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            stats_pass2(&c[j], v[i * d + j]);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            stats_pass3(&c[j], v[i * d + j]);
}

/* Center, scale and imputed value of numeric column j, from the reference. */
static void numeric_stats(encoder *e, size_t j)
{
    const unsigned char *cls = cls_of(e, 0, j);
    const double *v = vals_of(e, 0, j);
    size_t n = e->tables[0]->nrows;
    pann_col_stats c;
    pann_col_stats_init(&c);
    for (size_t i = 0; i < n; i++)
        if (cls[i] == CELL_NUMBER)
            stats_pass1(&c, v[i]);
    for (size_t i = 0; i < n; i++)
        if (cls[i] == CELL_NUMBER)
            stats_pass2(&c, v[i]);
    for (size_t i = 0; i < n; i++)
        if (cls[i] == CELL_NUMBER)
            stats_pass3(&c, v[i]);
    pann_col_stats_finish(&c, e->o->scale, &e->schema->center[j], &e->schema->scale[j],
                          &e->schema->impute[j]);
}

/* A finite double can still leave float's range once encoded (1e300, or a
 * mean that overflows): an infinite coordinate would make every distance
 * inf or NaN, a silently wrong number, so such a value is an input error. */
static int encode_numeric(encoder *e, size_t j)
{
    numeric_stats(e, j);
    double center = e->schema->center[j], scale = e->schema->scale[j];
    float impute = (float)e->schema->impute[j];
    for (size_t t = 0; t < e->ntables; t++) {
        const unsigned char *cls = cls_of(e, t, j);
        double *v = vals_of(e, t, j);
        for (size_t i = 0; i < e->tables[t]->nrows; i++) {
            float x = cls[i] == CELL_MISSING ? impute : pann_encode_value(v[i], center, scale);
            v[i] = x;
            if (isfinite(x))
                continue;
            char what[512];
            snprintf(what, sizeof what, "value '%s' is out of range once scaled "
                     "and encoded in single precision (column '%s')",
                     cls[i] == CELL_MISSING ? "(imputed)"
                     : pann_cell(e->tables[t], i, e->idx[t][j]), e->schema->names[j]);
            return fail_at(e, t, i, j, what);
        }
    }
    return 0;
}

/* Codes in order of first appearance, the reference first. */
static int assign_codes(encoder *e, size_t j, pann_dict *dc)
{
    for (size_t t = 0; t < e->ntables; t++) {
        const pann_table *tb = e->tables[t];
        const unsigned char *cls = cls_of(e, t, j);
        double *v = vals_of(e, t, j);
        for (size_t i = 0; i < tb->nrows; i++) {
            if (cls[i] == CELL_MISSING)
                continue;
            const char *cell = pann_cell(tb, i, e->idx[t][j]);
            size_t code = pann_dict_code(dc, cell, strlen(cell));
            if (code == SIZE_MAX)
                return oom(e);
            if (t == 0)
                dc->count[code]++;
            v[i] = (float)code;
        }
    }
    return 0;
}

static int encode_categorical(encoder *e, size_t j)
{
    pann_dict dc = { 0 };
    int rc = assign_codes(e, j, &dc);
    size_t mode = pann_dict_mode(&dc);
    e->schema->impute[j] = (double)mode;
    for (size_t t = 0; rc == 0 && t < e->ntables; t++) {
        const unsigned char *cls = cls_of(e, t, j);
        double *v = vals_of(e, t, j);
        for (size_t i = 0; i < e->tables[t]->nrows; i++)
            if (cls[i] == CELL_MISSING)
                v[i] = (float)mode;
    }
    if (rc == 0) {
        size_t n = dc.n;
        if ((e->schema->cats[j] = pann_dict_take_keys(&dc)) != NULL)
            e->schema->ncat[j] = n;
        else
            rc = oom(e);
    }
    pann_dict_free(&dc);
    return rc;
}

/* The group's encoded values into the matrices, a row's slice at a time:
 * one output line per row, where a column at a time wrote one per cell. */
static void write_group(encoder *e, size_t j0, size_t w)
{
    for (size_t t = 0; t < e->ntables; t++) {
        const size_t rows = e->tables[t]->nrows, d = e->d;
        const double *v = vals_of(e, t, j0);
        float *out = e->out[t].v + j0;
        const long n = (long)rows;
#pragma omp parallel for schedule(static) if (n >= 8192)
        for (long i = 0; i < n; i++)
            for (size_t g = 0; g < w; g++)
                out[(size_t)i * d + g] = (float)v[g * rows + (size_t)i];
    }
}

/* Columns j0 .. j0+w-1: the errors come column by column, in the order a
 * column at a time gave them. */
static int encode_group(encoder *e, size_t j0, size_t w, col_count *count)
{
    classify_group(e, j0, w, count);
    for (size_t j = j0; j < j0 + w; j++) {
        pann_kind kind;
        int rc = decide_kind(e, j, count + (j - j0) * e->ntables, &kind);
        if (rc != 0)
            return rc;
        e->schema->kind[j] = kind;
        rc = kind == PANN_CATEGORICAL ? encode_categorical(e, j) : encode_numeric(e, j);
        if (rc != 0)
            return rc;
    }
    write_group(e, j0, w);
    return 0;
}

/* Leave out rows with a missing chosen cell (PANN_MISSING_DROP). */
static size_t drop_rows(encoder *e, size_t t)
{
    pann_matrix *m = &e->out[t];
    size_t kept = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (!e->keep[t][i])
            continue;
        if (kept != i)
            memmove(m->v + kept * m->d, m->v + i * m->d, m->d * sizeof *m->v);
        m->row_id[kept++] = i;
    }
    size_t dropped = m->n - kept;
    m->n = kept;
    return dropped;
}

void pann_normalise_rows(pann_matrix *m)
{
    for (size_t i = 0; i < m->n; i++) {
        float *row = m->v + i * m->d;
        double ss = 0;
        for (size_t j = 0; j < m->d; j++)
            ss += (double)row[j] * row[j];
        if (ss > 0) {
            double norm = sqrt(ss);
            for (size_t j = 0; j < m->d; j++)
                row[j] = (float)(row[j] / norm);
        }
    }
}

static int run_encoder(encoder *e, size_t *dropped)
{
    int rc = choose_columns(e);
    if (rc == 0 && pann_schema_alloc(e->schema, e->tables[0], e->idx[0], e->d) != 0)
        rc = oom(e);
    if (rc == 0)
        rc = check_has_values(e);
    if (rc == 0 && e->o->missing == PANN_MISSING_ERROR)
        rc = check_missing(e);
    if (rc == 0)
        rc = alloc_scratch(e);
    col_count *count = calloc(e->ntables * GROUP, sizeof *count);
    if (rc == 0 && !count)
        rc = oom(e);
    for (size_t j0 = 0; rc == 0 && j0 < e->d; j0 += e->group)
        rc = encode_group(e, j0, e->d - j0 < e->group ? e->d - j0 : e->group, count);
    free(count);
    size_t total = 0;
    for (size_t t = 0; rc == 0 && t < e->ntables; t++) {
        if (e->o->missing == PANN_MISSING_DROP)
            total += drop_rows(e, t);
        if (e->o->cosine)
            pann_normalise_rows(&e->out[t]);
    }
    if (dropped)
        *dropped = total;
    return rc;
}

int pann_encode(const pann_table *const *tables, size_t ntables,
                const pann_encode_opts *o, pann_schema *schema,
                pann_matrix *out, size_t *dropped, pann_error *err)
{
    memset(schema, 0, sizeof *schema);
    for (size_t t = 0; t < ntables; t++)
        memset(&out[t], 0, sizeof out[t]);
    if (dropped)
        *dropped = 0;
    if (ntables == 0)
        return pann_fail(err, PANN_EINPUT, "no table to encode");
    encoder e = { .tables = tables, .ntables = ntables, .o = o,
                  .schema = schema, .out = out, .err = err };
    e.idx = calloc(ntables, sizeof *e.idx);
    e.cls = calloc(ntables, sizeof *e.cls);
    e.vals = calloc(ntables, sizeof *e.vals);
    e.keep = calloc(ntables, sizeof *e.keep);
    int rc = e.idx && e.cls && e.vals && e.keep ? run_encoder(&e, dropped) : oom(&e);
    for (size_t t = 0; t < ntables; t++) {
        free(e.idx ? e.idx[t] : NULL);
        free(e.cls ? e.cls[t] : NULL);
        free(e.vals ? e.vals[t] : NULL);
        free(e.keep ? e.keep[t] : NULL);
        if (rc != 0)
            pann_matrix_free(&out[t]);
    }
    free(e.idx);
    free(e.cls);
    free(e.vals);
    free(e.keep);
    free(e.forced);
    if (rc != 0)
        pann_schema_free(schema);
    return rc;
}
