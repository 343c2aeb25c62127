/* test_synth.c — the NoGAN synthesizer against an independent recomputation
 * of the bins and boxes (sorting, string keys, linear search: none of the
 * library's hashing or binary search): every synthetic row lies in a
 * non-empty real box, box frequencies converge to the real ones, the real
 * counts are reproduced exactly, the seed fixes every byte; a flag and a
 * small-integer column keep their values and shares (tallied while the
 * fixture is written); the empirical draw follows a skewed column inside
 * one bin; the automatic bins and their cap. */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"

/* A real table: a (integers, many ties), b (2 decimals, correlated with a),
 * c (categories, one with a comma), e (exponent notation, some NA), k (a
 * constant column). */
static char *real_csv(size_t n, unsigned long seed)
{
    char *buf;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, seed);
    static const char *cats[] = { "red", "green", "\"blue, dark\"" };
    fputs("a,b,c,e,k\n", f);
    for (size_t i = 0; i < n; i++) {
        int a = (int)gsl_rng_uniform_int(rng, 20);
        double b = 0.5 * a + gsl_ran_gaussian(rng, 2.0);
        fprintf(f, "%d,%.2f,%s,", a, b, cats[gsl_rng_uniform_int(rng, 3)]);
        if (gsl_rng_uniform(rng) < 0.1)
            fputs("NA", f);
        else
            fprintf(f, "%.3e", gsl_ran_exponential(rng, 1e-3));
        fputs(",7\n", f);
    }
    gsl_rng_free(rng);
    fclose(f);
    return buf;
}

static void read_text(pann_table *t, const char *text)
{
    char path[] = "/tmp/test_synth.XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    pann_read_opts o;
    pann_read_opts_init(&o);
    pann_error err;
    cr_assert_eq(pann_table_read(t, path, &o, &err), 0, "%s", err.msg);
    unlink(path);
}

typedef struct model_fixture {
    pann_table real;
    pann_synth_model m;
    size_t bins[5];
} model_fixture;

static void fit(model_fixture *f, size_t n, unsigned long seed, size_t nbins)
{
    char *text = real_csv(n, seed);
    read_text(&f->real, text);
    free(text);
    size_t cols[5] = { 0, 1, 2, 3, 4 };
    for (int j = 0; j < 5; j++)
        f->bins[j] = nbins;
    pann_error err;
    cr_assert_eq(pann_synth_fit(&f->real, cols, 5, f->bins, NULL, &f->m, &err), 0, "%s", err.msg);
}

static char *generate(const pann_synth_model *m, size_t rows, uint64_t seed, pann_synth_counts counts,
                      pann_synth_draw draw)
{
    pann_synth_opts o;
    pann_synth_opts_init(&o);
    o.rows = rows;
    o.seed = seed;
    o.counts = counts;
    o.draw = draw;
    char *buf;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    pann_error err;
    cr_assert_eq(pann_synth_generate(m, &o, ',', f, NULL, &err), 0, "%s", err.msg);
    fclose(f);
    return buf;
}

/* ---- the independent recomputation ---------------------------------------- */

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Edges of a numeric column of the real table: sorted values at ranks
 * floor(i n / bins), the maximum last, repeated values removed. */
static size_t ref_edges(const pann_table *t, size_t col, size_t bins, double *edges)
{
    double *v = malloc(t->nrows * sizeof *v);
    size_t n = 0, ne = 0;
    for (size_t i = 0; i < t->nrows; i++)
        if (strcmp(pann_cell(t, i, col), "NA") != 0)
            v[n++] = strtod(pann_cell(t, i, col), NULL);
    qsort(v, n, sizeof *v, cmp_d);
    for (size_t i = 0; i <= bins; i++) {
        double e = i == bins ? v[n - 1] : v[i * n / bins];
        if (ne == 0 || e != edges[ne - 1])
            edges[ne++] = e;
    }
    free(v);
    return ne;
}

typedef struct ref_boxes {
    double edges[4][64];
    size_t nedges[4];
    char **keys;             /* distinct real keys */
    size_t *count;
    size_t nkeys;
} ref_boxes;

static const size_t numeric_cols[4] = { 0, 1, 3, 4 };

/* The key of a row as text: for each numeric column the bin number by a
 * linear scan ("m" for missing, "x" outside), then the category text. */
static void ref_key(const ref_boxes *rb, const pann_table *t, size_t row, char *key)
{
    key[0] = 0;
    for (int j = 0; j < 4; j++) {
        const char *s = pann_cell(t, row, numeric_cols[j]);
        const double *e = rb->edges[j];
        size_t ne = rb->nedges[j];
        char part[32];
        if (strcmp(s, "NA") == 0) {
            strcpy(part, "m");
        } else {
            double x = strtod(s, NULL);
            long bin = -1;
            if (ne == 1 && x == e[0])
                bin = 0;
            for (size_t i = 0; ne > 1 && i + 1 < ne && bin < 0; i++) {
                bool last = i + 2 == ne;
                if (x >= e[i] && (x < e[i + 1] || (last && x <= e[i + 1])))
                    bin = (long)i;
            }
            if (bin < 0)
                strcpy(part, "x");
            else
                snprintf(part, sizeof part, "%ld", bin);
        }
        strcat(key, part);
        strcat(key, "|");
    }
    strcat(key, pann_cell(t, row, 2));
}

static size_t ref_find(const ref_boxes *rb, const char *key)
{
    for (size_t b = 0; b < rb->nkeys; b++)
        if (strcmp(rb->keys[b], key) == 0)
            return b;
    return SIZE_MAX;
}

static void ref_build(ref_boxes *rb, const pann_table *t, size_t bins)
{
    memset(rb, 0, sizeof *rb);
    for (int j = 0; j < 4; j++)
        rb->nedges[j] = ref_edges(t, numeric_cols[j], bins, rb->edges[j]);
    rb->keys = malloc(t->nrows * sizeof *rb->keys);
    rb->count = calloc(t->nrows, sizeof *rb->count);
    char key[256];
    for (size_t i = 0; i < t->nrows; i++) {
        ref_key(rb, t, i, key);
        size_t b = ref_find(rb, key);
        if (b == SIZE_MAX) {
            b = rb->nkeys++;
            rb->keys[b] = strdup(key);
        }
        rb->count[b]++;
    }
}

static void ref_free(ref_boxes *rb)
{
    for (size_t b = 0; b < rb->nkeys; b++)
        free(rb->keys[b]);
    free(rb->keys);
    free(rb->count);
}

/* Synthetic rows per real box; a row outside every box fails the test. */
static void synth_counts(const ref_boxes *rb, const pann_table *s, size_t *count)
{
    char key[256];
    memset(count, 0, rb->nkeys * sizeof *count);
    for (size_t i = 0; i < s->nrows; i++) {
        ref_key(rb, s, i, key);
        size_t b = ref_find(rb, key);
        cr_assert_neq(b, SIZE_MAX, "synthetic row %zu (%s) is in no real box", i + 1, key);
        count[b]++;
    }
}

/* ---- tests ----------------------------------------------------------------- */

Test(synth, model_boxes_match_independent_recomputation)
{
    model_fixture f;
    fit(&f, 2000, 11, 5);
    ref_boxes rb;
    ref_build(&rb, &f.real, 5);
    cr_assert_eq(f.m.nboxes, rb.nkeys);
    size_t total = 0;
    for (size_t b = 0; b < rb.nkeys; b++)
        total += rb.count[b];
    cr_assert_eq(total, 2000);
    /* The library's box of every real row has the reference's count. */
    uint32_t key[5];
    char rkey[256];
    for (size_t i = 0; i < f.real.nrows; i++) {
        for (size_t j = 0; j < 5; j++)
            key[j] = pann_synth_code(&f.m, j, pann_cell(&f.real, i, j));
        size_t b = pann_synth_box(&f.m, key);
        cr_assert_neq(b, SIZE_MAX);
        ref_key(&rb, &f.real, i, rkey);
        cr_assert_eq(f.m.count[b], rb.count[ref_find(&rb, rkey)]);
    }
    ref_free(&rb);
    pann_synth_free(&f.m);
    pann_table_free(&f.real);
}

Test(synth, every_synthetic_row_in_a_nonempty_real_box)
{
    model_fixture f;
    fit(&f, 1500, 12, 4);
    ref_boxes rb;
    ref_build(&rb, &f.real, 4);
    for (int draw = 0; draw < 3; draw++) {
        char *text = generate(&f.m, 20000, 5, PANN_SYNTH_MULTINOMIAL, (pann_synth_draw)draw);
        pann_table s;
        read_text(&s, text);
        cr_assert_eq(s.nrows, 20000);
        cr_assert_str_eq(s.colnames[2], "c");
        size_t *count = malloc(rb.nkeys * sizeof *count);
        synth_counts(&rb, &s, count);
        /* decimals as in the real columns: integers stay integers */
        for (size_t i = 0; i < s.nrows; i++) {
            cr_assert_null(strchr(pann_cell(&s, i, 0), '.'));
            const char *dot = strchr(pann_cell(&s, i, 1), '.');
            cr_assert(dot && strlen(dot) == 3, "b = %s", pann_cell(&s, i, 1));
            cr_assert_str_eq(pann_cell(&s, i, 4), "7");
        }
        free(count);
        pann_table_free(&s);
        free(text);
    }
    ref_free(&rb);
    pann_synth_free(&f.m);
    pann_table_free(&f.real);
}

static double total_variation(const ref_boxes *rb, const size_t *count, size_t nreal, size_t nsynth)
{
    double tv = 0;
    for (size_t b = 0; b < rb->nkeys; b++)
        tv += fabs((double)rb->count[b] / nreal - (double)count[b] / nsynth);
    return tv / 2;
}

Test(synth, box_frequencies_converge_to_the_real_ones)
{
    model_fixture f;
    fit(&f, 3000, 13, 4);
    ref_boxes rb;
    ref_build(&rb, &f.real, 4);
    size_t sizes[] = { 1000, 20000, 200000 };
    double tv[3];
    size_t *count = malloc(rb.nkeys * sizeof *count);
    for (int k = 0; k < 3; k++) {
        char *text = generate(&f.m, sizes[k], 21, PANN_SYNTH_MULTINOMIAL, PANN_SYNTH_UNIFORM);
        pann_table s;
        read_text(&s, text);
        synth_counts(&rb, &s, count);
        tv[k] = total_variation(&rb, count, f.real.nrows, s.nrows);
        pann_table_free(&s);
        free(text);
    }
    cr_assert(tv[0] > tv[1] && tv[1] > tv[2], "TV %g %g %g", tv[0], tv[1], tv[2]);
    cr_assert_lt(tv[2], 0.02, "TV at 200k rows = %g", tv[2]);
    free(count);
    ref_free(&rb);
    pann_synth_free(&f.m);
    pann_table_free(&f.real);
}

Test(synth, real_counts_are_reproduced_exactly)
{
    model_fixture f;
    fit(&f, 800, 14, 3);
    ref_boxes rb;
    ref_build(&rb, &f.real, 3);
    char *text = generate(&f.m, 0, 3, PANN_SYNTH_REAL, PANN_SYNTH_UNIFORM);
    pann_table s;
    read_text(&s, text);
    cr_assert_eq(s.nrows, 800);
    size_t *count = malloc(rb.nkeys * sizeof *count);
    synth_counts(&rb, &s, count);
    for (size_t b = 0; b < rb.nkeys; b++)
        cr_assert_eq(count[b], rb.count[b], "box %s", rb.keys[b]);
    free(count);
    pann_table_free(&s);
    free(text);
    ref_free(&rb);
    pann_synth_free(&f.m);
    pann_table_free(&f.real);
}

Test(synth, gaussian_draw_concentrates_at_the_centre)
{
    /* One numeric column with 1 bin [0, 1000]: the uniform draw has sd
     * 1000/sqrt(12) = 289; the truncated Gaussian with sd 250 less. */
    char text[64 * 1024] = "v\n";
    for (int i = 0; i <= 1000; i += 10)
        sprintf(text + strlen(text), "%d\n", i);
    pann_table t;
    read_text(&t, text);
    size_t col = 0, bins = 1;
    pann_synth_model m;
    pann_error err;
    cr_assert_eq(pann_synth_fit(&t, &col, 1, &bins, NULL, &m, &err), 0);
    double sd[2];
    for (int draw = 0; draw < 2; draw++) {
        char *out = generate(&m, 20000, 9, PANN_SYNTH_MULTINOMIAL, (pann_synth_draw)draw);
        pann_table s;
        read_text(&s, out);
        double sum = 0, sum2 = 0;
        for (size_t i = 0; i < s.nrows; i++) {
            double x = strtod(pann_cell(&s, i, 0), NULL);
            cr_assert(x >= 0 && x <= 1000);
            sum += x;
            sum2 += x * x;
        }
        double mean = sum / s.nrows;
        sd[draw] = sqrt(sum2 / s.nrows - mean * mean);
        cr_assert_lt(fabs(mean - 500), 10, "mean %g", mean);
        pann_table_free(&s);
        free(out);
    }
    cr_assert_lt(fabs(sd[0] - 1000 / sqrt(12)), 5, "uniform sd %g", sd[0]);
    cr_assert_lt(sd[1], 250, "gaussian sd %g", sd[1]);
    pann_synth_free(&m);
    pann_table_free(&t);
}

Test(synth, same_seed_same_bytes_other_seed_other_rows)
{
    model_fixture f;
    fit(&f, 500, 15, 4);
    char *a = generate(&f.m, 3000, 77, PANN_SYNTH_MULTINOMIAL, PANN_SYNTH_UNIFORM);
    char *b = generate(&f.m, 3000, 77, PANN_SYNTH_MULTINOMIAL, PANN_SYNTH_UNIFORM);
    char *c = generate(&f.m, 3000, 78, PANN_SYNTH_MULTINOMIAL, PANN_SYNTH_UNIFORM);
    cr_assert_str_eq(a, b);
    cr_assert_str_neq(a, c);
    free(a);
    free(b);
    free(c);
    pann_synth_free(&f.m);
    pann_table_free(&f.real);
}

Test(synth, bins_spec)
{
    model_fixture f;
    fit(&f, 100, 16, 4);
    size_t cols[3] = { 0, 1, 3 }, bins[3];
    pann_error err;
    cr_assert_eq(pann_synth_parse_bins(&f.real, cols, 3, "6,b:3,4:2", bins, &err), 0, "%s", err.msg);
    cr_assert(bins[0] == 6 && bins[1] == 3 && bins[2] == 2);
    cr_assert_eq(pann_synth_parse_bins(&f.real, cols, 3, NULL, bins, &err), 0);
    cr_assert(bins[0] == PANN_SYNTH_AUTO_BINS && bins[2] == PANN_SYNTH_AUTO_BINS);
    cr_assert_eq(pann_synth_parse_bins(&f.real, cols, 3, "c:3", bins, &err), PANN_EINPUT);
    cr_assert_eq(pann_synth_parse_bins(&f.real, cols, 3, "b:0", bins, &err), PANN_EINPUT);
    cr_assert_eq(pann_synth_parse_bins(&f.real, cols, 3, "b:x", bins, &err), PANN_EINPUT);
    pann_synth_free(&f.m);
    pann_table_free(&f.real);
}

/* ---- discrete columns, the empirical draw, automatic bins ------------------ */

/* flag: 0/1 with P(1) = 0.27; count: 0..5 with shares 40/25/15/10/6/4 %,
 * larger when flag is 1; x: a continuous column.  tally[0..1] and
 * tally[2..7] receive the real counts of the flag's and count's values. */
static char *discrete_csv(size_t n, unsigned long seed, size_t *tally)
{
    char *buf;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, seed);
    static const double share[6] = { 0.40, 0.25, 0.15, 0.10, 0.06, 0.04 };
    memset(tally, 0, 8 * sizeof *tally);
    fputs("flag,count,x\n", f);
    for (size_t i = 0; i < n; i++) {
        int flag = gsl_rng_uniform(rng) < 0.27;
        double u = gsl_rng_uniform(rng), acc = 0;
        int k = 0;
        while (k < 5 && u >= (acc += share[k]))
            k++;
        if (flag && k < 5 && gsl_rng_uniform(rng) < 0.3)
            k++;
        tally[flag]++;
        tally[2 + k]++;
        fprintf(f, "%d,%d,%.4f\n", flag, k, k + gsl_ran_gaussian(rng, 1.0));
    }
    gsl_rng_free(rng);
    fclose(f);
    return buf;
}

/* Counts of the synthetic flag and count values; any other text fails. */
static void synth_tally(const pann_table *s, size_t *tally)
{
    memset(tally, 0, 8 * sizeof *tally);
    for (size_t i = 0; i < s->nrows; i++) {
        const char *flag = pann_cell(s, i, 0), *count = pann_cell(s, i, 1);
        cr_assert(strcmp(flag, "0") == 0 || strcmp(flag, "1") == 0, "flag = '%s'", flag);
        cr_assert(strlen(count) == 1 && count[0] >= '0' && count[0] <= '5', "count = '%s'", count);
        tally[flag[0] - '0']++;
        tally[2 + count[0] - '0']++;
    }
}

static void fit_discrete(pann_table *t, pann_synth_model *m, size_t n, const size_t *bins,
                         size_t *tally)
{
    char *text = discrete_csv(n, 31, tally);
    read_text(t, text);
    free(text);
    size_t cols[3] = { 0, 1, 2 };
    pann_error err;
    cr_assert_eq(pann_synth_fit(t, cols, 3, bins, NULL, m, &err), 0, "%s", err.msg);
}

Test(synth, flag_and_small_integer_keep_their_values_and_shares)
{
    const size_t n = 3000;
    size_t four[3] = { 4, 4, 4 }, real[8], got[8];
    const size_t *settings[2] = { NULL, four };    /* automatic bins, and 4 bins */
    for (int k = 0; k < 2; k++) {
        pann_table t;
        pann_synth_model m;
        fit_discrete(&t, &m, n, settings[k], real);
        cr_assert(m.cols[0].discrete && m.cols[1].discrete && !m.cols[2].discrete);
        cr_assert_eq(m.cols[0].nbins, 2, "the flag has one bin per value");
        /* default counts, as many rows as the real table: the flag is its own
         * bin, so its counts are exactly the real ones */
        char *text = generate(&m, n, 3, PANN_SYNTH_PROPORTIONAL, PANN_SYNTH_EMPIRICAL);
        pann_table s;
        read_text(&s, text);
        synth_tally(&s, got);
        cr_assert(got[0] == real[0] && got[1] == real[1], "flag %zu/%zu, real %zu/%zu",
                  got[0], got[1], real[0], real[1]);
        pann_table_free(&s);
        free(text);
        /* multinomial counts, 60000 rows, every draw mode: every value of
         * count keeps its share within 5 standard errors */
        for (int draw = 0; draw < 3; draw++) {
            size_t rows = 60000;
            text = generate(&m, rows, 7, PANN_SYNTH_MULTINOMIAL, (pann_synth_draw)draw);
            read_text(&s, text);
            synth_tally(&s, got);
            for (int v = 0; v < 8; v++) {
                double p = (double)real[v] / n, q = (double)got[v] / rows;
                double se = sqrt(p * (1 - p) / rows + p * (1 - p) / n);
                cr_assert_lt(fabs(p - q), 5 * se, "bins %s, draw %d, value %d: real %g, synthetic %g",
                             k ? "4" : "auto", draw, v, p, q);
            }
            pann_table_free(&s);
            free(text);
        }
        pann_synth_free(&m);
        pann_table_free(&t);
    }
}

/* KS between the sorted samples a[0..na) and b[0..nb). */
static double ks_1d(double *a, size_t na, double *b, size_t nb)
{
    qsort(a, na, sizeof *a, cmp_d);
    qsort(b, nb, sizeof *b, cmp_d);
    double ks = 0;
    for (size_t i = 0, j = 0; i < na || j < nb;) {
        double x = i < na && (j >= nb || a[i] <= b[j]) ? a[i] : b[j];
        while (i < na && a[i] <= x)
            i++;
        while (j < nb && b[j] <= x)
            j++;
        double dlt = fabs((double)i / na - (double)j / nb);
        ks = dlt > ks ? dlt : ks;
    }
    return ks;
}

Test(synth, empirical_draw_follows_a_skewed_column_inside_one_bin)
{
    /* 2000 exponential values, one bin: the empirical draw follows them, the
     * uniform one spreads them evenly from the minimum to the maximum. */
    char *text = malloc(64 * 2001);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 4);
    double real[2000];
    strcpy(text, "v\n");
    for (int i = 0; i < 2000; i++) {
        real[i] = gsl_ran_exponential(rng, 1.0);
        sprintf(text + strlen(text), "%.17g\n", real[i]);
    }
    gsl_rng_free(rng);
    pann_table t;
    read_text(&t, text);
    free(text);
    size_t col = 0, bins = 1;
    pann_synth_model m;
    pann_error err;
    cr_assert_eq(pann_synth_fit(&t, &col, 1, &bins, NULL, &m, &err), 0);
    cr_assert(!m.cols[0].discrete);
    double ks[2];
    pann_synth_draw draws[2] = { PANN_SYNTH_EMPIRICAL, PANN_SYNTH_UNIFORM };
    for (int k = 0; k < 2; k++) {
        char *out = generate(&m, 20000, 5, PANN_SYNTH_PROPORTIONAL, draws[k]);
        pann_table s;
        read_text(&s, out);
        double *v = malloc(s.nrows * sizeof *v), copy[2000];
        for (size_t i = 0; i < s.nrows; i++)
            v[i] = strtod(pann_cell(&s, i, 0), NULL);
        memcpy(copy, real, sizeof copy);
        ks[k] = ks_1d(copy, 2000, v, s.nrows);
        free(v);
        pann_table_free(&s);
        free(out);
    }
    cr_assert_lt(ks[0], 0.03, "empirical KS %g", ks[0]);
    cr_assert_gt(ks[1], 0.5, "uniform KS %g", ks[1]);
    pann_synth_free(&m);
    pann_table_free(&t);
}

Test(synth, automatic_bins)
{
    cr_assert_eq(pann_synth_auto_bins(3516, 3436), 15);
    cr_assert_eq(pann_synth_auto_bins(1000, 69), 10);
    cr_assert_eq(pann_synth_auto_bins(3516, 2), 2);
    cr_assert_eq(pann_synth_auto_bins(1, 1), 1);
    cr_assert(pann_synth_is_discrete(10, 2) && pann_synth_is_discrete(3516, 72));
    cr_assert(!pann_synth_is_discrete(3516, 1285) && !pann_synth_is_discrete(10, 3));
    /* The standard fixture at 2000 rows: round(2000^(1/3)) = 13 bins would
     * leave most boxes with a single row, so the bins are capped at the
     * largest count that does not (the reference boxes say which). */
    model_fixture f;
    char *text = real_csv(2000, 17);
    read_text(&f.real, text);
    free(text);
    size_t cols[5] = { 0, 1, 2, 3, 4 };
    pann_error err;
    cr_assert_eq(pann_synth_fit(&f.real, cols, 5, NULL, NULL, &f.m, &err), 0, "%s", err.msg);
    size_t cap = f.m.auto_cap;
    cr_assert(cap >= 2 && cap < 13, "cap %zu", cap);
    for (size_t b = cap; b <= cap + 1; b++) {
        ref_boxes rb;
        ref_build(&rb, &f.real, b);
        size_t singles = 0;
        for (size_t k = 0; k < rb.nkeys; k++)
            singles += rb.count[k] == 1;
        if (b == cap) {
            cr_assert_eq(rb.nkeys, f.m.nboxes, "the model's boxes are those of %zu bins", b);
            cr_assert_leq(2 * singles, rb.nkeys, "%zu bins: %zu singles of %zu", b, singles, rb.nkeys);
        } else {
            cr_assert_gt(2 * singles, rb.nkeys, "%zu bins: %zu singles of %zu", b, singles, rb.nkeys);
        }
        ref_free(&rb);
    }
    pann_synth_free(&f.m);
    pann_table_free(&f.real);
}
