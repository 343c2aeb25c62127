#!/bin/sh
# gen-ecdf.sh — regenerate the ecdf-ks example tables: a mixed-type
# "customers" table (age, income, tenure numeric; plan, region categorical)
# drawn twice from the same law (ecdf-real.csv and the second real split
# ecdf-real2.csv, for --base) and once from a slightly distorted law
# (ecdf-synth.csv: incomes 8% higher and less spread, more "pro" plans,
# tenure less tied to the plan), as a synthesizer might produce.  awk's
# generator with fixed seeds; the committed CSVs are the reference, another
# awk (mawk vs gawk) draws other numbers of the same laws.
set -eu
cd "$(dirname "$0")"
gen() { # gen SEED ROWS DISTORT
    awk -v seed="$1" -v rows="$2" -v distort="$3" 'BEGIN {
        srand(seed); pi = 3.141592653589793
        print "age,income,tenure,plan,region"
        for (i = 0; i < rows; i++) {
            age = int(18 + 62 * rand() * rand() + 20 * rand())
            if (age > 80) age = 80
            z = sqrt(-2 * log(1 - rand())) * cos(2 * pi * rand())
            income = exp(3.3 + 0.012 * age + (distort ? 0.3 : 0.4) * z)
            if (distort) income *= 1.08
            u = rand()
            plan = u < (distort ? 0.40 : 0.50) ? "basic" : u < 0.80 ? "plus" : "pro"
            base = plan == "basic" ? 12 : plan == "plus" ? 24 : 36
            if (distort) base = 24
            tenure = int(base * 2 * rand() + 6 * rand())
            if (tenure > 72) tenure = 72
            r = int(4 * rand())
            region = r == 0 ? "north" : r == 1 ? "south" : r == 2 ? "east" : "west"
            printf "%d,%.1f,%d,%s,%s\n", age, income, tenure, plan, region
        }
    }'
}
gen 401 300 0 > ecdf-real.csv
gen 402 300 0 > ecdf-real2.csv
gen 403 300 1 > ecdf-synth.csv
