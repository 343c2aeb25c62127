/* kernels_box.c — bounds from a point to the boxes of the k-d tree's
 * nodes, in the comparison units of a metric without categorical columns
 * (nearest mode): the inner loop of the budgeted search (exact_budget.c),
 * which ranks many leaves for every query.  A plain version on box_gaps()
 * (kernels.h) and an AVX-512 one that takes 16 columns per instruction;
 * kernels.c chooses between them with the distance kernels.
 */
#include <config.h>
#include "kernels.h"
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

void kernel_point_bounds_plain(const kd_index *ix, const float *point, bool squared,
                               float scale, const uint32_t *nodes, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++) {
        const float *lo = ix->lo + (size_t)nodes[i] * ix->dbox;
        const float *hi = ix->hi + (size_t)nodes[i] * ix->dbox;
        out[i] = scale * box_gaps(point, point, lo, hi, ix->dbox, squared);
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx512f")))
void kernel_point_bounds_avx512(const kd_index *ix, const float *point, bool squared,
                                float scale, const uint32_t *nodes, size_t n, float *out)
{
    __m512 p[4];
    __mmask16 lanes[4];
    size_t chunks = (ix->dbox + 15) / 16;
    for (size_t c = 0; c < chunks; c++) {
        size_t width = ix->dbox - 16 * c < 16 ? ix->dbox - 16 * c : 16;
        lanes[c] = (__mmask16)((1u << width) - 1u);
        p[c] = _mm512_maskz_loadu_ps(lanes[c], point + 16 * c);
    }
    const __m512 zero = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i++) {
        const float *lo = ix->lo + (size_t)nodes[i] * ix->dbox;
        const float *hi = ix->hi + (size_t)nodes[i] * ix->dbox;
        __m512 acc = zero;
        for (size_t c = 0; c < chunks; c++) {
            __m512 below = _mm512_sub_ps(_mm512_maskz_loadu_ps(lanes[c], lo + 16 * c), p[c]);
            __m512 above = _mm512_sub_ps(p[c], _mm512_maskz_loadu_ps(lanes[c], hi + 16 * c));
            __m512 gap = _mm512_max_ps(_mm512_max_ps(below, above), zero);
            acc = squared ? _mm512_fmadd_ps(gap, gap, acc) : _mm512_add_ps(acc, gap);
        }
        out[i] = scale * _mm512_reduce_add_ps(acc);
    }
}
#endif
