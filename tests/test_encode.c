/* test_encode.c — unit tests of encode.c: missing values, the number parser,
 * column kinds decided over several tables, scaling from the reference,
 * missing-value policies, shared category codes and cosine normalisation.
 * Expected statistics are recomputed here by brute force from the values the
 * test wrote, never copied from the code under test. */
#include <criterion/criterion.h>
#include "tmpdir.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pann.h"

/* ---- helpers ----------------------------------------------------------- */

static void read_table(pann_table *t, const char *text)
{
    char path[TEST_PATH_MAX];
    test_tmp_path(path, "pann-encode-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    size_t len = strlen(text);
    cr_assert_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
    pann_error err = { 0 };
    int rc = pann_table_read(t, path, NULL, &err);
    unlink(path);
    cr_assert_eq(rc, 0, "%s", err.msg);
}

typedef struct fixture {
    pann_table tab[2];
    const pann_table *tables[2];
    size_t ntables;
    pann_schema schema;
    pann_matrix m[2];
    size_t dropped;
    pann_error err;
} fixture;

static int encode(fixture *f, const char *ref, const char *other,
                  const pann_encode_opts *o)
{
    read_table(&f->tab[0], ref);
    f->tables[0] = &f->tab[0];
    f->ntables = 1;
    if (other) {
        read_table(&f->tab[1], other);
        f->tables[1] = &f->tab[1];
        f->ntables = 2;
    }
    return pann_encode(f->tables, f->ntables, o, &f->schema, f->m, &f->dropped,
                       &f->err);
}

static void encode_ok(fixture *f, const char *ref, const char *other,
                      const pann_encode_opts *o)
{
    int rc = encode(f, ref, other, o);
    cr_assert_eq(rc, 0, "unexpected error: %s", f->err.msg);
}

/* The message expected, with %s standing for the display name of table t. */
static void encode_fails(fixture *f, const char *ref, const char *other,
                         const pann_encode_opts *o, size_t t, const char *fmt)
{
    int rc = encode(f, ref, other, o);
    cr_assert_eq(rc, 1, "status %d (%s)", rc, f->err.msg);
    char want[1200];
    snprintf(want, sizeof want, fmt, f->tab[t].display, f->tab[0].display);
    cr_assert_str_eq(f->err.msg, want);
    cr_assert_null(f->m[0].v, "no matrix is left after an error");
    cr_assert_eq(f->schema.d, 0);
}

static void fixture_free(fixture *f)
{
    pann_schema_free(&f->schema);
    for (size_t t = 0; t < f->ntables; t++) {
        pann_matrix_free(&f->m[t]);
        pann_table_free(&f->tab[t]);
    }
}

static float at(const pann_matrix *m, size_t i, size_t j)
{
    return pann_row(m, i)[j];
}

/* ---- values ------------------------------------------------------------ */

Test(values, missing)
{
    const char *yes[] = { "", "  ", "NA", "na", " nA ", "NaN", "nan", "NAN\t" };
    const char *no[] = { "N/A", "0", "NAN1", "-", "null", "n a" };
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        cr_assert(pann_is_missing(yes[i]), "'%s'", yes[i]);
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        cr_assert_not(pann_is_missing(no[i]), "'%s'", no[i]);
}

Test(values, numbers)
{
    struct { const char *s; double v; } good[] = {
        { "0", 0 }, { "-3.25", -3.25 }, { " 42 ", 42 }, { "+1e3", 1000 },
        { ".5", 0.5 }, { "1E-2", 0.01 }, { "7.", 7 },
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        double v = -999;
        cr_assert(pann_parse_number(good[i].s, &v), "'%s'", good[i].s);
        cr_assert_float_eq(v, good[i].v, 1e-12, "'%s'", good[i].s);
    }
    const char *bad[] = { "", " ", "abc", "1,234", "12abc", "inf", "-Infinity",
                          "nan", "1e400", "-1e999", "0x1p3", "0X10", "1 2", "--1",
                          "1.2.3", "e5" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        double v;
        cr_assert_not(pann_parse_number(bad[i], &v), "'%s'", bad[i]);
    }
}

/* The fast decimal path must give strtod's double, bit for bit, on every
 * form it accepts and hand everything else to strtod: random decimals of
 * every length and exponent, against strtod itself. */
Test(values, numbers_match_strtod)
{
    uint64_t state = 0x9e3779b97f4a7c15u;
    char text[64];
    for (int i = 0; i < 200000; i++) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        uint64_t r = state >> 11;
        int pos = 0;
        if (r & 1)
            text[pos++] = r & 2 ? '-' : '+';
        int before = (int)(r >> 2) % 12, after = (int)(r >> 6) % 12;
        for (int k = 0; k < before; k++)
            text[pos++] = (char)('0' + (r >> (10 + k)) % 10);
        if (r & (1u << 30) || before == 0) {
            text[pos++] = '.';
            for (int k = 0; k < after + (before == 0); k++)
                text[pos++] = (char)('0' + ((state >> (k * 3)) % 10));
        }
        if (r & (1u << 31))
            pos += snprintf(text + pos, sizeof text - (size_t)pos, "e%d",
                            (int)((r >> 32) % 61) - 30);
        text[pos] = '\0';
        char *end;
        double want = strtod(text, &end), got = 12345.0;
        bool ok = pann_parse_number(text, &got);
        bool want_ok = *end == '\0' && end != text && isfinite(want);
        cr_assert_eq(ok, want_ok, "'%s'", text);
        if (ok)
            cr_assert(memcmp(&got, &want, sizeof got) == 0, "'%s': %.17g vs strtod %.17g",
                      text, got, want);
    }
}

Test(values, matrix_alloc)
{
    pann_matrix m;
    pann_error err = { 0 };
    cr_assert_eq(pann_matrix_alloc(&m, 5, 3, &err), 0);
    cr_assert_eq((uintptr_t)m.v % 64, 0);
    for (size_t i = 0; i < 5; i++) {
        cr_assert_eq(m.row_id[i], i);
        for (size_t j = 0; j < 3; j++)
            cr_assert_eq(at(&m, i, j), 0.0f);
    }
    pann_matrix_free(&m);
    cr_assert_null(m.v);
}

/* ---- kinds ------------------------------------------------------------- */

Test(kinds, numeric_and_categorical)
{
    fixture f = { 0 };
    pann_encode_opts o;
    pann_encode_opts_init(&o);
    encode_ok(&f, "n,c,mostly_text\n1,red,a\n2.5,blue,b\n-4,red,3\n", NULL, &o);
    cr_assert_eq(f.schema.d, 3);
    cr_assert_eq(f.schema.kind[0], PANN_NUMERIC);
    cr_assert_eq(f.schema.kind[1], PANN_CATEGORICAL);
    cr_assert_eq(f.schema.kind[2], PANN_CATEGORICAL, "1 number in 3 is text");
    cr_assert_str_eq(f.schema.names[1], "c");
    cr_assert_float_eq(at(&f.m[0], 1, 0), 2.5f, 0);
    cr_assert_float_eq(at(&f.m[0], 2, 0), -4.0f, 0);
    cr_assert_eq(at(&f.m[0], 0, 1), 0.0f);
    cr_assert_eq(at(&f.m[0], 1, 1), 1.0f);
    cr_assert_eq(at(&f.m[0], 2, 1), 0.0f);
    cr_assert_eq(f.schema.ncat[2], 3);
    fixture_free(&f);
}

Test(kinds, mostly_numbers_is_an_error)
{
    fixture f = { 0 };
    pann_encode_opts o;
    pann_encode_opts_init(&o);
    encode_fails(&f, "id,x\n1,1\n2,2\n3,abc\n4,5\n", NULL, &o, 0,
                 "%s:4:2: 'abc' is not a number in numeric column 'x' "
                 "(use --categorical=x to treat the column as text)");
    fixture_free(&f);
}

Test(kinds, categorical_option_forces_text)
{
    fixture f = { 0 };
    pann_encode_opts o;
    pann_encode_opts_init(&o);
    o.categorical = "x";
    encode_ok(&f, "id,x\n1,10\n2,20\n3,10\n4,1e1\n", NULL, &o);
    cr_assert_eq(f.schema.kind[0], PANN_NUMERIC);
    cr_assert_eq(f.schema.kind[1], PANN_CATEGORICAL);
    cr_assert_eq(f.schema.ncat[1], 3, "'10' and '1e1' are different categories");
    cr_assert_str_eq(f.schema.cats[1][2], "1e1");
    cr_assert_eq(at(&f.m[0], 2, 1), 0.0f);
    cr_assert_eq(at(&f.m[0], 3, 1), 2.0f);
    fixture_free(&f);
}

Test(kinds, decided_over_both_tables)
{
    fixture f = { 0 };
    pann_encode_opts o;
    pann_encode_opts_init(&o);
    encode_fails(&f, "x\n1\n2\n3\n4\n", "x\n5\nfoo\n", &o, 1,
                 "%s:3:1: 'foo' is not a number in numeric column 'x' "
                 "(use --categorical=x to treat the column as text)");
    fixture_free(&f);
}

Test(kinds, numeric_in_one_file_text_in_other)
{
    fixture f = { 0 };
    pann_encode_opts o;
    pann_encode_opts_init(&o);
    encode_fails(&f, "x\n1\n2\n", "x\na\nb\nc\nd\ne\n", &o, 1,
                 "%s:2:1: 'a' is not a number, but column 'x' is numeric in %s "
                 "(use --categorical=x to treat the column as text)");
    fixture_free(&f);
    fixture g = { 0 };
    encode_fails(&g, "x\na\nb\nc\n", "x\n1\n2\n", &o, 1,
                 "%s:2:1: '1' is a number, but column 'x' is text in %s "
                 "(use --categorical=x to treat the column as text)");
    fixture_free(&g);
}

Test(kinds, column_without_values)
{
    fixture f = { 0 };
    pann_encode_opts o;
    pann_encode_opts_init(&o);
    o.missing = PANN_MISSING_DROP;
    encode_fails(&f, "a,b\n1,NA\n2,\n", NULL, &o, 0, "%s: column 2 ('b') has no values; leave it out with --columns");
    fixture_free(&f);
}

Test(kinds, chosen_columns_and_matching)
{
    fixture f = { 0 };
    pann_encode_opts o;
    pann_encode_opts_init(&o);
    o.columns = "c,a";
    encode_ok(&f, "a,b,c\n1,x,10\n2,y,20\n", "c,a,b\n30,3,z\n", &o);
    cr_assert_eq(f.schema.d, 2);
    cr_assert_str_eq(f.schema.names[0], "c");
    cr_assert_eq(at(&f.m[0], 1, 0), 20.0f);
    cr_assert_eq(at(&f.m[0], 1, 1), 2.0f);
    cr_assert_eq(at(&f.m[1], 0, 0), 30.0f);
    cr_assert_eq(at(&f.m[1], 0, 1), 3.0f);
    fixture_free(&f);
}

/* ---- scaling ----------------------------------------------------------- */

/* Brute-force mean, sample sd, min and max of v. */
static void stats(const double *v, size_t n, double *mean, double *sd,
                  double *lo, double *hi)
{
    double s = 0;
    *lo = *hi = v[0];
    for (size_t i = 0; i < n; i++) {
        s += v[i];
        *lo = fmin(*lo, v[i]);
        *hi = fmax(*hi, v[i]);
    }
    *mean = s / n;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (v[i] - *mean) * (v[i] - *mean);
    *sd = sqrt(ss / (n - 1));
}

static void check_scaling(pann_scale scale)
{
    enum { N = 50 };
    double ref[N], other[3] = { -7.5, 100, 0.125 };
    char text[N * 32 + 16], *p = text;
    p += sprintf(p, "v,k\n");
    srand(11);
    for (size_t i = 0; i < N; i++) {
        ref[i] = (rand() % 20001 - 10000) / 64.0;   /* exact in text */
        p += sprintf(p, "%.17g,4\n", ref[i]);
    }
    fixture f = { 0 };
    pann_encode_opts o;
    pann_encode_opts_init(&o);
    o.scale = scale;
    encode_ok(&f, text, "v,k\n-7.5,4\n100,4\n0.125,4\n", &o);
    double mean, sd, lo, hi, c = 0, s = 1;
    stats(ref, N, &mean, &sd, &lo, &hi);
    if (scale == PANN_SCALE_STD) {
        c = mean;
        s = sd;
    } else if (scale == PANN_SCALE_RANGE) {
        c = lo;
        s = hi - lo;
    }
    cr_assert_float_eq(f.schema.center[0], c, 1e-9 * (1 + fabs(c)));
    cr_assert_float_eq(f.schema.scale[0], s, 1e-9 * s);
    cr_assert_eq(f.schema.scale[1], 1.0, "constant column: scale 1");
    double k_center = scale == PANN_SCALE_NONE ? 0 : 4;
    cr_assert_eq(f.schema.center[1], k_center);
    for (size_t i = 0; i < N; i++) {
        float want = (float)((ref[i] - c) / s);
        cr_assert_float_eq(at(&f.m[0], i, 0), want, 1e-6 * (1 + fabsf(want)), "row %zu", i);
        cr_assert_eq(at(&f.m[0], i, 1), (float)(4 - k_center));
    }
    for (size_t i = 0; i < 3; i++) {
        float want = (float)((other[i] - c) / s);
        cr_assert_float_eq(at(&f.m[1], i, 0), want, 1e-6 * (1 + fabsf(want)), "other %zu", i);
    }
    fixture_free(&f);
}

Test(scaling, none) { check_scaling(PANN_SCALE_NONE); }
Test(scaling, std) { check_scaling(PANN_SCALE_STD); }
Test(scaling, range) { check_scaling(PANN_SCALE_RANGE); }

Test(scaling, constant_column_never_divides_by_zero)
{
    fixture f = { 0 };
    pann_encode_opts o;
    pann_encode_opts_init(&o);
    o.scale = PANN_SCALE_RANGE;
    encode_ok(&f, "k\n3\n3\n", "k\n5\n", &o);
    cr_assert_eq(f.schema.center[0], 3.0);
    cr_assert_eq(f.schema.scale[0], 1.0);
    cr_assert_eq(at(&f.m[1], 0, 0), 2.0f);
    fixture_free(&f);
}

/* ---- missing values ---------------------------------------------------- */

Test(missing, error_names_first_missing_cell)
{
    fixture f = { 0 };
    pann_encode_opts o;
    pann_encode_opts_init(&o);
    encode_fails(&f, "a,b,c\n1,2,3\n\n4,5,NA\n6,,7\n", NULL, &o, 0,
                 "%s:4:3: missing value in column 'c' "
                 "(use --missing=drop or --missing=impute)");
    fixture_free(&f);
}

Test(missing, drop_keeps_row_ids)
{
    fixture f = { 0 };
    pann_encode_opts o;
    pann_encode_opts_init(&o);
    o.missing = PANN_MISSING_DROP;
    encode_ok(&f, "a,b\n1,x\nNA,y\n3,x\n4,\n", "a,b\n,x\n6,y\n", &o);
    cr_assert_eq(f.dropped, 3);
    cr_assert_eq(f.m[0].n, 2);
    cr_assert_eq(f.m[0].row_id[0], 0);
    cr_assert_eq(f.m[0].row_id[1], 2);
    cr_assert_eq(at(&f.m[0], 1, 0), 3.0f);
    cr_assert_eq(f.m[1].n, 1);
    cr_assert_eq(f.m[1].row_id[0], 1);
    cr_assert_eq(at(&f.m[1], 0, 0), 6.0f);
    cr_assert_eq(at(&f.m[1], 0, 1), 1.0f, "'y' was second seen in the reference");
    fixture_free(&f);
}

Test(missing, impute_mean_and_mode)
{
    fixture f = { 0 };
    pann_encode_opts o;
    pann_encode_opts_init(&o);
    o.missing = PANN_MISSING_IMPUTE;
    o.scale = PANN_SCALE_RANGE;
    /* a: 2, 4, 9 -> mean 5, min 2, range 7; b: p, q, q, p -> tie, lowest code */
    encode_ok(&f, "a,b\n2,p\n4,q\nNA,q\n9,p\n", "a,b\n,\n", &o);
    cr_assert_eq(f.dropped, 0);
    float mean_enc = (float)((5.0 - 2.0) / 7.0);
    cr_assert_eq(at(&f.m[0], 2, 0), mean_enc);
    cr_assert_eq(at(&f.m[1], 0, 0), mean_enc);
    cr_assert_eq(at(&f.m[1], 0, 1), 0.0f, "p and q tie: the lower code wins");
    cr_assert_float_eq(f.schema.impute[0], 3.0 / 7.0, 1e-12);
    fixture_free(&f);
    fixture g = { 0 };
    encode_ok(&g, "b\nq\np\np\n\n", "b\nNA\nq\nq\nq\n", &o);
    cr_assert_eq(at(&g.m[1], 0, 0), 1.0f,
                 "p (code 1) is the most frequent in the reference, whatever the other file holds");
    fixture_free(&g);
}

/* ---- categories and cosine --------------------------------------------- */

Test(categories, codes_shared_across_tables)
{
    fixture f = { 0 };
    pann_encode_opts o;
    pann_encode_opts_init(&o);
    encode_ok(&f, "c\nb\na\nb\n", "c\nz\na\nb\nz\n", &o);
    const char *order[] = { "b", "a", "z" };
    cr_assert_eq(f.schema.ncat[0], 3);
    for (size_t k = 0; k < 3; k++)
        cr_assert_str_eq(f.schema.cats[0][k], order[k]);
    float want0[] = { 0, 1, 0 }, want1[] = { 2, 1, 0, 2 };
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(at(&f.m[0], i, 0), want0[i]);
    for (size_t i = 0; i < 4; i++)
        cr_assert_eq(at(&f.m[1], i, 0), want1[i]);
    cr_assert_eq(f.schema.center[0], 0.0);
    cr_assert_eq(f.schema.scale[0], 1.0);
    fixture_free(&f);
}

Test(categories, many_categories)
{
    enum { N = 5000 };
    char *text = malloc(N * 16 + 8), *p = text;
    p += sprintf(p, "id\n");
    for (size_t i = 0; i < N; i++)
        p += sprintf(p, "k%zu\n", (i * 7919) % (N / 2));
    fixture f = { 0 };
    pann_encode_opts o;
    pann_encode_opts_init(&o);
    encode_ok(&f, text, NULL, &o);
    cr_assert_eq(f.schema.ncat[0], N / 2);
    for (size_t i = 0; i < N; i++) {
        size_t code = (size_t)at(&f.m[0], i, 0);
        char want[32];
        snprintf(want, sizeof want, "k%zu", (i * 7919) % (N / 2));
        cr_assert_str_eq(f.schema.cats[0][code], want, "row %zu", i);
    }
    fixture_free(&f);
    free(text);
}

Test(cosine, rows_have_unit_norm)
{
    fixture f = { 0 };
    pann_encode_opts o;
    pann_encode_opts_init(&o);
    o.cosine = true;
    const double rows[][3] = { { 3, 4, 0 }, { 0, 0, 0 }, { -1, 2, 2 } };
    encode_ok(&f, "x,y,z\n3,4,0\n0,0,0\n-1,2,2\n", NULL, &o);
    for (size_t i = 0; i < 3; i++) {
        double norm = sqrt(rows[i][0] * rows[i][0] + rows[i][1] * rows[i][1] +
                           rows[i][2] * rows[i][2]);
        for (size_t j = 0; j < 3; j++) {
            float want = norm > 0 ? (float)(rows[i][j] / norm) : 0.0f;
            cr_assert_float_eq(at(&f.m[0], i, j), want, 1e-7, "row %zu col %zu", i, j);
        }
    }
    fixture_free(&f);
}

/* ---- wide tables: columns are parsed in groups ------------------------- */

/* A table of ncols columns c0, c1, ...: cell(i, j, buf) writes row i's cell
 * of column j.  The caller frees the text. */
static char *wide_table(size_t nrows, size_t ncols,
                        void (*cell)(size_t i, size_t j, char *buf))
{
    size_t cap = (nrows + 1) * ncols * 24 + 1, len = 0;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    for (size_t j = 0; j < ncols; j++)
        len += (size_t)snprintf(text + len, cap - len, "%sc%zu", j ? "," : "", j);
    for (size_t i = 0; i < nrows; i++) {
        text[len++] = '\n';
        for (size_t j = 0; j < ncols; j++) {
            char buf[24];
            cell(i, j, buf);
            len += (size_t)snprintf(text + len, cap - len, "%s%s", j ? "," : "", buf);
        }
    }
    text[len++] = '\n';
    text[len] = '\0';
    return text;
}

/* Every 10th column text (codes in order of first appearance: row i gets
 * i % 3), the others numbers, some padded with blanks. */
static void mixed_cell(size_t i, size_t j, char *buf)
{
    if (j % 10 == 7)
        snprintf(buf, 24, "k%zu", (i + j) % 3);
    else
        snprintf(buf, 24, i % 5 == 1 ? " %zu.5 " : "%zu.5", i * 100 + j);
}

/* 9000 rows (parsed in parallel) by 70 columns (groups cut at 32 and 64). */
Test(groups, wide_table_encodes_every_cell)
{
    enum { ROWS = 9000, COLS = 70 };
    char *text = wide_table(ROWS, COLS, mixed_cell);
    fixture f = { 0 };
    pann_encode_opts o;
    pann_encode_opts_init(&o);
    encode_ok(&f, text, NULL, &o);
    cr_assert_eq(f.schema.d, COLS);
    for (size_t j = 0; j < COLS; j++)
        cr_assert_eq(f.schema.kind[j], j % 10 == 7 ? PANN_CATEGORICAL : PANN_NUMERIC,
                     "column %zu", j);
    for (size_t i = 0; i < ROWS; i++)
        for (size_t j = 0; j < COLS; j++) {
            float want = j % 10 == 7 ? (float)(i % 3) : (float)((double)(i * 100 + j) + 0.5);
            cr_assert_eq(at(&f.m[0], i, j), want, "row %zu col %zu", i, j);
        }
    fixture_free(&f);
    free(text);
}

/* Missing cells in different groups drop their rows, and the rows kept keep
 * every column. */
static void sparse_missing_cell(size_t i, size_t j, char *buf)
{
    if ((i == 3 && j == 5) || (i == 7 && j == 50) || (i == 8 && j == 69))
        snprintf(buf, 24, "%s", i == 7 ? "NA" : " ");
    else
        snprintf(buf, 24, "%zu", i * 100 + j);
}

Test(groups, drop_across_groups)
{
    char *text = wide_table(10, 70, sparse_missing_cell);
    fixture f = { 0 };
    pann_encode_opts o;
    pann_encode_opts_init(&o);
    o.missing = PANN_MISSING_DROP;
    encode_ok(&f, text, NULL, &o);
    cr_assert_eq(f.dropped, 3);
    const size_t kept[] = { 0, 1, 2, 4, 5, 6, 9 };
    cr_assert_eq(f.m[0].n, 7);
    for (size_t k = 0; k < 7; k++) {
        cr_assert_eq(f.m[0].row_id[k], kept[k]);
        for (size_t j = 0; j < 70; j++)
            cr_assert_eq(at(&f.m[0], k, j), (float)(kept[k] * 100 + j));
    }
    fixture_free(&f);
    free(text);
}

/* Errors come column by column, as when columns were encoded one at a time:
 * field 34's range error (line 6) before field 35's text (line 3). */
static void late_errors_cell(size_t i, size_t j, char *buf)
{
    if (j == 34 && i == 1)
        snprintf(buf, 24, "abc");
    else if (j == 33 && i == 4)
        snprintf(buf, 24, "1e300");
    else
        snprintf(buf, 24, "%zu", i + j);
}

Test(groups, first_error_by_column)
{
    char *text = wide_table(6, 40, late_errors_cell);
    fixture f = { 0 };
    pann_encode_opts o;
    pann_encode_opts_init(&o);
    encode_fails(&f, text, NULL, &o, 0, "%s:6:34: value '1e300' is out of range once "
                 "scaled and encoded in single precision (column 'c33')");
    fixture_free(&f);
    free(text);
}

/* ---- a column as numbers (columns.c) ----------------------------------- */

Test(column_numbers, missing_cells_nan_skipped_or_located)
{
    pann_table t;
    read_table(&t, "a,b\n1.5,x\n\n NA ,2\n-3,y\n");
    double v[3];
    size_t n = 9;
    pann_error err = { 0 };
    cr_assert_eq(pann_column_numbers(&t, 0, PANN_CELLS_NAN, NULL, v, &n, &err), 0);
    cr_assert_eq(n, 3);
    cr_assert(v[0] == 1.5 && isnan(v[1]) && v[2] == -3);
    cr_assert_eq(pann_column_numbers(&t, 0, PANN_CELLS_SKIP, NULL, v, &n, &err), 0);
    cr_assert_eq(n, 2);
    cr_assert(v[0] == 1.5 && v[1] == -3);
    cr_assert_eq(pann_column_numbers(&t, 0, PANN_CELLS_FAIL, "why", v, &n, &err), PANN_EINPUT);
    cr_assert(strstr(err.msg, ":4:1: missing value in column 'a' (why)"), "%s", err.msg);
    cr_assert_eq(pann_column_numbers(&t, 1, PANN_CELLS_NAN, NULL, v, &n, &err), PANN_EINPUT);
    cr_assert(strstr(err.msg, ":2:2: 'x' is not a number (column 'b')"), "%s", err.msg);
    double x;
    cr_assert_eq(pann_cell_number(&t, 2, 1, false, "coordinates", &x, &err), PANN_EINPUT);
    cr_assert(strstr(err.msg, ":5:2: 'y' is not a number (coordinates)"), "%s", err.msg);
    cr_assert_eq(pann_cell_number(&t, 1, 1, false, NULL, &x, &err), 0);
    cr_assert_eq(x, 2);
    pann_table_free(&t);
}

/* ---- columns that hold a row index ------------------------------------- */

/* n rows: a shuffled index (7 * i mod n, distinct), a count with repeats,
 * a real value, an identifier text, a category with repeats, large whole
 * numbers 1 apart (an identifier too, but single precision cannot hold
 * them unscaled) and the index once more with one value repeated. */
static char *index_table(size_t n)
{
    size_t cap = 200 * (n + 1), len = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text + len, cap - len, ",count,x,id,kind,big,almost\n");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, "%zu,%zu,%.3f,c%zu,k%zu,%zu,%zu\n",
                                7 * i % n, i % 5, 0.5 + (double)i / 3.0, i, i % 3,
                                (size_t)1000000000 + i, i == 3 ? 0 : 7 * i % n);
    return text;
}

static void expect_index_like(size_t n, pann_scale scale, const bool *want)
{
    fixture f = { 0 };
    pann_encode_opts o;
    pann_encode_opts_init(&o);
    o.scale = scale;
    char *text = index_table(n);
    encode_ok(&f, text, NULL, &o);
    for (size_t j = 0; j < f.schema.d; j++)
        cr_assert_eq(pann_column_is_index_like(&f.schema, &f.m[0], j), want[j],
                     "%zu rows, scale %d, column %zu ('%s')", n, scale, j, f.schema.names[j]);
    fixture_free(&f);
    free(text);
}

Test(columns, index_and_identifier_columns_are_told_apart)
{
    /* 7 * i mod n is a permutation when n is not a multiple of 7 */
    const bool none[7] = { false };
    for (int scale = PANN_SCALE_NONE; scale <= PANN_SCALE_RANGE; scale++) {
        const bool want[] = { true, false, false, true, false, scale != PANN_SCALE_NONE, false };
        expect_index_like(20, (pann_scale)scale, want);
        expect_index_like(1000, (pann_scale)scale, want);
        expect_index_like(19, (pann_scale)scale, none);   /* too few rows to say */
    }
}
