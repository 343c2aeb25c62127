/* ivf_build.c — the IVF index of T: k-means on a sample of T, then every
 * row of T in the cell of its nearest centroid.
 *
 * The sample is the first rows of a keyed permutation of T (pann_perm, from
 * the seed), the first centroids its first rows.  Each Lloyd round assigns
 * every sample row to its nearest centroid (ties: the lower) and moves each centroid to its members' mean, summed in
 * double in sample order; a cell left empty keeps its centroid.  Under
 * cosine the centroids are unit-normalised (spherical k-means).  Every
 * step is a function of the rows alone, so the index is the same for any
 * thread count.  Rows meet centroids through an ivf_kernel: the
 * matrix-product kernel (kernels_gemm.c, 96 rows at a time) for cosine and
 * L2 from GEMM_MIN_COLUMNS columns on, else the blocked kernel (8 rows),
 * each row's bound tightening as tiles of centroids pass; both give
 * pann_cmp's values bit for bit, so the cells, and the radii the proofs
 * rest on, are those of either kernel.
 */
#include <config.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "pann.h"
#include "internal.h"
#include "ivf_internal.h"
#ifdef HAVE_SYS_MMAN_H
#include <sys/mman.h>
#endif

double ivf_metric_dist(const pann_metric *m, float c)
{
    double v = c > 0 ? (double)c : 0.0;
    return m->kind == PANN_L1 ? v : m->kind == PANN_L2 ? sqrt(v) : sqrt(2.0 * v);
}

int ivf_kernel_init(ivf_kernel *k, const pann_metric *m, size_t tile)
{
    bool gemm = pann_gemm_suits(m);
    *k = (ivf_kernel){ .m = m, .gemm = gemm, .batch = gemm ? GEMM_MAX_QUERIES : PANN_QBATCH,
                       .tile = gemm ? GEMM_TILE_BLOCKS : tile };
    size_t n = k->batch * k->tile * PANN_LANES;
    k->hits = malloc(n * sizeof *k->hits);
    k->values = gemm ? malloc(n * sizeof *k->values) : NULL;
    return k->hits && (k->values || !gemm) ? 0 : -1;
}

void ivf_kernel_free(ivf_kernel *k)
{
    free(k->hits);
    free(k->values);
    k->hits = NULL;
    k->values = NULL;
}

size_t ivf_filter(const ivf_kernel *k, const pann_blocks *b, size_t first, size_t nb,
                  const float *const *rows, size_t nq, const float *bound)
{
    return k->gemm ? pann_gemm_filter(k->m, b, first, nb, rows, nq, bound, PANN_MIN, k->values,
                                      k->hits)
                   : pann_block_filter(k->m, b, first, nb, rows, nq, bound, PANN_MIN, k->hits);
}

/* Every value of rows[0..nq) with blocks [first, first + nb) of b by the
 * matrix-product kernel, formed as pann_gemm_filter forms them (1 - dot
 * under cosine): k->values[q * nb * PANN_LANES + s], s from the first
 * block's first slot. */
static void gemm_values(const ivf_kernel *k, const pann_blocks *b, size_t first, size_t nb,
                        const float *const *rows, size_t nq)
{
    pann_kernels()->gemm(b->v + first * b->d * PANN_LANES, nb, b->d, k->m->kind, rows, nq,
                         k->values);
    if (k->m->kind == PANN_COSINE)
        for (size_t i = 0; i < nq * nb * PANN_LANES; i++)
            k->values[i] = 1.0f - k->values[i];
}

void ivf_centroid_cmp(const ivf_index *ix, const ivf_kernel *k, const float *const *rows,
                      size_t nq, float *out)
{
    float all[IVF_MAX_BATCH];
    for (size_t q = 0; q < nq; q++)
        all[q] = INFINITY;
    for (size_t b = 0; b < ix->cblocks.nblocks; b += k->tile) {
        size_t nb = ix->cblocks.nblocks - b < k->tile ? ix->cblocks.nblocks - b : k->tile;
        size_t first = b * PANN_LANES, stride = nb * PANN_LANES;
        size_t slots = ix->ncells - first < stride ? ix->ncells - first : stride;
        if (k->gemm) {
            gemm_values(k, &ix->cblocks, b, nb, rows, nq);
            for (size_t q = 0; q < nq; q++)
                memcpy(out + q * ix->ncells + first, k->values + q * stride,
                       slots * sizeof *out);
            continue;
        }
        size_t nh = ivf_filter(k, &ix->cblocks, b, nb, rows, nq, all);
        for (size_t h = 0; h < nh; h++)
            out[k->hits[h].query * ix->ncells + k->hits[h].slot] = k->hits[h].value;
    }
}

/* Nearest centroid (ties: the lower) of rows[0..nq), and its value: the
 * matrix-product kernel's values taken in slot order, or the blocked
 * kernel's hits under the bounds so far. */
static void nearest_cells(const pann_blocks *cb, const ivf_kernel *k, const float *const *rows,
                          size_t nq, uint32_t *cell, float *value)
{
    for (size_t q = 0; q < nq; q++) {
        value[q] = INFINITY;
        cell[q] = 0;
    }
    for (size_t b = 0; b < cb->nblocks; b += k->tile) {
        size_t nb = cb->nblocks - b < k->tile ? cb->nblocks - b : k->tile;
        size_t first = b * PANN_LANES, stride = nb * PANN_LANES;
        size_t slots = cb->n - first < stride ? cb->n - first : stride;
        if (k->gemm) {
            gemm_values(k, cb, b, nb, rows, nq);
            for (size_t q = 0; q < nq; q++)
                for (size_t s = 0; s < slots; s++)
                    if (k->values[q * stride + s] < value[q]) {
                        value[q] = k->values[q * stride + s];
                        cell[q] = (uint32_t)(first + s);
                    }
            continue;
        }
        size_t nh = ivf_filter(k, cb, b, nb, rows, nq, value);
        for (size_t h = 0; h < nh; h++) {
            const pann_hit *x = &k->hits[h];
            if (pann_key_less(x->value, x->slot, value[x->query], cell[x->query])) {
                value[x->query] = x->value;
                cell[x->query] = x->slot;
            }
        }
    }
}

/* Every row of X (row ids[i] of T, ids NULL for all of T) to its cell. */
static int assign(const pann_matrix *T, const uint32_t *ids, size_t n, const pann_blocks *cb,
                  const pann_metric *m, int threads, uint32_t *cell, float *value,
                  pann_error *err)
{
    int failed = 0;
#pragma omp parallel num_threads(threads)
    {
        ivf_kernel k;
        bool ready = ivf_kernel_init(&k, m, IVF_CELL_TILE) == 0;
        if (!ready) {
#pragma omp atomic write
            failed = 1;
        }
        size_t nbatch = (n + k.batch - 1) / k.batch;
#pragma omp for schedule(dynamic, 4)
        for (size_t b = 0; b < nbatch; b++) {
            const float *rows[IVF_MAX_BATCH];
            size_t first = b * k.batch, nq = n - first < k.batch ? n - first : k.batch;
            for (size_t q = 0; q < nq; q++)
                rows[q] = pann_row(T, ids ? ids[first + q] : first + q);
            if (ready)
                nearest_cells(cb, &k, rows, nq, cell + first, value + first);
        }
        ivf_kernel_free(&k);
    }
    return failed ? pann_fail(err, PANN_ESYSTEM, "out of memory (IVF assignment)") : 0;
}

/* Each centroid to the mean of its members (in sample order); an empty
 * cell keeps its centroid. */
static int move_centroids(pann_matrix *C, const pann_matrix *T, const uint32_t *ids, size_t n,
                          const uint32_t *cell, bool unit, pann_error *err)
{
    size_t k = C->n, d = C->d;
    double *sum = calloc(k * d, sizeof *sum);
    size_t *count = calloc(k, sizeof *count);
    if (!sum || !count) {
        free(sum);
        free(count);
        return pann_fail(err, PANN_ESYSTEM, "out of memory (k-means of %zu cells)", k);
    }
    for (size_t i = 0; i < n; i++) {
        const float *x = pann_row(T, ids[i]);
        double *s = sum + (size_t)cell[i] * d;
        for (size_t j = 0; j < d; j++)
            s[j] += x[j];
        count[cell[i]]++;
    }
    for (size_t c = 0; c < k; c++)
        for (size_t j = 0; count[c] && j < d; j++)
            C->v[c * d + j] = (float)(sum[c * d + j] / (double)count[c]);
    free(sum);
    free(count);
    if (unit)
        pann_normalise_rows(C);
    return 0;
}

static int kmeans(ivf_index *ix, const pann_matrix *T, const pann_metric *m, size_t sample,
                  size_t rounds, uint64_t seed, int threads, pann_error *err)
{
    uint32_t *ids = malloc(sample * sizeof *ids), *cell = malloc(sample * sizeof *cell);
    float *value = malloc(sample * sizeof *value);
    int rc = !ids || !cell || !value ? pann_fail(err, PANN_ESYSTEM, "out of memory (k-means)")
           : pann_matrix_alloc(&ix->centroids, ix->ncells, T->d, err);
    if (!rc) {
        pann_perm p;
        pann_perm_init(&p, T->n, seed, 0x1f5);
        for (size_t i = 0; i < sample; i++)
            ids[i] = (uint32_t)pann_perm_at(&p, i);
        for (size_t c = 0; c < ix->ncells; c++)
            memcpy(ix->centroids.v + c * T->d, pann_row(T, ids[c]), T->d * sizeof(float));
    }
    for (size_t round = 0; !rc && round < rounds; round++) {
        pann_blocks_free(&ix->cblocks);
        rc = pann_blocks_build(&ix->cblocks, &ix->centroids, err);
        if (!rc) {
            rc = assign(T, ids, sample, &ix->cblocks, m, threads, cell, value, err);
            ix->evaluations += (uint64_t)sample * ix->ncells;
            if (!rc)
                rc = move_centroids(&ix->centroids, T, ids, sample, cell, m->kind == PANN_COSINE, err);
        }
    }
    pann_blocks_free(&ix->cblocks);
    if (!rc)
        rc = pann_blocks_build(&ix->cblocks, &ix->centroids, err);
    free(ids);
    free(cell);
    free(value);
    return rc;
}

/* An array of n floats for the cells' rows; from 2 MiB on aligned to
 * 2 MiB and marked for huge pages where the system has them, since
 * faulting in a copy of T page by page can cost more than building the
 * cells. */
static float *rows_alloc(size_t n)
{
    size_t bytes = (n ? n : 1) * sizeof(float), huge = (size_t)2 << 20;
    void *v = NULL;
    if (posix_memalign(&v, bytes >= huge ? huge : 64, bytes) != 0)
        return NULL;
#if defined(HAVE_MADVISE) && defined(MADV_HUGEPAGE)
    if (bytes >= huge)
        (void)madvise(v, bytes / huge * huge, MADV_HUGEPAGE);
#endif
    return v;
}

/* T's rows grouped by cell (row order inside a cell), each cell on whole
 * blocks; the radius of each cell from the assignment's values. */
static int layout(ivf_index *ix, const pann_matrix *T, const pann_metric *m,
                  const uint32_t *cell, const float *value, int threads, pann_error *err)
{
    size_t k = ix->ncells, d = T->d;
    ix->cell_block = calloc(k + 1, sizeof *ix->cell_block);
    ix->cell_size = calloc(k, sizeof *ix->cell_size);
    ix->radius = calloc(k, sizeof *ix->radius);
    if (!ix->cell_block || !ix->cell_size || !ix->radius)
        return pann_fail(err, PANN_ESYSTEM, "out of memory (IVF cells)");
    for (size_t i = 0; i < T->n; i++) {
        ix->cell_size[cell[i]]++;
        float r = (float)ivf_metric_dist(m, value[i]);
        ix->radius[cell[i]] = r > ix->radius[cell[i]] ? r : ix->radius[cell[i]];
    }
    for (size_t c = 0; c < k; c++)
        ix->cell_block[c + 1] = ix->cell_block[c] + (ix->cell_size[c] + PANN_LANES - 1) / PANN_LANES;
    size_t nb = ix->cell_block[k], slots = nb * PANN_LANES;
    ix->rows = (pann_blocks){ .n = slots, .d = d, .nblocks = nb };
    ix->slot_row = malloc((slots ? slots : 1) * sizeof *ix->slot_row);
    size_t *fill = calloc(k, sizeof *fill);
    ix->rows.v = rows_alloc(slots * d);
    if (!ix->slot_row || !fill || !ix->rows.v) {
        free(fill);
        return pann_fail(err, PANN_ESYSTEM, "out of memory (IVF of %zu rows)", T->n);
    }
    for (size_t s = 0; s < slots; s++)
        ix->slot_row[s] = PANN_NONE;
    for (size_t i = 0; i < T->n; i++)   /* each cell's rows in row order */
        ix->slot_row[ix->cell_block[cell[i]] * PANN_LANES + fill[cell[i]]++] = (uint32_t)i;
    free(fill);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 64)
    for (size_t b = 0; b < nb; b++) {
        float *base = ix->rows.v + b * d * PANN_LANES;
        for (size_t lane = 0; lane < PANN_LANES; lane++) {
            uint32_t row = ix->slot_row[b * PANN_LANES + lane];
            const float *x = row != PANN_NONE ? pann_row(T, row) : NULL;
            for (size_t j = 0; j < d; j++)
                base[j * PANN_LANES + lane] = x ? x[j] : 0.0f;
        }
    }
    return 0;
}

int ivf_build(ivf_index *ix, const pann_matrix *T, const pann_metric *m, size_t ncells,
              size_t sample, size_t rounds, uint64_t seed, int threads, pann_error *err)
{
    memset(ix, 0, sizeof *ix);
    ix->ncells = ncells < 1 ? 1 : ncells > T->n ? T->n : ncells;
    ix->d = T->d;
    sample = sample ? sample : 32 * ix->ncells < T->n / 8 ? 32 * ix->ncells : T->n / 8;
    sample = sample < ix->ncells ? ix->ncells : sample > T->n ? T->n : sample;
    int rc = kmeans(ix, T, m, sample, rounds, seed, threads, err);
    uint32_t *cell = rc ? NULL : malloc(T->n * sizeof *cell);
    float *value = rc ? NULL : malloc(T->n * sizeof *value);
    if (!rc && (!cell || !value))
        rc = pann_fail(err, PANN_ESYSTEM, "out of memory (IVF of %zu rows)", T->n);
    if (!rc) {
        rc = assign(T, NULL, T->n, &ix->cblocks, m, threads, cell, value, err);
        ix->evaluations += (uint64_t)T->n * ix->ncells;
        if (!rc)
            rc = layout(ix, T, m, cell, value, threads, err);
    }
    free(cell);
    free(value);
    if (rc)
        ivf_free(ix);
    return rc;
}

void ivf_free(ivf_index *ix)
{
    pann_matrix_free(&ix->centroids);
    pann_blocks_free(&ix->cblocks);
    pann_blocks_free(&ix->rows);
    free(ix->cell_block);
    free(ix->cell_size);
    free(ix->slot_row);
    free(ix->radius);
    memset(ix, 0, sizeof *ix);
}
