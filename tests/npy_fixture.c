/* npy_fixture.c — .npy test files written by hand, without numpy, and
 * .npy files read back as text.
 *
 *   npy_fixture matrix OUT.npy OUT.csv ROWS COLS f4|f8 MAJOR SEED [NAN_AT]
 *       a ROWS x COLS matrix of values k/8 - 40 (k from a seeded LCG,
 *       exact in float32 and in decimal), as .npy (version MAJOR.0) and as
 *       CSV with a header c1,c2,...; NAN_AT = R,C puts a NaN at 1-based row
 *       R, column C of the .npy file.
 *   npy_fixture raw OUT.npy MAJOR MINOR HEADER DATA_BYTES
 *       the magic, version MAJOR.MINOR, HEADER's length and text as given
 *       (a newline added), then DATA_BYTES zero bytes: hostile headers.
 *   npy_fixture dump FILE.npy
 *       a '<f4' or '<i8' array, 1-D or 2-D, as CSV lines (%.9g, %lld).
 *
 * The header is written as numpy 1.x writes it: the dictionary, spaces to
 * a multiple of 64 bytes, a newline. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what)
{
    fprintf(stderr, "npy_fixture: %s\n", what);
    return 2;
}

static void write_prefix(FILE *fp, unsigned major, unsigned minor, size_t hlen)
{
    fwrite("\x93NUMPY", 1, 6, fp);
    fputc((int)major, fp);
    fputc((int)minor, fp);
    fputc((int)(hlen & 0xff), fp);
    fputc((int)((hlen >> 8) & 0xff), fp);
    if (major > 1) {
        fputc((int)((hlen >> 16) & 0xff), fp);
        fputc((int)((hlen >> 24) & 0xff), fp);
    }
}

/* The dictionary padded as numpy pads it, then the newline. */
static void write_header(FILE *fp, unsigned major, const char *dict)
{
    size_t pre = major > 1 ? 12 : 10, len = strlen(dict);
    size_t total = (pre + len + 1 + 63) / 64 * 64;
    write_prefix(fp, major, 0, total - pre);
    fputs(dict, fp);
    for (size_t k = pre + len; k + 1 < total; k++)
        fputc(' ', fp);
    fputc('\n', fp);
}

static int matrix(int argc, char **argv)
{
    if (argc < 9)
        return fail("matrix OUT.npy OUT.csv ROWS COLS f4|f8 MAJOR SEED [R,C]");
    size_t rows = strtoul(argv[4], NULL, 10), cols = strtoul(argv[5], NULL, 10);
    int f8 = strcmp(argv[6], "f8") == 0;
    unsigned major = (unsigned)strtoul(argv[7], NULL, 10);
    uint64_t state = strtoull(argv[8], NULL, 10) * 2654435761u + 1;
    size_t nan_r = 0, nan_c = 0;
    if (argc > 9 && sscanf(argv[9], "%zu,%zu", &nan_r, &nan_c) != 2)
        return fail("NAN_AT is R,C");
    FILE *npy = fopen(argv[2], "wb"), *csv = fopen(argv[3], "w");
    if (!npy || !csv)
        return fail("cannot write the outputs");
    char dict[128];
    snprintf(dict, sizeof dict, "{'descr': '<f%c', 'fortran_order': False, 'shape': (%zu, %zu), }",
             f8 ? '8' : '4', rows, cols);
    write_header(npy, major, dict);
    for (size_t j = 0; j < cols; j++)
        fprintf(csv, "%sc%zu", j ? "," : "", j + 1);
    fputc('\n', csv);
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            state = state * 6364136223846793005u + 1442695040888963407u;
            double v = (double)((state >> 33) % 641) / 8 - 40;
            fprintf(csv, "%.17g%c", v, j + 1 < cols ? ',' : '\n');
            if (i + 1 == nan_r && j + 1 == nan_c)
                v = strtod("nan", NULL);
            if (f8) {
                fwrite(&v, sizeof v, 1, npy);
            } else {
                float x = (float)v;
                fwrite(&x, sizeof x, 1, npy);
            }
        }
    return fclose(npy) || fclose(csv) ? fail("write error") : 0;
}

static int raw(int argc, char **argv)
{
    if (argc < 7)
        return fail("raw OUT.npy MAJOR MINOR HEADER DATA_BYTES");
    FILE *fp = fopen(argv[2], "wb");
    if (!fp)
        return fail("cannot write the output");
    unsigned major = (unsigned)strtoul(argv[3], NULL, 10);
    write_prefix(fp, major, (unsigned)strtoul(argv[4], NULL, 10), strlen(argv[5]) + 1);
    fputs(argv[5], fp);
    fputc('\n', fp);
    for (size_t k = strtoul(argv[6], NULL, 10); k > 0; k--)
        fputc(0, fp);
    return fclose(fp) ? fail("write error") : 0;
}

/* The shape (R, C) or (R,) from the header text. */
static int dump(int argc, char **argv)
{
    if (argc < 3)
        return fail("dump FILE.npy");
    FILE *fp = fopen(argv[2], "rb");
    unsigned char pre[10];
    if (!fp || fread(pre, 1, 10, fp) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0 || pre[6] != 1)
        return fail("not a version 1.0 .npy file");
    size_t hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    char *h = calloc(hlen + 1, 1);
    if (!h || fread(h, 1, hlen, fp) != hlen)
        return fail("short header");
    size_t rows = 0, cols = 0;
    const char *shape = strstr(h, "'shape': (");
    int f4 = strstr(h, "'<f4'") != NULL;
    if (!shape || (!f4 && !strstr(h, "'<i8'")))
        return fail("not a '<f4' or '<i8' array");
    int dims = sscanf(shape + 10, "%zu, %zu", &rows, &cols);
    if (dims < 2 || cols == 0)
        cols = 1;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            float x;
            int64_t v;
            if (f4 ? fread(&x, sizeof x, 1, fp) != 1 : fread(&v, sizeof v, 1, fp) != 1)
                return fail("short data");
            if (f4)
                printf("%.9g%c", x, j + 1 < cols ? ',' : '\n');
            else
                printf("%" PRId64 "%c", v, j + 1 < cols ? ',' : '\n');
        }
    free(h);
    return fclose(fp) ? fail("read error") : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return fail("matrix|raw|dump ...");
    if (strcmp(argv[1], "matrix") == 0)
        return matrix(argc, argv);
    if (strcmp(argv[1], "raw") == 0)
        return raw(argc, argv);
    if (strcmp(argv[1], "dump") == 0)
        return dump(argc, argv);
    return fail("matrix|raw|dump ...");
}
