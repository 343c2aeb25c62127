/* reader.c — reading a CSV/TSV table into a pann_table.  The whole input is
 * kept in memory so that rows can be written out verbatim; libcsv unescapes
 * the fields, which go to one arena.  libcsv knows nothing of lines, so the
 * text is fed to it one line at a time: that is how every record gets its
 * line number and its raw span, and how every error gets its FILE:LINE:FIELD.
 * This file holds that record parser, the serial parse and the tables'
 * entry points.  A large file without quote characters is parsed by several
 * threads, in chunks of whole lines (reader_parallel.c); and when the caller
 * will not write rows out (keep_text false), such a file is split in place,
 * the text becoming the cells (split_line).  Input read a chunk of rows at a
 * time goes through the same parser (reader_stream.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reader_internal.h"

void pann_read_opts_init(pann_read_opts *o)
{
    o->delim = ',';
    o->delim_given = false;
    o->header = true;
    o->keep_text = true;
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
        if (len + 1 >= cap && reader_grow(&buf, &cap, len + 2, 1) != 0) {
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
    if (reader_grow(&t->cells, &r->cap_cells, r->cells_len + len + 1, 1) != 0 ||
        reader_grow(&t->cell_off, &r->cap_off, r->ncells + 1, sizeof *t->cell_off) != 0) {
        oom(r);
        return;
    }
    if (len)
        memcpy(t->cells + r->cells_len, s, len);
    t->cells[r->cells_len + len] = '\0';
    t->cell_off[r->ncells++] = (uint32_t)(r->cells_len - r->row_base);
    r->cells_len += len + 1;
}

void reader_on_field(void *s, size_t len, void *data)
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

/* A first line of one comma-separated field that holds a tab is a TSV
 * file read as CSV: every row would be one text cell.  An error, unless
 * the user chose the delimiter. */
static bool looks_tab_separated(reader *r)
{
    pann_table *t = r->t;
    if (r->delim != ',' || r->delim_given || r->nfields != 1 ||
        !strchr(t->cells + r->row_base + t->cell_off[0], '\t'))
        return false;
    r->status = pann_fail(r->err, PANN_EINPUT, "%s:%zu:1: the first line holds tabs and no "
                          "comma: a TSV file? give -d tab (or -d , to read it as one column)",
                          t->display, r->rec_line);
    return true;
}

void reader_on_record(int c, void *data)
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
        if (looks_tab_separated(r))
            return;
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

bool reader_blank_line(const reader *r, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != '\n' && !r->blank((unsigned char)s[i]))
            return false;
    return true;
}

void reader_parser_error(reader *r, struct csv_parser *p, const char *what)
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
void reader_feed_line(reader *r, struct csv_parser *p, const char *s, size_t len)
{
    if (!r->in_record && !reader_blank_line(r, s, len)) {
        r->in_record = true;
        r->rec_line = r->field_line = r->line;
        r->rec_start = r->line_start;
        r->nfields = 0;
    }
    const char *nul = memchr(s, '\0', len);
    size_t n = nul ? (size_t)(nul - s) : len;
    if (csv_parse(p, s, n, reader_on_field, reader_on_record, r) != n)
        reader_parser_error(r, p, "malformed quoted field");
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
    if (reader_grow(&t->cell_off, &r->cap_off, r->ncells + 1, sizeof *t->cell_off) != 0) {
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
    if (reader_blank_line(r, text + begin, end - begin))
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
    reader_on_record(0, r);
}

/* Feed text[begin, end) line by line, the first line being number line0 + 1. */
int reader_parse_range(reader *r, struct csv_parser *p, const char *text, size_t begin,
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
            reader_feed_line(r, p, text + pos, stop - pos);
        pos = stop;
    }
    if (!r->status && csv_fini(p, reader_on_field, reader_on_record, r) != 0)
        reader_parser_error(r, p, "unterminated quoted field");
    return r->status;
}

int reader_parser_init(struct csv_parser *p, const pann_read_opts *o, reader *r)
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

void reader_init(reader *r, pann_table *t, const pann_read_opts *o, pann_error *err)
{
    *r = (reader){ .t = t, .err = err, .header = o->header, .delim = o->delim,
                   .delim_given = o->delim_given };
    r->blank = o->delim == '\t' ? blank_tsv : o->delim == ' ' ? blank_ssv : blank_csv;
}

/* Split in place (split_line): the text is not kept and has no quotes. */
bool reader_in_place_suits(const pann_table *t, const pann_read_opts *o)
{
    return !o->keep_text && !memchr(t->text, '"', t->text_len);
}

static int parse_serial(pann_table *t, const pann_read_opts *o, pann_error *err)
{
    reader r;
    reader_init(&r, t, o, err);
    r.in_place = reader_in_place_suits(t, o);
    /* Unescaping never lengthens a field and every field but the last one
     * gives up a delimiter or terminator for its NUL: the arena fits in
     * text_len + 1, so it is allocated once. */
    r.cap_cells = t->text_len + 1;
    t->cells = r.in_place ? t->text : malloc(r.cap_cells);
    if (!t->cells)
        return pann_fail(err, PANN_ESYSTEM, "%s: out of memory", t->display);
    struct csv_parser p;
    if (reader_parser_init(&p, o, &r) != 0)
        return pann_fail(err, PANN_ESYSTEM, "%s: out of memory", t->display);
    int rc = reader_parse_range(&r, &p, t->text, 0, t->text_len, 0);
    csv_free(&p);
    if (!rc && !r.have_ncols)
        rc = pann_fail(err, PANN_EINPUT, "%s:1:1: empty input", t->display);
    return rc;
}



static int parse_table(pann_table *t, const pann_read_opts *o, int threads, pann_error *err)
{
    int rc = reader_parse_parallel(t, o, threads, err);
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
    /* one after the other, each parsed by all the threads (reader_parse_parallel) */
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

