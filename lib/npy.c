/* npy.c — numpy's .npy files: the header's parser, loading 2-D float32 or
 * float64 arrays straight into encoded matrices, and writing result arrays.
 *
 * A .npy file is 6 magic bytes, a version, a header length and a Python
 * dictionary literal {'descr': '<f4', 'fortran_order': False, 'shape':
 * (R, C), } padded with spaces to a newline; the values follow in C order.
 * The parser reads exactly that dictionary (the three keys, in any order,
 * each once) and checks that the file holds R * C values, no fewer and no
 * more.  Loading reads the values in one pass into one buffer: float32 in
 * file order is the matrix itself when every column is chosen unscaled;
 * otherwise each row is encoded (chosen columns, scale from the reference's
 * statistics, taken in row order with encode.c's own steps) into the
 * matrix.  A value that is not finite is an error, located at its row and
 * column; a .npy file has no missing values or categories.
 */
#include <config.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pann.h"
#include "internal.h"

static const char npy_magic[6] = { '\x93', 'N', 'U', 'M', 'P', 'Y' };

bool pann_npy_is(const char *path)
{
    struct stat st;   /* before any open: opening a pipe would take a reader from it */
    if (!path || strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return false;
    char head[6];
    bool is = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
              pread(fd, head, sizeof head, 0) == (ssize_t)sizeof head &&
              memcmp(head, npy_magic, sizeof head) == 0;
    close(fd);
    return is;
}

bool pann_npy_any(const char *const *paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (pann_npy_is(paths[i]))
            return true;
    return false;
}

/* ---- the header's dictionary ------------------------------------------- */

typedef struct dict_parser {
    const char *p, *end;
    const char *display;
    pann_error *err;
} dict_parser;

static void skip_blanks(dict_parser *d)
{
    while (d->p < d->end && (*d->p == ' ' || *d->p == '\t' || *d->p == '\n' || *d->p == '\r'))
        d->p++;
}

static int bad_header(dict_parser *d, const char *what)
{
    return pann_fail(d->err, PANN_EINPUT, "%s: bad .npy header: %s", d->display, what);
}

static bool accept(dict_parser *d, char c)
{
    skip_blanks(d);
    if (d->p < d->end && *d->p == c) {
        d->p++;
        return true;
    }
    return false;
}

/* A quoted string without escapes into buf (at most size - 1 bytes). */
static int parse_string(dict_parser *d, char *buf, size_t size)
{
    skip_blanks(d);
    if (d->p >= d->end || (*d->p != '\'' && *d->p != '"'))
        return bad_header(d, "expected a quoted string");
    char quote = *d->p++;
    size_t len = 0;
    while (d->p < d->end && *d->p != quote) {
        if (*d->p == '\\' || len + 1 >= size)
            return bad_header(d, "unexpected string");
        buf[len++] = *d->p++;
    }
    if (d->p >= d->end)
        return bad_header(d, "unterminated string");
    d->p++;
    buf[len] = '\0';
    return 0;
}

static int parse_bool(dict_parser *d, bool *v)
{
    skip_blanks(d);
    size_t left = (size_t)(d->end - d->p);
    if (left >= 4 && memcmp(d->p, "True", 4) == 0) {
        *v = true, d->p += 4;
        return 0;
    }
    if (left >= 5 && memcmp(d->p, "False", 5) == 0) {
        *v = false, d->p += 5;
        return 0;
    }
    return bad_header(d, "fortran_order is not True or False");
}

/* (R, C): up to 8 dimensions, each a whole number below 2^62. */
static int parse_shape(dict_parser *d, size_t *dims, size_t *ndims)
{
    if (!accept(d, '('))
        return bad_header(d, "shape is not a tuple");
    *ndims = 0;
    for (;;) {
        if (accept(d, ')'))
            return 0;
        skip_blanks(d);
        if (d->p >= d->end || !isdigit((unsigned char)*d->p) || *ndims == 8)
            return bad_header(d, "shape is not a tuple of whole numbers");
        uint64_t v = 0;
        while (d->p < d->end && isdigit((unsigned char)*d->p)) {
            if (v > ((uint64_t)1 << 62) / 10)
                return bad_header(d, "a dimension of the shape is too large");
            v = v * 10 + (uint64_t)(*d->p++ - '0');
        }
        dims[(*ndims)++] = (size_t)v;
        if (!accept(d, ',')) {
            if (!accept(d, ')'))
                return bad_header(d, "shape is not a tuple of whole numbers");
            return 0;
        }
    }
}

typedef struct npy_dict {
    char descr[32];
    bool fortran;
    size_t dims[8], ndims;
} npy_dict;

static int parse_entry(dict_parser *d, npy_dict *out, unsigned *seen)
{
    char key[32];
    int rc = parse_string(d, key, sizeof key);
    if (rc)
        return rc;
    if (!accept(d, ':'))
        return bad_header(d, "expected ':' after a key");
    unsigned bit = strcmp(key, "descr") == 0 ? 1u : strcmp(key, "fortran_order") == 0 ? 2u
                 : strcmp(key, "shape") == 0 ? 4u : 0u;
    if (!bit)
        return pann_fail(d->err, PANN_EINPUT, "%s: bad .npy header: unknown key '%s'",
                         d->display, key);
    if (*seen & bit)
        return pann_fail(d->err, PANN_EINPUT, "%s: bad .npy header: key '%s' twice",
                         d->display, key);
    *seen |= bit;
    if (bit == 1) {
        skip_blanks(d);
        if (d->p < d->end && *d->p == '[')
            return pann_fail(d->err, PANN_EINPUT, "%s: a structured dtype (record array) is "
                             "not a matrix of numbers; save a float32 array", d->display);
        return parse_string(d, out->descr, sizeof out->descr);
    }
    if (bit == 2)
        return parse_bool(d, &out->fortran);
    return parse_shape(d, out->dims, &out->ndims);
}

static int parse_dict(dict_parser *d, npy_dict *out)
{
    unsigned seen = 0;
    if (!accept(d, '{'))
        return bad_header(d, "not a dictionary");
    while (!accept(d, '}')) {
        int rc = parse_entry(d, out, &seen);
        if (rc)
            return rc;
        if (!accept(d, ',')) {
            if (!accept(d, '}'))
                return bad_header(d, "expected ',' or '}'");
            break;
        }
    }
    skip_blanks(d);
    if (d->p != d->end)
        return bad_header(d, "text after the dictionary");
    if (seen != 7)
        return bad_header(d, !(seen & 1) ? "no 'descr'" : !(seen & 2) ? "no 'fortran_order'"
                                                                       : "no 'shape'");
    return 0;
}

/* ---- the header ---------------------------------------------------------- */

static int check_dict(const npy_dict *h, const char *display, pann_npy_info *info,
                      pann_error *err)
{
    if (strcmp(h->descr, "<f4") == 0 || strcmp(h->descr, "<f8") == 0)
        info->elem = h->descr[2] == '4' ? 4 : 8;
    else if (strcmp(h->descr, ">f4") == 0 || strcmp(h->descr, ">f8") == 0)
        return pann_fail(err, PANN_EINPUT, "%s: dtype '%s' is big-endian; save it "
                         "little-endian (a.astype('<f4'))", display, h->descr);
    else
        return pann_fail(err, PANN_EINPUT, "%s: dtype '%s' is not float32 or float64 "
                         "('<f4' or '<f8'); convert with a.astype(numpy.float32)", display,
                         h->descr);
    if (h->fortran)
        return pann_fail(err, PANN_EINPUT, "%s: fortran_order is True; save a C-order "
                         "array (numpy.ascontiguousarray)", display);
    if (h->ndims != 2)
        return pann_fail(err, PANN_EINPUT, "%s: a %zu-D array; a matrix of rows and columns "
                         "(2-D) is needed (a.reshape(-1, 1) for one column)", display, h->ndims);
    info->rows = h->dims[0];
    info->cols = h->dims[1];
    if (info->rows == 0)
        return pann_fail(err, PANN_EINPUT, "%s: no data rows (shape (0, %zu))", display,
                         info->cols);
    if (info->cols == 0)
        return pann_fail(err, PANN_EINPUT, "%s: no columns (shape (%zu, 0))", display,
                         info->rows);
    if (info->rows > SIZE_MAX / 8 / info->cols || info->rows > UINT32_MAX - 1)
        return pann_fail(err, PANN_EINPUT, "%s: shape (%zu, %zu) is too large", display,
                         info->rows, info->cols);
    return 0;
}

int pann_npy_header(int fd, size_t size, const char *display, pann_npy_info *info,
                    pann_error *err)
{
    unsigned char pre[12];
    if (size < 10 || !pann_read_at(fd, pre, size < 12 ? 10 : 12, 0) ||
        memcmp(pre, npy_magic, sizeof npy_magic) != 0)
        return pann_fail(err, PANN_EINPUT, "%s: not a .npy file", display);
    unsigned major = pre[6], minor = pre[7];
    if ((major != 1 && major != 2 && major != 3) || minor != 0)
        return pann_fail(err, PANN_EINPUT, "%s: .npy version %u.%u is not 1.0, 2.0 or 3.0",
                         display, major, minor);
    if (major > 1 && size < 12)
        return pann_fail(err, PANN_EINPUT, "%s: .npy header truncated", display);
    size_t hlen = major == 1 ? (size_t)pre[8] | (size_t)pre[9] << 8
                : (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16
                  | (size_t)pre[11] << 24;
    size_t start = major == 1 ? 10 : 12;
    if (hlen > ((size_t)1 << 20) || start + hlen > size)
        return pann_fail(err, PANN_EINPUT, "%s: .npy header truncated (its length says "
                         "%zu bytes, the file has %zu)", display, hlen, size - start);
    char *text = malloc(hlen + 1);
    if (!text)
        return pann_fail(err, PANN_ESYSTEM, "%s: out of memory", display);
    if (!pann_read_at(fd, text, hlen, start)) {
        free(text);
        return pann_fail(err, PANN_ESYSTEM, "%s: %s", display, strerror(errno));
    }
    npy_dict h = {0};
    dict_parser d = { text, text + hlen, display, err };
    int rc = memchr(text, '\0', hlen) ? bad_header(&d, "a NUL byte") : parse_dict(&d, &h);
    free(text);
    if (!rc)
        rc = check_dict(&h, display, info, err);
    if (rc)
        return rc;
    info->data_offset = start + hlen;
    size_t want = info->rows * info->cols * info->elem, have = size - info->data_offset;
    if (have < want)
        return pann_fail(err, PANN_EINPUT, "%s: truncated: shape (%zu, %zu) of float%zu needs "
                         "%zu bytes of data, the file has %zu", display, info->rows,
                         info->cols, info->elem * 8, want, have);
    if (have > want)
        return pann_fail(err, PANN_EINPUT, "%s: %zu bytes after the (%zu, %zu) array",
                         display, have - want, info->rows, info->cols);
    return 0;
}

/* ---- loading ------------------------------------------------------------- */

typedef struct npy_file {
    pann_table *t;
    pann_npy_info info;
    void *raw;                   /* rows * cols values as in the file */
} npy_file;

static int no_memory(const char *display, pann_error *err)
{
    return pann_fail(err, PANN_ESYSTEM, "%s: out of memory", display);
}

/* A table as a file without header gives it: names "1", "2", ... */
static int make_table(pann_table *t, const char *path, const pann_npy_info *info,
                      pann_error *err)
{
    memset(t, 0, sizeof *t);
    t->path = strdup(path);
    t->display = strdup(path);
    t->colnames = calloc(info->cols, sizeof *t->colnames);
    if (!t->path || !t->display || !t->colnames)
        return no_memory(path, err);
    t->ncols = info->cols;
    t->nrows = info->rows;
    for (size_t j = 0; j < info->cols; j++) {
        char name[24];
        snprintf(name, sizeof name, "%zu", j + 1);
        if (!(t->colnames[j] = strdup(name)))
            return no_memory(path, err);
    }
    return 0;
}

/* The header, then every value in one buffer (64-byte aligned). */
static int read_file(npy_file *f, const char *path, pann_error *err)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int rc = pann_fail(err, PANN_ESYSTEM, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return rc;
    }
    int rc = pann_npy_header(fd, (size_t)st.st_size, path, &f->info, err);
    if (!rc)
        rc = make_table(f->t, path, &f->info, err);
    size_t bytes = f->info.rows * f->info.cols * f->info.elem;
    if (!rc && posix_memalign(&f->raw, 64, bytes) != 0) {
        f->raw = NULL;
        rc = pann_fail(err, PANN_ESYSTEM, "%s: out of memory (%zu x %zu values)", path,
                       f->info.rows, f->info.cols);
    }
    if (!rc && !pann_read_at(fd, f->raw, bytes, f->info.data_offset))
        rc = pann_fail(err, PANN_ESYSTEM, "%s: %s", path, errno ? strerror(errno)
                                                                 : "file shrank while read");
    close(fd);
    return rc;
}

static inline double value_at(const npy_file *f, size_t i, size_t col)
{
    size_t at = i * f->info.cols + col;
    return f->info.elem == 4 ? (double)((const float *)f->raw)[at]
                             : ((const double *)f->raw)[at];
}

/* The first value of a chosen column that is not finite, in row order. */
static int check_finite(const npy_file *f, const size_t *idx, size_t d, pann_error *err)
{
    for (size_t i = 0; i < f->info.rows; i++)
        for (size_t j = 0; j < d; j++) {
            double v = value_at(f, i, idx[j]);
            if (!isfinite(v))
                return pann_fail(err, PANN_EINPUT, "%s:%zu:%zu: value is %s; a .npy input "
                                 "must hold finite numbers (no missing values)",
                                 f->t->display, i + 1, idx[j] + 1,
                                 isnan(v) ? "NaN" : v > 0 ? "inf" : "-inf");
        }
    return 0;
}

/* The reference's statistics, a few columns at a time as doubles (encode.c's
 * steps, in row order), then each column's center and scale. */
static int reference_stats(const npy_file *f, const size_t *idx, size_t d, pann_scale scale,
                           pann_schema *s, pann_error *err)
{
    size_t n = f->info.rows, width = ((size_t)1 << 23) / n;
    width = width < 1 ? 1 : width > d ? d : width;
    double *buf = malloc(n * width * sizeof *buf);
    pann_col_stats *stats = malloc(d * sizeof *stats);
    if (!buf || !stats) {
        free(buf);
        free(stats);
        return no_memory(f->t->display, err);
    }
    for (size_t j0 = 0; j0 < d; j0 += width) {
        size_t w = d - j0 < width ? d - j0 : width;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < w; j++)
                buf[i * w + j] = value_at(f, i, idx[j0 + j]);
        pann_col_stats_rows(buf, n, w, &stats[j0]);
    }
    for (size_t j = 0; j < d; j++)
        pann_col_stats_finish(&stats[j], scale, &s->center[j], &s->scale[j], &s->impute[j]);
    free(buf);
    free(stats);
    return 0;
}

static bool values_as_they_are(const npy_file *f, const size_t *idx, size_t d,
                               const pann_schema *s)
{
    if (f->info.elem != 4 || d != f->info.cols)
        return false;
    for (size_t j = 0; j < d; j++)
        if (idx[j] != j || s->center[j] != 0 || s->scale[j] != 1)
            return false;
    return true;
}

/* Row i's chosen values, encoded, into out (which may be row i's own
 * place in f->raw: the row is read whole before it is written). */
static int encode_row(const npy_file *f, size_t i, const size_t *idx, size_t d,
                      const pann_schema *s, double *row, float *out, pann_error *err)
{
    for (size_t j = 0; j < d; j++)
        row[j] = value_at(f, i, idx[j]);
    for (size_t j = 0; j < d; j++) {
        out[j] = pann_encode_value(row[j], s->center[j], s->scale[j]);
        if (!isfinite(out[j]))
            return pann_fail(err, PANN_EINPUT, "%s:%zu:%zu: value %.17g is beyond single "
                             "precision once encoded", f->t->display, i + 1, idx[j] + 1,
                             row[j]);
    }
    return 0;
}

/* f's chosen columns as the encoded float32 matrix m; f->raw is taken. */
static int encode_file(npy_file *f, const size_t *idx, size_t d, const pann_schema *s,
                       bool cosine, pann_matrix *m, pann_error *err)
{
    size_t n = f->info.rows;
    memset(m, 0, sizeof *m);
    m->row_id = malloc(n * sizeof *m->row_id);
    double *row = malloc(d * sizeof *row);
    float *v = values_as_they_are(f, idx, d, s) || f->info.elem == 4 ? f->raw : NULL;
    if (!v && posix_memalign((void **)&v, 64, n * d * sizeof *v) != 0)
        v = NULL;
    int rc = !m->row_id || !row || !v ? no_memory(f->t->display, err) : 0;
    if (!rc && !values_as_they_are(f, idx, d, s))
        for (size_t i = 0; !rc && i < n; i++)
            rc = encode_row(f, i, idx, d, s, row, v + i * d, err);
    free(row);
    if (v && v != f->raw && !rc) {
        free(f->raw);
    }
    if (rc) {
        if (v != f->raw)
            free(v);
        return rc;
    }
    f->raw = NULL;
    for (size_t i = 0; i < n; i++)
        m->row_id[i] = i;
    m->v = v, m->n = n, m->d = d;
    if (cosine)
        pann_normalise_rows(m);
    return 0;
}

static int choose_columns(npy_file *files, size_t n, const pann_encode_opts *eo, size_t **idx,
                          size_t *d, pann_error *err)
{
    int rc = pann_columns_parse(files[0].t, eo->columns, idx, d, err);
    for (size_t k = 1; !rc && k < n; k++)
        if (files[k].info.cols != files[0].info.cols)
            rc = pann_fail(err, PANN_EINPUT, "%s has %zu columns, %s has %zu",
                           files[k].t->display, files[k].info.cols, files[0].t->display,
                           files[0].info.cols);
    if (!rc && *d == 0)
        rc = pann_fail(err, PANN_EINPUT, "%s: no column chosen", files[0].t->display);
    return rc;
}

static int load_files(npy_file *files, const char *const *paths, size_t n,
                      const pann_encode_opts *eo, pann_schema *schema, pann_matrix *out,
                      pann_error *err)
{
    for (size_t k = 0; k < n; k++) {
        if (!pann_npy_is(paths[k]))
            return pann_fail(err, PANN_EINPUT, "%s: not a .npy file, and %s is: the inputs "
                             "of one run are all .npy or all text", paths[k],
                             paths[k == 0 ? 1 : 0]);
        int rc = read_file(&files[k], paths[k], err);
        if (rc)
            return rc;
    }
    if (eo->categorical && *eo->categorical)
        return pann_fail(err, PANN_EINPUT, "%s: --categorical: a .npy file holds numbers only",
                         paths[0]);
    size_t *idx = NULL, d = 0;
    int rc = choose_columns(files, n, eo, &idx, &d, err);
    for (size_t k = 0; !rc && k < n; k++)
        rc = check_finite(&files[k], idx, d, err);
    if (!rc && pann_schema_alloc(schema, files[0].t, idx, d) != 0)
        rc = no_memory(paths[0], err);
    if (!rc && eo->scale != PANN_SCALE_NONE)
        rc = reference_stats(&files[0], idx, d, eo->scale, schema, err);
    for (size_t k = 0; !rc && k < n; k++)
        rc = encode_file(&files[k], idx, d, schema, eo->cosine, &out[k], err);
    free(idx);
    return rc;
}

int pann_npy_load(pann_table *tables, const char *const *paths, size_t n,
                  const pann_encode_opts *eo, pann_schema *schema, pann_matrix *out,
                  pann_error *err)
{
    memset(schema, 0, sizeof *schema);
    npy_file *files = calloc(n ? n : 1, sizeof *files);
    if (!files)
        return no_memory(n ? paths[0] : "input", err);
    for (size_t k = 0; k < n; k++) {
        memset(&tables[k], 0, sizeof tables[k]);
        memset(&out[k], 0, sizeof out[k]);
        files[k].t = &tables[k];
    }
    int rc = load_files(files, paths, n, eo, schema, out, err);
    for (size_t k = 0; k < n; k++) {
        free(files[k].raw);
        if (rc) {
            pann_matrix_free(&out[k]);
            pann_table_free(&tables[k]);
        }
    }
    if (rc)
        pann_schema_free(schema);
    free(files);
    return rc;
}

/* ---- writing ------------------------------------------------------------- */

/* Version 1.0 header for descr and shape, padded with spaces so that the
 * values start at a multiple of 64 bytes, ended by a newline. */
static int write_header(FILE *fp, const char *descr, size_t rows, size_t cols)
{
    char dict[160];
    int len = cols ? snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, "
                              "'shape': (%zu, %zu), }", descr, rows, cols)
                   : snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, "
                              "'shape': (%zu,), }", descr, rows);
    size_t total = 10 + (size_t)len + 1;
    size_t padded = (total + 63) / 64 * 64;
    size_t hlen = padded - 10;
    unsigned char pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                              (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8) };
    if (fwrite(pre, 1, sizeof pre, fp) != sizeof pre || fputs(dict, fp) == EOF)
        return -1;
    for (size_t k = 10 + (size_t)len; k + 1 < padded; k++)
        if (fputc(' ', fp) == EOF)
            return -1;
    return fputc('\n', fp) == EOF ? -1 : 0;
}

static int write_values(FILE *fp, const char *descr, const void *v, size_t elem, size_t rows,
                        size_t cols)
{
    size_t count = rows * (cols ? cols : 1);
    if (write_header(fp, descr, rows, cols) != 0)
        return -1;
    return fwrite(v, elem, count, fp) == count ? 0 : -1;
}

int pann_npy_write_f32(FILE *fp, const float *v, size_t rows, size_t cols)
{
    return write_values(fp, "<f4", v, sizeof *v, rows, cols);
}

int pann_npy_write_i64(FILE *fp, const int64_t *v, size_t rows, size_t cols)
{
    return write_values(fp, "<i8", v, sizeof *v, rows, cols);
}

/* The lists as whole arrays, one row per table row. */
static int table_arrays(size_t rows, size_t k, const size_t *s_ids, const size_t *t_ids,
                        const uint32_t *nn, const float *dist, size_t n, int64_t *rows_of,
                        float *dists)
{
    for (size_t at = 0; at < rows * k; at++) {
        rows_of[at] = -1;
        dists[at] = NAN;
    }
    for (size_t q = 0; q < n; q++) {
        size_t row = s_ids ? s_ids[q] : q;
        for (size_t j = 0; row < rows && j < k; j++) {
            uint32_t t = nn[q * k + j];
            if (t != PANN_NONE) {
                rows_of[row * k + j] = (int64_t)(t_ids ? t_ids[t] : t);
                dists[row * k + j] = dist[q * k + j];
            }
        }
    }
    return 0;
}

static int save_array(const char *path, const void *v, bool is_float, size_t rows, size_t cols,
                      pann_error *err)
{
    pann_output out;
    int rc = pann_output_open(&out, path, err);
    if (rc)
        return rc;
    int bad = is_float ? pann_npy_write_f32(out.fp, v, rows, cols)
                       : pann_npy_write_i64(out.fp, v, rows, cols);
    if (bad) {
        pann_output_abort(&out);
        return pann_fail(err, PANN_ESYSTEM, "%s: write error", path && *path ? path : "stdout");
    }
    return pann_output_commit(&out, err);
}

int pann_npy_save_neighbours(const char *nn_path, const char *dist_path, size_t rows,
                             size_t k, bool flat, const size_t *s_ids, const size_t *t_ids,
                             const uint32_t *nn, const float *dist, size_t n,
                             pann_error *err)
{
    size_t count = rows * k > 0 ? rows * k : 1;
    int64_t *rows_of = malloc(count * sizeof *rows_of);
    float *dists = malloc(count * sizeof *dists);
    int rc = !rows_of || !dists ? pann_fail(err, PANN_ESYSTEM, "out of memory")
           : table_arrays(rows, k, s_ids, t_ids, nn, dist, n, rows_of, dists);
    size_t cols = flat ? 0 : k;
    if (!rc && dist_path)
        rc = save_array(dist_path, dists, true, rows, cols, err);
    if (!rc)
        rc = save_array(nn_path, rows_of, false, rows, cols, err);
    free(rows_of);
    free(dists);
    return rc;
}
