/* test_load.c — unit tests of load.c, the numeric loader.  Its contract is
 * to give exactly what the general path (pann_tables_read, then
 * pann_encode) gives, or to give up: every file here is loaded both ways and
 * the schemas and matrices compared bit for bit, with 1 to 4 threads and
 * files large enough to be split into slices; every kind of input the
 * loader must leave to the general path is checked to leave nothing. */
#include <criterion/criterion.h>
#include "tmpdir.h"
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pann.h"

/* ---- helpers ----------------------------------------------------------- */

typedef struct temp_file {
    char path[TEST_PATH_MAX];
} temp_file;

static void write_file(temp_file *f, const char *text, size_t len)
{
    test_tmp_path(f->path, "pann-load-XXXXXX");
    int fd = mkstemp(f->path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
}

/* A growing text, for generated files. */
typedef struct text {
    char *s;
    size_t len, cap;
} text;

static void add(text *t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        t->cap = t->cap * 2 + (size_t)n + 64;
        t->s = realloc(t->s, t->cap);
        cr_assert_not_null(t->s);
    }
}

/* rows x cols of numbers in varied notations, with a header, an id column
 * of text (column 1) when `with_text`, fields padded with blanks, CRLF when
 * `crlf`, and no final terminator when `unterminated`. */
static void numbers_file(text *t, size_t rows, size_t cols, char delim, bool header,
                         bool with_text, bool crlf, bool unterminated, unsigned seed)
{
    srand(seed);
    const char *eol = crlf ? "\r\n" : "\n";
    if (header) {
        for (size_t j = 0; j < cols; j++)
            add(t, "%sc%zu", j ? (char[]){ delim, 0 } : "", j + 1);
        add(t, "%s", eol);
    }
    for (size_t i = 0; i < rows; i++) {
        for (size_t j = 0; j < cols; j++) {
            if (j)
                add(t, "%c", delim);
            double v = (rand() / (double)RAND_MAX - 0.3) * 1000.0;
            switch ((i + j) % 6) {
            case 0: add(t, "%.6f", v); break;
            case 1: add(t, "%.17g", v); break;                /* strtod's path */
            case 2: add(t, " %g ", v / 1e5); break;
            case 3: add(t, "%.3e", v); break;
            case 4: add(t, "%d", (int)v); break;
            default:
                if (with_text && j == 0)
                    add(t, "id%zu", i);
                else
                    add(t, "%+.2f", v + 1e6);
            }
        }
        if (!(unterminated && i + 1 == rows))
            add(t, "%s", eol);
    }
}

typedef struct both {
    pann_table general[3], fast[3];
    pann_matrix gm[3], fm[3];
    pann_schema gs, fs;
    bool loaded;
} both;

static int load_fast(both *b, const char *const *paths, size_t n, const pann_read_opts *ro,
                     const pann_encode_opts *eo, int threads)
{
    pann_error err = { 0 };
    for (size_t t = 0; t < n; t++)
        if (pann_table_read_header(&b->fast[t], paths[t], ro, &err) != 0)
            return -1;   /* the general path reads it and reports the error */
    return pann_load_numeric(b->fast, n, ro, eo, threads, &b->fs, b->fm, &b->loaded, &err);
}

static void load_general(both *b, const char *const *paths, size_t n, const pann_read_opts *ro,
                         const pann_encode_opts *eo)
{
    pann_error err = { 0 };
    cr_assert_eq(pann_tables_read(b->general, paths, n, ro, 2, &err), 0, "%s", err.msg);
    const pann_table *tables[3] = { &b->general[0], &b->general[1], &b->general[2] };
    cr_assert_eq(pann_encode(tables, n, eo, &b->gs, b->gm, NULL, &err), 0, "%s", err.msg);
}

static void same_bits(const both *b, size_t n)
{
    cr_assert_eq(b->fs.d, b->gs.d);
    for (size_t j = 0; j < b->gs.d; j++) {
        cr_assert_str_eq(b->fs.names[j], b->gs.names[j]);
        cr_assert_eq(b->fs.kind[j], b->gs.kind[j], "kind of column %zu", j);
        cr_assert_eq(b->fs.ncat[j], b->gs.ncat[j], "categories of column %zu", j);
        for (size_t c = 0; c < b->gs.ncat[j]; c++)
            cr_assert_str_eq(b->fs.cats[j][c], b->gs.cats[j][c]);
        cr_assert_eq(memcmp(&b->fs.center[j], &b->gs.center[j], sizeof(double)), 0,
                     "center of column %zu: %.17g vs %.17g", j, b->fs.center[j], b->gs.center[j]);
        cr_assert_eq(memcmp(&b->fs.scale[j], &b->gs.scale[j], sizeof(double)), 0,
                     "scale of column %zu", j);
        cr_assert_eq(memcmp(&b->fs.impute[j], &b->gs.impute[j], sizeof(double)), 0);
    }
    for (size_t t = 0; t < n; t++) {
        cr_assert_eq(b->fm[t].n, b->gm[t].n);
        cr_assert_eq(b->fm[t].d, b->gm[t].d);
        cr_assert_eq(b->fast[t].nrows, b->general[t].nrows);
        cr_assert_eq(((uintptr_t)b->fm[t].v & 63), 0, "matrix not 64-byte aligned");
        for (size_t i = 0; i < b->gm[t].n; i++)
            cr_assert_eq(b->fm[t].row_id[i], b->gm[t].row_id[i]);
        size_t first_diff = SIZE_MAX;
        for (size_t k = 0; k < b->gm[t].n * b->gm[t].d && first_diff == SIZE_MAX; k++)
            if (memcmp(&b->fm[t].v[k], &b->gm[t].v[k], sizeof(float)) != 0)
                first_diff = k;
        cr_assert_eq(first_diff, SIZE_MAX, "table %zu differs at cell %zu", t, first_diff);
    }
}

static void both_free(both *b, size_t n)
{
    for (size_t t = 0; t < n; t++) {
        pann_table_free(&b->general[t]);
        pann_table_free(&b->fast[t]);
        pann_matrix_free(&b->gm[t]);
        pann_matrix_free(&b->fm[t]);
    }
    pann_schema_free(&b->gs);
    pann_schema_free(&b->fs);
}

/* Load paths both ways with every thread count and compare. */
static void check_same(const char *const *paths, size_t n, const pann_read_opts *ro,
                       const pann_encode_opts *eo)
{
    for (int threads = 1; threads <= 4; threads++) {
        both b = { 0 };
        cr_assert_eq(load_fast(&b, paths, n, ro, eo, threads), 0);
        cr_assert(b.loaded, "the loader gave up on a plain numeric file (%d threads)", threads);
        load_general(&b, paths, n, ro, eo);
        same_bits(&b, n);
        both_free(&b, n);
    }
}

/* The loader must give up and leave nothing behind. */
static void check_gives_up(const char *content, const pann_read_opts *ro,
                           const pann_encode_opts *eo)
{
    temp_file f;
    write_file(&f, content, strlen(content));
    const char *paths[1] = { f.path };
    for (int threads = 1; threads <= 2; threads++) {
        both b = { 0 };
        int rc = load_fast(&b, paths, 1, ro, eo, threads);
        cr_assert(rc == 0 || rc == -1);
        cr_assert_not(b.loaded, "loaded what the general path must read: %.40s", content);
        cr_assert_null(b.fm[0].v);
        cr_assert_null(b.fm[0].row_id);
        cr_assert_eq(b.fs.d, 0);
        cr_assert_null(b.fs.names);
        both_free(&b, 1);
    }
    unlink(f.path);
}

/* content, in a file, loaded alike both ways */
static void check_same_content(const char *content, const pann_read_opts *ro,
                               const pann_encode_opts *eo)
{
    temp_file f;
    write_file(&f, content, strlen(content));
    const char *paths[1] = { f.path };
    check_same(paths, 1, ro, eo);
    unlink(f.path);
}

static pann_read_opts read_opts(char delim, bool header)
{
    pann_read_opts o;
    pann_read_opts_init(&o);
    o.delim = delim;
    o.header = header;
    o.keep_text = false;
    return o;
}

static pann_encode_opts encode_opts(pann_scale scale, const char *columns, bool cosine)
{
    pann_encode_opts o;
    pann_encode_opts_init(&o);
    o.scale = scale;
    o.columns = columns;
    o.cosine = cosine;
    return o;
}

/* ---- the same as the general path -------------------------------------- */

Test(load, large_file_every_scale_and_thread_count)
{
    text t = { 0 };
    numbers_file(&t, 40000, 7, ',', true, false, false, false, 1);   /* ~2.5 MB: slices */
    cr_assert_gt(t.len, (size_t)2 << 20);
    temp_file f;
    write_file(&f, t.s, t.len);
    const char *paths[1] = { f.path };
    pann_read_opts ro = read_opts(',', true);
    pann_scale scales[] = { PANN_SCALE_NONE, PANN_SCALE_STD, PANN_SCALE_RANGE };
    for (size_t s = 0; s < 3; s++) {
        pann_encode_opts eo = encode_opts(scales[s], NULL, false);
        check_same(paths, 1, &ro, &eo);
    }
    unlink(f.path);
    free(t.s);
}

Test(load, reference_and_query_with_columns_cosine_crlf)
{
    text ref = { 0 }, query = { 0 };
    numbers_file(&ref, 30000, 6, ',', true, true, true, true, 2);
    numbers_file(&query, 9000, 6, ',', true, true, false, false, 3);
    temp_file fr, fq;
    write_file(&fr, ref.s, ref.len);
    write_file(&fq, query.s, query.len);
    const char *paths[2] = { fr.path, fq.path };
    pann_read_opts ro = read_opts(',', true);
    /* column 1 holds text every sixth row: left out, and reordered columns */
    pann_encode_opts eo = encode_opts(PANN_SCALE_STD, "c4,2-3,c6", false);
    check_same(paths, 2, &ro, &eo);
    eo = encode_opts(PANN_SCALE_NONE, "2-", true);
    check_same(paths, 2, &ro, &eo);
    unlink(fr.path);
    unlink(fq.path);
    free(ref.s);
    free(query.s);
}

Test(load, tsv_without_header_and_a_line_longer_than_the_window)
{
    text t = { 0 };
    numbers_file(&t, 3000, 4, '\t', false, false, false, false, 4);
    temp_file f;
    write_file(&f, t.s, t.len);
    const char *paths[1] = { f.path };
    pann_read_opts ro = read_opts('\t', false);
    pann_encode_opts eo = encode_opts(PANN_SCALE_STD, NULL, false);
    check_same(paths, 1, &ro, &eo);
    unlink(f.path);
    free(t.s);

    text wide = { 0 };   /* 3 rows of 120,000 columns: lines of about 1.4 MB */
    numbers_file(&wide, 3, 120000, ',', true, false, false, false, 5);
    write_file(&f, wide.s, wide.len);
    ro = read_opts(',', true);
    eo = encode_opts(PANN_SCALE_RANGE, NULL, false);
    check_same(paths, 1, &ro, &eo);
    unlink(f.path);
    free(wide.s);
}

Test(load, header_with_quotes_and_bom)
{
    const char *content = "\xEF\xBB\xBF\"a b\",\"c,d\"\n1,2\n3,4.5\n-1e3,7\n";
    temp_file f;
    write_file(&f, content, strlen(content));
    const char *paths[1] = { f.path };
    pann_read_opts ro = read_opts(',', true);
    pann_encode_opts eo = encode_opts(PANN_SCALE_STD, NULL, false);
    check_same(paths, 1, &ro, &eo);
    both b = { 0 };
    cr_assert_eq(load_fast(&b, paths, 1, &ro, &eo, 2), 0);
    cr_assert(b.loaded);
    cr_assert_str_eq(b.fs.names[1], "c,d");
    cr_assert_eq(b.fm[0].n, 3);
    cr_assert_float_eq(b.fm[0].v[4] * b.fs.scale[0] + b.fs.center[0], -1000.0, 1e-3);
    both_free(&b, 1);
    unlink(f.path);
    const char *two_lines = "a,\"b\nc\"\n1,2\n5,6\n";   /* a header over two lines */
    write_file(&f, two_lines, strlen(two_lines));
    check_same(paths, 1, &ro, &eo);
    unlink(f.path);
    const char *no_header = "\xEF\xBB\xBF" "1,2\n3,4\n";   /* a BOM, no header */
    write_file(&f, no_header, strlen(no_header));
    pann_read_opts ro_plain = read_opts(',', false);
    check_same(paths, 1, &ro_plain, &eo);
    unlink(f.path);
}

/* rows of a number, a category of 5 (its level tied to the number), a
 * number, and a category of up to `levels` ("k0" ...), some seen only late. */
static void mixed_file(text *t, size_t rows, unsigned levels, unsigned seed)
{
    srand(seed);
    add(t, "x,colour,y,kind\n");
    static const char *colour[] = { "red", "green", "blue", "cyan", "grey" };
    for (size_t i = 0; i < rows; i++) {
        double x = rand() / (double)RAND_MAX;
        unsigned k = (unsigned)rand() % levels;
        if (i < rows / 2)
            k %= 3;              /* the rest of the levels appear in the second half */
        add(t, "%.6f,%s,%.3e,k%u\n", x, colour[(unsigned)(x * 4.99)], x * x - 0.5, k);
    }
}

Test(load, categorical_columns_coded_as_the_general_path_codes_them)
{
    text ref = { 0 }, query = { 0 }, third = { 0 };
    mixed_file(&ref, 30000, 40, 7);        /* ~0.9 MB each: slices from 2 threads on */
    mixed_file(&query, 40000, 60, 8);      /* levels k40.. only here */
    mixed_file(&third, 3000, 70, 9);
    cr_assert_gt(query.len, (size_t)1 << 20);
    temp_file fr, fq, ft;
    write_file(&fr, ref.s, ref.len);
    write_file(&fq, query.s, query.len);
    write_file(&ft, third.s, third.len);
    pann_read_opts ro = read_opts(',', true);
    const char *paths[3] = { fq.path, fr.path, ft.path };
    pann_scale scales[] = { PANN_SCALE_NONE, PANN_SCALE_STD, PANN_SCALE_RANGE };
    for (size_t k = 0; k < 3; k++) {
        pann_encode_opts eo = encode_opts(scales[k], NULL, false);
        check_same(paths, 3, &ro, &eo);
    }
    pann_encode_opts some = encode_opts(PANN_SCALE_STD, "kind,x,colour", false);
    check_same(paths + 1, 2, &ro, &some);
    both b = { 0 };
    pann_encode_opts eo = encode_opts(PANN_SCALE_NONE, NULL, false);
    cr_assert_eq(load_fast(&b, paths, 3, &ro, &eo, 2), 0);
    cr_assert(b.loaded);
    cr_assert_eq(b.fs.kind[1], PANN_CATEGORICAL);
    cr_assert_eq(b.fs.kind[2], PANN_NUMERIC);
    cr_assert_eq(b.fs.ncat[3], 70);
    both_free(&b, 3);
    unlink(fr.path);
    unlink(fq.path);
    unlink(ft.path);
    free(ref.s);
    free(query.s);
    free(third.s);
}

/* ---- what the loader leaves to the general path ------------------------ */

Test(load, gives_up_on_what_it_does_not_read_alike)
{
    pann_read_opts ro = read_opts(',', true);
    pann_encode_opts eo = encode_opts(PANN_SCALE_STD, NULL, false);
    check_gives_up("a,b\n1,2\n\"3\",4\n", &ro, &eo);          /* a quoted field */
    check_gives_up("a,b\n1,2\nNA,4\n", &ro, &eo);             /* missing */
    check_gives_up("a,b\n1,2\n,4\n", &ro, &eo);               /* empty cell */
    check_gives_up("a,b\n1,2\nx,4\n", &ro, &eo);              /* text */
    check_gives_up("a,b\n1,2\n3\n", &ro, &eo);                /* too few fields */
    check_gives_up("a,b\n1,2\n3,4,5\n", &ro, &eo);            /* too many */
    check_gives_up("a,b\n1,2\n\n3,4\n", &ro, &eo);            /* blank line */
    check_gives_up("a,b\n1,2\n3,4\n\n", &ro, &eo);            /* blank line at the end */
    check_gives_up("a,b\n1,2\r3,4\n", &ro, &eo);              /* a lone CR */
    check_gives_up("a,b\n", &ro, &eo);                        /* no rows */
    check_gives_up("\n\na,b\n1,2\n", &ro, &eo);               /* blank lines before the header */
    char nul[] = "a,b\n1,2\n3,4\n";
    nul[9] = '\0';                                           /* "3\0" */
    temp_file f;
    write_file(&f, nul, sizeof nul - 1);
    const char *paths[1] = { f.path };
    both b = { 0 };
    cr_assert_eq(load_fast(&b, paths, 1, &ro, &eo, 1), 0);
    cr_assert_not(b.loaded, "loaded a file with a NUL byte");
    both_free(&b, 1);
    unlink(f.path);

    pann_encode_opts none = encode_opts(PANN_SCALE_NONE, NULL, false);
    check_gives_up("a,b\n1,2\n1e300,4\n", &ro, &none);        /* out of float's range */
    pann_encode_opts twice = encode_opts(PANN_SCALE_NONE, "a,a", false);
    check_gives_up("a,b\n1,2\n3,4\n", &ro, &twice);
    /* a quoted field over two lines, in a column not chosen: read as two
     * rows, each line would look plain */
    pann_encode_opts only_a = encode_opts(PANN_SCALE_NONE, "a", false);
    check_gives_up("a,b\n1,\"x\n2,y\"\n", &ro, &only_a);
    pann_encode_opts cat = encode_opts(PANN_SCALE_NONE, NULL, false);
    cat.categorical = "b";
    check_gives_up("a,b\n1,2\n3,4\n", &ro, &cat);
    pann_encode_opts unknown = encode_opts(PANN_SCALE_NONE, "zz", false);
    check_gives_up("a,b\n1,2\n3,4\n", &ro, &unknown);
    /* text columns: anything the general path might read otherwise */
    check_same_content("a,b\n1,inf\n2,0x10\n", &ro, &eo);   /* not finite, hex: texts */
    check_gives_up("a,b\n1,inf\n2,3\n", &ro, &eo);          /* then a number */
    check_gives_up("a,b\nx,2\n3,4\n", &ro, &eo);            /* a number in a text column */
    check_gives_up("a,b\nx,2\nNA,4\n", &ro, &eo);           /* missing */
    check_gives_up("a,b\nx,2\n y,4\n", &ro, &eo);           /* a blank at an edge */
    check_gives_up("a,b\nx,2\ny ,4\n", &ro, &eo);
    check_gives_up("a,b\n1,x\r\n2,y\r\n", &ro, &eo);        /* CRLF after a text */
    check_gives_up("a,b\nNA,2\ny,4\n", &ro, &eo);           /* first row missing */
    pann_encode_opts cosine = encode_opts(PANN_SCALE_NONE, NULL, true);
    check_gives_up("a,b\nx,2\ny,4\n", &ro, &cosine);
}

Test(load, gives_up_on_a_pipe)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    cr_assert_eq(write(fds[1], "a,b\n1,2\n3,4\n", 12), 12);
    close(fds[1]);
    char path[64];
    snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
    pann_read_opts ro = read_opts(',', true);
    pann_encode_opts eo = encode_opts(PANN_SCALE_NONE, NULL, false);
    both b = { 0 };
    pann_error err = { 0 };
    cr_assert_eq(pann_table_read_header(&b.fast[0], path, &ro, &err), 0, "%s", err.msg);
    cr_assert_eq(pann_load_numeric(b.fast, 1, &ro, &eo, 2, &b.fs, b.fm, &b.loaded, &err), 0);
    cr_assert_not(b.loaded);
    both_free(&b, 1);
    close(fds[0]);
}
