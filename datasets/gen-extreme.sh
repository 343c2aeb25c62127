#!/bin/sh
# gen-extreme.sh — regenerate extreme-blob.csv, the example of pann-extreme:
# 300 points of a 2-D standard Gaussian blob (Box-Muller on awk's generator,
# fixed seed) and 5 planted outliers, 6 to 8 units from the centre at fixed
# angles, each a few rows apart.  Column kind says which is which.  The
# committed CSV is the reference; another awk (mawk vs gawk) draws other
# numbers of the same law.
set -eu
cd "$(dirname "$0")"
awk -v seed=6 -v rows=300 'BEGIN {
    srand(seed); pi = 3.141592653589793
    split("40 95 170 230 290", at, " ")
    split("6.5 7.2 6.0 8.0 6.8", radius, " ")
    split("0.3 2.2 3.5 4.4 5.6", angle, " ")
    print "x,y,kind"
    p = 1
    for (i = 1; i <= rows + 5; i++) {
        if (p <= 5 && i == at[p]) {
            printf "%.4f,%.4f,planted\n", radius[p] * cos(angle[p]), radius[p] * sin(angle[p])
            p++
            continue
        }
        u1 = 1 - rand(); u2 = rand(); r = sqrt(-2 * log(u1))
        printf "%.4f,%.4f,blob\n", r * cos(2 * pi * u2), r * sin(2 * pi * u2)
    }
}' > extreme-blob.csv
