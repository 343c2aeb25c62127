/* pann-words — the K most similar words of every word of QUERY among the
 * words of REFERENCE, for sparse variable-length embeddings like the
 * article's Table 1 (section 2.1).  Option parsing and output only: reading,
 * similarity and search are in libpann (lib/sparse.c). */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

enum {
    OPT_K = CLI_OPT_FIRST_PROGRAM, OPT_SIMILARITY, OPT_FORMAT, OPT_ANYTIME, OPT_ITERATIONS,
    OPT_TIME, OPT_TOP_FRACTION,
};

static const char program_help[] =
"For every word of QUERY, its K most similar words of REFERENCE (of QUERY\n"
"itself, a word never being its own neighbour, when REFERENCE is absent).\n"
"Each word has its own list of (token, weight) pairs; the similarity is the\n"
"article's: rho = a.b / (|a| |b|), the dot product over the tokens both words\n"
"have, each norm over all of the word's tokens; distance = 1 - rho.  Writes\n"
"the CSV query,rank,neighbor,similarity,distance and a summary on stderr.\n"
"\n"
"Input (--format):\n"
"  lists   one word per line: word<TAB>token:weight token:weight ...\n"
"          ('#' lines and blank lines are skipped)\n"
"  long    CSV word,token,weight, one pair per row, with a header line\n"
"          (--no-header: none; -d: another separator)\n"
"  auto    (default) lists when the first data line has a TAB\n"
"\n"
"Program options:\n"
"  -k, --k=K              neighbours per word (default 1)\n"
"      --similarity=S     cosine (default) or dot (the plain dot product;\n"
"                         distance 1 - dot is then only a ranking key)\n"
"      --exact            exact search by an inverted index over tokens (the\n"
"                         default): only words sharing a token are compared;\n"
"                         words sharing none have similarity 0 and fill the\n"
"                         list lowest row first\n"
"      --anytime          the PANN anytime search instead: random proposals\n"
"                         from a keyed permutation per word, never repeated\n"
"      --iterations=N     anytime: proposals in all (default 50*K per query\n"
"                         word; 0 = until every candidate is tried: exact)\n"
"      --time=SECONDS     anytime: stop after this long\n"
"      --top-fraction=F   anytime: share of words, worst first, given a\n"
"                         proposal each epoch (default 0.5)\n"
"Of the common options below, --columns, --categorical, --metric, --scale\n"
"and --missing do not apply here.\n";

typedef struct words_opts {
    size_t k;
    pann_sparse_sim sim;
    pann_sparse_read_opts read;
    bool anytime, iterations_given;
    pann_engine_opts engine;
} words_opts;

static void parse_program_option(cli *c, words_opts *wo, int opt, const char *arg)
{
    pann_engine_opts *e = &wo->engine;
    switch (opt) {
    case 'k': case OPT_K: wo->k = cli_parse_count(c, "--k", arg, 1, UINT32_MAX); break;
    case OPT_SIMILARITY:
        if (strcmp(arg, "cosine") == 0) wo->sim = PANN_SPARSE_COSINE;
        else if (strcmp(arg, "dot") == 0) wo->sim = PANN_SPARSE_DOT;
        else cli_usage_error(c, "--similarity: '%s' is not cosine or dot", arg);
        break;
    case OPT_FORMAT:
        if (strcmp(arg, "auto") == 0) wo->read.format = PANN_SPARSE_AUTO;
        else if (strcmp(arg, "lists") == 0) wo->read.format = PANN_SPARSE_LISTS;
        else if (strcmp(arg, "long") == 0) wo->read.format = PANN_SPARSE_LONG;
        else cli_usage_error(c, "--format: '%s' is not auto, lists or long", arg);
        break;
    case OPT_ANYTIME: wo->anytime = true; break;
    case OPT_ITERATIONS:
        e->max_iterations = cli_parse_count(c, "--iterations", arg, 0, UINT64_MAX);
        wo->iterations_given = true;
        break;
    case OPT_TIME: e->max_seconds = cli_parse_real(c, "--time", arg, 1e-6, 1e9); break;
    case OPT_TOP_FRACTION:
        e->top_fraction = cli_parse_real(c, "--top-fraction", arg, 1e-9, 1.0);
        break;
    default:
        cli_usage_error(c, "unexpected option");
    }
}

static void parse_args(int argc, char **argv, cli *c, words_opts *wo)
{
    static const struct option longopts[] = {
        { "delimiter", required_argument, NULL, 'd' },
        { "no-header", no_argument, NULL, CLI_OPT_NO_HEADER },
        { "exact", no_argument, NULL, CLI_OPT_EXACT },
        { "seed", required_argument, NULL, CLI_OPT_SEED },
        { "threads", required_argument, NULL, 'j' },
        { "output", required_argument, NULL, 'o' },
        { "quiet", no_argument, NULL, 'q' },
        { "progress", no_argument, NULL, CLI_OPT_PROGRESS },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { "k", required_argument, NULL, OPT_K },
        { "similarity", required_argument, NULL, OPT_SIMILARITY },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "anytime", no_argument, NULL, OPT_ANYTIME },
        { "iterations", required_argument, NULL, OPT_ITERATIONS },
        { "time", required_argument, NULL, OPT_TIME },
        { "top-fraction", required_argument, NULL, OPT_TOP_FRACTION },
        { NULL, 0, NULL, 0 },
    };
    bool delim_given = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "d:j:o:qhVk:", longopts, NULL)) != -1) {
        delim_given |= opt == 'd';
        if (!cli_option(c, opt, optarg, program_help))
            parse_program_option(c, wo, opt, optarg);
    }
    wo->read.delim = c->read.delim;
    wo->read.header = c->read.header;
    /* a separator or --no-header only makes sense for the long format */
    if (wo->read.format == PANN_SPARSE_AUTO && (delim_given || !c->read.header))
        wo->read.format = PANN_SPARSE_LONG;
    int nfiles = argc - optind;
    if (nfiles < 1 || nfiles > 2)
        cli_usage_error(c, "expected QUERY [REFERENCE], got %d file%s", nfiles,
                        nfiles == 1 ? "" : "s");
    if (nfiles == 2 && strcmp(argv[optind], "-") == 0 && strcmp(argv[optind + 1], "-") == 0)
        cli_usage_error(c, "standard input ('-') can be read only once");
    if (c->exact && wo->anytime)
        cli_usage_error(c, "--exact and --anytime exclude each other");
    if (!wo->anytime && (wo->iterations_given || wo->engine.max_seconds > 0))
        cli_usage_error(c, "--iterations and --time need --anytime");
}

static void write_neighbours(const cli *c, const pann_sparse *S, const pann_sparse *T,
                             const pann_sparse_result *r)
{
    pann_output out;
    cli_output_open(c, &out);
    fputs("query,rank,neighbor,similarity,distance\n", out.fp);
    for (size_t q = 0; q < r->n; q++)
        for (size_t i = 0; i < r->k; i++) {
            uint32_t j = r->nn[q * r->k + i];
            double s = r->sim[q * r->k + i];
            pann_csv_field(out.fp, S->words[q]);
            fprintf(out.fp, ",%zu,", i + 1);
            if (j == PANN_NONE) {              /* the budget left the list short */
                fputs(",,\n", out.fp);
                continue;
            }
            pann_csv_field(out.fp, T->words[j]);
            fprintf(out.fp, ",%.9g,%.9g\n", s, 1.0 - s);
        }
    cli_output_commit(c, &out);
}

static void summarise(const cli *c, const words_opts *wo, const pann_sparse *S,
                      const pann_sparse *T, size_t ntokens, const pann_sparse_result *r)
{
    double brute = (double)S->n * (double)T->n;
    cli_note(c, "%zu query words, %zu reference words, %zu distinct tokens, K = %zu, "
             "similarity %s", S->n, T->n, ntokens, r->k,
             wo->sim == PANN_SPARSE_DOT ? "dot" : "cosine");
    if (!wo->anytime)
        cli_note(c, "exact search by inverted index: %llu word pairs share a token "
                 "(%.3g%% of all pairs), %.3f s", (unsigned long long)r->pairs,
                 brute > 0 ? 100.0 * r->pairs / brute : 0.0, r->seconds);
    else
        cli_note(c, "anytime search, seed %llu: %llu proposals (%.3g%% of all pairs), "
                 "%llu epochs, %zu words (%.1f%%) proven exact, %.3f s%s",
                 (unsigned long long)c->seed, (unsigned long long)r->iterations,
                 brute > 0 ? 100.0 * r->iterations / brute : 0.0,
                 (unsigned long long)r->epochs, r->nproven,
                 r->n ? 100.0 * r->nproven / r->n : 0.0, r->seconds,
                 r->stopped_by_time ? ", stopped by --time" : "");
}

int main(int argc, char **argv)
{
    cli c;
    words_opts wo = { .k = 1, .sim = PANN_SPARSE_COSINE };
    cli_init(&c, argc, argv, "pann-words",
             "pann-words [OPTIONS] QUERY [REFERENCE]", PANN_SCALE_NONE);
    pann_sparse_read_opts_init(&wo.read);
    pann_engine_opts_init(&wo.engine);
    parse_args(argc, argv, &c, &wo);

    size_t nfiles = (size_t)(argc - optind);
    pann_sparse_vocab *vocab = pann_sparse_vocab_new();
    pann_sparse sets[2];
    pann_error err = {0};
    if (!vocab) {
        pann_fail(&err, PANN_ESYSTEM, "out of memory");
        cli_die(&c, &err);
    }
    for (size_t f = 0; f < nfiles; f++)
        if (pann_sparse_read(&sets[f], argv[optind + f], &wo.read, vocab, &err) != 0)
            cli_die(&c, &err);
    const pann_sparse *S = &sets[0], *T = nfiles == 2 ? &sets[1] : &sets[0];

    pann_engine_opts *e = &wo.engine;
    cli_engine_apply(&c, e);
    e->self_exclude = nfiles == 1;
    if (!wo.iterations_given)
        e->max_iterations = PANN_DEFAULT_PROPOSALS_PER_ROW * (uint64_t)wo.k
                            * (uint64_t)S->n;

    pann_sparse_result r;
    int rc = wo.anytime ? pann_sparse_knn_anytime(S, T, wo.sim, wo.k, e, &r, &err)
                        : pann_sparse_knn_exact(S, T, wo.sim, wo.k, e->self_exclude,
                                                e->threads, &r, &err);
    if (wo.anytime && e->progress)
        fputc('\n', stderr);
    if (rc)
        cli_die(&c, &err);
    write_neighbours(&c, S, T, &r);
    summarise(&c, &wo, S, T, pann_sparse_vocab_size(vocab), &r);
    pann_sparse_result_free(&r);
    for (size_t f = 0; f < nfiles; f++)
        pann_sparse_free(&sets[f]);
    pann_sparse_vocab_free(vocab);
    return 0;
}
