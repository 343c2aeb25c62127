/* test_stream.c — the chunked reader against the whole-file reader: for
 * every chunk size, the chunks' rows put end to end are pann_table_read's
 * rows (text, cells, line numbers), with quoted fields spanning lines, CRLF,
 * a BOM, blank lines and a last line without terminator; errors are located
 * at the same FILE:LINE:FIELD.  Encoding with a schema against pann_encode
 * of the same rows. */
#include <criterion/criterion.h>
#include "tmpdir.h"
#include <stdio.h>
#include <string.h>
#include "pann.h"

static char *write_tmp(const char *text)
{
    static char path[TEST_PATH_MAX];
    test_tmp_path(path, "test_stream.XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fputs(text, fp);
    fclose(fp);
    return path;
}

static const char tricky[] =
    "\xEF\xBB\xBF" "name,note,x\r\n"
    "a,\"two\nlines\",1\r\n"
    "\n"
    "b,plain,2\r\n"
    "\"c,d\",\"say \"\"hi\"\"\",3\n"
    "e,\"three\r\nline\nfield\",4\n"
    "f,,5\n"
    "g,last,6";

/* Row i of whole equals row k of chunk: raw text and every cell. */
static void same_row(const pann_table *whole, size_t i, const pann_table *chunk, size_t k)
{
    size_t len = whole->row_end[i] - whole->row_start[i];
    cr_assert_eq(chunk->row_end[k] - chunk->row_start[k], len, "row %zu length", i);
    cr_assert(memcmp(whole->text + whole->row_start[i], chunk->text + chunk->row_start[k],
                     len) == 0, "row %zu text", i);
    cr_assert_eq(chunk->row_line[k], whole->row_line[i], "row %zu line", i);
    for (size_t j = 0; j < whole->ncols; j++)
        cr_assert_str_eq(pann_cell(chunk, k, j), pann_cell(whole, i, j), "row %zu col %zu", i, j);
}

static void check_chunks(const char *text, bool header, size_t max_rows)
{
    char *path = write_tmp(text);
    pann_read_opts o;
    pann_read_opts_init(&o);
    o.header = header;
    pann_table whole;
    pann_error err;
    cr_assert_eq(pann_table_read(&whole, path, &o, &err), 0, "%s", err.msg);
    pann_reader *rd;
    cr_assert_eq(pann_reader_open(&rd, path, &o, &err), 0, "%s", err.msg);
    size_t i = 0;
    for (;;) {
        pann_table chunk;
        cr_assert_eq(pann_reader_next(rd, max_rows, 0, &chunk, &err), 0, "%s", err.msg);
        cr_assert_eq(chunk.ncols, whole.ncols);
        for (size_t j = 0; j < whole.ncols; j++)
            cr_assert_str_eq(chunk.colnames[j], whole.colnames[j]);
        size_t hlen = whole.header_end - whole.header_start;
        cr_assert_eq(chunk.header_end - chunk.header_start, hlen);
        cr_assert(memcmp(chunk.text + chunk.header_start, whole.text + whole.header_start,
                         hlen) == 0, "header text");
        if (chunk.nrows == 0)
            break;
        cr_assert(max_rows == 0 || chunk.nrows <= max_rows);
        for (size_t k = 0; k < chunk.nrows; k++, i++)
            same_row(&whole, i, &chunk, k);
    }
    cr_assert_eq(i, whole.nrows, "rows: %zu chunked, %zu whole", i, whole.nrows);
    pann_reader_close(rd);
    pann_table_free(&whole);
    remove(path);
}

Test(stream, chunks_concatenate_to_the_whole_table)
{
    for (size_t rows = 0; rows <= 8; rows++) {
        check_chunks(tricky, true, rows);
        check_chunks(tricky, false, rows);
    }
}

Test(stream, rewind_reads_the_same_rows)
{
    char *path = write_tmp(tricky);
    pann_reader *rd;
    pann_error err;
    cr_assert_eq(pann_reader_open(&rd, path, NULL, &err), 0);
    cr_assert(pann_reader_seekable(rd));
    size_t total[2] = { 0, 0 };
    for (int pass = 0; pass < 2; pass++) {
        if (pass)
            cr_assert_eq(pann_reader_rewind(rd, &err), 0, "%s", err.msg);
        pann_table chunk;
        do {
            cr_assert_eq(pann_reader_next(rd, 2, 0, &chunk, &err), 0);
            total[pass] += chunk.nrows;
        } while (chunk.nrows);
    }
    cr_assert_eq(total[0], 6);
    cr_assert_eq(total[1], 6);
    pann_reader_close(rd);
    remove(path);
}

/* The error message of the whole-file reader and of every chunk size. */
static void same_error(const char *text)
{
    char *path = write_tmp(text);
    pann_table whole;
    pann_error want, got;
    cr_assert_neq(pann_table_read(&whole, path, NULL, &want), 0, "no error for %s", text);
    for (size_t rows = 1; rows <= 4; rows++) {
        pann_reader *rd;
        cr_assert_eq(pann_reader_open(&rd, path, NULL, &got), 0);
        pann_table chunk;
        int rc;
        do
            rc = pann_reader_next(rd, rows, 0, &chunk, &got);
        while (rc == 0 && chunk.nrows);
        cr_assert_eq(rc, want.status);
        cr_assert_str_eq(got.msg, want.msg);
        pann_reader_close(rd);
    }
    remove(path);
}

Test(stream, errors_located_as_the_whole_file_reader)
{
    same_error("a,b\n1,2\n3,4\n5\n6,7\n");            /* short row */
    same_error("a,b\n1,2\n3,4\n5,6,7\n");             /* long row */
    same_error("a,b\n1,2\n3,\"4\n5,6\n");             /* unterminated quote */
    same_error("a,b\n1,2\n3,4\"x\n5,6\n");            /* quote in a field */
    same_error("");                                   /* empty */
}

Test(stream, missing_file_and_directory)
{
    pann_reader *rd;
    pann_error err;
    cr_assert_eq(pann_reader_open(&rd, "/no/such/file.csv", NULL, &err), PANN_ESYSTEM);
    cr_assert_eq(pann_reader_open(&rd, "/tmp", NULL, &err), PANN_ESYSTEM);
    cr_assert(strstr(err.msg, "is a directory"));
}

/* Chunks encoded with the schema of the whole encoding: same floats. */
Test(stream, encode_with_schema_equals_pann_encode)
{
    const char *ref_text = "x,c,y\n1,a,10\n2,b,20\n4,a,NA\n8,c,40\n";
    const char *other_text = "y,x,c\n5,3,b\n,1,z\n25,9,a\n";
    char ref_path[TEST_PATH_MAX], other_path[TEST_PATH_MAX], bad_path[TEST_PATH_MAX];
    strcpy(ref_path, write_tmp(ref_text));
    strcpy(other_path, write_tmp(other_text));
    pann_table ref, other;
    pann_error err;
    cr_assert_eq(pann_table_read(&ref, ref_path, NULL, &err), 0);
    cr_assert_eq(pann_table_read(&other, other_path, NULL, &err), 0);
    pann_encode_opts eo;
    pann_encode_opts_init(&eo);
    eo.scale = PANN_SCALE_RANGE;
    eo.missing = PANN_MISSING_IMPUTE;
    const pann_table *both[2] = { &ref, &other };
    pann_schema s;
    pann_matrix m[2];
    cr_assert_eq(pann_encode(both, 2, &eo, &s, m, NULL, &err), 0, "%s", err.msg);
    size_t *ref_cols, d, cols[3];
    cr_assert_eq(pann_columns_parse(&ref, NULL, &ref_cols, &d, &err), 0);
    cr_assert_eq(pann_columns_match(&ref, ref_cols, d, &other, cols, &err), 0);
    pann_matrix got;
    cr_assert_eq(pann_encode_with_schema(&s, &other, cols, &eo, &got, NULL, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(got.n, 3);
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < d; j++) {
            float w = m[1].v[i * d + j], g = got.v[i * d + j];
            if (s.kind[j] == PANN_CATEGORICAL && w >= (float)s.ncat[j] - 0.5f &&
                strcmp(pann_cell(&other, i, cols[j]), "z") == 0)
                cr_assert_geq(g, (float)s.ncat[j] - 1, "unseen category: a code of its own");
            else
                cr_assert_eq(g, w, "row %zu col %zu: %g, pann_encode %g", i, j, g, w);
        }
    /* a word in a numeric column is located */
    const char *bad = "y,x,c\n5,3,b\n6,oops,a\n";
    pann_table tb;
    strcpy(bad_path, write_tmp(bad));
    cr_assert_eq(pann_table_read(&tb, bad_path, NULL, &err), 0);
    pann_matrix none;
    cr_assert_eq(pann_encode_with_schema(&s, &tb, cols, &eo, &none, NULL, &err), PANN_EINPUT);
    cr_assert(strstr(err.msg, ":3:2: 'oops' is not a number"), "%s", err.msg);
    free(ref_cols);
    pann_matrix_free(&got);
    pann_matrix_free(&m[0]);
    pann_matrix_free(&m[1]);
    pann_schema_free(&s);
    pann_table_free(&ref);
    pann_table_free(&other);
    pann_table_free(&tb);
    remove(ref_path);
    remove(other_path);
    remove(bad_path);
}
