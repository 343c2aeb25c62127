#!/bin/sh
# gen-filter.sh — regenerate filter-real.csv and filter-synth.csv, the
# example data of nogan-filter (man page, tests).  Mixed types: three numeric
# columns and a categorical one.  SYNTH has the same columns in another
# order, rows drawn like REAL's, plus injected rows: 12 far away, 6 exact
# copies of real rows and 6 near copies (one value nudged by 0.01).
# A Park-Miller generator in plain awk arithmetic, so any POSIX awk gives the
# same files:  sh gen-filter.sh [DIR]
set -eu
dir=${1:-$(dirname "$0")}
awk -v dir="$dir" '
function rnd() { seed = (16807 * seed) % 2147483647; return seed / 2147483647 }
function gauss(   u, v) { u = rnd(); v = rnd(); return sqrt(-2 * log(u)) * cos(6.283185307179586 * v) }
function row(i,   g) {
    g = int(rnd() * 3); region[i] = g == 0 ? "north" : g == 1 ? "south" : "east"
    age[i] = sprintf("%.0f", 45 + 12 * gauss() + (g == 1 ? 5 : 0))
    income[i] = sprintf("%.1f", 40 + 10 * gauss() + 0.3 * (age[i] - 45))
    score[i] = sprintf("%.2f", 0.5 + 0.15 * gauss())
}
BEGIN {
    seed = 20240607
    real = dir "/filter-real.csv"; synth = dir "/filter-synth.csv"
    print "age,income,region,score" > real
    for (i = 1; i <= 300; i++) { row(i); print age[i] "," income[i] "," region[i] "," score[i] > real }
    print "region,score,age,income" > synth
    for (k = 1; k <= 276; k++) {
        if (k % 23 == 0) {          # far away: a value well outside the real range
            row(0); printf "%s,%s,%s,%.1f\n", region[0], score[0], age[0] + 60, income[0] + 80 > synth
        } else if (k % 46 == 1) {   # an exact copy of a real row
            j = 1 + int(rnd() * 300); print region[j] "," score[j] "," age[j] "," income[j] > synth
        } else if (k % 46 == 24) {  # a near copy: score nudged
            j = 1 + int(rnd() * 300); printf "%s,%.2f,%s,%s\n", region[j], score[j] + 0.01, age[j], income[j] > synth
        } else {
            row(0); print region[0] "," score[0] "," age[0] "," income[0] > synth
        }
    }
}'
