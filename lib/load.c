/* load.c — numeric files straight into encoded matrices, without their text.
 *
 * The general path (reader.c, then encode.c) holds a whole file's text, its
 * cell offsets and its row spans until every column is encoded: several
 * times the matrix.  Most inputs of a search are plain numeric CSV, where
 * none of that is needed once each number is parsed.  This loader reads
 * such a file with pread in windows of a few MB, by one thread per slice of
 * the file (slices start at line starts), and writes each row's numbers
 * where the row belongs: a first pass counts each slice's lines, so every
 * slice knows its first row and the result does not depend on the thread
 * count.  The reference file is held as raw doubles until its statistics are
 * taken (in row order, with encode.c's own steps, so scales agree bit for bit
 * with the general path), then encoded in place; the other files are encoded
 * as they are parsed.
 *
 * A chosen column whose cell in the reference's first data row is text is
 * categorical: each slice codes its texts in a dictionary of its own (in
 * order of first appearance), and once a file is parsed the slices'
 * dictionaries are merged in slice order into the column's one, which
 * gives every text the code the general path gives it (first appearance
 * over the files in order), and the slice's codes are rewritten.  So a
 * table of numbers and categories never has its text held either.
 *
 * Anything this loader does not handle exactly as the general path would
 * (a quote, a blank line, a missing cell, a number in a text column or a
 * text in a numeric one, a text with blanks at its edges, a ragged row, a
 * NUL byte, a lone CR, a value out of range once scaled, forced categorical
 * columns, categories with cosine) makes it give up, leaving nothing
 * allocated: the caller then takes the general path, which reads the same
 * bytes and reports any error with its location.  The loader never
 * reports an input error itself, so both paths fail alike.
 */
#include <config.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pann.h"
#include "internal.h"

#define WINDOW_BYTES ((size_t)512 << 10)   /* per thread: text held at a time */

int pann_table_read_header(pann_table *t, const char *path, const pann_read_opts *o,
                           pann_error *err)
{
    memset(t, 0, sizeof *t);
    pann_reader *rd;
    int rc = pann_reader_open(&rd, path, o, err);
    if (rc)
        return rc;
    pann_table chunk;
    rc = pann_reader_next(rd, 1, 0, &chunk, err);
    if (rc) {
        pann_reader_close(rd);
        return rc;
    }
    size_t len = chunk.header_end - chunk.header_start;
    t->path = strdup(chunk.path);
    t->display = strdup(chunk.display);
    t->colnames = calloc(chunk.ncols ? chunk.ncols : 1, sizeof *t->colnames);
    t->text = malloc(len + 1);
    bool ok = t->path && t->display && t->colnames && t->text;
    for (size_t j = 0; ok && j < chunk.ncols; j++)
        ok = (t->colnames[j] = strdup(chunk.colnames[j])) != NULL;
    t->ncols = chunk.ncols;
    if (ok) {
        memcpy(t->text, chunk.text + chunk.header_start, len);
        t->text[len] = '\0';
        t->text_len = t->header_end = len;
    }
    pann_reader_close(rd);
    if (!ok) {
        pann_table_free(t);
        return pann_fail(err, PANN_ESYSTEM, "%s: out of memory", path);
    }
    return 0;
}

/* ---- one file ------------------------------------------------------------ */

typedef struct numeric_file {
    pann_table *t;
    int fd;
    size_t size, data_begin;     /* bytes; where the first data row starts */
    size_t *slot;                /* ncols: matrix column of each file column,
                                    SIZE_MAX when not chosen */
    size_t d, nrows;
    char delim;
    /* where rows go: raw doubles (the reference) or encoded floats */
    double *raw;
    float *enc;
    const double *center, *scale;
    const bool *text;            /* d flags: categorical; NULL when none */
} numeric_file;

typedef struct slice {
    size_t begin, end;           /* byte span, whole lines */
    size_t first_row, nrows;
    pann_dict *dicts;            /* d: the slice's own codes of the text columns */
} slice;

bool pann_read_at(int fd, void *buf, size_t len, size_t offset)
{
    char *at = buf;
    while (len) {
        ssize_t got = pread(fd, at, len, (off_t)offset);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return false;
        at += got, len -= (size_t)got, offset += (size_t)got;
    }
    return true;
}

/* Where the data rows start: after the header's exact text (and a BOM). */
static bool find_data(numeric_file *f, const pann_read_opts *o)
{
    const pann_table *t = f->t;
    size_t want = 3 + t->text_len;
    char *head = malloc(want);
    if (!head)
        return false;
    size_t have = want < f->size ? want : f->size;
    bool ok = pann_read_at(f->fd, head, have, 0);
    size_t at = have >= 3 && memcmp(head, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    if (ok && o->header)
        ok = t->text_len > 0 && t->text[t->text_len - 1] == '\n' &&
             have - at >= t->text_len && memcmp(head + at, t->text, t->text_len) == 0;
    free(head);
    if (!ok)
        return false;
    f->data_begin = at + (o->header ? t->text_len : 0);
    return f->data_begin < f->size;
}

/* The start of the first line at or after offset (the end when none). */
static bool line_start_from(const numeric_file *f, size_t offset, size_t *start)
{
    char buf[65536];
    size_t pos = offset - 1;    /* a line starts at offset when a LF ends the one before */
    while (pos < f->size) {
        size_t len = f->size - pos < sizeof buf ? f->size - pos : sizeof buf;
        if (!pann_read_at(f->fd, buf, len, pos))
            return false;
        char *lf = memchr(buf, '\n', len);
        if (lf) {
            *start = pos + (size_t)(lf - buf) + 1;
            return true;
        }
        pos += len;
    }
    *start = f->size;
    return true;
}

/* Lines in a slice: its LFs, and an unterminated last line of the file. */
static bool count_lines(const numeric_file *f, slice *s, char *buf)
{
    size_t lines = 0;
    for (size_t pos = s->begin; pos < s->end;) {
        size_t len = s->end - pos < WINDOW_BYTES ? s->end - pos : WINDOW_BYTES;
        if (!pann_read_at(f->fd, buf, len, pos))
            return false;
        for (const char *p = buf, *end = buf + len; (p = memchr(p, '\n', (size_t)(end - p)));
             p++)
            lines++;
        pos += len;
        if (pos == f->size && buf[len - 1] != '\n')
            lines++;
    }
    s->nrows = lines;
    return true;
}

/* Whether a field reads as a category, alike on both paths: not missing,
 * not a number, and no blank at either edge (which the reader may trim). */
static bool is_text_field(const char *s, size_t len)
{
    double v;
    return len > 0 && !isspace((unsigned char)s[0]) && !isspace((unsigned char)s[len - 1]) &&
           !pann_is_missing_span(s, len) && !pann_parse_span(s, len, &v);
}

/* A text column's field: its code in the slice's dictionary, counted. */
static bool code_field(pann_dict *dc, const char *s, size_t len, double *code)
{
    if (!is_text_field(s, len))
        return false;
    size_t c = pann_dict_code(dc, s, len);
    if (c == SIZE_MAX)
        return false;
    dc->count[c]++;
    *code = (double)c;
    return true;
}

/* One data line (without its LF) into row `row`; false when the line is
 * anything but ncols plain fields with a number in every chosen numeric
 * column and a text in every text column (coded in dicts). */
static bool parse_line(const numeric_file *f, const char *line, size_t len, size_t row,
                       pann_dict *dicts)
{
    if (memchr(line, '"', len) || memchr(line, '\0', len))
        return false;
    const char *cr = memchr(line, '\r', len);
    if (cr && cr != line + len - 1)
        return false;           /* a CR inside a line: libcsv may end a record there */
    const char *p = line, *end = line + len;
    const size_t ncols = f->t->ncols;
    for (size_t col = 0; col < ncols; col++) {
        const char *next = memchr(p, f->delim, (size_t)(end - p));
        if ((next != NULL) != (col + 1 < ncols))
            return false;       /* too few or too many fields */
        const char *field_end = next ? next : end;
        size_t j = f->slot[col];
        if (j != SIZE_MAX) {
            double v;
            size_t flen = (size_t)(field_end - p);
            bool text = f->text && f->text[j];
            if (text ? !code_field(&dicts[j], p, flen, &v) : !pann_parse_span(p, flen, &v))
                return false;
            if (f->raw) {
                f->raw[row * f->d + j] = v;
            } else if (text) {
                f->enc[row * f->d + j] = (float)v;
            } else {
                float x = pann_encode_value(v, f->center[j], f->scale[j]);
                if (!isfinite(x))
                    return false;
                f->enc[row * f->d + j] = x;
            }
        }
        p = field_end + 1;
    }
    return true;
}

/* The slice's lines into its rows, a window at a time; a line longer than
 * the window grows it. */
static bool parse_slice(const numeric_file *f, const slice *s, char **buf, size_t *cap,
                        const int *give_up)
{
    size_t row = s->first_row, held = 0, pos = s->begin;
    for (;;) {
        int stop;
#pragma omp atomic read
        stop = *give_up;
        if (stop || (pos >= s->end && !held))
            break;
        if (held == *cap) {
            char *grown = realloc(*buf, *cap * 2);
            if (!grown)
                return false;
            *buf = grown, *cap *= 2;
        }
        size_t len = s->end - pos < *cap - held ? s->end - pos : *cap - held;
        if (len && !pann_read_at(f->fd, *buf + held, len, pos))
            return false;
        pos += len, held += len;
        char *p = *buf, *end = *buf + held;
        for (char *lf; (lf = memchr(p, '\n', (size_t)(end - p))); p = lf + 1) {
            if (row >= s->first_row + s->nrows ||
                !parse_line(f, p, (size_t)(lf - p), row++, s->dicts))
                return false;
        }
        if (pos == s->end && p < end) {       /* the file's unterminated last line */
            if (row >= s->first_row + s->nrows ||
                !parse_line(f, p, (size_t)(end - p), row++, s->dicts))
                return false;
            p = end;
        }
        held = (size_t)(end - p);
        memmove(*buf, p, held);
    }
    return row == s->first_row + s->nrows;
}

/* The data split into one slice per thread (one below 1 MB), each slice
 * starting at a line start. */
static bool slice_file(numeric_file *f, int threads, slice **slices_out, size_t *nslices)
{
    size_t n = (size_t)threads, bytes = f->size - f->data_begin;
    if (bytes < ((size_t)1 << 20))
        n = 1;
    slice *s = calloc(n, sizeof *s);
    if (!s)
        return false;
    size_t at = f->data_begin;
    for (size_t k = 0; k < n; k++) {
        s[k].begin = at;
        size_t target = f->data_begin + bytes / n * (k + 1);
        if (k + 1 == n)
            at = f->size;
        else if (target > at && !line_start_from(f, target, &at)) {
            free(s);
            return false;
        }
        s[k].end = at;
    }
    *slices_out = s;
    *nslices = n;
    return true;
}

static bool count_rows(numeric_file *f, slice *s, size_t nslices)
{
    int failed = 0;
#pragma omp parallel for num_threads((int)nslices) schedule(static, 1)
    for (size_t k = 0; k < nslices; k++) {
        char *buf = malloc(WINDOW_BYTES);
        if (!buf || !count_lines(f, &s[k], buf)) {
#pragma omp atomic write
            failed = 1;
        }
        free(buf);
    }
    f->nrows = 0;
    for (size_t k = 0; k < nslices; k++) {
        s[k].first_row = f->nrows;
        f->nrows += s[k].nrows;
    }
    return !failed && f->nrows > 0;
}

static bool parse_rows(numeric_file *f, const slice *s, size_t nslices)
{
    int give_up = 0;
#pragma omp parallel for num_threads((int)nslices) schedule(static, 1)
    for (size_t k = 0; k < nslices; k++) {
        size_t cap = WINDOW_BYTES;
        char *buf = malloc(cap);
        if (!buf || !parse_slice(f, &s[k], &buf, &cap, &give_up)) {
#pragma omp atomic write
            give_up = 1;
        }
        free(buf);
    }
    return !give_up;
}

/* ---- the tables of a comparison ---------------------------------------- */

typedef struct loader {
    pann_table *tables;
    size_t ntables, d;
    const pann_read_opts *ro;
    const pann_encode_opts *eo;
    int threads;
    pann_schema *schema;
    pann_matrix *out;
    size_t **idx;                /* per table: the d chosen file columns */
    numeric_file *files;
    bool *text;                  /* d flags: categorical (from the reference's first row) */
    bool any_text;
    pann_dict *dicts;            /* d: each text column's codes over the files so far */
} loader;

static bool choose_columns(loader *l)
{
    pann_error ignored;
    if (pann_columns_parse(&l->tables[0], l->eo->columns, &l->idx[0], &l->d, &ignored))
        return false;
    for (size_t t = 1; t < l->ntables; t++) {
        l->idx[t] = malloc((l->d ? l->d : 1) * sizeof **l->idx);
        if (!l->idx[t] || pann_columns_match(&l->tables[0], l->idx[0], l->d, &l->tables[t],
                                             l->idx[t], &ignored))
            return false;
    }
    return l->d > 0;
}

static bool open_file(loader *l, size_t t)
{
    numeric_file *f = &l->files[t];
    f->t = &l->tables[t];
    f->d = l->d;
    f->delim = l->ro->delim;
    struct stat st;
    f->fd = open(f->t->path, O_RDONLY);
    if (f->fd < 0 || fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    f->size = (size_t)st.st_size;
    f->slot = malloc((f->t->ncols ? f->t->ncols : 1) * sizeof *f->slot);
    if (!f->slot)
        return false;
    for (size_t c = 0; c < f->t->ncols; c++)
        f->slot[c] = SIZE_MAX;
    for (size_t j = 0; j < l->d; j++) {
        if (f->slot[l->idx[t][j]] != SIZE_MAX)
            return false;       /* a column chosen twice */
        f->slot[l->idx[t][j]] = j;
    }
    return find_data(f, l->ro);
}

/* The first data line of f without its LF (*len bytes), read in windows
 * that double until it ends; NULL when out of memory or unreadable. */
static char *first_line(const numeric_file *f, size_t *len)
{
    size_t cap = 65536, have = 0, rest = f->size - f->data_begin;
    char *buf = NULL;
    for (;;) {
        char *grown = realloc(buf, cap);
        if (!grown) {
            free(buf);
            return NULL;
        }
        buf = grown;
        size_t want = cap - have < rest - have ? cap - have : rest - have;
        if (!pann_read_at(f->fd, buf + have, want, f->data_begin + have)) {
            free(buf);
            return NULL;
        }
        char *lf = memchr(buf + have, '\n', want);
        have += want;
        if (lf || have == rest) {
            *len = lf ? (size_t)(lf - buf) : have;
            return buf;
        }
        cap *= 2;
    }
}

/* The kinds of the chosen columns, from the reference's first data row: a
 * number makes a column numeric, a text categorical; anything else (a
 * missing cell, a quote) leaves the files to the general path.  With cosine every column must be numeric. */
static bool decide_kinds(loader *l)
{
    const numeric_file *f = &l->files[0];
    size_t len;
    char *buf = first_line(f, &len);
    if (!buf)
        return false;
    if (len && buf[len - 1] == '\r')
        len--;
    bool ok = len > 0 && !memchr(buf, '"', len);
    const char *p = buf, *end = buf + len;
    for (size_t col = 0; ok && col < f->t->ncols; col++) {
        const char *next = memchr(p, f->delim, (size_t)(end - p));
        const char *field_end = next ? next : end;
        size_t j = f->slot[col], flen = (size_t)(field_end - p);
        double v;
        if (j != SIZE_MAX && !pann_parse_span(p, flen, &v)) {
            ok = is_text_field(p, flen);
            l->text[j] = l->any_text = true;
        }
        p = next ? next + 1 : end;
    }
    free(buf);
    return ok && !(l->any_text && l->eo->cosine);
}

/* The slices' codes of a parsed file into the columns' dictionaries, in
 * slice order, and each slice's cells rewritten with them; the reference's
 * counts (for the mode) are kept.  values: the file's raw doubles or its
 * floats. */
static bool merge_codes(loader *l, size_t t, const slice *s, size_t nslices)
{
    numeric_file *f = &l->files[t];
    const size_t d = l->d;
    for (size_t k = 0; k < nslices; k++)
        for (size_t j = 0; j < d; j++) {
            if (!l->text[j])
                continue;
            pann_dict *local = &s[k].dicts[j], *global = &l->dicts[j];
            size_t *map = malloc((local->n ? local->n : 1) * sizeof *map);
            if (!map)
                return false;
            bool ok = true;
            for (size_t c = 0; ok && c < local->n; c++) {
                map[c] = pann_dict_code(global, local->keys[c], strlen(local->keys[c]));
                ok = map[c] != SIZE_MAX;
                if (ok && t == 0)
                    global->count[map[c]] += local->count[c];
            }
            for (size_t i = s[k].first_row; ok && i < s[k].first_row + s[k].nrows; i++) {
                if (f->raw)
                    f->raw[i * d + j] = (double)map[(size_t)f->raw[i * d + j]];
                else
                    f->enc[i * d + j] = (float)map[(size_t)f->enc[i * d + j]];
            }
            free(map);
            if (!ok)
                return false;
        }
    return true;
}

static void free_slice_dicts(slice *s, size_t nslices, size_t d)
{
    for (size_t k = 0; k < nslices; k++) {
        for (size_t j = 0; s[k].dicts && j < d; j++)
            pann_dict_free(&s[k].dicts[j]);
        free(s[k].dicts);
    }
}

/* The reference's doubles, encoded in place: float k overwrites bytes that
 * double k/2 held, long read. */
static void encode_reference(loader *l, double *raw, size_t n)
{
    const size_t d = l->d;
    const double *center = l->schema->center, *scale = l->schema->scale;
    float *enc = (float *)raw;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            enc[i * d + j] = pann_encode_value(raw[i * d + j], center[j], scale[j]);
}

static bool all_finite(const float *v, size_t count)
{
    for (size_t k = 0; k < count; k++)
        if (!isfinite(v[k]))
            return false;
    return true;
}

/* Shrink the reference's buffer to its floats, keeping 64-byte alignment. */
static float *shrink_aligned(double *raw, size_t floats)
{
    size_t bytes = floats ? floats * sizeof(float) : 64;
    void *shrunk = realloc(raw, bytes);
    if (!shrunk)
        return (float *)raw;
    if (((uintptr_t)shrunk & 63) == 0)
        return shrunk;
    void *aligned = NULL;
    if (posix_memalign(&aligned, 64, bytes) != 0) {
        free(shrunk);
        return NULL;
    }
    memcpy(aligned, shrunk, bytes);
    free(shrunk);
    return aligned;
}

static int no_memory(pann_error *err)
{
    return pann_fail(err, PANN_ESYSTEM, "out of memory");
}

/* Count, allocate, parse one file: raw doubles for the reference. */
static int load_file(loader *l, size_t t, bool *ok, pann_error *err)
{
    numeric_file *f = &l->files[t];
    slice *s = NULL;
    size_t nslices = 0;
    *ok = slice_file(f, l->threads, &s, &nslices) && count_rows(f, s, nslices);
    if (!*ok) {
        free(s);
        return 0;
    }
    size_t cells = f->nrows * l->d;
    if (l->d && f->nrows > SIZE_MAX / sizeof(double) / l->d) {
        free(s);
        return pann_fail(err, PANN_ESYSTEM, "%s: matrix of %zu x %zu is too large",
                         f->t->display, f->nrows, l->d);
    }
    void *v = NULL;
    if (posix_memalign(&v, 64, (cells ? cells : 8) * (t == 0 ? sizeof(double) : sizeof(float)))) {
        free(s);
        return no_memory(err);
    }
    if (t == 0)
        f->raw = v;
    else
        f->enc = v;
    f->center = l->schema->center;
    f->scale = l->schema->scale;
    f->text = l->any_text ? l->text : NULL;
    for (size_t k = 0; l->any_text && k < nslices; k++)
        if (!(s[k].dicts = calloc(l->d, sizeof *s[k].dicts))) {
            free_slice_dicts(s, nslices, l->d);
            free(s);
            return no_memory(err);
        }
    *ok = parse_rows(f, s, nslices) && (!l->any_text || merge_codes(l, t, s, nslices));
    free_slice_dicts(s, nslices, l->d);
    free(s);
    return 0;
}

static int finish_matrix(loader *l, size_t t, float *v, pann_error *err)
{
    numeric_file *f = &l->files[t];
    pann_matrix *m = &l->out[t];
    pann_table *tb = &l->tables[t];
    m->row_id = malloc((f->nrows ? f->nrows : 1) * sizeof *m->row_id);
    if (!m->row_id) {
        free(v);
        return no_memory(err);
    }
    for (size_t i = 0; i < f->nrows; i++)
        m->row_id[i] = i;
    m->v = v;
    m->n = f->nrows;
    m->d = l->d;
    tb->nrows = f->nrows;
    if (l->eo->cosine)
        pann_normalise_rows(m);
    return 0;
}

static int load_reference(loader *l, bool *ok, pann_error *err)
{
    int rc = load_file(l, 0, ok, err);
    numeric_file *f = &l->files[0];
    if (rc || !*ok)
        return rc;
    pann_col_stats *stats = malloc(l->d * sizeof *stats);
    if (!stats)
        return no_memory(err);
    pann_col_stats_rows(f->raw, f->nrows, l->d, stats);
    for (size_t j = 0; j < l->d; j++)
        if (!l->text[j])
            pann_col_stats_finish(&stats[j], l->eo->scale, &l->schema->center[j],
                                  &l->schema->scale[j], &l->schema->impute[j]);
    free(stats);
    encode_reference(l, f->raw, f->nrows);
    float *v = shrink_aligned(f->raw, f->nrows * l->d);
    f->raw = NULL;
    if (!v)
        return no_memory(err);
    if (!(*ok = all_finite(v, f->nrows * l->d))) {
        free(v);
        return 0;
    }
    return finish_matrix(l, 0, v, err);
}

/* The text columns into the schema: categorical, their texts by code, the
 * reference's most frequent code as the imputed value (center 0, scale 1
 * as pann_schema_alloc set them). */
static int keep_categories(loader *l, pann_error *err)
{
    for (size_t j = 0; j < l->d; j++) {
        if (!l->text[j])
            continue;
        pann_schema *s = l->schema;
        size_t n = l->dicts[j].n;
        s->kind[j] = PANN_CATEGORICAL;
        s->impute[j] = (double)pann_dict_mode(&l->dicts[j]);
        if (!(s->cats[j] = pann_dict_take_keys(&l->dicts[j])))
            return no_memory(err);
        s->ncat[j] = n;
    }
    return 0;
}

static int run_loader(loader *l, bool *loaded, pann_error *err)
{
    *loaded = false;
    if (l->eo->categorical && *l->eo->categorical)
        return 0;
    if (!choose_columns(l))
        return 0;
    for (size_t t = 0; t < l->ntables; t++)
        if (!open_file(l, t))
            return 0;
    if (pann_schema_alloc(l->schema, &l->tables[0], l->idx[0], l->d) != 0 ||
        !(l->text = calloc(l->d, sizeof *l->text)) ||
        !(l->dicts = calloc(l->d, sizeof *l->dicts)))
        return no_memory(err);
    if (!decide_kinds(l))
        return 0;
    bool ok;
    int rc = load_reference(l, &ok, err);
    for (size_t t = 1; !rc && ok && t < l->ntables; t++) {
        rc = load_file(l, t, &ok, err);
        float *v = l->files[t].enc;
        l->files[t].enc = NULL;
        if (!rc && ok)
            rc = finish_matrix(l, t, v, err);
        else
            free(v);
    }
    if (!rc && ok && l->any_text)
        rc = keep_categories(l, err);
    *loaded = !rc && ok;
    return rc;
}

int pann_load_numeric(pann_table *tables, size_t ntables, const pann_read_opts *ro,
                      const pann_encode_opts *eo, int threads, pann_schema *schema,
                      pann_matrix *out, bool *loaded, pann_error *err)
{
    memset(schema, 0, sizeof *schema);
    for (size_t t = 0; t < ntables; t++)
        memset(&out[t], 0, sizeof out[t]);
    *loaded = false;
    if (ntables == 0)
        return 0;
    loader l = { .tables = tables, .ntables = ntables, .ro = ro, .eo = eo,
                 .threads = pann_threads(threads), .schema = schema, .out = out };
    l.idx = calloc(ntables, sizeof *l.idx);
    l.files = calloc(ntables, sizeof *l.files);
    for (size_t t = 0; l.files && t < ntables; t++)
        l.files[t].fd = -1;
    int rc = l.idx && l.files ? run_loader(&l, loaded, err) : no_memory(err);
    for (size_t t = 0; t < ntables; t++) {
        if (l.files) {
            if (l.files[t].fd >= 0)
                close(l.files[t].fd);
            free(l.files[t].slot);
            free(l.files[t].raw);
            free(l.files[t].enc);
        }
        free(l.idx ? l.idx[t] : NULL);
        if (!*loaded) {
            pann_matrix_free(&out[t]);
            tables[t].nrows = 0;
        }
    }
    for (size_t j = 0; l.dicts && j < l.d; j++)
        pann_dict_free(&l.dicts[j]);
    free(l.dicts);
    free(l.text);
    free(l.idx);
    free(l.files);
    if (!*loaded)
        pann_schema_free(schema);
    return rc;
}
