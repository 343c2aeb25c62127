/* columns.c — turning a column LIST ("age,bmi", "1,3-5", "2-") into column
 * indices of a table, and finding the same columns in a second table.  A
 * list that could mean two things (an ambiguous name, a column chosen twice)
 * is refused rather than guessed, since a wrong column choice gives
 * plausible but meaningless distances.  Also a column's cells as numbers,
 * each bad cell reported where it is (FILE:LINE:FIELD), and the test for a
 * chosen column that holds a row index rather than a feature. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pann.h"

/* Columns named name in t: the count, and the first two (0-based). */
static size_t find_name(const pann_table *t, const char *name, size_t first[2])
{
    size_t count = 0;
    for (size_t j = 0; j < t->ncols; j++)
        if (strcmp(t->colnames[j], name) == 0) {
            if (count < 2)
                first[count] = j;
            count++;
        }
    return count;
}

static bool all_digits(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* A 1-based index; 0 when the text is too long to be any column. */
static size_t parse_index(const char *s, size_t len)
{
    size_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (v > (SIZE_MAX - 9) / 10)
            return 0;
        v = v * 10 + (size_t)(s[i] - '0');
    }
    return v;
}

/* "a, b, c" or the first names then "..." so that a wide table still gives
 * a readable message. */
static void name_list(const pann_table *t, char *buf, size_t size)
{
    enum { SHOWN = 10 };
    size_t used = 0;
    buf[0] = '\0';
    for (size_t j = 0; j < t->ncols && j < SHOWN && used < size; j++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s",
                                 j ? ", " : "", t->colnames[j]);
    if (t->ncols > SHOWN && used < size)
        snprintf(buf + used, size - used, ", ...");
}

static int unknown_column(const pann_table *t, const char *item, pann_error *err)
{
    char names[512];
    name_list(t, names, sizeof names);
    return pann_fail(err, PANN_EINPUT, "unknown column '%s' in %s (columns: %s)",
                     item, t->display, names);
}

static int ambiguous(const pann_table *t, const char *name, const size_t at[2],
                     pann_error *err)
{
    return pann_fail(err, PANN_EINPUT,
                     "column name '%s' is ambiguous in %s (columns %zu and %zu)",
                     name, t->display, at[0] + 1, at[1] + 1);
}

static int check_index(const pann_table *t, size_t index, pann_error *err)
{
    if (index >= 1 && index <= t->ncols)
        return 0;
    return pann_fail(err, PANN_EINPUT, "column index %zu out of range 1-%zu in %s",
                     index, t->ncols, t->display);
}

/* Resolve one item into the 0-based range [*lo, *hi]. */
static int resolve_item(const pann_table *t, const char *item, size_t *lo,
                        size_t *hi, pann_error *err)
{
    size_t at[2], count = find_name(t, item, at);
    if (count > 1)
        return ambiguous(t, item, at, err);
    if (count == 1) {
        *lo = *hi = at[0];
        return 0;
    }
    size_t len = strlen(item);
    const char *dash = strchr(item, '-');
    size_t left = dash ? (size_t)(dash - item) : len;
    size_t right = dash ? len - left - 1 : 0;
    if (!all_digits(item, left) || (dash && right && !all_digits(dash + 1, right)))
        return unknown_column(t, item, err);
    size_t a = parse_index(item, left);
    size_t b = !dash ? a : right ? parse_index(dash + 1, right) : t->ncols;
    int rc = check_index(t, a, err);
    if (rc == 0)
        rc = check_index(t, b, err);
    if (rc != 0)
        return rc;
    if (b < a)
        return pann_fail(err, PANN_EINPUT, "column range '%s' is backwards in %s",
                         item, t->display);
    *lo = a - 1;
    *hi = b - 1;
    return 0;
}

/* Item i of list, blanks around it removed, into buf. */
static size_t next_item(const char *list, size_t pos, char *buf, size_t size)
{
    size_t end = pos;
    while (list[end] && list[end] != ',')
        end++;
    size_t a = pos, b = end;
    while (a < b && isspace((unsigned char)list[a]))
        a++;
    while (b > a && isspace((unsigned char)list[b - 1]))
        b--;
    size_t len = b - a < size - 1 ? b - a : size - 1;
    memcpy(buf, list + a, len);
    buf[len] = '\0';
    return end;
}

static int add_range(const pann_table *t, size_t lo, size_t hi, const char *list,
                     bool *chosen, size_t *idx, size_t *n, pann_error *err)
{
    for (size_t j = lo; j <= hi; j++) {
        if (chosen[j])
            return pann_fail(err, PANN_EINPUT,
                             "column %zu ('%s') is chosen twice in '%s'",
                             j + 1, t->colnames[j], list);
        chosen[j] = true;
        idx[(*n)++] = j;
    }
    return 0;
}

static int parse_list(const pann_table *t, const char *list, bool *chosen,
                      size_t *idx, size_t *n, pann_error *err)
{
    size_t len = strlen(list);
    char *item = malloc(len + 1);
    if (!item)
        return pann_fail(err, PANN_ESYSTEM, "out of memory");
    int rc = 0;
    for (size_t pos = 0; rc == 0 && pos <= len; pos++) {
        pos = next_item(list, pos, item, len + 1);
        size_t lo = 0, hi = 0;
        if (item[0] == '\0')
            rc = pann_fail(err, PANN_EINPUT, "empty item in column list '%s'", list);
        else
            rc = resolve_item(t, item, &lo, &hi, err);
        if (rc == 0)
            rc = add_range(t, lo, hi, list, chosen, idx, n, err);
    }
    free(item);
    return rc;
}

int pann_columns_parse(const pann_table *t, const char *list, size_t **idx,
                       size_t *n, pann_error *err)
{
    *idx = NULL;
    *n = 0;
    size_t *out = malloc((t->ncols ? t->ncols : 1) * sizeof *out);
    if (!out)
        return pann_fail(err, PANN_ESYSTEM, "out of memory");
    if (!list || !*list) {
        for (size_t j = 0; j < t->ncols; j++)
            out[j] = j;
        *idx = out;
        *n = t->ncols;
        return 0;
    }
    bool *chosen = calloc(t->ncols ? t->ncols : 1, sizeof *chosen);
    if (!chosen) {
        free(out);
        return pann_fail(err, PANN_ESYSTEM, "out of memory");
    }
    size_t count = 0;
    int rc = parse_list(t, list, chosen, out, &count, err);
    free(chosen);
    if (rc != 0) {
        free(out);
        return rc;
    }
    *idx = out;
    *n = count;
    return 0;
}

static bool has_header(const pann_table *t)
{
    return t->header_end > t->header_start;
}

int pann_columns_match(const pann_table *ref, const size_t *ref_idx, size_t n,
                       const pann_table *other, size_t *other_idx,
                       pann_error *err)
{
    for (size_t i = 0; i < n; i++) {
        const char *name = ref->colnames[ref_idx[i]];
        if (!has_header(ref)) {
            if (ref_idx[i] >= other->ncols)
                return pann_fail(err, PANN_EINPUT,
                                 "%s has no column '%s' (needed to compare with %s)",
                                 other->display, name, ref->display);
            other_idx[i] = ref_idx[i];
            continue;
        }
        size_t at[2], count = find_name(other, name, at);
        if (count == 0)
            return pann_fail(err, PANN_EINPUT,
                             "%s has no column '%s' (needed to compare with %s)",
                             other->display, name, ref->display);
        if (count > 1)
            return ambiguous(other, name, at, err);
        other_idx[i] = at[0];
    }
    return 0;
}

/* Column j as an item of a column list: its name when that is unambiguous
 * and safe to write in a list, else its 1-based index. */
static int list_item(const pann_table *t, size_t j, char *buf, size_t size, pann_error *err)
{
    const char *name = t->colnames[j];
    size_t same_name = 0;
    for (size_t i = 0; i < t->ncols; i++)
        same_name += strcmp(t->colnames[i], name) == 0;
    size_t len = strlen(name);
    bool plain = len > 0 && !strchr(name, ',') && name[0] != ' ' && name[len - 1] != ' ';
    if (same_name == 1 && plain && len < size) {
        snprintf(buf, size, "%s", name);
        return 0;
    }
    snprintf(buf, size, "%zu", j + 1);
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->colnames[i], buf) == 0)
            return pann_fail(err, PANN_EINPUT, "column %zu ('%s') of %s cannot be named in a "
                             "column list; rename it", j + 1, name, t->display);
    return 0;
}

/* Column j of t is one of the excluded ones: its index in ex, or -1. */
static ptrdiff_t excluded_as(const size_t *ex, size_t nexcept, size_t j)
{
    for (size_t e = 0; e < nexcept; e++)
        if (ex[e] == j)
            return (ptrdiff_t)e;
    return -1;
}

/* "--label" -> "label", for messages */
static const char *option_word(const char *option)
{
    return strncmp(option, "--", 2) == 0 ? option + 2 : option;
}

int pann_columns_except(const pann_table *t, const char *columns,
                        const char *const *except, const char *const *options,
                        size_t nexcept, size_t *except_cols, char **list, pann_error *err)
{
    *list = NULL;
    size_t *idx = NULL, n = 0, ex[8];
    int rc = nexcept > 8 ? pann_fail(err, PANN_EINPUT, "too many excluded columns") : 0;
    for (size_t e = 0; !rc && e < nexcept; e++) {
        size_t *one = NULL, none = 0;
        rc = pann_columns_parse(t, except[e], &one, &none, err);
        if (!rc && none != 1)
            rc = pann_fail(err, PANN_EINPUT, "%s: '%s' must name one column of %s", options[e],
                           except[e], t->display);
        if (!rc)
            ex[e] = one[0];
        free(one);
    }
    if (!rc)
        rc = pann_columns_parse(t, columns, &idx, &n, err);
    for (size_t i = 0; !rc && columns && *columns && i < n; i++) {
        ptrdiff_t e = excluded_as(ex, nexcept, idx[i]);
        if (e >= 0)
            rc = pann_fail(err, PANN_EINPUT, "--columns: '%s' includes the %s column '%s', "
                           "which never enters the distance", columns, option_word(options[e]),
                           t->colnames[idx[i]]);
    }
    size_t cap = 1, used = 0;
    char *out = NULL;
    for (size_t i = 0; !rc && i < n; i++)
        cap += strlen(t->colnames[idx[i]]) + 24;
    if (!rc && !(out = malloc(cap)))
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory");
    for (size_t i = 0; !rc && i < n; i++) {
        if (excluded_as(ex, nexcept, idx[i]) >= 0)
            continue;
        char item[4096];
        rc = list_item(t, idx[i], item, sizeof item, err);
        if (!rc)
            used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? "," : "", item);
    }
    if (!rc && used == 0)
        rc = pann_fail(err, PANN_EINPUT, "%s has no column besides the %s column '%s' to "
                       "measure distances on", t->display, option_word(options[0]),
                       t->colnames[ex[0]]);
    if (!rc) {
        memcpy(except_cols, ex, nexcept * sizeof *ex);
        *list = out;
    } else {
        free(out);
    }
    free(idx);
    return rc;
}

int pann_cell_number(const pann_table *t, size_t row, size_t col, bool missing_ok,
                     const char *why, double *v, pann_error *err)
{
    const char *s = pann_cell(t, row, col);
    if (pann_is_missing(s)) {
        *v = NAN;
        if (missing_ok)
            return 0;
        return pann_fail(err, PANN_EINPUT, "%s:%zu:%zu: missing value in column '%s'%s%s%s",
                         t->display, t->row_line[row], col + 1, t->colnames[col],
                         why ? " (" : "", why ? why : "", why ? ")" : "");
    }
    if (pann_parse_number(s, v))
        return 0;
    if (why)
        return pann_fail(err, PANN_EINPUT, "%s:%zu:%zu: '%s' is not a number (%s)",
                         t->display, t->row_line[row], col + 1, s, why);
    return pann_fail(err, PANN_EINPUT, "%s:%zu:%zu: '%s' is not a number (column '%s')",
                     t->display, t->row_line[row], col + 1, s, t->colnames[col]);
}

int pann_column_numbers(const pann_table *t, size_t col, pann_cells_missing missing,
                        const char *why, double *v, size_t *n, pann_error *err)
{
    *n = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        int rc = pann_cell_number(t, r, col, missing != PANN_CELLS_FAIL, why, &v[*n], err);
        if (rc)
            return rc;
        if (missing != PANN_CELLS_SKIP || !isnan(v[*n]))
            ++*n;
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The values of column j decoded as whole numbers into x, or false when a
 * value is not one or its encoding in single precision cannot tell. */
static bool whole_numbers(const pann_schema *s, const pann_matrix *M, size_t j, double *x,
                          double *lo, double *hi)
{
    double scale = fabs(s->scale[j]), center = s->center[j];
    *lo = INFINITY, *hi = -INFINITY;
    for (size_t i = 0; i < M->n; i++) {
        double v = M->v[i * M->d + j], value = v * scale + center, whole = nearbyint(value);
        double doubt = 4.0 * fabs(v) * scale * 0x1p-24;   /* rounding to float */
        if (doubt >= 0.25 || fabs(value - whole) > doubt + 1e-9)
            return false;
        x[i] = whole;
        *lo = whole < *lo ? whole : *lo;
        *hi = whole > *hi ? whole : *hi;
    }
    return true;
}

/* Whether every row of M has its own category in column j. */
static bool distinct_categories(const pann_schema *s, const pann_matrix *M, size_t j)
{
    size_t n = M->n, codes = s->ncat[j] + 1;   /* + 1: a category never seen */
    if (codes < n)
        return false;
    unsigned char *seen = calloc(codes, 1);
    bool distinct = seen != NULL;
    for (size_t i = 0; distinct && i < n; i++) {
        size_t code = (size_t)M->v[i * M->d + j];
        distinct = code < codes && !seen[code];
        if (distinct)
            seen[code] = 1;
    }
    free(seen);
    return distinct;
}

bool pann_column_is_index_like(const pann_schema *s, const pann_matrix *M, size_t j)
{
    size_t n = M->n;
    if (n < PANN_INDEX_LIKE_ROWS || j >= s->d)
        return false;
    if (s->kind[j] == PANN_CATEGORICAL)
        return distinct_categories(s, M, j);
    double *x = malloc(n * sizeof *x), lo, hi;
    bool like = x && whole_numbers(s, M, j, x, &lo, &hi) && hi - lo + 1 >= (double)n;
    if (like) {   /* every value distinct */
        qsort(x, n, sizeof *x, cmp_double);
        for (size_t i = 1; like && i < n; i++)
            like = x[i] > x[i - 1];
    }
    free(x);
    return like;
}
