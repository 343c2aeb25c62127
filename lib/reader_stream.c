/* reader_stream.c — a CSV/TSV input read in chunks of rows (pann_reader_*).
 *
 * The same line feeding and callbacks as pann_table_read (reader.c), on
 * input read a buffer at a time: each chunk's text holds the header line
 * (so that it can be written out) and the lines of its rows; line numbers
 * run on across chunks, so errors are located exactly as in a whole-file
 * read.  The incomplete last line of a buffer is carried to the next read.
 * A pipe can be spooled to a temporary file so that it can be rewound.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reader_internal.h"

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
    /* a new parse; the chunk's arrays, and their capacities, are kept */
    reader keep = rd->r;
    reader_init(&rd->r, &rd->t, &rd->o, NULL);
    rd->r.cap_off = keep.cap_off;
    rd->r.cap_cells = keep.cap_cells;
    rd->r.cap_rows = keep.cap_rows;
    if (reader_parser_init(&rd->p, &rd->o, &rd->r) != 0)
        return reader_fail_oom(rd, err);
    rd->parser_ready = true;
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
        reader_grow(&rd->buf, &rd->buf_cap, rd->buf_len + (rd->buf_cap ? rd->buf_cap : 1 << 20), 1))
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
    if (reader_grow(&t->text, &rd->text_cap, t->text_len + len + 1, 1))
        return reader_fail_oom(rd, err);
    memcpy(t->text + t->text_len, s, len);
    rd->r.line++;
    rd->r.line_start = t->text_len;
    rd->r.line_end = t->text_len + len;
    t->text_len += len;
    t->text[t->text_len] = '\0';
    rd->r.err = err;
    reader_feed_line(&rd->r, &rd->p, t->text + rd->r.line_start, len);
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
            if (!rc && csv_fini(&rd->p, reader_on_field, reader_on_record, &rd->r) != 0)
                reader_parser_error(&rd->r, &rd->p, "unterminated quoted field");
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
