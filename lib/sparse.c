/* sparse.c — sparse variable-length embeddings (article section 2.1,
 * Table 1): the readers of the two input formats, the token vocabulary,
 * the article's similarity, and the K nearest words by an inverted index
 * (exact) or by the PANN anytime search with keyed permutations.
 *
 * Weights are kept in double and every dot product is summed in increasing
 * token id, whichever path computes it, so the inverted index, the anytime
 * search and a plain pairwise loop give bit-identical similarities.
 */
#include <config.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "pann.h"
#include "internal.h"

/* ---- a string -> index map (tokens, and words while reading) ---------- */

typedef struct strmap {
    char **keys;             /* by index */
    size_t n, cap;           /* keys */
    uint32_t *slot;          /* open addressing: index + 1, 0 = empty */
    size_t nslots;
} strmap;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;           /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void strmap_free(strmap *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->slot);
    memset(m, 0, sizeof *m);
}

static int strmap_grow(strmap *m)
{
    size_t nslots = m->nslots ? 2 * m->nslots : 64;
    uint32_t *slot = calloc(nslots, sizeof *slot);
    if (!slot)
        return -1;
    for (size_t i = 0; i < m->n; i++) {
        size_t h = hash_str(m->keys[i]) & (nslots - 1);
        while (slot[h])
            h = (h + 1) & (nslots - 1);
        slot[h] = (uint32_t)i + 1;
    }
    free(m->slot);
    m->slot = slot;
    m->nslots = nslots;
    return 0;
}

/* Index of key, added when absent (*added says which).  -1: out of memory. */
static int64_t strmap_intern(strmap *m, const char *key, bool *added)
{
    if (2 * (m->n + 1) > m->nslots && strmap_grow(m) != 0)
        return -1;
    size_t h = hash_str(key) & (m->nslots - 1);
    while (m->slot[h]) {
        if (strcmp(m->keys[m->slot[h] - 1], key) == 0) {
            *added = false;
            return m->slot[h] - 1;
        }
        h = (h + 1) & (m->nslots - 1);
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 64;
        char **keys = realloc(m->keys, cap * sizeof *keys);
        if (!keys)
            return -1;
        m->keys = keys;
        m->cap = cap;
    }
    if (m->n >= UINT32_MAX - 1 || !(m->keys[m->n] = strdup(key)))
        return -1;
    m->slot[h] = (uint32_t)m->n + 1;
    *added = true;
    return (int64_t)m->n++;
}

struct pann_sparse_vocab { strmap tokens; };

pann_sparse_vocab *pann_sparse_vocab_new(void) { return calloc(1, sizeof(pann_sparse_vocab)); }

void pann_sparse_vocab_free(pann_sparse_vocab *v)
{
    if (v)
        strmap_free(&v->tokens);
    free(v);
}

size_t pann_sparse_vocab_size(const pann_sparse_vocab *v) { return v->tokens.n; }

const char *pann_sparse_token(const pann_sparse_vocab *v, uint32_t id)
{
    return id < v->tokens.n ? v->tokens.keys[id] : NULL;
}

void pann_sparse_read_opts_init(pann_sparse_read_opts *o)
{
    o->format = PANN_SPARSE_AUTO;
    o->delim = ',';
    o->header = true;
}

/* ---- building a pann_sparse from (word, token, weight) entries -------- */

typedef struct entry {
    uint32_t word, tok;
    double w;
    size_t line, field;      /* where the pair is, for duplicate errors */
} entry;

typedef struct builder {
    const char *display;
    strmap words;
    size_t *word_line;
    entry *e;
    size_t ne, cap;
    pann_sparse_vocab *vocab;
} builder;

static int oom(pann_error *err) { return pann_fail(err, PANN_ESYSTEM, "out of memory"); }

/* Index of word; with must_be_new, a word seen before is an error. */
static int builder_word(builder *b, const char *word, size_t line, bool must_be_new,
                        uint32_t *idx, pann_error *err)
{
    bool added;
    int64_t i = strmap_intern(&b->words, word, &added);
    if (i < 0)
        return oom(err);
    if (!added && must_be_new)
        return pann_fail(err, PANN_EINPUT, "%s:%zu:1: word '%s' already defined on line %zu",
                         b->display, line, word, b->word_line[i]);
    if (added) {
        size_t *wl = realloc(b->word_line, b->words.cap * sizeof *wl);
        if (!wl)
            return oom(err);
        b->word_line = wl;
        wl[i] = line;
    }
    *idx = (uint32_t)i;
    return 0;
}

static int builder_pair(builder *b, uint32_t word, const char *token, double w, size_t line,
                        size_t field, pann_error *err)
{
    bool added;
    int64_t t = strmap_intern(&b->vocab->tokens, token, &added);
    if (t < 0)
        return oom(err);
    if (b->ne == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 256;
        entry *e = realloc(b->e, cap * sizeof *e);
        if (!e)
            return oom(err);
        b->e = e;
        b->cap = cap;
    }
    b->e[b->ne++] = (entry){ word, (uint32_t)t, w, line, field };
    return 0;
}

static int cmp_entry(const void *pa, const void *pb)
{
    const entry *a = pa, *b = pb;
    if (a->word != b->word) return a->word < b->word ? -1 : 1;
    if (a->tok != b->tok) return a->tok < b->tok ? -1 : 1;
    /* the later line is the duplicate: keep file order among equals */
    if (a->line != b->line) return a->line < b->line ? -1 : 1;
    return a->field < b->field ? -1 : a->field > b->field;
}

static int builder_finish(builder *b, pann_sparse *s, pann_error *err)
{
    qsort(b->e, b->ne, sizeof *b->e, cmp_entry);
    for (size_t i = 1; i < b->ne; i++)
        if (b->e[i].word == b->e[i - 1].word && b->e[i].tok == b->e[i - 1].tok)
            return pann_fail(err, PANN_EINPUT, "%s:%zu:%zu: token '%s' given twice for word "
                             "'%s' (first on line %zu)", b->display, b->e[i].line, b->e[i].field,
                             b->vocab->tokens.keys[b->e[i].tok], b->words.keys[b->e[i].word],
                             b->e[i - 1].line);
    size_t n = b->words.n;
    s->n = n;
    s->nnz = b->ne;
    s->start = calloc(n + 1, sizeof *s->start);
    s->tok = malloc((b->ne + 1) * sizeof *s->tok);
    s->w = malloc((b->ne + 1) * sizeof *s->w);
    s->norm = calloc(n + 1, sizeof *s->norm);
    if (!s->start || !s->tok || !s->w || !s->norm)
        return oom(err);
    for (size_t i = 0; i < b->ne; i++) {
        s->start[b->e[i].word + 1]++;
        s->tok[i] = b->e[i].tok;
        s->w[i] = b->e[i].w;
    }
    for (size_t i = 0; i < n; i++) {
        s->start[i + 1] += s->start[i];
        double sq = 0;
        for (size_t p = s->start[i]; p < s->start[i + 1]; p++)
            sq += s->w[p] * s->w[p];
        s->norm[i] = sqrt(sq);
    }
    /* hand the word names and lines over */
    s->words = b->words.keys;
    s->line = b->word_line;
    b->words.keys = NULL;
    b->words.n = 0;
    b->word_line = NULL;
    return 0;
}

/* ---- the LISTS format ------------------------------------------------- */

static bool is_blank(const char *s)
{
    for (; *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

/* One "token:weight" pair (split at the last ':'). */
static int parse_pair(builder *b, uint32_t word, char *pair, size_t line, size_t field,
                      pann_error *err)
{
    char *colon = strrchr(pair, ':');
    if (!colon)
        return pann_fail(err, PANN_EINPUT, "%s:%zu:%zu: '%s' is not token:weight",
                         b->display, line, field, pair);
    *colon = '\0';
    double w;
    if (colon == pair)
        return pann_fail(err, PANN_EINPUT, "%s:%zu:%zu: empty token", b->display, line, field);
    if (!pann_parse_number(colon + 1, &w))
        return pann_fail(err, PANN_EINPUT, "%s:%zu:%zu: weight '%s' is not a finite number",
                         b->display, line, field, colon + 1);
    return builder_pair(b, word, pair, w, line, field, err);
}

/* "word<TAB>pairs": field 1 is the word, field k + 1 the k-th pair. */
static int parse_list_line(builder *b, char *text, size_t line, pann_error *err)
{
    char *tab = strchr(text, '\t');
    if (!tab)
        return pann_fail(err, PANN_EINPUT, "%s:%zu:1: no TAB after the word (expected "
                         "word<TAB>token:weight ...)", b->display, line);
    *tab = '\0';
    if (!*text)
        return pann_fail(err, PANN_EINPUT, "%s:%zu:1: empty word", b->display, line);
    uint32_t word;
    int rc = builder_word(b, text, line, true, &word, err);
    size_t field = 1;
    for (char *p = tab + 1; !rc && *p;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        char *end = p;
        while (*end && *end != ' ' && *end != '\t')
            end++;
        char saved = *end;
        *end = '\0';
        rc = parse_pair(b, word, p, line, ++field, err);
        *end = saved;
        p = end;
    }
    return rc;
}

static int read_lists(builder *b, FILE *fp, pann_error *err)
{
    char *text = NULL;
    size_t cap = 0, line = 0;
    ssize_t len;
    int rc = 0;
    while (!rc && (len = getline(&text, &cap, fp)) >= 0) {
        line++;
        if ((size_t)len != strlen(text)) {
            rc = pann_fail(err, PANN_EINPUT, "%s:%zu: NUL byte in the line", b->display, line);
            break;
        }
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
            text[--len] = '\0';
        char *start = text;
        if (line == 1 && strncmp(start, "\xEF\xBB\xBF", 3) == 0)
            start += 3;                             /* UTF-8 BOM */
        if (*start == '#' || is_blank(start))
            continue;
        rc = parse_list_line(b, start, line, err);
    }
    if (!rc && ferror(fp))
        rc = pann_fail(err, PANN_ESYSTEM, "%s: %s", b->display, strerror(errno));
    free(text);
    return rc;
}

/* ---- the LONG format (CSV word,token,weight) --------------------------- */

static int read_long(builder *b, const char *path, const pann_sparse_read_opts *o,
                     pann_error *err)
{
    pann_table t;
    pann_read_opts ro;
    pann_read_opts_init(&ro);
    ro.delim = o->delim;
    ro.header = o->header;
    int rc = pann_table_read(&t, path, &ro, err);
    if (rc)
        return rc;
    if (t.ncols != 3)
        rc = pann_fail(err, PANN_EINPUT, "%s:%zu: %zu columns; the long format has 3: "
                       "word,token,weight", t.display, t.nrows ? t.row_line[0] : 1, t.ncols);
    for (size_t r = 0; !rc && r < t.nrows; r++) {
        size_t line = t.row_line[r];
        const char *word = pann_cell(&t, r, 0), *token = pann_cell(&t, r, 1);
        double w;
        uint32_t idx;
        if (!*word)
            rc = pann_fail(err, PANN_EINPUT, "%s:%zu:1: empty word", t.display, line);
        else if (!*token)
            rc = pann_fail(err, PANN_EINPUT, "%s:%zu:2: empty token", t.display, line);
        else if (!pann_parse_number(pann_cell(&t, r, 2), &w))
            rc = pann_fail(err, PANN_EINPUT, "%s:%zu:3: weight '%s' is not a finite number",
                           t.display, line, pann_cell(&t, r, 2));
        else if (!(rc = builder_word(b, word, line, false, &idx, err)))
            rc = builder_pair(b, idx, token, w, line, 2, err);
    }
    pann_table_free(&t);
    return rc;
}

/* AUTO: LISTS when the first line that is not blank or a comment has a TAB
 * (or when there is no such line: "no words" is then the error). */
static pann_sparse_format sniff(FILE *fp)
{
    pann_sparse_format f = PANN_SPARSE_LISTS;
    char *text = NULL;
    size_t cap = 0;
    while (getline(&text, &cap, fp) >= 0) {
        if (text[0] == '#' || is_blank(text))
            continue;
        f = strchr(text, '\t') ? PANN_SPARSE_LISTS : PANN_SPARSE_LONG;
        break;
    }
    free(text);
    return f;
}

static FILE *open_input(const char *path, const char *display, pann_error *err)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!fp)
        pann_fail(err, PANN_ESYSTEM, "%s: %s", display, strerror(errno));
    return fp;
}

/* stdin cannot be read twice: AUTO on stdin looks at a copy. */
static int read_any(builder *b, const char *path, const pann_sparse_read_opts *o,
                    pann_error *err)
{
    pann_sparse_format f = o->format;
    char *copy = NULL;
    size_t copy_len = 0;
    const char *source = path;
    int rc = 0;
    if (f == PANN_SPARSE_AUTO || f == PANN_SPARSE_LISTS) {
        FILE *fp = open_input(path, b->display, err);
        if (!fp)
            return PANN_ESYSTEM;
        if (fp == stdin) {        /* keep the bytes: LONG would re-read them */
            FILE *mem = open_memstream(&copy, &copy_len);
            char buf[65536];
            size_t got;
            while (mem && (got = fread(buf, 1, sizeof buf, stdin)) > 0)
                fwrite(buf, 1, got, mem);
            if (!mem || ferror(stdin) || fclose(mem) != 0) {
                free(copy);
                return pann_fail(err, PANN_ESYSTEM, "%s: cannot read", b->display);
            }
            fp = fmemopen(copy, copy_len ? copy_len : 1, "r");
            if (!fp) {
                free(copy);
                return oom(err);
            }
        }
        if (f == PANN_SPARSE_AUTO) {
            f = sniff(fp);
            rewind(fp);
        }
        if (f == PANN_SPARSE_LISTS)
            rc = read_lists(b, fp, err);
        fclose(fp);
    }
    if (f == PANN_SPARSE_LONG) {
        char tmpl[4096];
        const char *dir = getenv("TMPDIR");
        snprintf(tmpl, sizeof tmpl, "%s/pann-sparse.XXXXXX", dir && *dir ? dir : "/tmp");
        if (copy) {             /* the reader takes a path: hand it the copy */
            int fd = mkstemp(tmpl);
            FILE *tf = fd >= 0 ? fdopen(fd, "w") : NULL;
            if (!tf || fwrite(copy, 1, copy_len, tf) != copy_len || fclose(tf) != 0) {
                free(copy);
                return pann_fail(err, PANN_ESYSTEM, "temporary file: %s", strerror(errno));
            }
            source = tmpl;
        }
        rc = read_long(b, source, o, err);
        if (copy) {
            unlink(tmpl);
            /* messages should name stdin, not the temporary file */
            char *at = strstr(err->msg, tmpl);
            if (rc && at) {
                char rest[sizeof err->msg];
                snprintf(rest, sizeof rest, "%s", at + strlen(tmpl));
                snprintf(err->msg, sizeof err->msg, "%s%s", b->display, rest);
            }
        }
    }
    free(copy);
    return rc;
}

int pann_sparse_read(pann_sparse *s, const char *path, const pann_sparse_read_opts *o,
                     pann_sparse_vocab *v, pann_error *err)
{
    memset(s, 0, sizeof *s);
    s->display = strdup(strcmp(path, "-") == 0 ? "stdin" : path);
    if (!s->display)
        return oom(err);
    builder b = { .display = s->display, .vocab = v };
    int rc = read_any(&b, path, o, err);
    if (!rc && b.words.n == 0)
        rc = pann_fail(err, PANN_EINPUT, "%s: no words", s->display);
    if (!rc)
        rc = builder_finish(&b, s, err);
    strmap_free(&b.words);
    free(b.word_line);
    free(b.e);
    if (rc)
        pann_sparse_free(s);
    return rc;
}

void pann_sparse_free(pann_sparse *s)
{
    if (s->words)
        for (size_t i = 0; i < s->n; i++)
            free(s->words[i]);
    free(s->words);
    free(s->line);
    free(s->start);
    free(s->tok);
    free(s->w);
    free(s->norm);
    free(s->display);
    memset(s, 0, sizeof *s);
}

/* ---- similarity -------------------------------------------------------- */

double pann_sparse_dot(const pann_sparse *a, size_t i, const pann_sparse *b, size_t j)
{
    size_t p = a->start[i], pe = a->start[i + 1], q = b->start[j], qe = b->start[j + 1];
    double dot = 0;
    while (p < pe && q < qe) {
        if (a->tok[p] < b->tok[q]) p++;
        else if (a->tok[p] > b->tok[q]) q++;
        else dot += a->w[p++] * b->w[q++];
    }
    return dot;
}

/* The similarity from a dot product: the one formula every path uses. */
static double finish_sim(pann_sparse_sim kind, double dot, double na, double nb)
{
    if (kind == PANN_SPARSE_DOT)
        return dot;
    return na > 0 && nb > 0 ? dot / (na * nb) : 0.0;
}

double pann_sparse_similarity(pann_sparse_sim kind, const pann_sparse *a, size_t i,
                              const pann_sparse *b, size_t j)
{
    return finish_sim(kind, pann_sparse_dot(a, i, b, j), a->norm[i], b->norm[j]);
}

void pann_sparse_result_free(pann_sparse_result *r)
{
    free(r->nn);
    free(r->sim);
    free(r->proven);
    memset(r, 0, sizeof *r);
}

static int result_alloc(pann_sparse_result *r, const pann_sparse *S, const pann_sparse *T,
                        size_t k, bool self_exclude, pann_error *err)
{
    memset(r, 0, sizeof *r);
    size_t candidates = T->n - (self_exclude ? 1 : 0);
    if (self_exclude && S->n != T->n)
        return pann_fail(err, PANN_EINPUT, "self exclusion needs one set of words");
    if (k == 0 || k > candidates)
        return pann_fail(err, PANN_EINPUT, "K = %zu, but %s has %zu candidate word%s for "
                         "each query", k, T->display, candidates, candidates == 1 ? "" : "s");
    r->n = S->n;
    r->k = k;
    r->nn = malloc((S->n * k + 1) * sizeof *r->nn);
    r->sim = malloc((S->n * k + 1) * sizeof *r->sim);
    r->proven = calloc(S->n + 1, 1);
    if (!r->nn || !r->sim || !r->proven) {
        pann_sparse_result_free(r);
        return oom(err);
    }
    return 0;
}

/* (sim, row) ordering: more similar first, then the lower row. */
static inline bool better(double s1, uint32_t r1, double s2, uint32_t r2)
{
    return s1 > s2 || (s1 == s2 && r1 < r2);
}

/* Insert (s, row) into the sorted list of *len <= k entries. */
static void list_insert(uint32_t *nn, double *sim, size_t *len, size_t k, double s,
                        uint32_t row)
{
    size_t pos = *len;
    if (pos == k && !better(s, row, sim[k - 1], nn[k - 1]))
        return;
    if (pos == k)
        pos--;
    while (pos > 0 && better(s, row, sim[pos - 1], nn[pos - 1])) {
        nn[pos] = nn[pos - 1];
        sim[pos] = sim[pos - 1];
        pos--;
    }
    nn[pos] = row;
    sim[pos] = s;
    if (*len < k)
        (*len)++;
}

/* ---- exact: inverted index -------------------------------------------- */

/* T's pairs grouped by token: postings of token t are rows/w[off[t] ..
 * off[t+1]), in increasing row. */
typedef struct postings {
    size_t *off;
    uint32_t *row;
    double *w;
} postings;

static int postings_build(postings *p, const pann_sparse *T, size_t ntok, pann_error *err)
{
    p->off = calloc(ntok + 2, sizeof *p->off);
    p->row = malloc((T->nnz + 1) * sizeof *p->row);
    p->w = malloc((T->nnz + 1) * sizeof *p->w);
    if (!p->off || !p->row || !p->w)
        return oom(err);
    for (size_t i = 0; i < T->nnz; i++)
        p->off[T->tok[i] + 2]++;
    for (size_t t = 0; t < ntok; t++)
        p->off[t + 2] += p->off[t + 1];
    for (size_t j = 0; j < T->n; j++)         /* rows in order: sorted postings */
        for (size_t q = T->start[j]; q < T->start[j + 1]; q++) {
            size_t at = p->off[T->tok[q] + 1]++;
            p->row[at] = (uint32_t)j;
            p->w[at] = T->w[q];
        }
    return 0;
}

static void postings_free(postings *p)
{
    free(p->off);
    free(p->row);
    free(p->w);
}

/* Per-thread scratch: a dot accumulator over T and the rows it touched. */
typedef struct scratch {
    double *acc;
    unsigned char *seen;
    uint32_t *touched;
    double *tsim;
} scratch;

typedef struct touched_sim { double sim; uint32_t row; } touched_sim;

static int cmp_touched(const void *pa, const void *pb)
{
    const touched_sim *a = pa, *b = pb;
    return better(a->sim, a->row, b->sim, b->row) ? -1 : better(b->sim, b->row, a->sim, a->row);
}

/* Query q's list: the touched rows by similarity, merged with the untouched
 * ones (similarity 0) in row order. */
static uint64_t exact_query(const pann_sparse *S, const pann_sparse *T, const postings *p,
                            size_t ntok, pann_sparse_sim kind, size_t k, bool self,
                            size_t q, scratch *sc, touched_sim *ts, uint32_t *nn, double *sim)
{
    size_t nt = 0;
    for (size_t a = S->start[q]; a < S->start[q + 1]; a++) {
        uint32_t t = S->tok[a];
        if (t >= ntok)
            continue;                         /* a token T does not have */
        for (size_t b = p->off[t]; b < p->off[t + 1]; b++) {
            uint32_t j = p->row[b];
            if (!sc->seen[j]) {
                sc->seen[j] = 1;
                sc->acc[j] = 0;
                sc->touched[nt++] = j;
            }
            sc->acc[j] += S->w[a] * p->w[b];
        }
    }
    size_t m = 0;
    for (size_t i = 0; i < nt; i++) {
        uint32_t j = sc->touched[i];
        sc->seen[j] = 0;
        if (!(self && j == q))
            ts[m++] = (touched_sim){ finish_sim(kind, sc->acc[j], S->norm[q], T->norm[j]), j };
    }
    qsort(ts, m, sizeof *ts, cmp_touched);
    for (size_t i = 0; i < m; i++)
        sc->seen[ts[i].row] = 2;              /* touched: not in the zero run */
    size_t len = 0, ti = 0;
    uint32_t z = 0;                           /* next untouched row */
    while (len < k) {
        while (z < T->n && (sc->seen[z] == 2 || (self && z == q)))
            z++;
        bool take_zero = z < T->n && (ti == m || better(0.0, z, ts[ti].sim, ts[ti].row));
        if (take_zero) {
            nn[len] = z++;
            sim[len++] = 0.0;
        } else {
            nn[len] = ts[ti].row;
            sim[len++] = ts[ti++].sim;
        }
    }
    for (size_t i = 0; i < m; i++)
        sc->seen[ts[i].row] = 0;
    return m;
}

int pann_sparse_knn_exact(const pann_sparse *S, const pann_sparse *T, pann_sparse_sim kind,
                          size_t k, bool self_exclude, int threads,
                          pann_sparse_result *r, pann_error *err)
{
    double started = pann_now();
    int rc = result_alloc(r, S, T, k, self_exclude, err);
    if (rc)
        return rc;
    size_t ntok = 0;
    for (size_t i = 0; i < T->nnz; i++)
        if (T->tok[i] + (size_t)1 > ntok)
            ntok = T->tok[i] + (size_t)1;
    postings p = {0};
    if ((rc = postings_build(&p, T, ntok, err)) != 0) {
        postings_free(&p);
        pann_sparse_result_free(r);
        return rc;
    }
    int nthreads = pann_threads(threads);
    uint64_t pairs = 0;
    bool failed = false;
#pragma omp parallel num_threads(nthreads) reduction(+ : pairs)
    {
        scratch sc = { malloc((T->n + 1) * sizeof(double)), calloc(T->n + 1, 1),
                       malloc((T->n + 1) * sizeof(uint32_t)), NULL };
        touched_sim *ts = malloc((T->n + 1) * sizeof *ts);
        if (!sc.acc || !sc.seen || !sc.touched || !ts) {
#pragma omp atomic write
            failed = true;
        } else {
#pragma omp for schedule(dynamic, 16)
            for (size_t q = 0; q < S->n; q++)
                pairs += exact_query(S, T, &p, ntok, kind, k, self_exclude, q, &sc, ts,
                                     r->nn + q * k, r->sim + q * k);
        }
        free(sc.acc);
        free(sc.seen);
        free(sc.touched);
        free(ts);
    }
    postings_free(&p);
    if (failed) {
        pann_sparse_result_free(r);
        return oom(err);
    }
    memset(r->proven, 1, S->n);
    r->nproven = S->n;
    r->pairs = pairs;
    r->seconds = pann_now() - started;
    return 0;
}

/* ---- the PANN anytime search ------------------------------------------ */

typedef struct anytime_state {
    pann_perm *perm;         /* per query: its candidates of T in order */
    uint64_t *drawn;         /* candidates drawn so far (self included) */
    size_t *len;             /* list lengths */
    uint32_t *order;         /* queries, for ranking each epoch */
    double *key;             /* K-th similarity, -inf while the list is short */
} anytime_state;

/* One proposal for query q: the next candidate of its permutation. */
static uint64_t propose(const pann_sparse *S, const pann_sparse *T, pann_sparse_sim kind,
                        size_t k, bool self, anytime_state *st, pann_sparse_result *r, size_t q)
{
    while (st->drawn[q] < T->n) {
        uint32_t j = (uint32_t)pann_perm_at(&st->perm[q], st->drawn[q]++);
        if (self && j == q)
            continue;
        list_insert(r->nn + q * k, r->sim + q * k, &st->len[q], k,
                    pann_sparse_similarity(kind, S, q, T, j), j);
        return 1;
    }
    return 0;
}

/* (key, row) order of the ranking: worst K-th similarity first. */
static inline bool ranks_before(const double *key, uint32_t a, uint32_t b)
{
    return key[a] < key[b] || (key[a] == key[b] && a < b);
}

/* Move the `take` first queries in (key, row) order to order[0..take), in
 * no particular order among themselves (each proposal is independent, so
 * the order inside an epoch does not matter): quickselect, O(live). */
static void select_first(uint32_t *order, size_t live, size_t take, const double *key)
{
    size_t lo = 0, hi = live;                  /* the boundary is in [lo, hi) */
    while (hi - lo > 1) {
        uint32_t pivot = order[lo + (hi - lo) / 2];
        size_t lt = lo, i = lo, gt = hi;       /* three-way partition */
        while (i < gt) {
            uint32_t x = order[i];
            if (ranks_before(key, x, pivot)) { order[i++] = order[lt]; order[lt++] = x; }
            else if (ranks_before(key, pivot, x)) { order[i] = order[--gt]; order[gt] = x; }
            else i++;
        }
        if (take < lt) hi = lt;
        else if (take > gt) lo = gt;
        else return;
    }
}

/* Queries still searching; the first `take` of them, worst K-th similarity
 * first (ties: lower row), end up in order[0..take). */
static size_t rank_queries(const pann_sparse *T, size_t k, anytime_state *st,
                           const pann_sparse_result *r, double fraction, size_t *take)
{
    size_t live = 0;
    for (size_t q = 0; q < r->n; q++)
        if (st->drawn[q] < T->n) {
            st->key[q] = st->len[q] < k ? -HUGE_VAL : r->sim[q * k + k - 1];
            st->order[live++] = (uint32_t)q;
        }
    *take = (size_t)ceil(fraction * (double)live);
    if (*take == 0 && live)
        *take = 1;
    if (*take < live)
        select_first(st->order, live, *take, st->key);
    return live;
}

static void anytime_free(anytime_state *st)
{
    free(st->perm);
    free(st->drawn);
    free(st->len);
    free(st->order);
    free(st->key);
}

static void anytime_loop(const pann_sparse *S, const pann_sparse *T, pann_sparse_sim kind,
                         size_t k, const pann_engine_opts *o, anytime_state *st,
                         pann_sparse_result *r, double started)
{
    int nthreads = pann_threads(o->threads);
    uint64_t budget = o->max_iterations;
    for (;;) {
        size_t take, live = rank_queries(T, k, st, r, o->top_fraction, &take);
        if (live == 0 || (budget && r->iterations >= budget))
            break;
        if (o->max_seconds > 0 && pann_now() - started > o->max_seconds) {
            r->stopped_by_time = true;
            break;
        }
        if (budget && take > budget - r->iterations)
            take = (size_t)(budget - r->iterations);
        uint64_t done = 0;
#pragma omp parallel for schedule(static) num_threads(nthreads) reduction(+ : done) \
    if (take >= 256)
        for (size_t i = 0; i < take; i++)
            done += propose(S, T, kind, k, o->self_exclude, st, r, st->order[i]);
        r->iterations += done;
        r->epochs++;
        if (o->progress)
            o->progress(o->progress_ctx, r->iterations, budget);
    }
}

int pann_sparse_knn_anytime(const pann_sparse *S, const pann_sparse *T,
                            pann_sparse_sim kind, size_t k, const pann_engine_opts *o,
                            pann_sparse_result *r, pann_error *err)
{
    double started = pann_now();
    int rc = result_alloc(r, S, T, k, o->self_exclude, err);
    if (rc)
        return rc;
    anytime_state st = { malloc((S->n + 1) * sizeof *st.perm),
                         calloc(S->n + 1, sizeof *st.drawn), calloc(S->n + 1, sizeof *st.len),
                         malloc((S->n + 1) * sizeof *st.order),
                         malloc((S->n + 1) * sizeof *st.key) };
    if (!st.perm || !st.drawn || !st.len || !st.order || !st.key) {
        anytime_free(&st);
        pann_sparse_result_free(r);
        return oom(err);
    }
    for (size_t q = 0; q < S->n; q++)
        pann_perm_init(&st.perm[q], T->n, o->seed, q);
    anytime_loop(S, T, kind, k, o, &st, r, started);
    for (size_t q = 0; q < S->n; q++) {
        /* a list the budget left short is padded with "no neighbour" */
        for (size_t i = st.len[q]; i < k; i++) {
            r->nn[q * k + i] = PANN_NONE;
            r->sim[q * k + i] = NAN;
        }
        r->proven[q] = st.drawn[q] >= T->n;
        r->nproven += r->proven[q];
    }
    anytime_free(&st);
    r->seconds = pann_now() - started;
    return 0;
}
