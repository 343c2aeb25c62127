#!/bin/sh
# gen-gauss2d.sh — regenerate the article's section-3 example data: two sets
# of 200 points from a 2-D Gaussian with covariance 0.1*I (Box-Muller on
# awk's generator with fixed seeds).  The committed CSVs are the reference;
# another awk (mawk vs gawk) draws other numbers of the same law.
set -eu
cd "$(dirname "$0")"
gen() { # gen SEED ROWS
    awk -v seed="$1" -v rows="$2" 'BEGIN {
        srand(seed); sd = sqrt(0.1); pi = 3.141592653589793
        print "x,y"
        for (i = 0; i < rows; i++) {
            u1 = 1 - rand(); u2 = rand(); r = sqrt(-2 * log(u1))
            printf "%.6f,%.6f\n", sd * r * cos(2 * pi * u2), sd * r * sin(2 * pi * u2)
        }
    }'
}
gen 57 200 > gauss2d-S.csv
gen 58 200 > gauss2d-T.csv
