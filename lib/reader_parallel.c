/* reader_parallel.c — a large CSV/TSV text parsed by several threads.
 *
 * Without a quote anywhere in the text every LF ends a record, so the text
 * splits at line starts into chunks that parse independently, each into its
 * own slice of the cell arena, joined in order afterwards: the rows, cells,
 * line numbers and first error are those of the serial parse.  A text with
 * quotes, or too small to be worth it, is parsed serially (reader.c).
 */
#include <stdlib.h>
#include <string.h>

#include "reader_internal.h"

#define PARALLEL_MIN_BYTES ((size_t)1 << 20)

typedef struct text_chunk {
    pann_table part;          /* the chunk's rows; text borrowed, cells a slice */
    pann_error err;
    size_t begin, end;        /* its span of the text, whole lines */
    size_t line0;             /* lines before it */
    size_t slice;             /* its slice's offset in the arena */
    int rc;
} text_chunk;

static size_t count_lines(const char *s, size_t len)
{
    size_t n = 0;
    for (const char *p = s, *e = s + len; p < e && (p = memchr(p, '\n', (size_t)(e - p))); p++)
        n++;
    return n;
}

/* Fields of the first non-blank line if it ends before limit, else 0. */
static size_t first_record_fields(const reader *r, const char *text, size_t limit, char delim)
{
    for (size_t pos = 0; pos < limit;) {
        const char *lf = memchr(text + pos, '\n', limit - pos);
        if (!lf)
            return 0;
        size_t stop = (size_t)(lf - text) + 1, n = 1;
        if (!reader_blank_line(r, text + pos, stop - pos)) {
            for (size_t i = pos; i < stop; i++)
                n += text[i] == delim;
            return n;
        }
        pos = stop;
    }
    return 0;
}

/* Chunks of about equal size, each ending after an LF (the last at the end). */
static size_t split_chunks(const pann_table *t, text_chunk *c, size_t nchunks, bool in_place)
{
    size_t pos = 0, k = 0, len = t->text_len;
    for (; k < nchunks && pos < len; k++) {
        size_t target = len / nchunks * (k + 1);
        const char *lf = target < len && target >= pos
                         ? memchr(t->text + target, '\n', len - target) : NULL;
        size_t stop = k + 1 == nchunks || !lf ? len : (size_t)(lf - t->text) + 1;
        c[k].begin = pos;
        c[k].end = stop;
        c[k].slice = pos + k;   /* a chunk's cells fit in its length + 1 */
        if (in_place)
            c[k].slice = 0;       /* offsets into the text itself */
        pos = stop;
    }
    return k;
}

static void parse_chunk(text_chunk *c, const pann_table *t, const pann_read_opts *o, char *arena,
                        size_t ncols, bool first)
{
    reader r;
    reader_init(&r, &c->part, o, &c->err);
    c->part.display = t->display;
    c->part.cells = arena + c->slice;
    r.in_place = arena == t->text;
    r.cap_cells = c->end - c->begin + 1;
    r.fixed_cells = true;
    if (!first) {
        r.header = false;
        r.have_ncols = true;
        c->part.ncols = ncols;
    }
    struct csv_parser p;
    if (reader_parser_init(&p, o, &r) != 0) {
        c->rc = pann_fail(&c->err, PANN_ESYSTEM, "%s: out of memory", t->display);
        return;
    }
    c->rc = reader_parse_range(&r, &p, t->text, c->begin, c->end, c->line0);
    csv_free(&p);
}

/* A chunk's table owns its arrays, not the name, text or cells it borrows. */
static void free_part(pann_table *part)
{
    part->display = NULL;
    part->text = part->cells = NULL;
    pann_table_free(part);
}

static int join_chunks(pann_table *t, text_chunk *c, size_t nchunks, char *arena)
{
    size_t nrows = 0, ncols = c[0].part.ncols, at = 0;
    for (size_t k = 0; k < nchunks; k++)
        nrows += c[k].part.nrows;
    size_t rows = nrows ? nrows : 1;
    t->row_start = malloc(rows * sizeof *t->row_start);
    t->row_end = malloc(rows * sizeof *t->row_end);
    t->row_line = malloc(rows * sizeof *t->row_line);
    t->row_cells = malloc(rows * sizeof *t->row_cells);
    t->cell_off = malloc((rows * ncols > 0 ? rows * ncols : 1) * sizeof *t->cell_off);
    if (!t->row_start || !t->row_end || !t->row_line || !t->row_cells || !t->cell_off)
        return -1;
    for (size_t k = 0; k < nchunks; k++) {
        const pann_table *part = &c[k].part;
        if (!part->nrows)
            continue;
        memcpy(t->row_start + at, part->row_start, part->nrows * sizeof *t->row_start);
        memcpy(t->row_end + at, part->row_end, part->nrows * sizeof *t->row_end);
        memcpy(t->row_line + at, part->row_line, part->nrows * sizeof *t->row_line);
        for (size_t i = 0; i < part->nrows; i++)
            t->row_cells[at + i] = part->row_cells[i] + c[k].slice;
        memcpy(t->cell_off + at * ncols, part->cell_off,
               part->nrows * ncols * sizeof *t->cell_off);
        at += part->nrows;
    }
    t->nrows = nrows;
    t->ncols = ncols;
    t->colnames = c[0].part.colnames;
    c[0].part.colnames = NULL;
    t->header_start = c[0].part.header_start;
    t->header_end = c[0].part.header_end;
    t->cells = arena;
    return 0;
}

int reader_parse_parallel(pann_table *t, const pann_read_opts *o, int threads,
                          pann_error *err)
{
    int nth = pann_threads(threads);
    size_t len = t->text_len, want = len / PARALLEL_MIN_BYTES;
    if (nth < 2 || want < 2 || memchr(t->text, '"', len))
        return PARSE_SERIAL;
    want = want < 4 * (size_t)nth ? want : 4 * (size_t)nth;   /* for balance */
    text_chunk *c = calloc(want, sizeof *c);
    bool in_place = reader_in_place_suits(t, o);
    char *arena = in_place ? t->text : malloc(len + want);
    if (!c || !arena) {
        free(c);
        if (!in_place)
            free(arena);
        return pann_fail(err, PANN_ESYSTEM, "%s: out of memory", t->display);
    }
    size_t nchunks = split_chunks(t, c, want, in_place);
    reader probe;
    reader_init(&probe, t, o, err);
    size_t ncols = first_record_fields(&probe, t->text, c[0].end, o->delim);
    int rc = nchunks < 2 || ncols == 0 ? PARSE_SERIAL : 0;
    if (!rc) {
#pragma omp parallel for schedule(static) num_threads(nth)
        for (size_t k = 0; k < nchunks; k++)
            c[k].line0 = count_lines(t->text + c[k].begin, c[k].end - c[k].begin);
        for (size_t k = 0, lines = 0; k < nchunks; k++) {
            size_t here = c[k].line0;
            c[k].line0 = lines;
            lines += here;
        }
#pragma omp parallel for schedule(dynamic, 1) num_threads(nth)
        for (size_t k = 0; k < nchunks; k++)
            parse_chunk(&c[k], t, o, arena, ncols, k == 0);
        for (size_t k = 0; k < nchunks && !rc; k++)
            if (c[k].rc) {
                rc = c[k].rc;
                *err = c[k].err;
            }
        if (!rc && c[0].part.ncols != ncols)
            rc = PARSE_SERIAL;   /* cannot happen without quotes; be safe */
        if (!rc && join_chunks(t, c, nchunks, arena) != 0)
            rc = pann_fail(err, PANN_ESYSTEM, "%s: out of memory", t->display);
    }
    for (size_t k = 0; k < nchunks; k++)
        free_part(&c[k].part);
    if (rc && !in_place)
        free(arena);
    free(c);
    return rc;
}

