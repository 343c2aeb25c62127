/* test_rng.c — the counter-based streams and keyed permutations (lib/rng.c):
 * a permutation is a bijection, streams differ and repeat. */
#include "search_util.h"

Test(rng, permutation_is_a_bijection)
{
    const uint64_t sizes[] = { 1, 2, 3, 4, 5, 7, 16, 17, 100, 1000, 4097, 65537 };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint64_t m = sizes[s];
        unsigned char *seen = calloc(m, 1);
        pann_perm p;
        pann_perm_init(&p, m, 42, s);
        for (uint64_t i = 0; i < m; i++) {
            uint64_t x = pann_perm_at(&p, i);
            cr_assert_lt(x, m);
            cr_assert_eq(seen[x], 0, "m=%llu: %llu drawn twice", (unsigned long long)m,
                         (unsigned long long)x);
            seen[x] = 1;
        }
        free(seen);
    }
}

Test(rng, streams_differ_and_repeat)
{
    pann_perm a, b, a2;
    pann_perm_init(&a, 1000, 7, 1);
    pann_perm_init(&b, 1000, 7, 2);
    pann_perm_init(&a2, 1000, 7, 1);
    int same = 0;
    for (int i = 0; i < 100; i++) {
        same += pann_perm_at(&a, i) == pann_perm_at(&b, i);
        cr_assert_eq(pann_perm_at(&a, i), pann_perm_at(&a2, i));
    }
    cr_assert_lt(same, 10);
    double u = pann_uniform3(1, 2, 3);
    cr_assert(u >= 0 && u < 1);
}

