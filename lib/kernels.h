/* kernels.h — the search kernels beside the block filter (internal.h):
 * bounds from points to the k-d tree's boxes (kernels_box.c) and the
 * self-match kernel of the budgeted tree search (kernels_self.c), and the
 * one run-time choice of an instruction set for all of them (kernels.c).
 * Not installed. */
#ifndef PANN_KERNELS_H
#define PANN_KERNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "pann.h"
#include "internal.h"
#include "kdtree.h"

/* Bounds from one point to the boxes of n nodes (kernels_box.c). */
typedef void (*point_bounds_fn)(const kd_index *ix, const float *point, bool squared,
                                float scale, const uint32_t *nodes, size_t n, float *out);

/* The distance kernel of a self-match on a budget (kernels_self.c). */
typedef size_t (*sym_filter_fn)(const float *base, size_t nblk, size_t d, bool squared,
                                const float *const *queries, const uint32_t *qrow,
                                const float *bound, size_t nq, pann_hit *hits,
                                size_t first_slot, const uint32_t *slot_row, uint64_t *rev);

/* The block filter of one instruction set (kernels.c, pann_block_filter). */
typedef size_t (*filter_fn)(const float *base, size_t nblk, size_t d, const unsigned char *cat,
                            pann_metric_kind kind, const float *const *queries,
                            const float *bound, bool max_mode, pann_hit *hits, size_t first_slot,
                            size_t nq);

/* The kernels of one instruction set, chosen together at run time
 * (kernels.c): a forced plain run (PANN_KERNEL=generic) is plain
 * throughout. */
typedef struct kernel_set {
    const char *name;           /* "generic", "avx2", "avx512" */
    filter_fn filter;
    point_bounds_fn point_bounds;
    sym_filter_fn sym_filter;
} kernel_set;

/* The set in use: PANN_KERNEL, pann_kernel_select, else the best the
 * processor has. */
const kernel_set *pann_kernels(void);

/* ---- the box bounds (kernels_box.c) ------------------------------------- */

/* The nearest-mode bound of box_bound() (exact_tree.c) without categorical
 * columns, the common case and the tree's inner loop, KD_BOX_LANES columns
 * at a time in GCC vector types (SSE on any x86-64, NEON elsewhere) since
 * -O2 does not vectorise the loop by itself.  The summation order differs from the
 * distances', which the comparison margin allows for. */
typedef float box_vec __attribute__((vector_size(16)));
typedef int32_t box_mask __attribute__((vector_size(16)));
#define BOX_VEC_LANES 4

static inline box_vec box_load(const float *p)
{
    box_vec v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline box_vec box_max(box_vec a, box_vec b)
{
    box_mask a_wins = a > b;
    return (box_vec)(((box_mask)a & a_wins) | ((box_mask)b & ~a_wins));
}

static inline box_vec box_gap(const float *alo, const float *ahi, const float *blo,
                              const float *bhi)
{
    const box_vec zero = { 0 };
    box_vec gap = box_max(box_load(blo) - box_load(ahi), box_load(alo) - box_load(bhi));
    return box_max(gap, zero);
}

static inline float box_gaps(const float *alo, const float *ahi, const float *blo,
                             const float *bhi, size_t dbox, bool squared)
{
    box_vec acc0 = { 0 }, acc1 = { 0 };
    for (size_t j = 0; j < dbox; j += 2 * BOX_VEC_LANES) {
        size_t k = j + BOX_VEC_LANES;
        box_vec g0 = box_gap(alo + j, ahi + j, blo + j, bhi + j);
        box_vec g1 = box_gap(alo + k, ahi + k, blo + k, bhi + k);
        acc0 += squared ? g0 * g0 : g0;
        acc1 += squared ? g1 * g1 : g1;
    }
    acc0 += acc1;
    return (acc0[0] + acc0[1]) + (acc0[2] + acc0[3]);
}

void kernel_point_bounds_plain(const kd_index *ix, const float *point, bool squared,
                               float scale, const uint32_t *nodes, size_t n, float *out);
#if defined(__x86_64__) && defined(__GNUC__)
void kernel_point_bounds_avx512(const kd_index *ix, const float *point, bool squared,
                                float scale, const uint32_t *nodes, size_t n, float *out);
#endif

/* ---- the self-match kernel (kernels_self.c) ------------------------------ */

/* rev: for each slot of a self-match's index, the least (value, query row)
 * offered, packed in 64 bits (value bits above, row below: distances are
 * never negative, so the integer order is the (value, row) order, ties to
 * the lowest row), lowered by compare-and-swap so that threads may offer
 * at once (see kernels_self.c). */
static inline uint64_t rev_key(float v, uint32_t row)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    return (uint64_t)bits << 32 | row;
}

static inline void rev_offer(uint64_t *rev, size_t slot, uint64_t key)
{
    uint64_t cur = __atomic_load_n(&rev[slot], __ATOMIC_RELAXED);
    while (key < cur && !__atomic_compare_exchange_n(&rev[slot], &cur, key, true,
                                                     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

size_t kernel_sym_filter_plain(const float *base, size_t nblk, size_t d, bool squared,
                               const float *const *queries, const uint32_t *qrow,
                               const float *bound, size_t nq, pann_hit *hits,
                               size_t first_slot, const uint32_t *slot_row, uint64_t *rev);
#if defined(__x86_64__) && defined(__GNUC__)
size_t kernel_sym_filter_avx2(const float *base, size_t nblk, size_t d, bool squared,
                              const float *const *queries, const uint32_t *qrow,
                              const float *bound, size_t nq, pann_hit *hits,
                              size_t first_slot, const uint32_t *slot_row, uint64_t *rev);
size_t kernel_sym_filter_avx512(const float *base, size_t nblk, size_t d, bool squared,
                                const float *const *queries, const uint32_t *qrow,
                                const float *bound, size_t nq, pann_hit *hits,
                                size_t first_slot, const uint32_t *slot_row, uint64_t *rev);
#endif

#endif
