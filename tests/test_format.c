/* test_format.c — the result lines' numbers (lib/format.c) against printf. */
#include "search_util.h"

/* The result lines' number formatting equals printf's "%.7g" and "%zu":
 * on every 211th float from 1e-6 to 3e7 (the fast range 1e-4 to 1e7 and
 * either side of it), the floats just below and above each power of ten
 * and each rounding edge x.xxxxxx5, exact ties (half-integers that round to
 * even), and the special values. */
static void expect_as_printf(float v)
{
    char want[64], got[PANN_FLOAT_CHARS];
    snprintf(want, sizeof want, "%.7g", (double)v);
    size_t n = pann_format_float(got, v);
    cr_assert_str_eq(got, want, "%a", (double)v);
    cr_assert_eq(n, strlen(want));
}

Test(format, floats_as_printf_g7)
{
    uint32_t lo, hi;
    float from = 1e-6f, to = 3e7f;
    memcpy(&lo, &from, sizeof lo);
    memcpy(&hi, &to, sizeof hi);
    for (uint32_t bits = lo; bits < hi; bits += 211) {
        float v;
        memcpy(&v, &bits, sizeof v);
        expect_as_printf(v);
    }
    for (int e = -6; e <= 8; e++) {
        float p = (float)pow(10.0, e);
        expect_as_printf(p);
        expect_as_printf(nextafterf(p, 0));
        expect_as_printf(nextafterf(p, INFINITY));
        for (int k = 1; k < 10; k++) {   /* around k.5 in the 7th digit */
            float edge = (float)((1 + k * 0.1234567 + 5e-7) * pow(10.0, e));
            expect_as_printf(edge);
            expect_as_printf(nextafterf(edge, 0));
            expect_as_printf(nextafterf(edge, INFINITY));
        }
    }
    for (float t = 1000000.5f; t < 1000100.0f; t += 1.0f)   /* exact ties */
        expect_as_printf(t);
    const float special[] = { 0.0f, -0.0f, -1.5f, -1234.5678f, INFINITY, -INFINITY, NAN,
                              1e-45f, 3.4e38f, 9999999.5f, 9999999.0f, 0.0001f, 0.00009999f };
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        expect_as_printf(special[i]);
}

Test(format, indices_as_printf)
{
    const size_t values[] = { 0, 1, 9, 10, 99, 100, 12345, 4294967295u, 4294967296u, SIZE_MAX };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char want[32], got[32];
        snprintf(want, sizeof want, "%zu", values[i]);
        cr_assert_eq(pann_format_index(got, values[i]), strlen(want));
        cr_assert_str_eq(got, want);
    }
}

