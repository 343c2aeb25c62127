/* format.c — numbers as text, fast, for the programs' result lines.
 *
 * Writing millions of result lines through printf costs more than some
 * searches: "%.7g" goes through glibc's arbitrary-precision conversion
 * for every distance.  pann_format_float writes exactly what "%.7g"
 * writes, but in the range distances live in (1e-4 to 1e7, written
 * without an exponent) it takes the seven digits from integer arithmetic
 * on the float's exact binary value — its 24-bit mantissa times a power
 * of ten fits in 64 bits there — rounding half to even as glibc does;
 * anything else (zero, negative, tiny, huge, inf, nan) goes to snprintf.
 * The tests compare it with snprintf on millions of floats.
 */
#include <config.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "pann.h"

size_t pann_format_index(char *buf, size_t v)
{
    char rev[24];
    size_t n = 0;
    do {
        rev[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = rev[n - 1 - i];
    buf[n] = '\0';
    return n;
}

/* The seven significant digits of m * 2^-k scaled by 10^(6 - exp10),
 * rounded half to even. */
static uint64_t seven_digits(uint64_t m, unsigned k, int exp10)
{
    static const uint64_t pow10[11] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                        100000000, 1000000000, 10000000000 };
    uint64_t scaled = m * pow10[6 - exp10];
    if (k == 0)
        return scaled;
    uint64_t q = scaled >> k, rem = scaled & ((UINT64_C(1) << k) - 1), half = UINT64_C(1) << (k - 1);
    return q + (rem > half || (rem == half && (q & 1)));
}

size_t pann_format_float(char *buf, float v)
{
    double x = v;
    if (!(x >= 1e-4 && x < 1e7))
        return (size_t)snprintf(buf, PANN_FLOAT_CHARS, "%.7g", x);
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    uint64_t m = (bits & 0x7fffffu) | 0x800000u;       /* normal: 1e-4 is far above */
    int e2 = (int)(bits >> 23 & 0xffu) - 127 - 23;     /* v = m * 2^e2, e2 <= 0 here */
    int exp10 = (int)floor(log10(x));
    uint64_t digits = 0;
    for (int tries = 0; tries < 3; tries++) {
        if (exp10 < -4 || exp10 > 6)                    /* %g would use an exponent */
            return (size_t)snprintf(buf, PANN_FLOAT_CHARS, "%.7g", x);
        digits = seven_digits(m, (unsigned)-e2, exp10);
        if (digits >= 10000000)
            exp10++;
        else if (digits < 1000000)
            exp10--;
        else
            break;
    }
    char d[8];
    for (int i = 6; i >= 0; i--, digits /= 10)
        d[i] = (char)('0' + digits % 10);
    int last = 6;                                       /* trailing zeros go */
    size_t n = 0;
    if (exp10 >= 0) {
        while (last > exp10 && d[last] == '0')
            last--;
        for (int i = 0; i <= exp10; i++)
            buf[n++] = d[i];
        if (last > exp10)
            buf[n++] = '.';
        for (int i = exp10 + 1; i <= last; i++)
            buf[n++] = d[i];
    } else {
        while (d[last] == '0')
            last--;
        buf[n++] = '0';
        buf[n++] = '.';
        for (int i = 0; i < -exp10 - 1; i++)
            buf[n++] = '0';
        for (int i = 0; i <= last; i++)
            buf[n++] = d[i];
    }
    buf[n] = '\0';
    return n;
}
