#!/bin/sh
# gen-knn.sh — regenerate the labelled example of pann-knn: three classes
# (species alpha, beta, gamma) of 2-D Gaussian points, sd 0.8, centred on
# the corners of a triangle of side 3, so that they are well separated but
# touch; and a categorical feature colour that agrees with the class 70 % of
# the time (red, green, blue).  TRAIN has 100 rows per class, QUERY 50, the
# classes interleaved.  Box-Muller on awk's generator with fixed seeds: the
# committed CSVs are the reference; another awk (mawk vs gawk) draws other
# numbers of the same law.
set -eu
cd "$(dirname "$0")"
gen() { # gen SEED ROWS_PER_CLASS
    awk -v seed="$1" -v per="$2" 'BEGIN {
        srand(seed); sd = 0.8; pi = 3.141592653589793
        split("alpha beta gamma", name, " "); split("red green blue", colour, " ")
        cx[1] = 0; cy[1] = 0; cx[2] = 3; cy[2] = 0; cx[3] = 1.5; cy[3] = 2.598
        print "x,y,colour,species"
        for (i = 0; i < per; i++)
            for (c = 1; c <= 3; c++) {
                u1 = 1 - rand(); u2 = rand(); r = sqrt(-2 * log(u1))
                x = cx[c] + sd * r * cos(2 * pi * u2); y = cy[c] + sd * r * sin(2 * pi * u2)
                col = rand() < 0.7 ? c : 1 + int(3 * rand())
                printf "%.4f,%.4f,%s,%s\n", x, y, colour[col], name[c]
            }
    }'
}
gen 501 100 > knn-train.csv
gen 502 50 > knn-query.csv
