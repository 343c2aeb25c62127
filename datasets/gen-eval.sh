#!/bin/sh
# gen-eval.sh — regenerate datasets/eval-health.csv, the labelled mixed-type
# table that examples/evaluate.mk uses by default: 1,000 people with age,
# bmi and glucose (correlated numeric columns), smoker and region
# (categorical) and the label diabetic (yes/no, more likely with high
# glucose, bmi and age).  A Park-Miller generator written out in awk (exact
# in double arithmetic) makes the file the same under mawk and gawk.
set -eu
cd "$(dirname "$0")"
awk -v rows=1000 'BEGIN {
    state = 20240611
    print "age,bmi,glucose,smoker,region,diabetic"
    for (i = 0; i < rows; i++) {
        age = clip(int(50 + 14 * gauss() + 0.5), 18, 90)
        bmi = clip(22 + 0.1 * (age - 50) + 4 * gauss(), 15, 50)
        smoker = uniform() < 0.25 ? "yes" : "no"
        u = uniform()
        region = u < 0.3 ? "north" : u < 0.6 ? "south" : u < 0.8 ? "east" : "west"
        glucose = int(clip(85 + 1.5 * (bmi - 25) + 0.3 * (age - 50) + (smoker == "yes" ? 6 : 0) \
                      + 12 * gauss(), 50, 250) + 0.5)
        score = 0.09 * (glucose - 92) + 0.12 * (bmi - 27) + 0.03 * (age - 50)
        diabetic = uniform() < 1 / (1 + exp(-score)) ? "yes" : "no"
        printf "%d,%.1f,%d,%s,%s,%s\n", age, bmi, glucose, smoker, region, diabetic
    }
}
function uniform() { state = (16807 * state) % 2147483647; return state / 2147483647 }
function gauss(   u1, u2) {
    u1 = uniform(); u2 = uniform()
    return sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2)
}
function clip(x, lo, hi) { return x < lo ? lo : x > hi ? hi : x }' > eval-health.csv
