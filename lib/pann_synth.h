/* pann_synth.h — the NoGAN synthesizer of the article's section 2.2 (see
 * lib/synth.c): quantile bins per column, the non-empty multi-column boxes
 * of the real rows with their counts, and new rows drawn box by box.
 * Included at the end of pann.h; uses its types. */
#ifndef PANN_SYNTH_H
#define PANN_SYNTH_H

#ifdef __cplusplus
extern "C" {
#endif

/* A bins entry of 0 asks for the automatic number of bins of the column
 * (pann_synth_auto_bins). */
#define PANN_SYNTH_AUTO_BINS 0
/* A numeric column is discrete when its values repeat: at most 2 distinct
 * values (a flag), or every distinct value seen this many times on average
 * (counts, small integers, prices on a grid). */
#define PANN_SYNTH_DISCRETE_REPEATS 8
/* Code of the "missing" bin of a numeric column (empty, NA, NaN cells). */
#define PANN_SYNTH_MISSING UINT32_MAX

/* One chosen column of the real table. */
typedef struct pann_synth_column {
    size_t col;              /* column of the table */
    bool categorical;        /* a category is its own bin */
    size_t nbins;            /* numeric: bins after merging equal edges */
    double *edges;           /* numeric: nbins + 1 edges; bin i is
                                [edges[i], edges[i+1]), the last one closed */
    int decimals;            /* numeric: digits after the point in the real
                                column, or -1 (exponents): shortest %g */
    char *missing_text;      /* numeric: how the real file writes a missing
                                cell (first one seen), or NULL when none */
    bool discrete;           /* numeric with few distinct values (see
                                pann_synth_is_discrete): a value is drawn
                                from the real values of its bin */
    size_t nvals;            /* numeric: distinct real values */
    size_t nsorted;          /* numeric: the non-missing real values, */
    double *sorted;          /*   ascending */
    size_t *rank;            /* numeric: nbins + 1 positions in sorted;
                                bin i holds sorted[rank[i] .. rank[i+1]) */
    size_t ncat;             /* categorical: categories, by first appearance */
    char **cats;
} pann_synth_column;

typedef struct pann_synth_model {
    size_t d;                /* chosen columns */
    pann_synth_column *cols;
    char **names;            /* their header names */
    size_t nrows;            /* real rows */
    size_t auto_cap;         /* the cap put on automatic bins so that most
                                boxes hold more than one real row, or 0 */
    size_t nboxes;           /* non-empty boxes, by first appearance */
    uint32_t *keys;          /* nboxes * d bin codes, box b at keys + b*d */
    uint64_t *count;         /* real rows in each box */
    size_t hash_size;        /* open-addressing table of box indices */
    uint32_t *hash;
} pann_synth_model;

/* Bins per chosen column from SPEC: comma-separated items, each N (every
 * numeric column) or NAME:N (that column, by header name or 1-based index;
 * later items win).  NULL or "" = PANN_SYNTH_AUTO_BINS everywhere.
 * bins has d entries. */
int pann_synth_parse_bins(const pann_table *t, const size_t *cols, size_t d,
                          const char *spec, size_t *bins, pann_error *err);

/* Whether a numeric column of n non-missing cells with this many distinct
 * values is discrete. */
bool pann_synth_is_discrete(size_t n, size_t distinct);
/* The automatic number of quantile bins of a numeric column of n
 * non-missing cells with this many distinct values. */
size_t pann_synth_auto_bins(size_t n, size_t distinct);

/* Build the model of the columns cols[0..d) of t.  A column is numeric when
 * every non-missing cell parses as a number (and is_cat[j] is 0 when is_cat
 * is given), otherwise categorical.  Numeric bin edges are the empirical
 * quantiles at levels i/bins[j] (the value of rank floor(i n / bins)),
 * equal edges merged. */
int pann_synth_fit(const pann_table *t, const size_t *cols, size_t d,
                   const size_t *bins, const unsigned char *is_cat,
                   pann_synth_model *m, pann_error *err);
void pann_synth_free(pann_synth_model *m);

/* Bin code of a cell of column j of the model: numeric values outside the
 * real range get code nbins (never a box); unknown categories ncat. */
uint32_t pann_synth_code(const pann_synth_model *m, size_t j, const char *cell);
/* Index of the box with these d codes, or SIZE_MAX when the real data has
 * no row in it. */
size_t pann_synth_box(const pann_synth_model *m, const uint32_t *key);

/* How a continuous column's value is drawn inside its bin: UNIFORM;
 * GAUSSIAN around the bin's centre, truncated to the bin; EMPIRICAL, by
 * the real values' quantile function, interpolated linearly between
 * consecutive real values of the bin (and the next bin's first value), so
 * the values follow the real distribution inside the bin without repeating
 * real values.  A discrete column's value is always a real value of its
 * bin, drawn with its real frequency. */
typedef enum {
    PANN_SYNTH_UNIFORM = 0, PANN_SYNTH_GAUSSIAN, PANN_SYNTH_EMPIRICAL
} pann_synth_draw;

/* Synthetic rows per box: PROPORTIONAL, the box's real share of the rows,
 * rounded up or down by systematic sampling (one random offset; exactly
 * the real counts when rows equals the real rows); MULTINOMIAL, a
 * multinomial draw on the real shares; REAL, exactly the real counts. */
typedef enum {
    PANN_SYNTH_PROPORTIONAL = 0, PANN_SYNTH_MULTINOMIAL, PANN_SYNTH_REAL
} pann_synth_counts;

typedef struct pann_synth_opts {
    size_t rows;             /* rows to write (ignored with PANN_SYNTH_REAL) */
    pann_synth_counts counts;
    pann_synth_draw draw;
    double sd;               /* Gaussian: sd as a fraction of the bin width
                                (default 0.25), truncated to the bin */
    uint64_t seed;
    bool header;             /* write the header line (default true) */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *progress_ctx;
} pann_synth_opts;

void pann_synth_opts_init(pann_synth_opts *o);

/* Write the header (the chosen columns' names, unless o->header is false) and the synthetic rows to
 * out, separated by delim.  Counts per box as o->counts says (the
 * multinomial by GSL); the rows' order is
 * shuffled; each numeric value drawn inside its bin as o->draw says,
 * rounded to the real column's decimals without
 * leaving the bin; categories and missing cells as in the real file.
 * Single-threaded, one GSL mt19937 stream: the seed fixes every byte.
 * counts, when not NULL, receives the synthetic rows per box (nboxes). */
int pann_synth_generate(const pann_synth_model *m, const pann_synth_opts *o,
                        char delim, FILE *out, uint64_t *counts, pann_error *err);

#ifdef __cplusplus
}
#endif

#endif
