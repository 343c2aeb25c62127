#!/bin/sh
# gen-series.sh — datasets/series.csv: 12 time series of 1000 points, two of
# each kind, for pann-profile --series (article section 2.3): AR(1) with
# phi = -0.6, 0 (white noise), 0.5 and 0.9, a seasonal series (period 12)
# and a random walk.  The two series of a kind differ only by their noise,
# so each one's nearest series by autocorrelations should be its twin.
# A portable LCG (exact in double) and Box-Muller make the file the same
# with any awk; the seed is fixed.
#   sh datasets/gen-series.sh > datasets/series.csv
awk -v x=20261124 'function rnd() { x = (x * 48271) % 2147483647; return (x + 0.5) / 2147483647 }
function gauss(   u1, u2) { u1 = rnd(); u2 = rnd(); return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2) }
BEGIN {
    n = 1000; burn = 100
    split("ar_m06 white ar_05 ar_09 seasonal walk", kind, " ")
    split("-0.6 0 0.5 0.9", phi, " ")
    ns = 0
    for (k = 1; k <= 6; k++) for (twin = 1; twin <= 2; twin++) {
        ns++; name[ns] = kind[k] (twin == 1 ? "_a" : "_b"); v = 0
        for (t = 1 - burn; t <= n; t++) {
            e = gauss()
            if (k <= 4) v = phi[k] * v + e
            else if (k == 5) v = 2 * sin(6.283185307179586 * t / 12) + e
            else v = (t <= 0 ? 0 : v + e)
            if (t >= 1) s[ns, t] = v
        }
    }
    for (i = 1; i <= ns; i++) printf "%s%s", name[i], i < ns ? "," : "\n"
    for (t = 1; t <= n; t++)
        for (i = 1; i <= ns; i++) printf "%.4f%s", s[i, t], i < ns ? "," : "\n"
}'
