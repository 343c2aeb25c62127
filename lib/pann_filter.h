/* pann_filter.h — declarations of the filter module: which synthetic rows
 * to keep.  Two selections: the density ratio (lib/filter_ratio.c, the
 * default) keeps each row with a probability that makes the kept rows
 * follow the real distribution; the distance rule (lib/filter.c, article
 * section 2.2) keeps the rows whose nearest real row is close enough.
 * Both drop near copies of real rows, with every distance exact. */
#ifndef PANN_FILTER_H
#define PANN_FILTER_H

#ifdef __cplusplus
extern "C" {
#endif

/* How the upper threshold (too far) is chosen. */
typedef enum {
    PANN_MAX_REAL_QUANTILE = 0, /* quantile of the real rows' LOO NN distances */
    PANN_MAX_DIST,              /* a given distance */
    PANN_MAX_SYNTH_QUANTILE,    /* keep the fraction q nearest synthetic rows */
    PANN_MAX_KEEP               /* keep the `keep` nearest synthetic rows */
} pann_max_rule;

/* How the lower threshold (near copy) is chosen. */
typedef enum {
    PANN_MIN_NONE = 0, PANN_MIN_DIST, PANN_MIN_REAL_QUANTILE,
    PANN_MIN_HOLDOUT_QUANTILE   /* the quantile of the holdout rows' NN
                                   distances to the real rows */
} pann_min_rule;

typedef enum {
    PANN_FILTER_KEEP = 0, PANN_FILTER_TOO_FAR = 1, PANN_FILTER_NEAR_COPY = 2,
    PANN_FILTER_EXCESS = 3   /* not drawn: where the synthetic rows are
                                denser than the real ones (ratio) */
} pann_filter_decision;

/* Which rows are kept. */
typedef enum {
    PANN_SELECT_RATIO = 0,   /* density ratio, rejection sampling */
    PANN_SELECT_DISTANCE     /* distance to the nearest real row */
} pann_select;

/* Ratio selection defaults, chosen on bench/fidelity.sh. */
#define PANN_RATIO_K 30
#define PANN_RATIO_ACCEPT_QUANTILE 0.9
#define PANN_RATIO_SHRINK_AUTO (-1.0)
/* SYNTH's side of the counts: at most this many times REAL's rows (a
 * seeded sample beyond). */
#define PANN_RATIO_POOL_FACTOR 1.0
/* Row i of SYNTH is in the sample when pann_uniform3(seed, this, i) is below
 * PANN_RATIO_POOL_FACTOR x |REAL| / |SYNTH|. */
#define PANN_RATIO_POOL_TAG 0x7a71e5c0ffee0002ULL

typedef struct pann_filter_opts {
    pann_select select;
    size_t ratio_k;          /* neighbours in REAL u SYNTH per row */
    double accept_quantile;  /* acceptance constant: this quantile of the
                                ratios; 1 = their maximum */
    double shrink;           /* prior strength of the count shrinkage;
                                PANN_RATIO_SHRINK_AUTO = from the data */
    const pann_matrix *holdout; /* real rows the synthesizer never saw, for
                                PANN_MIN_HOLDOUT_QUANTILE (or NULL) */
    bool fidelity;           /* fill the result's fidelity figures (the
                                streamed distance rule then holds SYNTH) */
    const pann_matrix *fidelity_ref; /* scored against: HOLDOUT, or NULL
                                for REAL */
    pann_max_rule max_rule;
    double max_value;        /* distance, or quantile in [0,1] */
    size_t keep;             /* PANN_MAX_KEEP */
    pann_min_rule min_rule;
    double min_value;        /* distance, or quantile in [0,1] */
    bool drop_copies;        /* distance 0 to a real row is a near copy */
    bool exact;              /* brute force (pann_match_exact) for everything */
    size_t dcr_sample;       /* synthetic rows whose exact NN distance gives
                                the DCR median when not all are computed;
                                0 = all rows */
    uint64_t seed;           /* chooses the DCR sample */
    int threads;             /* 0 = all cores */
} pann_filter_opts;

/* Defaults: the ratio selection (K 30, acceptance at the 0.9 quantile,
 * shrinkage from the data); for the distance rule the 0.95 quantile of the
 * real LOO distances; no near-copy test, DCR sample of 10000 rows, seed 1. */
void pann_filter_opts_init(pann_filter_opts *o);

typedef struct pann_filter_result {
    size_t n;                    /* synthetic rows (matrix rows) */
    unsigned char *decision;     /* pann_filter_decision per row */
    float *dist;                 /* exact NN distance, or NAN when the row
                                    was kept early (only an upper bound was
                                    needed); every dropped row has it */
    double max_dist;             /* threshold: kept rows have dist <= it */
    double min_dist;             /* rows with dist < it are near copies;
                                    NAN when there is no such test */
    size_t kept, too_far, near_copy;
    size_t settled_early;        /* kept as soon as a real row within
                                    max_dist was found */
    size_t settled_full;         /* decided by a complete (pruned) search */
    double median_synth;         /* median synthetic -> real NN distance */
    size_t median_synth_rows;    /* rows it was computed on */
    double median_real;          /* median real -> real LOO NN distance
                                    (NAN with fewer than 2 real rows) */
    uint64_t evaluations;        /* distance evaluations, all steps */
    double work_fraction;        /* evaluations / (synthetic x real rows) */
    float *real_loo;             /* the real rows' LOO NN distances, sorted
                                    (NULL when not computed) */
    size_t nreal_loo;
    /* ratio selection */
    size_t excess;               /* rows not drawn */
    float *ratio;                /* per row: estimated real/synthetic
                                    density ratio (NULL for distance) */
    size_t ratio_k;              /* neighbours used (K, or fewer rows) */
    size_t ratio_pool;           /* synthetic rows on the counts' side */
    double accept_constant;      /* M: rows are kept with min(1, ratio/M) */
    double shrink;               /* prior strength used (inf: no evidence
                                    of a difference, every ratio 1) */
    double overdispersion;       /* rho of the counts, 0 when binomial */
    /* near copies from the holdout */
    size_t holdout_rows;
    double holdout_median;       /* median holdout -> real NN distance */
    /* fidelity (o->fidelity): before = every synthetic row, after = kept */
    bool has_fidelity;
    size_t fidelity_nodes;       /* ECDF nodes (all rows, or a sample) */
    bool fidelity_all_nodes;
    size_t fidelity_columns;     /* numeric columns in the ECDF */
    size_t fidelity_rows;        /* synthetic rows scored (a seeded sample
                                    above PANN_FIDELITY_MAX_ROWS) */
    size_t fidelity_ref_rows;    /* reference rows scored */
    double ks_before, ks_after;  /* multivariate ECDF KS */
    double marg_before, marg_after; /* mean per-column KS (numeric) / TV
                                    (categorical) */
} pann_filter_result;

/* Decide every row of S (synthetic) against R (real).  Errors: R empty,
 * a rule that needs the LOO distances with fewer than 2 real rows, bad
 * option values. */
int pann_filter_run(const pann_matrix *R, const pann_matrix *S,
                    const pann_metric *m, const pann_filter_opts *o,
                    pann_filter_result *r, pann_error *err);
void pann_filter_result_free(pann_filter_result *r);

/* The same decisions with the synthetic rows read from a file in chunks
 * (pann_reader_*), encoded with the real table's schema
 * (pann_encode_with_schema): memory holds R, one chunk and a few bytes per
 * synthetic row, whatever the file's size.  --quantile and --keep, and a
 * DCR sample of rows kept early, need a second pass over the file; a pipe
 * is then spooled to a temporary file. */
#define PANN_FILTER_CHUNK_ROWS 65536
typedef struct pann_filter_input {
    const char *path;                /* the synthetic rows; "-" = stdin */
    const pann_read_opts *read;
    const pann_encode_opts *encode;  /* missing-value policy, cosine */
    const pann_table *ref;           /* the real table as read */
    const size_t *ref_cols;          /* its chosen columns, schema order */
    const pann_schema *schema;       /* from encoding the real table */
    size_t chunk_rows;               /* rows per chunk: 0 = the default
                                        above, SIZE_MAX = the whole file */
    size_t chunk_bytes;              /* or fewer past this much text; 0 =
                                        no limit */
    /* Optional: a check of each encoded chunk (S->row_id: chunk rows). */
    int (*check)(void *ctx, const pann_table *chunk, const pann_matrix *S,
                 pann_error *err);
    /* Every row in file order, after the header (row SIZE_MAX): decision
     * (pann_filter_decision, or -1 for a row left out for a missing value)
     * and its distance (NAN when unknown).  Returns 0 or an exit status. */
    int (*emit)(void *ctx, const pann_table *chunk, size_t row, int decision,
                float dist, pann_error *err);
    void *ctx;
} pann_filter_input;

/* The option and real-table checks of pann_filter_run, alone: errors here
 * are about R (not located in a file). */
int pann_filter_check(const pann_matrix *R, const pann_metric *m,
                      const pann_filter_opts *o, pann_error *err);
/* r as pann_filter_run would give for the whole file (r->n: rows encoded);
 * *rows_read: data rows read, *dropped: rows left out (--missing=drop). */
int pann_filter_stream(const pann_matrix *R, const pann_metric *m,
                       const pann_filter_opts *o, const pann_filter_input *in,
                       pann_filter_result *r, size_t *rows_read, size_t *dropped,
                       pann_error *err);

/* The q-quantile of v[0..n) by the inverse empirical CDF: the smallest
 * value x with at least ceil(q*n) values <= x (v[0] sorted for q = 0).
 * v is sorted in place.  NAN when n = 0. */
double pann_quantile_sorted(float *v, size_t n, double q);
/* Median (mean of the two middle values for even n) of sorted v. */
double pann_median_sorted(const float *v, size_t n);

/* Exact nearest-neighbour distance of the rows of S (or only rows[i],
 * i < nrows, when rows is not NULL) among R, pruned by a projection bound
 * (see filter.c); with self_exclude, S is R and a row is not its own
 * neighbour.  With keep_dist >= 0 a row stops as soon as a neighbour within
 * keep_dist is found: early[i] = 1 and best[i] is only that upper bound.
 * Results are in the order of rows (or of S). */
typedef struct pann_filter_index pann_filter_index;
int pann_filter_index_build(pann_filter_index **ix, const pann_matrix *R,
                            const pann_metric *m, pann_error *err);
void pann_filter_index_free(pann_filter_index *ix);
int pann_filter_nn(const pann_filter_index *ix, const pann_matrix *S,
                   const size_t *rows, size_t nrows, bool self_exclude,
                   double keep_dist, int threads, float *best,
                   unsigned char *early, uint64_t *evaluations, pann_error *err);

/* ---- the ratio selection (lib/filter_ratio.c) ---------------------- */

/* Decide every row of S by the density ratio: r->decision and r->dist
 * (allocated for S->n rows; dist receives the exact distance to the nearest
 * real row) and r->min_dist (near copies) are set by the caller's
 * thresholds; fills r->ratio, ratio_k, accept_constant, shrink,
 * overdispersion. */
int pann_filter_ratio_decide(const pann_matrix *R, const pann_matrix *S,
                             const pann_metric *m, const pann_filter_opts *o,
                             pann_filter_result *r, pann_error *err);
/* Real rows among the K nearest of two sorted distance lists (real dr,
 * synthetic ds) merged; a group tied at the K-th distance counts its real
 * rows in proportion. */
double pann_ratio_real_count(const float *dr, size_t kr, const float *ds, size_t ks,
                             size_t K);
/* The beta-binomial overdispersion rho of counts out of K whose mean
 * share under equal densities is pi0, clamped to [0, 0.999]. */
double pann_ratio_overdispersion(const double *counts, size_t n, size_t K, double pi0);

/* ---- fidelity (lib/filter_fidelity.c) ------------------------------- */

#define PANN_FIDELITY_ALL_NODES 50000
#define PANN_FIDELITY_NODES 10000
#define PANN_FIDELITY_MAX_ROWS 100000
/* r->ks_before/after and marg_before/after of ref against S and against
 * S's kept rows (r->decision). */
int pann_filter_fidelity(const pann_matrix *ref, const pann_matrix *S, const pann_metric *m,
                         const pann_filter_opts *o, pann_filter_result *r, pann_error *err);

/* One table per category (--group): each synthetic row is decided only
 * against the real rows of its category, each category with its own
 * thresholds (the rules of o applied to its real rows).  A synthetic row
 * whose category has no real row is too far (distance +inf).  Every
 * distance is computed exactly, by brute force within each category (the
 * sum of N_i x M_i pairs), so the DCR medians are over all rows.  r->max_dist and
 * r->min_dist are NAN: the per-category range is in st.  batch > 0 splits
 * categories of more real rows into batches (pann_group_batches), each
 * with the thresholds of its own real rows. */
typedef struct pann_filter_group_stats {
    pann_group_stats batches;
    double max_lo, max_hi;       /* range of the categories' maximum */
    double min_lo, min_hi;       /* and minimum (near-copy) distances */
} pann_filter_group_stats;
int pann_filter_group(const pann_matrix *R, const pann_matrix *S, const pann_groups *g,
                      size_t batch, const pann_metric *m, const pann_filter_opts *o,
                      pann_filter_result *r, pann_filter_group_stats *st, pann_error *err);

#ifdef __cplusplus
}
#endif

#endif
