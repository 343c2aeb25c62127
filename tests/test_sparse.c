/* test_sparse.c — sparse word embeddings: the article's Table 1 values
 * (section 2.1) from the shipped datasets/table1-embeddings.tsv, both input
 * formats, located errors, and the K nearest words (inverted index and
 * anytime search) against a plain pairwise brute force written here. */
#include <criterion/criterion.h>
#include "tmpdir.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"

static const char *srcdir(void)
{
    const char *d = getenv("top_srcdir");
    return d && *d ? d : ".";
}

static void read_table1(pann_sparse *s, pann_sparse_vocab *v)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/datasets/table1-embeddings.tsv", srcdir());
    pann_sparse_read_opts o;
    pann_sparse_read_opts_init(&o);
    pann_error err = {0};
    cr_assert_eq(pann_sparse_read(s, path, &o, v, &err), 0, "%s", err.msg);
}

static size_t word(const pann_sparse *s, const char *w)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->words[i], w) == 0)
            return i;
    cr_assert_fail("no word %s", w);
    return 0;
}

/* Weight of token tok for word w, by name, 0 when absent. */
static double weight(const pann_sparse *s, const pann_sparse_vocab *v, const char *w,
                     const char *tok)
{
    size_t i = word(s, w);
    for (size_t p = s->start[i]; p < s->start[i + 1]; p++)
        if (strcmp(pann_sparse_token(v, s->tok[p]), tok) == 0)
            return s->w[p];
    return 0;
}

Test(table1, transcription_and_article_values)
{
    pann_sparse_vocab *v = pann_sparse_vocab_new();
    pann_sparse s;
    read_table1(&s, v);
    cr_assert_eq(s.n, 7);
    for (size_t i = 0; i < s.n; i++)
        cr_assert_eq(s.start[i + 1] - s.start[i], 10, "%s has 10 tokens", s.words[i]);
    /* the products the article writes out */
    cr_assert_eq(weight(&s, v, "normal", "distribution"), 0.43903);
    cr_assert_eq(weight(&s, v, "Gaussian", "distribution"), 0.00858);
    cr_assert_eq(weight(&s, v, "normal", "multivariate"), 0.05885);
    cr_assert_eq(weight(&s, v, "Gaussian", "multivariate"), 0.01164);
    cr_assert_eq(weight(&s, v, "binomial", "distribution"), 0.11796);
    cr_assert_eq(weight(&s, v, "binomial", "multivariate"), 0.01117);
    size_t n = word(&s, "normal"), g = word(&s, "Gaussian"), b = word(&s, "binomial");
    double ng = pann_sparse_dot(&s, n, &s, g), bg = pann_sparse_dot(&s, b, &s, g);
    cr_assert_float_eq(ng, 0.43903 * 0.00858 + 0.05885 * 0.01164, 1e-15);
    cr_assert(fabs(ng - 0.004452) < 5e-7, "normal.Gaussian %g", ng);
    cr_assert(fabs(bg - 0.001142) < 5e-7, "binomial.Gaussian %g", bg);
    cr_assert(fabs(s.norm[n] - 0.49678) < 5e-6, "|normal| %g", s.norm[n]);
    cr_assert(fabs(s.norm[g] - 0.05853) < 5e-6, "|Gaussian| %g", s.norm[g]);
    cr_assert(fabs(s.norm[b] - 0.13998) < 5e-6, "|binomial| %g", s.norm[b]);
    double rho_ng = pann_sparse_similarity(PANN_SPARSE_COSINE, &s, n, &s, g);
    double rho_bg = pann_sparse_similarity(PANN_SPARSE_COSINE, &s, b, &s, g);
    cr_assert(fabs(rho_ng - 0.15311) < 5e-6, "rho(normal, Gaussian) %g", rho_ng);
    /* the article's value 0.13940 is bg / (|binomial| |Gaussian|) */
    cr_assert(fabs(rho_bg - 0.13940) < 5e-6, "rho(binomial, Gaussian) %g", rho_bg);
    cr_assert(fabs(bg / (s.norm[n] * s.norm[g]) - 0.13940) > 0.05);
    cr_assert_eq(pann_sparse_similarity(PANN_SPARSE_DOT, &s, n, &s, g), ng);
    cr_assert_eq(pann_sparse_similarity(PANN_SPARSE_COSINE, &s, g, &s, n), rho_ng);
    pann_sparse_free(&s);
    pann_sparse_vocab_free(v);
}

static char *write_temp(const char *text)
{
    static char path[TEST_PATH_MAX];
    test_tmp_path(path, "test-sparse.XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static int read_text(const char *text, pann_sparse_format f, pann_sparse *s,
                     pann_sparse_vocab *v, pann_error *err)
{
    char *path = write_temp(text);
    pann_sparse_read_opts o;
    pann_sparse_read_opts_init(&o);
    o.format = f;
    int rc = pann_sparse_read(s, path, &o, v, err);
    unlink(path);
    return rc;
}

Test(read, long_format_equals_lists)
{
    pann_sparse_vocab *v = pann_sparse_vocab_new();
    pann_sparse a, b;
    pann_error err = {0};
    cr_assert_eq(read_text("# c\nx\tp:1 q:2\n\ny\tq:3  r:-4\r\n", PANN_SPARSE_AUTO, &a, v, &err),
                 0, "%s", err.msg);
    cr_assert_eq(read_text("word,token,weight\ny,r,-4\nx,p,1\n\"x\",q,2\ny,q,3\n",
                           PANN_SPARSE_AUTO, &b, v, &err), 0, "%s", err.msg);
    cr_assert_eq(a.n, 2);
    cr_assert_eq(b.n, 2);
    /* long: words in order of first appearance */
    cr_assert_str_eq(b.words[0], "y");
    cr_assert_str_eq(b.words[1], "x");
    for (size_t i = 0; i < 2; i++) {
        size_t j = 1 - i;
        cr_assert_str_eq(a.words[i], b.words[j]);
        cr_assert_eq(a.start[i + 1] - a.start[i], b.start[j + 1] - b.start[j]);
        cr_assert_eq(a.norm[i], b.norm[j]);
        cr_assert_eq(pann_sparse_dot(&a, i, &a, i), pann_sparse_dot(&b, j, &b, j));
    }
    cr_assert_float_eq(pann_sparse_dot(&a, 0, &b, 0), 6.0, 1e-12);   /* x.y = 2*3 */
    cr_assert_float_eq(a.norm[1], 5.0, 1e-12);
    pann_sparse_free(&a);
    pann_sparse_free(&b);
    pann_sparse_vocab_free(v);
}

static void expect_error(const char *text, pann_sparse_format f, const char *where,
                         const char *what)
{
    pann_sparse_vocab *v = pann_sparse_vocab_new();
    pann_sparse s;
    pann_error err = {0};
    cr_assert_eq(read_text(text, f, &s, v, &err), PANN_EINPUT, "accepted: %s", text);
    cr_assert(strstr(err.msg, where) && strstr(err.msg, what), "message: %s", err.msg);
    pann_sparse_vocab_free(v);
}

Test(read, located_errors)
{
    expect_error("a\tx:1\nb\tx:1 y\n", PANN_SPARSE_LISTS, ":2:3:", "token:weight");
    expect_error("a\tx:1 y:zz\n", PANN_SPARSE_LISTS, ":1:3:", "not a finite number");
    expect_error("a\tx:1 y:inf\n", PANN_SPARSE_LISTS, ":1:3:", "not a finite number");
    expect_error("a\tx:1 :2\n", PANN_SPARSE_LISTS, ":1:3:", "empty token");
    expect_error("a\tx:1\na\ty:1\n", PANN_SPARSE_LISTS, ":2:1:", "already defined on line 1");
    expect_error("a\tx:1 y:2 x:3\n", PANN_SPARSE_LISTS, ":1:4:", "given twice");
    expect_error("a x:1\n", PANN_SPARSE_LISTS, ":1:1:", "no TAB");
    expect_error("\tx:1\n", PANN_SPARSE_LISTS, ":1:1:", "empty word");
    expect_error("# only a comment\n", PANN_SPARSE_AUTO, "", "no words");
    expect_error("w,t,v\na,x,1\nb,x,two\n", PANN_SPARSE_LONG, ":3:3:", "not a finite");
    expect_error("w,t,v\na,x,1\nb,y,1\na,x,2\n", PANN_SPARSE_LONG, ":4:2:", "given twice");
    expect_error("w,t\na,x\n", PANN_SPARSE_LONG, ":2:", "3: word,token,weight");
    expect_error("w,t,v\n,x,1\n", PANN_SPARSE_LONG, ":2:1:", "empty word");
}

/* Random sparse words: ntok tokens, 1..maxlen pairs each, weights on a
 * coarse grid (with negatives when neg) so that ties are common. */
static pann_sparse random_words(pann_sparse_vocab *v, size_t n, size_t ntok, size_t maxlen,
                                unsigned long seed, bool neg)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, seed);
    size_t cap = n * (maxlen * 12 + 16) + 64, len = 0;
    char *text = malloc(cap);
    for (size_t i = 0; i < n; i++) {
        len += (size_t)sprintf(text + len, "w%zu\t", i);
        size_t m = 1 + gsl_rng_uniform_int(rng, maxlen);
        unsigned char used[64] = {0};
        for (size_t p = 0; p < m; p++) {
            size_t t = gsl_rng_uniform_int(rng, ntok);
            if (used[t]) continue;
            used[t] = 1;
            int w = (int)gsl_rng_uniform_int(rng, 4) + 1 - (neg ? 2 : 0);
            len += (size_t)sprintf(text + len, "t%zu:%d ", t, w);
        }
        text[len++] = '\n';
    }
    text[len] = '\0';
    gsl_rng_free(rng);
    pann_sparse s;
    pann_error err = {0};
    cr_assert_eq(read_text(text, PANN_SPARSE_LISTS, &s, v, &err), 0, "%s", err.msg);
    free(text);
    return s;
}

/* The K best (similarity desc, row asc) by a plain loop over every pair. */
static void brute_knn(const pann_sparse *S, const pann_sparse *T, pann_sparse_sim kind,
                      size_t k, bool self, uint32_t *nn, double *sim)
{
    for (size_t q = 0; q < S->n; q++) {
        size_t len = 0;
        for (size_t j = 0; j < T->n; j++) {
            if (self && j == q) continue;
            double s = pann_sparse_similarity(kind, S, q, T, j);
            size_t pos = len < k ? len++ : k;
            while (pos > 0 && (s > sim[q * k + pos - 1]))
                pos--;
            if (pos >= k) continue;
            for (size_t i = len - 1; i > pos; i--) {
                nn[q * k + i] = nn[q * k + i - 1];
                sim[q * k + i] = sim[q * k + i - 1];
            }
            nn[q * k + pos] = (uint32_t)j;
            sim[q * k + pos] = s;
        }
    }
}

static void check_same(const pann_sparse_result *r, const uint32_t *nn, const double *sim)
{
    for (size_t i = 0; i < r->n * r->k; i++) {
        cr_assert_eq(r->nn[i], nn[i], "query %zu rank %zu: row %u, brute force %u",
                     i / r->k, i % r->k, r->nn[i], nn[i]);
        cr_assert_eq(r->sim[i], sim[i]);
    }
}

static void compare_with_brute(bool two_sets, bool neg, pann_sparse_sim kind, size_t k)
{
    pann_sparse_vocab *v = pann_sparse_vocab_new();
    pann_sparse S = random_words(v, 150, 40, 6, 11, neg);
    pann_sparse T2 = two_sets ? random_words(v, 230, 50, 5, 12, neg) : S;
    const pann_sparse *T = two_sets ? &T2 : &S;
    bool self = !two_sets;
    uint32_t *nn = malloc(S.n * k * sizeof *nn);
    double *sim = malloc(S.n * k * sizeof *sim);
    brute_knn(&S, T, kind, k, self, nn, sim);
    pann_error err = {0};
    for (int threads = 1; threads <= 3; threads += 2) {
        pann_sparse_result r;
        cr_assert_eq(pann_sparse_knn_exact(&S, T, kind, k, self, threads, &r, &err), 0, "%s",
                     err.msg);
        check_same(&r, nn, sim);
        cr_assert_eq(r.nproven, S.n);
        pann_sparse_result_free(&r);
        pann_engine_opts o;
        pann_engine_opts_init(&o);
        o.self_exclude = self;
        o.threads = threads;
        o.seed = 5;
        o.max_iterations = 0;                /* until exhausted: exact */
        cr_assert_eq(pann_sparse_knn_anytime(&S, T, kind, k, &o, &r, &err), 0, "%s", err.msg);
        check_same(&r, nn, sim);
        cr_assert_eq(r.nproven, S.n);
        cr_assert_eq(r.iterations, S.n * (T->n - self));
        pann_sparse_result_free(&r);
    }
    free(nn);
    free(sim);
    if (two_sets) pann_sparse_free(&T2);
    pann_sparse_free(&S);
    pann_sparse_vocab_free(v);
}

Test(knn, exact_and_exhausted_anytime_equal_brute_force_self)
{
    compare_with_brute(false, false, PANN_SPARSE_COSINE, 1);
    compare_with_brute(false, false, PANN_SPARSE_COSINE, 7);
    compare_with_brute(false, false, PANN_SPARSE_DOT, 3);
}

Test(knn, exact_and_exhausted_anytime_equal_brute_force_two_sets)
{
    compare_with_brute(true, false, PANN_SPARSE_COSINE, 4);
    compare_with_brute(true, false, PANN_SPARSE_DOT, 1);
}

Test(knn, negative_weights_rank_untouched_words_above_negative_ones)
{
    compare_with_brute(false, true, PANN_SPARSE_COSINE, 5);
    compare_with_brute(true, true, PANN_SPARSE_DOT, 230);   /* every word ranked */
}

Test(knn, anytime_budget_threads_and_invariants)
{
    pann_sparse_vocab *v = pann_sparse_vocab_new();
    pann_sparse S = random_words(v, 300, 30, 6, 21, false);
    pann_error err = {0};
    pann_engine_opts o;
    pann_engine_opts_init(&o);
    o.self_exclude = true;
    o.seed = 9;
    o.max_iterations = 3000;
    pann_sparse_result r1, r4;
    o.threads = 1;
    cr_assert_eq(pann_sparse_knn_anytime(&S, &S, PANN_SPARSE_COSINE, 3, &o, &r1, &err), 0);
    o.threads = 4;
    cr_assert_eq(pann_sparse_knn_anytime(&S, &S, PANN_SPARSE_COSINE, 3, &o, &r4, &err), 0);
    cr_assert_eq(r1.iterations, 3000);
    for (size_t i = 0; i < S.n * 3; i++) {
        cr_assert_eq(r1.nn[i], r4.nn[i]);
        cr_assert_eq(r1.sim[i], r4.sim[i]);
        size_t q = i / 3;
        cr_assert_neq(r1.nn[i], q, "a word is not its own neighbour");
        cr_assert_eq(r1.sim[i], pann_sparse_similarity(PANN_SPARSE_COSINE, &S, q, &S, r1.nn[i]));
        if (i % 3)
            cr_assert(r1.sim[i] <= r1.sim[i - 1]);
    }
    pann_sparse_result_free(&r1);
    pann_sparse_result_free(&r4);
    cr_assert_eq(pann_sparse_knn_exact(&S, &S, PANN_SPARSE_COSINE, 300, true, 1, &r1, &err),
                 PANN_EINPUT);
    cr_assert(strstr(err.msg, "299 candidate words"), "%s", err.msg);
    pann_sparse_free(&S);
    pann_sparse_vocab_free(v);
}
