/* reader.c — reading a CSV/TSV table into a pann_table.  The whole input is
 * kept in memory so that rows can be written out verbatim; libcsv unescapes
 * the fields, which go to one arena.  libcsv knows nothing of lines, so the
 * text is fed to it one line at a time: that is how every record gets its
 * line number and its raw span, and how every error gets its FILE:LINE:FIELD.
 * A large file without quote characters is parsed by several threads, in
 * chunks of whole lines (parse_parallel); and when the caller will not
 * write rows out (keep_text false), such a file is split in place, the
 * text becoming the cells (split_line). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csv.h>

#include "pann.h"

void pann_read_opts_init(pann_read_opts *o)
{
    o->delim = ',';
    o->header = true;
    o->keep_text = true;
}

/* ---- growing arrays ---------------------------------------------------- */

/* Make room for at least need elements of size elem in *p (capacity *cap),
 * doubling so that appending n elements costs O(n) in total. */
static int grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem)
            return -1;
        ncap *= 2;
    }
    void *q = realloc(*(void **)p, ncap * elem);
    if (!q)
        return -1;
    *(void **)p = q;
    *cap = ncap;
    return 0;
}

/* ---- reading the input ------------------------------------------------- */

static int read_fd(int fd, pann_table *t, size_t hint, pann_error *err)
{
    /* room for the NUL and for the read that finds the end: a file of the
     * size announced is read without doubling the buffer */
    size_t cap = hint + 2, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return pann_fail(err, PANN_ESYSTEM, "%s: out of memory", t->display);
    for (;;) {
        if (len + 1 >= cap && grow(&buf, &cap, len + 2, 1) != 0) {
            free(buf);
            return pann_fail(err, PANN_ESYSTEM, "%s: out of memory", t->display);
        }
        ssize_t got = read(fd, buf + len, cap - 1 - len);
        if (got == 0)
            break;
        if (got < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(buf);
            if (e == EISDIR)
                return pann_fail(err, PANN_ESYSTEM, "%s: is a directory", t->display);
            return pann_fail(err, PANN_ESYSTEM, "%s: %s", t->display, strerror(e));
        }
        len += (size_t)got;
    }
    buf[len] = '\0';
    t->text = buf;
    t->text_len = len;
    return 0;
}

static int slurp(pann_table *t, pann_error *err)
{
    bool is_stdin = strcmp(t->path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(t->path, O_RDONLY);
    if (fd < 0)
        return pann_fail(err, PANN_ESYSTEM, "%s: %s", t->display, strerror(errno));
    struct stat st;
    size_t hint = 0;
    if (fstat(fd, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            if (!is_stdin)
                close(fd);
            return pann_fail(err, PANN_ESYSTEM, "%s: is a directory", t->display);
        }
        if (S_ISREG(st.st_mode) && st.st_size > 0)
            hint = (size_t)st.st_size;
    }
    int rc = read_fd(fd, t, hint, err);
    if (!is_stdin)
        close(fd);
    if (rc == 0 && t->text_len >= 3 && memcmp(t->text, "\xEF\xBB\xBF", 3) == 0) {
        t->text_len -= 3;
        memmove(t->text, t->text + 3, t->text_len + 1);
    }
    return rc;
}

/* ---- parsing ----------------------------------------------------------- */

/* libcsv trims "spaces" around unquoted fields and after a closing quote.
 * The delimiter must never count as one (TSV), and a CR is treated as one so
 * that CRLF files leave no CR in the last field while the raw span keeps it.
 * Only LF ends a record. */
static int blank_csv(unsigned char c) { return c == ' ' || c == '\t' || c == '\r'; }
static int blank_tsv(unsigned char c) { return c == ' ' || c == '\r'; }
static int blank_ssv(unsigned char c) { return c == '\t' || c == '\r'; }
static int is_lf(unsigned char c) { return c == '\n'; }

typedef struct reader {
    pann_table *t;
    pann_error *err;
    bool header;              /* the first record is still to be the header */
    int (*blank)(unsigned char);
    char delim;
    int status;               /* first error met inside a callback */
    size_t line, line_start, line_end;  /* the line being fed */
    bool in_record;
    size_t rec_line, rec_start;
    size_t field_line;        /* line where the next field starts */
    size_t nfields;           /* fields seen in the current record */
    size_t extra_line;        /* line of the first field past ncols */
    bool have_ncols;
    size_t ncells, cells_len; /* used parts of cell_off and cells */
    size_t row_base;          /* cells_len where the current record began */
    size_t cap_off, cap_cells, cap_rows;
    bool fixed_cells;         /* cells is a slice of a shared arena: never grow */
    bool in_place;            /* cells is the text itself (split_line) */
} reader;

static void oom(reader *r)
{
    if (!r->status)
        r->status = pann_fail(r->err, PANN_ESYSTEM, "%s: out of memory",
                              r->t->display);
}

static void store_field(reader *r, const char *s, size_t len)
{
    pann_table *t = r->t;
    if (r->nfields == 0)
        r->row_base = r->cells_len;
    if (r->cells_len - r->row_base > UINT32_MAX - len - 1) {
        if (!r->status)
            r->status = pann_fail(r->err, PANN_EINPUT, "%s:%zu: a row of over 4 GB",
                                  t->display, r->rec_line);
        return;
    }
    if (r->fixed_cells && r->cells_len + len + 1 > r->cap_cells) {
        if (!r->status)   /* the slice is sized so that this cannot happen */
            r->status = pann_fail(r->err, PANN_ESYSTEM, "%s: internal error: cell arena full",
                                  t->display);
        return;
    }
    if (grow(&t->cells, &r->cap_cells, r->cells_len + len + 1, 1) != 0 ||
        grow(&t->cell_off, &r->cap_off, r->ncells + 1, sizeof *t->cell_off) != 0) {
        oom(r);
        return;
    }
    if (len)
        memcpy(t->cells + r->cells_len, s, len);
    t->cells[r->cells_len + len] = '\0';
    t->cell_off[r->ncells++] = (uint32_t)(r->cells_len - r->row_base);
    r->cells_len += len + 1;
}

static void on_field(void *s, size_t len, void *data)
{
    reader *r = data;
    if (r->status)
        return;
    if (!r->have_ncols || r->nfields < r->t->ncols)
        store_field(r, s ? s : "", s ? len : 0);
    else if (r->nfields == r->t->ncols)
        r->extra_line = r->field_line;
    r->nfields++;
    r->field_line = r->line;
}

static int take_header(reader *r)
{
    pann_table *t = r->t;
    t->colnames = calloc(t->ncols, sizeof *t->colnames);
    if (!t->colnames)
        return -1;
    for (size_t j = 0; j < t->ncols; j++)
        if (!(t->colnames[j] = strdup(t->cells + r->row_base + t->cell_off[j])))
            return -1;
    t->header_start = r->rec_start;
    t->header_end = r->line_end;
    r->ncells = 0;
    r->cells_len = 0;
    return 0;
}

static int number_columns(pann_table *t)
{
    t->colnames = calloc(t->ncols, sizeof *t->colnames);
    if (!t->colnames)
        return -1;
    for (size_t j = 0; j < t->ncols; j++) {
        char num[32];
        snprintf(num, sizeof num, "%zu", j + 1);
        if (!(t->colnames[j] = strdup(num)))
            return -1;
    }
    return 0;
}

static int add_row(reader *r)
{
    pann_table *t = r->t;
    if (t->nrows == r->cap_rows) {
        size_t cap = r->cap_rows ? 2 * r->cap_rows : 1024;
        size_t *start = realloc(t->row_start, cap * sizeof *start);
        if (start)
            t->row_start = start;
        size_t *end = realloc(t->row_end, cap * sizeof *end);
        if (end)
            t->row_end = end;
        size_t *line = realloc(t->row_line, cap * sizeof *line);
        if (line)
            t->row_line = line;
        size_t *cells = realloc(t->row_cells, cap * sizeof *cells);
        if (cells)
            t->row_cells = cells;
        if (!start || !end || !line || !cells)
            return -1;
        r->cap_rows = cap;
    }
    t->row_start[t->nrows] = r->rec_start;
    t->row_end[t->nrows] = r->line_end;
    t->row_line[t->nrows] = r->rec_line;
    t->row_cells[t->nrows] = r->row_base;
    t->nrows++;
    return 0;
}

static void on_record(int c, void *data)
{
    (void)c;
    reader *r = data;
    pann_table *t = r->t;
    r->in_record = false;
    if (r->status)
        return;
    if (!r->have_ncols) {
        t->ncols = r->nfields;
        r->have_ncols = true;
        if ((r->header ? take_header(r) : number_columns(t)) != 0) {
            oom(r);
            return;
        }
        if (r->header) {
            r->header = false;
            return;
        }
    } else if (r->nfields != t->ncols) {
        bool extra = r->nfields > t->ncols;
        r->status = pann_fail(r->err, PANN_EINPUT,
                              "%s:%zu:%zu: expected %zu fields, found %zu",
                              t->display, extra ? r->extra_line : r->line,
                              (extra ? t->ncols : r->nfields) + 1,
                              t->ncols, r->nfields);
        return;
    }
    if (add_row(r) != 0)
        oom(r);
}

static bool blank_line(const reader *r, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != '\n' && !r->blank((unsigned char)s[i]))
            return false;
    return true;
}

static void parser_error(reader *r, struct csv_parser *p, const char *what)
{
    if (r->status)
        return;
    if (csv_error(p) == CSV_EPARSE)
        r->status = pann_fail(r->err, PANN_EINPUT, "%s:%zu:%zu: %s",
                              r->t->display, r->field_line, r->nfields + 1, what);
    else
        oom(r);
}

/* Feed one line (with its terminator) to libcsv; a NUL byte stops it. */
static void feed_line(reader *r, struct csv_parser *p, const char *s, size_t len)
{
    if (!r->in_record && !blank_line(r, s, len)) {
        r->in_record = true;
        r->rec_line = r->field_line = r->line;
        r->rec_start = r->line_start;
        r->nfields = 0;
    }
    const char *nul = memchr(s, '\0', len);
    size_t n = nul ? (size_t)(nul - s) : len;
    if (csv_parse(p, s, n, on_field, on_record, r) != n)
        parser_error(r, p, "malformed quoted field");
    if (nul && !r->status)
        r->status = pann_fail(r->err, PANN_EINPUT,
                              "%s:%zu:%zu: NUL byte in input (binary file?)",
                              r->t->display, r->line, r->nfields + 1);
}

/* Without quotes and without keeping the text, a line is split where it
 * lies: each field's trimmed end gets a NUL (over its delimiter, a blank or
 * the line's end), and cells is the text itself, so no arena holds a second
 * copy.  The fields, trimming and errors are libcsv's for such text: the
 * tests compare the two paths. */
static void store_in_place(reader *r, size_t start, size_t len)
{
    pann_table *t = r->t;
    if (start - r->row_base > UINT32_MAX) {
        if (!r->status)
            r->status = pann_fail(r->err, PANN_EINPUT, "%s:%zu: a row of over 4 GB",
                                  t->display, r->rec_line);
        return;
    }
    if (grow(&t->cell_off, &r->cap_off, r->ncells + 1, sizeof *t->cell_off) != 0) {
        oom(r);
        return;
    }
    t->cell_off[r->ncells++] = (uint32_t)(start - r->row_base);
    t->cells[start + len] = '\0';
}

static void split_line(reader *r, size_t begin, size_t end)
{
    char *text = r->t->cells;
    const char delim = r->delim;
    if (blank_line(r, text + begin, end - begin))
        return;
    const char *nul = memchr(text + begin, '\0', end - begin);
    size_t stop = nul ? (size_t)(nul - text) : end > begin && text[end - 1] == '\n' ? end - 1 : end;
    r->in_record = true;
    r->rec_line = r->field_line = r->line;
    r->rec_start = r->row_base = begin;
    r->nfields = 0;
    for (size_t pos = begin;;) {
        const char *next = memchr(text + pos, delim, stop - pos);
        size_t field_end = next ? (size_t)(next - text) : stop, a = pos, b = field_end;
        if (nul && !next)
            break;   /* the field the NUL is in never ends */
        while (a < b && r->blank((unsigned char)text[a]))
            a++;
        while (b > a && r->blank((unsigned char)text[b - 1]))
            b--;
        if (r->status)
            return;
        if (!r->have_ncols || r->nfields < r->t->ncols)
            store_in_place(r, a, b - a);
        else if (r->nfields == r->t->ncols)
            r->extra_line = r->field_line;
        r->nfields++;
        if (!next)
            break;
        pos = field_end + 1;
    }
    if (nul) {
        if (!r->status)
            r->status = pann_fail(r->err, PANN_EINPUT,
                                  "%s:%zu:%zu: NUL byte in input (binary file?)",
                                  r->t->display, r->line, r->nfields + 1);
        return;
    }
    on_record(0, r);
}

/* Feed text[begin, end) line by line, the first line being number line0 + 1. */
static int parse_range(reader *r, struct csv_parser *p, const char *text, size_t begin,
                       size_t end, size_t line0)
{
    size_t pos = begin;
    r->line = line0;
    while (pos < end && !r->status) {
        const char *lf = memchr(text + pos, '\n', end - pos);
        size_t stop = lf ? (size_t)(lf - text) + 1 : end;
        r->line++;
        r->line_start = pos;
        r->line_end = stop;
        if (r->in_place)
            split_line(r, pos, stop);
        else
            feed_line(r, p, text + pos, stop - pos);
        pos = stop;
    }
    if (!r->status && csv_fini(p, on_field, on_record, r) != 0)
        parser_error(r, p, "unterminated quoted field");
    return r->status;
}

static int parser_init(struct csv_parser *p, const pann_read_opts *o, reader *r)
{
    if (csv_init(p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return -1;
    csv_set_delim(p, (unsigned char)o->delim);
    /* libcsv grows a field's buffer by blk_size bytes (128 by default): a
     * 10 MB field meant 80,000 reallocs, quadratic where realloc copies
     * (under ASan it took minutes).  Growing by 1 MiB keeps it linear. */
    csv_set_blk_size(p, 1 << 20);
    csv_set_space_func(p, r->blank);
    csv_set_term_func(p, is_lf);
    return 0;
}

static void reader_init(reader *r, pann_table *t, const pann_read_opts *o, pann_error *err)
{
    *r = (reader){ .t = t, .err = err, .header = o->header, .delim = o->delim };
    r->blank = o->delim == '\t' ? blank_tsv : o->delim == ' ' ? blank_ssv : blank_csv;
}

/* Split in place (split_line): the text is not kept and has no quotes. */
static bool in_place_suits(const pann_table *t, const pann_read_opts *o)
{
    return !o->keep_text && !memchr(t->text, '"', t->text_len);
}

static int parse_serial(pann_table *t, const pann_read_opts *o, pann_error *err)
{
    reader r;
    reader_init(&r, t, o, err);
    r.in_place = in_place_suits(t, o);
    /* Unescaping never lengthens a field and every field but the last one
     * gives up a delimiter or terminator for its NUL: the arena fits in
     * text_len + 1, so it is allocated once. */
    r.cap_cells = t->text_len + 1;
    t->cells = r.in_place ? t->text : malloc(r.cap_cells);
    if (!t->cells)
        return pann_fail(err, PANN_ESYSTEM, "%s: out of memory", t->display);
    struct csv_parser p;
    if (parser_init(&p, o, &r) != 0)
        return pann_fail(err, PANN_ESYSTEM, "%s: out of memory", t->display);
    int rc = parse_range(&r, &p, t->text, 0, t->text_len, 0);
    csv_free(&p);
    if (!rc && !r.have_ncols)
        rc = pann_fail(err, PANN_EINPUT, "%s:1:1: empty input", t->display);
    return rc;
}

/* ---- parsing in parallel ------------------------------------------------ */

/* Without a quote anywhere in the text every LF ends a record, so the text
 * splits at line starts into chunks that parse independently, each into its
 * own slice of the cell arena, joined in order afterwards: the rows, cells,
 * line numbers and first error are those of the serial parse.  A text with
 * quotes, or too small to be worth it, is parsed serially. */
enum { PARSE_SERIAL = -1 };  /* not an error (those are > 0): parse serially */
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
        if (!blank_line(r, text + pos, stop - pos)) {
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
    if (parser_init(&p, o, &r) != 0) {
        c->rc = pann_fail(&c->err, PANN_ESYSTEM, "%s: out of memory", t->display);
        return;
    }
    c->rc = parse_range(&r, &p, t->text, c->begin, c->end, c->line0);
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

static int parse_parallel(pann_table *t, const pann_read_opts *o, int threads, pann_error *err)
{
    int nth = pann_threads(threads);
    size_t len = t->text_len, want = len / PARALLEL_MIN_BYTES;
    if (nth < 2 || want < 2 || memchr(t->text, '"', len))
        return PARSE_SERIAL;
    want = want < 4 * (size_t)nth ? want : 4 * (size_t)nth;   /* for balance */
    text_chunk *c = calloc(want, sizeof *c);
    bool in_place = in_place_suits(t, o);
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

static int parse_table(pann_table *t, const pann_read_opts *o, int threads, pann_error *err)
{
    int rc = parse_parallel(t, o, threads, err);
    return rc == PARSE_SERIAL ? parse_serial(t, o, err) : rc;
}

static int read_table(pann_table *t, const char *path, const pann_read_opts *o,
                      int threads, pann_error *err)
{
    pann_read_opts defaults;
    if (!o) {
        pann_read_opts_init(&defaults);
        o = &defaults;
    }
    memset(t, 0, sizeof *t);
    t->path = strdup(path);
    t->display = strdup(strcmp(path, "-") == 0 ? "stdin" : path);
    if (!t->path || !t->display) {
        pann_table_free(t);
        return pann_fail(err, PANN_ESYSTEM, "%s: out of memory", path);
    }
    int rc = slurp(t, err);
    if (rc == 0)
        rc = parse_table(t, o, threads, err);
    if (rc == 0 && !o->keep_text) {   /* the spans point into the text */
        if (t->cells != t->text)      /* else the text is the cells now */
            free(t->text);
        free(t->row_start);
        free(t->row_end);
        t->text = NULL;
        t->row_start = t->row_end = NULL;
    }
    if (rc != 0)
        pann_table_free(t);
    return rc;
}

int pann_table_read(pann_table *t, const char *path, const pann_read_opts *o,
                    pann_error *err)
{
    return read_table(t, path, o, 0, err);
}

int pann_tables_read(pann_table *tables, const char *const *paths, size_t n,
                     const pann_read_opts *o, int threads, pann_error *err)
{
    /* one after the other, each parsed by all the threads (parse_parallel) */
    for (size_t i = 0; i < n; i++) {
        int rc = read_table(&tables[i], paths[i], o, threads, err);
        if (rc != 0) {
            for (size_t k = 0; k < i; k++)
                pann_table_free(&tables[k]);
            return rc;
        }
    }
    return 0;
}

void pann_table_drop_cells(pann_table *t)
{
    if (t->cells != t->text)
        free(t->cells);
    free(t->text);
    free(t->row_start);
    free(t->row_end);
    free(t->cell_off);
    free(t->row_cells);
    t->text = t->cells = NULL;
    t->text_len = 0;
    t->row_start = t->row_end = t->row_cells = NULL;
    t->cell_off = NULL;
}

void pann_table_free(pann_table *t)
{
    if (!t)
        return;
    if (t->colnames)
        for (size_t j = 0; j < t->ncols; j++)
            free(t->colnames[j]);
    free(t->colnames);
    free(t->path);
    free(t->display);
    free(t->text);
    free(t->row_start);
    free(t->row_end);
    free(t->row_line);
    if (t->cells != t->text)   /* split in place: one buffer */
        free(t->cells);
    free(t->cell_off);
    free(t->row_cells);
    memset(t, 0, sizeof *t);
}

int pann_table_write_row(const pann_table *t, size_t row, FILE *out)
{
    size_t start, end;
    if (!t->text)
        return -1;
    if (row == SIZE_MAX) {
        start = t->header_start;
        end = t->header_end;
    } else {
        start = t->row_start[row];
        end = t->row_end[row];
    }
    if (end <= start)
        return 0;
    size_t len = end - start;
    if (fwrite(t->text + start, 1, len, out) != len)
        return -1;
    if (t->text[end - 1] != '\n' && fputc('\n', out) == EOF)
        return -1;
    return 0;
}

/* ---- reading in chunks of rows ----------------------------------------- */

/* The same line feeding and callbacks as pann_table_read, on input read a
 * buffer at a time: each chunk's text holds the header line (so that it can
 * be written out) and the lines of its rows; line numbers run on across
 * chunks, so errors are located exactly as in a whole-file read.  The
 * incomplete last line of a buffer is carried to the next read. */
struct pann_reader {
    pann_table t;             /* the current chunk; its arrays are reused */
    reader r;
    struct csv_parser p;
    pann_read_opts o;
    FILE *fp;
    bool own_fp, seekable, parser_ready;
    char *buf;                /* input read but not yet fed */
    size_t buf_len, buf_pos, buf_cap;
    bool eof, done, bom_checked;
    size_t text_cap;          /* allocated size of t.text */
    char *header;             /* the header line's text, once read */
    size_t header_len;
    int status;               /* sticky error */
    pann_error error;
};

static int reader_fail_oom(pann_reader *rd, pann_error *err)
{
    return pann_fail(err, PANN_ESYSTEM, "%s: out of memory", rd->t.display);
}

static int reader_start(pann_reader *rd, pann_error *err)
{
    if (rd->parser_ready)
        csv_free(&rd->p);
    rd->parser_ready = false;
    if (csv_init(&rd->p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return reader_fail_oom(rd, err);
    rd->parser_ready = true;
    csv_set_blk_size(&rd->p, 1 << 20);   /* as pann_table_read: long fields */
    csv_set_delim(&rd->p, (unsigned char)rd->o.delim);
    reader keep = rd->r;
    rd->r = (reader){ .t = &rd->t, .header = rd->o.header,
                      .cap_off = keep.cap_off, .cap_cells = keep.cap_cells,
                      .cap_rows = keep.cap_rows };
    rd->r.blank = rd->o.delim == '\t' ? blank_tsv
                  : rd->o.delim == ' ' ? blank_ssv : blank_csv;
    csv_set_space_func(&rd->p, rd->r.blank);
    csv_set_term_func(&rd->p, is_lf);
    if (rd->t.colnames)
        for (size_t j = 0; j < rd->t.ncols; j++)
            free(rd->t.colnames[j]);
    free(rd->t.colnames);
    rd->t.colnames = NULL;
    rd->t.ncols = rd->t.nrows = 0;
    rd->t.text_len = rd->t.header_start = rd->t.header_end = 0;
    free(rd->header);
    rd->header = NULL;
    rd->header_len = 0;
    rd->buf_len = rd->buf_pos = 0;
    rd->eof = rd->done = rd->bom_checked = false;
    return 0;
}

int pann_reader_open_file(pann_reader **out, FILE *fp, bool close_fp, const char *path,
                          const pann_read_opts *o, pann_error *err)
{
    *out = NULL;
    pann_reader *rd = calloc(1, sizeof *rd);
    if (!rd || !(rd->t.path = strdup(path)) ||
        !(rd->t.display = strdup(strcmp(path, "-") == 0 ? "stdin" : path))) {
        if (rd)
            free(rd->t.path);
        free(rd);
        if (close_fp && fp)
            fclose(fp);
        return pann_fail(err, PANN_ESYSTEM, "%s: out of memory", path);
    }
    rd->fp = fp;
    rd->own_fp = close_fp;
    if (o)
        rd->o = *o;
    else
        pann_read_opts_init(&rd->o);
    struct stat st;
    if (fstat(fileno(fp), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            int rc = pann_fail(err, PANN_ESYSTEM, "%s: is a directory", rd->t.display);
            pann_reader_close(rd);
            return rc;
        }
        rd->seekable = S_ISREG(st.st_mode);
    }
    int rc = reader_start(rd, err);
    if (rc) {
        pann_reader_close(rd);
        return rc;
    }
    *out = rd;
    return 0;
}

int pann_reader_open(pann_reader **out, const char *path, const pann_read_opts *o,
                     pann_error *err)
{
    *out = NULL;
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *fp = is_stdin ? stdin : fopen(path, "rb");
    if (!fp)
        return pann_fail(err, PANN_ESYSTEM, "%s: %s", path, strerror(errno));
    return pann_reader_open_file(out, fp, !is_stdin, path, o, err);
}

void pann_reader_close(pann_reader *rd)
{
    if (!rd)
        return;
    if (rd->parser_ready)
        csv_free(&rd->p);
    if (rd->own_fp && rd->fp)
        fclose(rd->fp);
    free(rd->buf);
    free(rd->header);
    pann_table_free(&rd->t);
    free(rd);
}

bool pann_reader_seekable(const pann_reader *rd)
{
    return rd->seekable;
}

int pann_reader_rewind(pann_reader *rd, pann_error *err)
{
    if (!rd->seekable || fseek(rd->fp, 0, SEEK_SET) != 0)
        return pann_fail(err, PANN_ESYSTEM, "%s: cannot read the input a second time",
                         rd->t.display);
    clearerr(rd->fp);
    rd->status = 0;
    return reader_start(rd, err);
}

/* Copy what is left of a pipe or terminal to an unlinked temporary file
 * (in $TMPDIR or /tmp) and read from there, so the input can be rewound. */
int pann_reader_spool(pann_reader *rd, pann_error *err)
{
    if (rd->seekable)
        return 0;
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    size_t len = strlen(dir) + 32;
    char *tmpl = malloc(len);
    if (!tmpl)
        return reader_fail_oom(rd, err);
    snprintf(tmpl, len, "%s/pann-spool.XXXXXX", dir);
    int fd = mkstemp(tmpl);
    if (fd >= 0)
        unlink(tmpl);
    FILE *spool = fd >= 0 ? fdopen(fd, "w+b") : NULL;
    int rc = 0;
    if (!spool) {
        rc = pann_fail(err, PANN_ESYSTEM, "%s: %s", tmpl, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    free(tmpl);
    char block[65536];
    size_t got;
    while (!rc && (got = fread(block, 1, sizeof block, rd->fp)) > 0)
        if (fwrite(block, 1, got, spool) != got)
            rc = pann_fail(err, PANN_ESYSTEM, "temporary copy of %s: %s",
                           rd->t.display, strerror(errno));
    if (!rc && ferror(rd->fp))
        rc = pann_fail(err, PANN_ESYSTEM, "%s: %s", rd->t.display,
                       errno == EISDIR ? "is a directory" : strerror(errno));
    if (!rc && (fflush(spool) != 0 || fseek(spool, 0, SEEK_SET) != 0))
        rc = pann_fail(err, PANN_ESYSTEM, "temporary copy of %s: %s",
                       rd->t.display, strerror(errno));
    if (rc) {
        if (spool)
            fclose(spool);
        return rc;
    }
    if (rd->own_fp)
        fclose(rd->fp);
    rd->fp = spool;
    rd->own_fp = true;
    rd->seekable = true;
    return 0;
}

/* Read more input into buf, keeping the unfed bytes.  Sets eof. */
static int refill(pann_reader *rd, pann_error *err)
{
    if (rd->buf_pos) {
        memmove(rd->buf, rd->buf + rd->buf_pos, rd->buf_len - rd->buf_pos);
        rd->buf_len -= rd->buf_pos;
        rd->buf_pos = 0;
    }
    if (rd->buf_cap - rd->buf_len < 65536 &&
        grow(&rd->buf, &rd->buf_cap, rd->buf_len + (rd->buf_cap ? rd->buf_cap : 1 << 20), 1))
        return reader_fail_oom(rd, err);
    size_t got = fread(rd->buf + rd->buf_len, 1, rd->buf_cap - rd->buf_len, rd->fp);
    rd->buf_len += got;
    if (got == 0) {
        if (ferror(rd->fp))
            return pann_fail(err, PANN_ESYSTEM, "%s: %s", rd->t.display,
                             errno == EISDIR ? "is a directory" : strerror(errno));
        rd->eof = true;
    }
    if (!rd->bom_checked && (rd->buf_len >= 3 || rd->eof)) {
        rd->bom_checked = true;
        if (rd->buf_len >= 3 && memcmp(rd->buf, "\xEF\xBB\xBF", 3) == 0)
            rd->buf_pos = 3;
    }
    return 0;
}

/* Append one line to the chunk's text and feed it to libcsv. */
static int feed_chunk_line(pann_reader *rd, const char *s, size_t len, pann_error *err)
{
    pann_table *t = &rd->t;
    if (grow(&t->text, &rd->text_cap, t->text_len + len + 1, 1))
        return reader_fail_oom(rd, err);
    memcpy(t->text + t->text_len, s, len);
    rd->r.line++;
    rd->r.line_start = t->text_len;
    rd->r.line_end = t->text_len + len;
    t->text_len += len;
    t->text[t->text_len] = '\0';
    rd->r.err = err;
    feed_line(&rd->r, &rd->p, t->text + rd->r.line_start, len);
    if (!rd->r.status && !rd->header && rd->r.have_ncols && t->header_end > t->header_start) {
        rd->header_len = t->header_end - t->header_start;
        if (!(rd->header = malloc(rd->header_len)))
            return reader_fail_oom(rd, err);
        memcpy(rd->header, t->text + t->header_start, rd->header_len);
    }
    return rd->r.status;
}

/* The chunk starts over with the header line only. */
static void new_chunk(pann_reader *rd)
{
    pann_table *t = &rd->t;
    t->nrows = 0;
    rd->r.ncells = rd->r.cells_len = 0;
    t->text_len = 0;
    if (rd->header) {
        memcpy(t->text, rd->header, rd->header_len);
        t->text_len = rd->header_len;
        t->text[t->text_len] = '\0';
        t->header_start = 0;
        t->header_end = rd->header_len;
    }
}

int pann_reader_next(pann_reader *rd, size_t max_rows, size_t max_bytes, pann_table *chunk,
                     pann_error *err)
{
    if (rd->status) {
        if (err)
            *err = rd->error;
        return rd->status;
    }
    new_chunk(rd);
    pann_table *t = &rd->t;
    int rc = 0;
    while (!rc && !rd->done) {
        if (max_rows && t->nrows >= max_rows && !rd->r.in_record)
            break;
        if (max_bytes && t->nrows && t->text_len >= max_bytes && !rd->r.in_record)
            break;
        char *lf = rd->buf_pos < rd->buf_len
                   ? memchr(rd->buf + rd->buf_pos, '\n', rd->buf_len - rd->buf_pos) : NULL;
        if (lf) {
            size_t len = (size_t)(lf - (rd->buf + rd->buf_pos)) + 1;
            rc = feed_chunk_line(rd, rd->buf + rd->buf_pos, len, err);
            rd->buf_pos += len;
        } else if (!rd->eof) {
            rc = refill(rd, err);
        } else {
            if (rd->buf_pos < rd->buf_len)
                rc = feed_chunk_line(rd, rd->buf + rd->buf_pos, rd->buf_len - rd->buf_pos, err);
            rd->buf_pos = rd->buf_len;
            rd->done = true;
            rd->r.err = err;
            if (!rc && csv_fini(&rd->p, on_field, on_record, &rd->r) != 0)
                parser_error(&rd->r, &rd->p, "unterminated quoted field");
            if (!rc && !rd->r.status && !rd->r.have_ncols)
                rd->r.status = pann_fail(err, PANN_EINPUT, "%s:1:1: empty input", t->display);
            rc = rd->r.status;
        }
    }
    if (rc) {
        rd->status = rc;
        if (err)
            rd->error = *err;
        memset(chunk, 0, sizeof *chunk);
        return rc;
    }
    *chunk = *t;
    return 0;
}
