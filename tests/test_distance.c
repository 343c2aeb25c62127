/* test_distance.c — distances and their kernels (lib/distance.c, lib/kernels.c)
 * against hand-computed values, the pair kernel bit for bit and double
 * precision. */
#include "search_util.h"

Test(distance, hand_computed_values)
{
    float a[3] = { 1, 2, 3 }, b[3] = { 4, 0, 3 };
    pann_metric l1 = metric_of(PANN_L1, 3, NULL), l2 = metric_of(PANN_L2, 3, NULL);
    cr_assert_float_eq(pann_cmp(&l1, a, b), 5.0f, 1e-6);
    cr_assert_float_eq(pann_cmp_to_dist(&l2, pann_cmp(&l2, a, b)), sqrt(13.0), 1e-6);
    unsigned char cat[3] = { 0, 1, 0 };   /* column 2 is categorical: 2 != 0 -> 1 */
    pann_metric l1c = metric_of(PANN_L1, 3, cat), l2c = metric_of(PANN_L2, 3, cat);
    cr_assert_float_eq(pann_cmp(&l1c, a, b), 4.0f, 1e-6);
    cr_assert_float_eq(pann_cmp(&l2c, a, b), 10.0f, 1e-6);
    float u[2] = { 0.6f, 0.8f }, v[2] = { 1, 0 };
    pann_metric cs = metric_of(PANN_COSINE, 2, NULL);
    cr_assert_float_eq(pann_cmp(&cs, u, v), 0.4f, 1e-6);
}

Test(distance, block_kernel_matches_pair_kernel_bitwise)
{
    pann_matrix T = test_matrix(53, 7, 1, 1.0, 0), Q = test_matrix(5, 7, 2, 1.0, 0);
    unsigned char cat[7] = { 0, 0, 1, 0, 0, 0, 1 };
    pann_blocks b;
    cr_assert_eq(pann_blocks_build(&b, &T, NULL), 0);
    float out[5 * 4 * PANN_LANES];
    const float *queries[5];
    for (int q = 0; q < 5; q++) queries[q] = pann_row(&Q, q);
    for (int kind = 0; kind < 3; kind++) {
        pann_metric m = metric_of(kind, 7, kind == PANN_COSINE ? NULL : cat);
        pann_block_cmp(&m, &b, 0, 4, queries, 5, out);
        for (int q = 0; q < 5; q++)
            for (int i = 0; i < 4 * PANN_LANES; i++) {
                float got = out[q * 4 * PANN_LANES + i];
                if (i >= 53) { cr_assert(isinf(got)); continue; }
                float want = pann_cmp(&m, queries[q], pann_row(&T, i));
                cr_assert(memcmp(&got, &want, sizeof got) == 0, "kind %d q %d row %d", kind, q, i);
            }
    }
    pann_blocks_free(&b);
    pann_matrix_free(&T);
    pann_matrix_free(&Q);
}

Test(distance, float_kernel_close_to_double)
{
    pann_matrix A = test_matrix(20, 9, 3, 2.0, 0), B = test_matrix(20, 9, 4, 2.0, 0);
    for (int kind = 0; kind < 3; kind++) {
        pann_metric m = metric_of(kind, 9, NULL);
        for (size_t i = 0; i < 20; i++) {
            float c = pann_cmp(&m, pann_row(&A, i), pann_row(&B, i));
            if (kind == PANN_COSINE) continue;   /* needs unit rows; checked below */
            cr_assert_float_eq(pann_cmp_to_dist(&m, c),
                               test_dist_double(kind, pann_row(&A, i), pann_row(&B, i), 9), 1e-4);
        }
    }
    normalise_rows(&A);
    normalise_rows(&B);
    pann_metric cs = metric_of(PANN_COSINE, 9, NULL);
    for (size_t i = 0; i < 20; i++)
        cr_assert_float_eq(pann_cmp(&cs, pann_row(&A, i), pann_row(&B, i)),
                           test_dist_double(PANN_COSINE, pann_row(&A, i), pann_row(&B, i), 9), 1e-5);
    pann_matrix_free(&A);
    pann_matrix_free(&B);
}


/* Every kernel version the CPU has gives pann_cmp's values to the bit, and
 * passes exactly the values within the bounds. */
Test(distance, filter_kernels_match_pair_kernel)
{
    const char *names[] = { "generic", "avx2", "avx512" };
    pann_matrix T = test_matrix(301, 11, 90, 1.0, 0), Q = test_matrix(8, 11, 91, 1.0, 0);
    unsigned char cat[11] = { 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0 };
    pann_blocks b;
    cr_assert_eq(pann_blocks_build(&b, &T, NULL), 0);
    const float *queries[8];
    for (int q = 0; q < 8; q++) queries[q] = pann_row(&Q, q);
    pann_hit *hits = malloc(8 * b.nblocks * PANN_LANES * sizeof *hits);
    int tested = 0;
    for (int k = 0; k < 3; k++) {
        if (pann_kernel_select(names[k]) != 0)
            continue;
        tested++;
        for (int kind = 0; kind < 3; kind++)
            for (int mode = 0; mode < 4; mode++)   /* mode & 2: no categorical column */
                for (size_t nq = 1; nq <= 8; nq++) {
                    bool with_cat = mode < 2 && kind != PANN_COSINE;
                    pann_metric m = metric_of(kind, 11, with_cat ? cat : NULL);
                    float bound[8];
                    for (size_t q = 0; q < nq; q++)   /* a bound in the middle of the values */
                        bound[q] = pann_cmp(&m, queries[q], pann_row(&T, 7 * q));
                    size_t nh = pann_block_filter(&m, &b, 0, b.nblocks, queries, nq, bound,
                                                  (pann_mode)(mode & 1), hits);
                    size_t expected = 0;
                    for (size_t q = 0; q < nq; q++)
                        for (size_t i = 0; i < T.n; i++) {
                            float c = pann_cmp(&m, queries[q], pann_row(&T, i));
                            expected += (mode & 1) == PANN_MIN ? c <= bound[q] : c >= bound[q];
                        }
                    cr_assert_eq(nh, expected, "%s kind %d mode %d nq %zu", names[k], kind, mode, nq);
                    for (size_t h = 0; h < nh; h++) {
                        float want = pann_cmp(&m, queries[hits[h].query], pann_row(&T, hits[h].slot));
                        cr_assert(memcmp(&want, &hits[h].value, sizeof want) == 0, "%s", names[k]);
                    }
                }
    }
    cr_assert_geq(tested, 1);
    pann_kernel_select(NULL);
    free(hits);
    pann_blocks_free(&b);
    pann_matrix_free(&T);
    pann_matrix_free(&Q);
}

