/* test_reader.c — unit tests of reader.c (tables from CSV/TSV text) and
 * columns.c (column lists).  Inputs are written to temporary files so that
 * the real reading path runs; expectations are written out by hand or
 * rebuilt independently from the pieces the test itself assembled. */
#include <criterion/criterion.h>
#include "tmpdir.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pann.h"

/* ---- helpers ----------------------------------------------------------- */

static char tmp_path[TEST_PATH_MAX];

static const char *write_temp(const char *text, size_t len)
{
    test_tmp_path(tmp_path, "pann-reader-XXXXXX");
    int fd = mkstemp(tmp_path);
    cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
    return tmp_path;
}

/* Read text (len bytes) as a table; returns the status, err filled. */
static int read_text_opts(pann_table *t, const char *text, size_t len,
                          const pann_read_opts *o, pann_error *err)
{
    const char *path = write_temp(text, len);
    int rc = pann_table_read(t, path, o, err);
    unlink(path);
    return rc;
}

static int read_str(pann_table *t, const char *text, pann_error *err)
{
    pann_read_opts o;
    pann_read_opts_init(&o);
    return read_text_opts(t, text, strlen(text), &o, err);
}

static void read_ok(pann_table *t, const char *text)
{
    pann_error err = { 0 };
    int rc = read_str(t, text, &err);
    cr_assert_eq(rc, 0, "unexpected error: %s", err.msg);
}

/* The error message for text, with the temporary file name replaced by F. */
static void expect_error(const char *text, size_t len, int status,
                         const char *where_what)
{
    pann_table t;
    pann_error err = { 0 };
    pann_read_opts o;
    pann_read_opts_init(&o);
    int rc = read_text_opts(&t, text, len, &o, &err);
    cr_assert_eq(rc, status, "status %d (%s)", rc, err.msg);
    cr_assert_eq(err.status, status);
    char want[TEST_PATH_MAX + 1200];
    snprintf(want, sizeof want, "%s:%s", tmp_path, where_what);
    cr_assert_str_eq(err.msg, want);
    cr_assert_null(t.text, "a failed read leaves an empty table");
}

static void expect_cells(const pann_table *t, size_t row, const char *const *want)
{
    for (size_t j = 0; j < t->ncols; j++)
        cr_assert_str_eq(pann_cell(t, row, j), want[j], "row %zu col %zu", row, j);
}

/* What pann_table_write_row writes, as a malloc'ed string. */
static char *written_row(const pann_table *t, size_t row)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    cr_assert_not_null(fp);
    cr_assert_eq(pann_table_write_row(t, row, fp), 0);
    fclose(fp);
    return buf;
}

/* ---- reading ----------------------------------------------------------- */

Test(reader, plain_table)
{
    pann_table t;
    read_ok(&t, "name,age,score\nann,31,2.5\nbob,45,-1\n");
    cr_assert_eq(t.nrows, 2);
    cr_assert_eq(t.ncols, 3);
    cr_assert_str_eq(t.colnames[0], "name");
    cr_assert_str_eq(t.colnames[2], "score");
    expect_cells(&t, 0, (const char *[]){ "ann", "31", "2.5" });
    expect_cells(&t, 1, (const char *[]){ "bob", "45", "-1" });
    cr_assert_eq(t.row_line[0], 2);
    cr_assert_eq(t.row_line[1], 3);
    cr_assert_str_eq(t.display, t.path);
    pann_table_free(&t);
}

Test(reader, bom_is_removed)
{
    pann_table t;
    const char *body = "a,b\n1,2\n";
    char text[32];
    snprintf(text, sizeof text, "\xEF\xBB\xBF%s", body);
    read_ok(&t, text);
    cr_assert_str_eq(t.colnames[0], "a");
    cr_assert_eq(t.text_len, strlen(body));
    cr_assert_eq(memcmp(t.text, body, t.text_len), 0);
    char *header = written_row(&t, SIZE_MAX);
    cr_assert_str_eq(header, "a,b\n");
    free(header);
    pann_table_free(&t);
}

Test(reader, crlf_lines)
{
    pann_table t;
    read_ok(&t, "a,b\r\n1,\"x\"\r\n,3\r\n");
    cr_assert_eq(t.nrows, 2);
    cr_assert_str_eq(t.colnames[1], "b");
    expect_cells(&t, 0, (const char *[]){ "1", "x" });
    expect_cells(&t, 1, (const char *[]){ "", "3" });
    char *row = written_row(&t, 1);
    cr_assert_str_eq(row, ",3\r\n", "the raw row keeps its CR LF");
    free(row);
    pann_table_free(&t);
}

Test(reader, quoted_fields)
{
    pann_table t;
    read_ok(&t, "id,text\n1,\"a, b\"\n2,\"say \"\"hi\"\"\"\n"
                "3,\"two\nlines\"\n4,\"\"\n5,end\n");
    cr_assert_eq(t.nrows, 5);
    expect_cells(&t, 0, (const char *[]){ "1", "a, b" });
    expect_cells(&t, 1, (const char *[]){ "2", "say \"hi\"" });
    expect_cells(&t, 2, (const char *[]){ "3", "two\nlines" });
    expect_cells(&t, 3, (const char *[]){ "4", "" });
    expect_cells(&t, 4, (const char *[]){ "5", "end" });
    cr_assert_eq(t.row_line[2], 4);
    cr_assert_eq(t.row_line[3], 6, "a row after a two-line field starts on line 6");
    char *row = written_row(&t, 2);
    cr_assert_str_eq(row, "3,\"two\nlines\"\n");
    free(row);
    pann_table_free(&t);
}

Test(reader, tsv_keeps_empty_fields)
{
    pann_table t;
    pann_error err = { 0 };
    pann_read_opts o;
    pann_read_opts_init(&o);
    o.delim = '\t';
    const char *text = "a\tb\tc\n\tx y\t\n1,5\t\"q\tr\"\t2\n";
    cr_assert_eq(read_text_opts(&t, text, strlen(text), &o, &err), 0, "%s", err.msg);
    cr_assert_eq(t.ncols, 3);
    expect_cells(&t, 0, (const char *[]){ "", "x y", "" });
    expect_cells(&t, 1, (const char *[]){ "1,5", "q\tr", "2" });
    pann_table_free(&t);
}

Test(reader, no_header)
{
    pann_table t;
    pann_error err = { 0 };
    pann_read_opts o;
    pann_read_opts_init(&o);
    o.header = false;
    const char *text = "1,2,3\n4,5,6\n";
    cr_assert_eq(read_text_opts(&t, text, strlen(text), &o, &err), 0, "%s", err.msg);
    cr_assert_eq(t.nrows, 2);
    cr_assert_str_eq(t.colnames[0], "1");
    cr_assert_str_eq(t.colnames[2], "3");
    expect_cells(&t, 0, (const char *[]){ "1", "2", "3" });
    cr_assert_eq(t.row_line[0], 1);
    char *header = written_row(&t, SIZE_MAX);
    cr_assert_str_eq(header, "", "no header line to write");
    free(header);
    pann_table_free(&t);
}

Test(reader, blank_lines_are_skipped)
{
    pann_table t;
    read_ok(&t, "\na,b\n\n1,2\n  \n\r\n3,4\n\n");
    cr_assert_eq(t.nrows, 2);
    cr_assert_str_eq(t.colnames[0], "a");
    cr_assert_eq(t.row_line[0], 4);
    cr_assert_eq(t.row_line[1], 7);
    expect_cells(&t, 1, (const char *[]){ "3", "4" });
    pann_table_free(&t);
}

Test(reader, header_only_has_no_rows)
{
    pann_table t;
    read_ok(&t, "a,b,c\n");
    cr_assert_eq(t.nrows, 0);
    cr_assert_eq(t.ncols, 3);
    pann_table_free(&t);
}

Test(reader, empty_header_names_and_duplicates)
{
    pann_table t;
    read_ok(&t, "x,,x\n1,2,3\n");
    cr_assert_eq(t.ncols, 3);
    cr_assert_str_eq(t.colnames[1], "");
    cr_assert_str_eq(t.colnames[2], "x");
    pann_table_free(&t);
}

Test(reader, last_line_without_terminator)
{
    pann_table t;
    read_ok(&t, "a,b\n1,2\n3,\"4\"");
    cr_assert_eq(t.nrows, 2);
    expect_cells(&t, 1, (const char *[]){ "3", "4" });
    char *row = written_row(&t, 1);
    cr_assert_str_eq(row, "3,\"4\"\n", "a newline is added to the last row");
    free(row);
    pann_table_free(&t);
}

/* Rows built from random pieces (quotes, doubled quotes, embedded newlines,
 * CRLF or LF): each raw span must be the row text the test assembled, and
 * each cell the value it put in. */
Test(reader, raw_spans_reproduce_rows)
{
    enum { ROWS = 300, COLS = 4 };
    static const char *const raw[] = { "plain", "\"a,b\"", "\"q\"\"q\"", "\"l1\nl2\"",
                                       "", "\"\"", "7.5", "\"crlf\r\nin\"" };
    static const char *const value[] = { "plain", "a,b", "q\"q", "l1\nl2",
                                         "", "", "7.5", "crlf\r\nin" };
    const size_t kinds = sizeof raw / sizeof *raw;
    char *text = malloc(ROWS * 200), *rows[ROWS];
    size_t pick[ROWS][COLS], len = 0;
    len += (size_t)sprintf(text, "c1,c2,c3,c4\n");
    srand(7);
    for (size_t i = 0; i < ROWS; i++) {
        size_t start = len;
        for (size_t j = 0; j < COLS; j++) {
            pick[i][j] = (size_t)rand() % kinds;
            len += (size_t)sprintf(text + len, "%s%s", j ? "," : "", raw[pick[i][j]]);
        }
        len += (size_t)sprintf(text + len, "%s", rand() % 2 ? "\r\n" : "\n");
        rows[i] = strndup(text + start, len - start);
    }
    pann_table t;
    read_ok(&t, text);
    cr_assert_eq(t.nrows, ROWS);
    for (size_t i = 0; i < ROWS; i++) {
        cr_assert_eq(t.row_end[i] - t.row_start[i], strlen(rows[i]), "row %zu", i);
        cr_assert_eq(memcmp(t.text + t.row_start[i], rows[i], strlen(rows[i])), 0);
        for (size_t j = 0; j < COLS; j++)
            cr_assert_str_eq(pann_cell(&t, i, j), value[pick[i][j]]);
        free(rows[i]);
    }
    cr_assert_eq(t.header_end, strlen("c1,c2,c3,c4\n"));
    cr_assert_eq(t.row_end[ROWS - 1], len);
    pann_table_free(&t);
    free(text);
}

Test(reader, large_field_and_many_rows)
{
    const size_t big = 10u << 20, rows = 200000;
    char *text = malloc(big + rows * 16 + 64), *p = text;
    p += sprintf(p, "k,v\n1,\"");
    memset(p, 'z', big);
    p += big;
    p += sprintf(p, "\"\n");
    for (size_t i = 0; i < rows; i++)
        p += sprintf(p, "%zu,%zu\n", i, i * 3);
    pann_table t;
    pann_error err = { 0 };
    pann_read_opts o;
    pann_read_opts_init(&o);
    cr_assert_eq(read_text_opts(&t, text, (size_t)(p - text), &o, &err), 0, "%s", err.msg);
    cr_assert_eq(t.nrows, rows + 1);
    cr_assert_eq(strlen(pann_cell(&t, 0, 1)), big);
    for (size_t i = 0; i < rows; i += 9973) {
        char want[32];
        snprintf(want, sizeof want, "%zu", i * 3);
        cr_assert_str_eq(pann_cell(&t, i + 1, 1), want);
        cr_assert_eq(t.row_line[i + 1], i + 3);
    }
    pann_table_free(&t);
    free(text);
}

/* ---- reading errors ---------------------------------------------------- */

#define EXPECT_ERROR(text, status, msg) expect_error(text, sizeof(text) - 1, status, msg)

/* ---- parallel parsing: a file without quotes is split at line starts --- */

/* A text of several MB: header or not, blank lines, CRLF lines, padded
 * fields, a last line with or without its terminator; bad (if not NULL)
 * replaces line bad_line (1-based). */
static char *big_text(bool header, bool final_lf, size_t bad_line, const char *bad,
                      size_t *len)
{
    size_t cap = 8u << 20, used = 0, line = 0;
    char *text = malloc(cap);
    cr_assert(text);
    if (header) {
        used += (size_t)snprintf(text + used, cap - used, "a,b,c\n");
        line++;
    }
    for (size_t i = 0; used < cap - 200 && i < 300000; i++) {
        line++;
        if (line == bad_line)
            used += (size_t)snprintf(text + used, cap - used, "%s\n", bad);
        else if (i % 997 == 5)
            used += (size_t)snprintf(text + used, cap - used, "\n");
        else if (i % 13 == 0)
            used += (size_t)snprintf(text + used, cap - used, " %zu , x%zu,%.3f\r\n", i, i % 7,
                                     i * 0.25);
        else
            used += (size_t)snprintf(text + used, cap - used, "%zu,y%zu,%zu.5\n", i, i % 5, i);
    }
    if (!final_lf && text[used - 1] == '\n')
        used--;
    text[used] = '\0';
    *len = used;
    return text;
}

static int read_threads(pann_table *t, const char *text, size_t len, bool header,
                        int threads, pann_error *err)
{
    const char *path = write_temp(text, len);
    pann_read_opts o;
    pann_read_opts_init(&o);
    o.header = header;
    int rc = pann_tables_read(t, &path, 1, &o, threads, err);
    unlink(path);
    return rc;
}

/* Same rows, names, lines and cells; and the same raw spans when both
 * tables kept their text. */
static void expect_same_table(const pann_table *a, const pann_table *b)
{
    bool spans = a->text && b->text;
    cr_assert_eq(a->nrows, b->nrows);
    cr_assert_eq(a->ncols, b->ncols);
    cr_assert(!spans || a->header_start == b->header_start);
    cr_assert(!spans || a->header_end == b->header_end);
    for (size_t j = 0; j < a->ncols; j++)
        cr_assert_str_eq(a->colnames[j], b->colnames[j]);
    for (size_t i = 0; i < a->nrows; i++) {
        cr_assert(!spans || a->row_start[i] == b->row_start[i], "row %zu", i);
        cr_assert(!spans || a->row_end[i] == b->row_end[i], "row %zu", i);
        cr_assert_eq(a->row_line[i], b->row_line[i], "row %zu", i);
        for (size_t j = 0; j < a->ncols; j++)
            cr_assert_str_eq(pann_cell(a, i, j), pann_cell(b, i, j), "row %zu col %zu", i, j);
    }
}

Test(reader_parallel, same_table_as_serial)
{
    for (int variant = 0; variant < 4; variant++) {
        bool header = variant & 1, final_lf = variant & 2;
        size_t len;
        char *text = big_text(header, final_lf, 0, NULL, &len);
        cr_assert_gt(len, 3u << 20, "the text must be large enough to be split");
        pann_table serial, parallel;
        pann_error err = { 0 };
        cr_assert_eq(read_threads(&serial, text, len, header, 1, &err), 0, "%s", err.msg);
        cr_assert_eq(read_threads(&parallel, text, len, header, 2, &err), 0, "%s", err.msg);
        cr_assert_gt(serial.nrows, 100000);
        expect_same_table(&serial, &parallel);
        pann_table_free(&serial);
        pann_table_free(&parallel);
        free(text);
    }
}

/* Errors late in the file: the parallel parse names the same line and field. */
Test(reader_parallel, same_error_as_serial)
{
    const char *bad[] = { "1,2", "1,2,3,4", "1,2\0,3" };   /* the last has a NUL byte */
    size_t bad_lines[] = { 140000, 3, 77777 };
    for (size_t b = 0; b < 3; b++) {
        size_t len;
        char *text = big_text(true, true, bad_lines[b], "BAD", &len);
        char *at = strstr(text, "BAD");   /* put the bad line in place */
        cr_assert(at);
        size_t blen = b == 2 ? 6 : strlen(bad[b]);
        memmove(at + blen, at + 3, len - (size_t)(at + 3 - text) + 1);
        len = len - 3 + blen;
        memcpy(at, bad[b], blen);
        pann_table t;
        pann_error serial = { 0 }, parallel = { 0 };
        cr_assert_eq(read_threads(&t, text, len, true, 1, &serial), PANN_EINPUT);
        cr_assert_eq(read_threads(&t, text, len, true, 2, &parallel), PANN_EINPUT);
        cr_assert(strchr(serial.msg, ':') && strchr(parallel.msg, ':'));
        cr_assert_str_eq(strchr(serial.msg, ':'), strchr(parallel.msg, ':'));  /* past the path */
        char want[64];
        snprintf(want, sizeof want, ":%zu:", bad_lines[b]);
        cr_assert(strstr(parallel.msg, want), "%s (want line %zu)", parallel.msg, bad_lines[b]);
        free(text);
    }
}

/* Without keep_text a quote-free text is split in place instead of by
 * libcsv: the same cells, lines and errors, on small odd texts and big ones,
 * serial and parallel. */
static void expect_same_split(const char *text, size_t len, char delim, bool header, int threads)
{
    pann_read_opts with, without;
    pann_read_opts_init(&with);
    with.delim = delim;
    with.header = header;
    without = with;
    without.keep_text = false;
    const char *path = write_temp(text, len);
    pann_table a, b;
    pann_error ea = { 0 }, eb = { 0 };
    int ra = pann_tables_read(&a, &path, 1, &with, threads, &ea);
    int rb = pann_tables_read(&b, &path, 1, &without, threads, &eb);
    unlink(path);
    cr_assert_eq(ra, rb, "'%.40s': %s / %s", text, ea.msg, eb.msg);
    if (ra) {
        cr_assert_str_eq(strchr(ea.msg, ':'), strchr(eb.msg, ':'), "'%.40s'", text);
        return;
    }
    expect_same_table(&a, &b);
    pann_table_free(&a);
    pann_table_free(&b);
}

Test(reader, split_in_place_equals_libcsv)
{
#define TEXT(x) { x, sizeof x - 1 }   /* the length counts NUL bytes inside */
    const struct { const char *s; size_t len; } odd[] = {
        TEXT("a,b,c\n1,2,3\n"), TEXT(" a , b ,c\r\n 1 ,\t2\t, 3 \r\n"),
        TEXT("a,b\n\n  \n1,2\n\r\n3,4"), TEXT("a,b,c\n,,\n1,,\n"), TEXT("a,b\n1,2,\n"),
        TEXT("a,b\n1\n"), TEXT("a,b,c\n1,2,3,4,5\n"), TEXT("\n\n a,b\n1,2\n"), TEXT(""),
        TEXT("\n \n"), TEXT("a\n1\n2\n"), TEXT("a,b\n1,2\n3,4\n5"), TEXT("a,b\n1,\0\n"),
        TEXT("a,b\n1,2\n3\0,4\n"), TEXT("x;y\n1;2\n"),
    };
#undef TEXT
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++)
        for (int header = 0; header < 2; header++) {
            expect_same_split(odd[i].s, odd[i].len, ',', header, 1);
            expect_same_split(odd[i].s, odd[i].len, ';', header, 1);
        }
    const char *tsv[] = { "a\tb\n1\t\n \t2 \n", "a b\n1  2\n\t3 4\n" };
    expect_same_split(tsv[0], strlen(tsv[0]), '\t', true, 1);
    expect_same_split(tsv[1], strlen(tsv[1]), ' ', true, 1);
    for (int variant = 0; variant < 4; variant++) {
        size_t len;
        char *text = big_text(variant & 1, variant & 2, variant == 3 ? 200000 : 0, "1,2", &len);
        expect_same_split(text, len, ',', variant & 1, 1);
        expect_same_split(text, len, ',', variant & 1, 2);
        free(text);
    }
}

/* Without keep_text the cells stay and the text goes: no verbatim rows. */
Test(reader, without_text)
{
    pann_read_opts o;
    pann_read_opts_init(&o);
    o.keep_text = false;
    const char *text = "a,b\n1, x \n2,y\n";
    pann_table t;
    pann_error err = { 0 };
    cr_assert_eq(read_text_opts(&t, text, strlen(text), &o, &err), 0, "%s", err.msg);
    cr_assert_null(t.text);
    cr_assert_eq(t.nrows, 2);
    cr_assert_str_eq(pann_cell(&t, 0, 1), "x");
    cr_assert_str_eq(pann_cell(&t, 1, 0), "2");
    cr_assert_eq(t.row_line[1], 3);
    FILE *sink = fopen("/dev/null", "w");
    cr_assert_eq(pann_table_write_row(&t, 0, sink), -1);
    fclose(sink);
    pann_table_free(&t);
}

/* Dropping the cells keeps what locates errors: names, shape, lines; for
 * both ways a table can hold its text (split in place, or a copy). */
Test(reader, drop_cells)
{
    const char *text = "a,b\n1,\"x\"\n\n2,y\n";
    for (int keep = 0; keep < 2; keep++) {
        pann_read_opts o;
        pann_read_opts_init(&o);
        o.keep_text = keep;
        pann_table t;
        pann_error err = { 0 };
        cr_assert_eq(read_text_opts(&t, text, strlen(text), &o, &err), 0, "%s", err.msg);
        pann_table_drop_cells(&t);
        cr_assert_null(t.text);
        cr_assert_null(t.cells);
        cr_assert_null(t.cell_off);
        cr_assert_eq(t.nrows, 2);
        cr_assert_eq(t.ncols, 2);
        cr_assert_str_eq(t.colnames[1], "b");
        cr_assert_eq(t.row_line[1], 4);
        pann_table_drop_cells(&t);   /* twice is harmless */
        pann_table_free(&t);
    }
}

Test(reader_errors, empty_input)
{
    EXPECT_ERROR("", 1, "1:1: empty input");
    EXPECT_ERROR("\n \n\r\n", 1, "1:1: empty input");
}

Test(reader_errors, extra_field)
{
    EXPECT_ERROR("a,b\n1,2\n3,4,5\n", 1, "3:3: expected 2 fields, found 3");
    EXPECT_ERROR("a,b\n1,2,3,4\n", 1, "2:3: expected 2 fields, found 4");
    EXPECT_ERROR("a,b\n\"x\ny\",2,3\n", 1, "3:3: expected 2 fields, found 3");
}

Test(reader_errors, missing_field)
{
    EXPECT_ERROR("a,b,c\n1\n", 1, "2:2: expected 3 fields, found 1");
    EXPECT_ERROR("a,b,c\n1,2,3\n\n4,5", 1, "4:3: expected 3 fields, found 2");
}

Test(reader_errors, malformed_quote)
{
    EXPECT_ERROR("a,b\n1,x\"y\n", 1, "2:2: malformed quoted field");
    EXPECT_ERROR("a,b\n\"x\"y,2\n", 1, "2:1: malformed quoted field");
    EXPECT_ERROR("a,b\n1,\"x\ny\"z\n", 1, "2:2: malformed quoted field");
}

Test(reader_errors, unterminated_quote)
{
    EXPECT_ERROR("a,b\n1,\"abc\n2,3\n", 1, "2:2: unterminated quoted field");
    EXPECT_ERROR("a,b\n1,2\n\"x", 1, "3:1: unterminated quoted field");
}

Test(reader_errors, nul_byte)
{
    EXPECT_ERROR("a,b\n1,2\n3,x\0y\n", 1, "3:2: NUL byte in input (binary file?)");
    EXPECT_ERROR("\0\n", 1, "1:1: NUL byte in input (binary file?)");
}

Test(reader_errors, unreadable_files)
{
    pann_table t;
    pann_error err = { 0 };
    const char *missing = "/nonexistent-dir-pann/x.csv";
    cr_assert_eq(pann_table_read(&t, missing, NULL, &err), 2);
    char want[256];
    snprintf(want, sizeof want, "%s: %s", missing, strerror(ENOENT));
    cr_assert_str_eq(err.msg, want);
    cr_assert_eq(pann_table_read(&t, "/tmp", NULL, &err), 2);
    cr_assert_str_eq(err.msg, "/tmp: is a directory");
}

Test(reader_errors, null_error_is_allowed)
{
    pann_table t;
    cr_assert_eq(pann_table_read(&t, "/nonexistent-dir-pann/x.csv", NULL, NULL), 2);
    cr_assert_eq(pann_fail(NULL, 1, "x %d", 1), 1);
}

/* ---- column lists ------------------------------------------------------ */

static void parse_ok(const pann_table *t, const char *list, size_t n,
                     const size_t *want)
{
    size_t *idx, got;
    pann_error err = { 0 };
    cr_assert_eq(pann_columns_parse(t, list, &idx, &got, &err), 0, "%s: %s",
                 list ? list : "(null)", err.msg);
    cr_assert_eq(got, n, "list '%s'", list ? list : "(null)");
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(idx[i], want[i], "list '%s' item %zu", list ? list : "", i);
    free(idx);
}

static void parse_fails(const pann_table *t, const char *list, const char *want)
{
    size_t *idx = NULL, got = 0;
    pann_error err = { 0 };
    cr_assert_eq(pann_columns_parse(t, list, &idx, &got, &err), 1, "list '%s'", list);
    cr_assert_null(idx);
    char full[1200];
    snprintf(full, sizeof full, want, t->display);
    cr_assert_str_eq(err.msg, full);
}

Test(columns, names_indices_ranges)
{
    pann_table t;
    read_ok(&t, "id,age,2,bmi,x-y,w,v\n1,2,3,4,5,6,7\n");
    parse_ok(&t, NULL, 7, (size_t[]){ 0, 1, 2, 3, 4, 5, 6 });
    parse_ok(&t, "", 7, (size_t[]){ 0, 1, 2, 3, 4, 5, 6 });
    parse_ok(&t, "bmi,age", 2, (size_t[]){ 3, 1 });
    parse_ok(&t, "1,4-5", 3, (size_t[]){ 0, 3, 4 });
    parse_ok(&t, "6-", 2, (size_t[]){ 5, 6 });
    parse_ok(&t, "2", 1, (size_t[]){ 2 });          /* the column named 2 */
    parse_ok(&t, "x-y, 1", 2, (size_t[]){ 4, 0 });  /* a name with a dash */
    parse_ok(&t, "3-3", 1, (size_t[]){ 2 });
    pann_table_free(&t);
}

Test(columns, list_errors)
{
    pann_table t;
    read_ok(&t, "a,b,c,b\n1,2,3,4\n");
    parse_fails(&t, "zz", "unknown column 'zz' in %s (columns: a, b, c, b)");
    parse_fails(&t, "9", "column index 9 out of range 1-4 in %s");
    parse_fails(&t, "0", "column index 0 out of range 1-4 in %s");
    parse_fails(&t, "2-9", "column index 9 out of range 1-4 in %s");
    parse_fails(&t, "b", "column name 'b' is ambiguous in %s (columns 2 and 4)");
    parse_fails(&t, "a,,c", "empty item in column list 'a,,c'");
    parse_fails(&t, "a,", "empty item in column list 'a,'");
    parse_fails(&t, "a,1", "column 1 ('a') is chosen twice in 'a,1'");
    parse_fails(&t, "1-3,2", "column 2 ('b') is chosen twice in '1-3,2'");
    parse_fails(&t, "3-1", "column range '3-1' is backwards in %s");
    pann_table_free(&t);
}

Test(columns, long_name_list_is_shortened)
{
    pann_table t;
    read_ok(&t, "c1,c2,c3,c4,c5,c6,c7,c8,c9,c10,c11,c12\n"
                "1,2,3,4,5,6,7,8,9,10,11,12\n");
    parse_fails(&t, "nope", "unknown column 'nope' in %s "
                "(columns: c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, ...)");
    pann_table_free(&t);
}

Test(columns, match_by_name_and_position)
{
    pann_table ref, other, bad;
    read_ok(&ref, "a,b,c\n1,2,3\n");
    read_ok(&other, "c,x,a,b\n3,0,1,2\n");
    size_t ref_idx[] = { 2, 0 }, got[2];
    pann_error err = { 0 };
    cr_assert_eq(pann_columns_match(&ref, ref_idx, 2, &other, got, &err), 0, "%s", err.msg);
    cr_assert_eq(got[0], 0);
    cr_assert_eq(got[1], 2);
    read_ok(&bad, "a,x\n1,2\n");
    cr_assert_eq(pann_columns_match(&ref, ref_idx, 2, &bad, got, &err), 1);
    char want[600];
    snprintf(want, sizeof want, "%s has no column 'c' (needed to compare with %s)",
             bad.display, ref.display);
    cr_assert_str_eq(err.msg, want);
    pann_table_free(&ref);
    pann_table_free(&other);
    pann_table_free(&bad);
}

Test(columns, match_without_header)
{
    pann_read_opts o;
    pann_read_opts_init(&o);
    o.header = false;
    pann_table ref, other;
    pann_error err = { 0 };
    cr_assert_eq(read_text_opts(&ref, "1,2,3\n", 6, &o, &err), 0);
    cr_assert_eq(read_text_opts(&other, "4,5\n", 4, &o, &err), 0);
    size_t idx[] = { 1, 2 }, got[2];
    cr_assert_eq(pann_columns_match(&ref, idx, 1, &other, got, &err), 0);
    cr_assert_eq(got[0], 1);
    cr_assert_eq(pann_columns_match(&ref, idx, 2, &other, got, &err), 1);
    char want[600];
    snprintf(want, sizeof want, "%s has no column '3' (needed to compare with %s)",
             other.display, ref.display);
    cr_assert_str_eq(err.msg, want);
    pann_table_free(&ref);
    pann_table_free(&other);
}

Test(columns, match_ambiguous_name)
{
    pann_table ref, other;
    read_ok(&ref, "a,b\n1,2\n");
    read_ok(&other, "b,a,a\n1,2,3\n");
    size_t idx[] = { 0 }, got[1];
    pann_error err = { 0 };
    cr_assert_eq(pann_columns_match(&ref, idx, 1, &other, got, &err), 1);
    char want[600];
    snprintf(want, sizeof want, "column name 'a' is ambiguous in %s (columns 2 and 3)",
             other.display);
    cr_assert_str_eq(err.msg, want);
    pann_table_free(&ref);
    pann_table_free(&other);
}

/* ---- error.c ------------------------------------------------------------ */

Test(error, fail_formats_and_threads)
{
    pann_error err = { 0 };
    cr_assert_eq(pann_fail(&err, 2, "%s:%d: %s", "f", 3, "bad"), 2);
    cr_assert_eq(err.status, 2);
    cr_assert_str_eq(err.msg, "f:3: bad");
    cr_assert_eq(pann_threads(3), 3);
    cr_assert_geq(pann_threads(0), 1);
    cr_assert_gt(strlen(pann_version()), 0);
}
