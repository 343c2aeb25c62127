/* fuzz_reader.c — libFuzzer harness for the input path every program shares:
 * arbitrary bytes are written to a temporary file and go through
 * pann_table_read, pann_columns_parse and pann_encode, with the read and
 * encode options taken from the first byte.  Any outcome is fine except a
 * sanitizer report, a crash or a leak; an accepted table must also encode
 * to finite values (the contract: an error, never an inf or NaN). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pann.h"

static char path[64];

static void make_temp(void)
{
    if (path[0])
        return;
    snprintf(path, sizeof path, "/tmp/fuzz_reader.XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    close(fd);
}

/* Differential: without keep_text a quote-free text is split in place, not
 * by libcsv; the table or the error must be the same. */
static void same_without_text(const pann_read_opts *ro, int rc, const pann_table *t,
                              const pann_error *err)
{
    pann_read_opts lean = *ro;
    lean.keep_text = false;
    pann_table u;
    pann_error lean_err = {0};
    int lean_rc = pann_table_read(&u, path, &lean, &lean_err);
    if (lean_rc != rc)
        abort();
    if (rc) {
        if (strcmp(err->msg, lean_err.msg) != 0)
            abort();
        return;
    }
    if (u.nrows != t->nrows || u.ncols != t->ncols)
        abort();
    for (size_t i = 0; i < t->nrows; i++) {
        if (u.row_line[i] != t->row_line[i])
            abort();
        for (size_t j = 0; j < t->ncols; j++)
            if (strcmp(pann_cell(&u, i, j), pann_cell(t, i, j)) != 0)
                abort();
    }
    pann_table_free(&u);
}

/* The numeric loader (load.c) either gives up or gives the general path's
 * schema and matrix bit for bit. */
static void same_when_loaded(const pann_read_opts *ro, const pann_encode_opts *eo,
                             const pann_schema *schema, const pann_matrix *m)
{
    pann_table header;
    pann_error err = {0};
    if (pann_table_read_header(&header, path, ro, &err) != 0)
        return;
    pann_schema fs;
    pann_matrix fm;
    bool loaded = false;
    if (pann_load_numeric(&header, 1, ro, eo, 2, &fs, &fm, &loaded, &err) != 0)
        abort();
    if (loaded) {
        if (fs.d != schema->d || fm.n != m->n || fm.d != m->d ||
            memcmp(fm.v, m->v, m->n * m->d * sizeof *m->v) != 0 ||
            memcmp(fs.center, schema->center, fs.d * sizeof *fs.center) != 0 ||
            memcmp(fs.scale, schema->scale, fs.d * sizeof *fs.scale) != 0)
            abort();   /* the two ways of reading a file disagree */
        pann_matrix_free(&fm);
        pann_schema_free(&fs);
    }
    pann_table_free(&header);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    make_temp();
    unsigned char flags = size ? data[0] : 0;
    FILE *fp = fopen(path, "wb");
    if (!fp || (size > 1 && fwrite(data + 1, 1, size - 1, fp) != size - 1))
        abort();
    fclose(fp);

    pann_read_opts ro;
    pann_read_opts_init(&ro);
    ro.delim = (flags & 3) == 1 ? '\t' : (flags & 3) == 2 ? ';' : (flags & 3) == 3 ? ' ' : ',';
    ro.header = !(flags & 4);
    pann_table t;
    pann_error err = {0};
    int rc = pann_table_read(&t, path, &ro, &err);
    same_without_text(&ro, rc, rc ? NULL : &t, &err);
    if (rc != 0)
        return 0;
    for (size_t i = 0; i < t.nrows; i++)        /* every cell is reachable */
        for (size_t j = 0; j < t.ncols; j++)
            (void)strlen(pann_cell(&t, i, j));
    size_t *idx = NULL, n = 0;
    if (pann_columns_parse(&t, (flags & 8) ? "1,2-" : "1", &idx, &n, &err) == 0)
        free(idx);

    pann_encode_opts eo;
    pann_encode_opts_init(&eo);
    eo.scale = (pann_scale)((flags >> 4) % 3);
    eo.missing = (pann_missing)((flags >> 6) % 3);
    eo.cosine = flags & 8;
    const pann_table *tables[1] = { &t };
    pann_schema schema;
    pann_matrix m;
    size_t dropped;
    if (pann_encode(tables, 1, &eo, &schema, &m, &dropped, &err) == 0) {
        for (size_t k = 0; k < m.n * m.d; k++)
            if (!isfinite(m.v[k]))
                abort();   /* an inf or NaN coordinate is a silent wrong number */
        same_when_loaded(&ro, &eo, &schema, &m);
        pann_matrix_free(&m);
        pann_schema_free(&schema);
    }
    pann_table_free(&t);
    return 0;
}
