#!/bin/sh
# cli-mpi.sh — the programs under mpirun (a build configured --with-mpi):
# for P = 1, 2, 3, 4 ranks, each run writes byte for byte what the same
# program writes started alone (no mpirun), stdout and stderr (timings
# masked) and exit status; a bad row in one rank's share of the query file
# gives one process's located one-line error, once, and its exit status,
# with no hang (every run is under timeout) and no -o file left behind.
# A build without MPI skips the whole script.
. "${top_srcdir:-.}/tests/lib.sh"
if ! grep -q '^#define HAVE_MPI 1' "$top_builddir/config.h" 2>/dev/null; then
    trap - EXIT
    rm -rf "$TMPD"
    echo "1..0 # SKIP not built with ./configure --with-mpi"
    exit 0
fi
MPIRUN=$(command -v mpirun || command -v mpiexec)
if [ -z "$MPIRUN" ]; then
    not_ok "built with MPI but no mpirun or mpiexec on PATH"
    exit 1
fi
MPIFLAGS="-q --oversubscribe"
[ "$(id -u)" -eq 0 ] && MPIFLAGS="$MPIFLAGS --allow-run-as-root"
# Open MPI's own chatter (no network interface found, ...) stays out of stderr.
export OMPI_MCA_btl_base_warn_component_unused=0 OMPI_MCA_rmaps_base_oversubscribe=1
D=$TMPD

# Tables with many ties: small integers, repeated reference rows.
awk 'BEGIN { srand(7); print "x,y,z,w"
             for (i = 0; i < 3000; i++)
                 printf "%d,%d,%d,%.3f\n", int(rand() * 20), int(rand() * 20), int(rand() * 9), rand() }' >"$D/T.csv"
awk 'BEGIN { srand(8); print "x,y,z,w"
             for (i = 0; i < 701; i++)
                 printf "%d,%d,%d,%.3f\n", int(rand() * 20), int(rand() * 20), int(rand() * 9), rand() }' >"$D/S.csv"
# A query file that fits in one share: some ranks get no row.
head -n 3 "$D/S.csv" >"$D/S2.csv"

mask() { sed -E 's/[0-9]+\.[0-9]+ s\b/T s/g' "$1"; }

# one NAME PROG ARGS...: the program alone, into $D/NAME.one.{out,err,rc}.
one() {
    name=$1; shift
    "$@" >"$D/$name.one.out" 2>"$D/$name.one.err"
    echo $? >"$D/$name.one.rc"
}
# ranks NAME P PROG ARGS...: the same under mpirun -np P.
ranks() {
    name=$1; p=$2; shift 2
    timeout 300 "$MPIRUN" $MPIFLAGS -np "$p" "$@" >"$D/$name.$p.out" 2>"$D/$name.$p.err"
    echo $? >"$D/$name.$p.rc"
}
# same NAME P WHAT: stdout byte-identical, stderr identical but for
# timings, same exit status.
same() {
    name=$1; p=$2; what=$3
    if cmp -s "$D/$name.one.out" "$D/$name.$p.out" &&
        [ "$(mask "$D/$name.one.err")" = "$(mask "$D/$name.$p.err")" ] &&
        cmp -s "$D/$name.one.rc" "$D/$name.$p.rc"; then
        ok "$what, P = $p: what one process writes"
    else
        not_ok "$what, P = $p: what one process writes"
        echo "# exit $(cat "$D/$name.one.rc") alone, $(cat "$D/$name.$p.rc") with P = $p"
        diff "$D/$name.one.out" "$D/$name.$p.out" | head -n 5 | sed 's/^/# /'
        diff "$D/$name.one.err" "$D/$name.$p.err" | head -n 5 | sed 's/^/# /'
    fi
}
# agree NAME WHAT PROG ARGS...: alone (-j 2) against P = 1..4 (-j 1).
agree() {
    name=$1; what=$2; shift 2
    one "$name" "$@" -j 2
    if [ "$(cat "$D/$name.one.rc")" -ne 0 ] || [ ! -s "$D/$name.one.out" ]; then
        not_ok "$what: runs alone (exit $(cat "$D/$name.one.rc"))"
        sed 's/^/# /' "$D/$name.one.err"
        return
    fi
    for p in 1 2 3 4; do
        ranks "$name" $p "$@" -j 1
        same "$name" $p "$what"
    done
}

# ---- pann-match --------------------------------------------------------
agree match-exact "pann-match --exact" pann-match --exact "$D/S.csv" "$D/T.csv"
agree match-exact-l2 "pann-match --exact --metric=l2 --scale=std" \
    pann-match --exact --metric=l2 --scale=std "$D/S.csv" "$D/T.csv"
agree match-tree "pann-match --strategy=tree" pann-match --strategy=tree --leaves=4 \
    "$D/S.csv" "$D/T.csv"
agree match-tree-max "pann-match --strategy=tree --mode=max" \
    pann-match --strategy=tree --leaves=2 --mode=max "$D/S.csv" "$D/T.csv"
agree match-small "pann-match --exact, fewer query rows than ranks" \
    pann-match --exact "$D/S2.csv" "$D/T.csv"

# ---- pann-knn --exact: the query file streamed in shares ----------------
for k in 1 3 7; do
    agree knn-exact-$k "pann-knn --exact -k $k" pann-knn --exact -k $k "$D/T.csv" "$D/S.csv"
done
agree knn-exact-l2 "pann-knn --exact -k 3 --metric=l2 --scale=std --chunk-rows=50" \
    pann-knn --exact -k 3 --metric=l2 --scale=std --chunk-rows=50 "$D/T.csv" "$D/S.csv"
agree knn-small "pann-knn --exact -k 3, fewer query rows than ranks" \
    pann-knn --exact -k 3 "$D/T.csv" "$D/S2.csv"
# A quoted cell: lines need not be records, so rank 0 streams it alone.
awk 'NR == 400 { sub(/^[0-9]+/, "\"&\"") } { print }' "$D/S.csv" >"$D/Squote.csv"
agree knn-quoted "pann-knn --exact, a quoted cell" pann-knn --exact -k 3 "$D/T.csv" "$D/Squote.csv"
# A pipe: rank 0 reads it alone.
mkfifo "$D/S.fifo"
for f in out err rc; do cp "$D/knn-exact-3.one.$f" "$D/knn-fifo.one.$f"; done
cat "$D/S.csv" >"$D/S.fifo" &
ranks knn-fifo 3 pann-knn --exact -k 3 "$D/T.csv" "$D/S.fifo" -j 1
wait
same knn-fifo 3 "pann-knn --exact, QUERY a pipe"
mkfifo "$D/S2.fifo"
for f in out err rc; do cp "$D/match-exact.one.$f" "$D/match-fifo.one.$f"; done
cat "$D/S.csv" >"$D/S2.fifo" &
ranks match-fifo 3 pann-match --exact "$D/S2.fifo" "$D/T.csv" -j 1
wait
same match-fifo 3 "pann-match --exact, QUERY a pipe"
# Missing cells left out: the rows still count in the numbering.
awk 'NR % 97 == 5 { $0 = "1,,3,0.5" } { print }' "$D/S.csv" >"$D/Sgap.csv"
agree knn-drop "pann-knn --exact --missing=drop" \
    pann-knn --exact -k 3 --missing=drop "$D/T.csv" "$D/Sgap.csv"

# ---- a bad row in the last rank's share ---------------------------------
# Line 690 of 702 is in the share of rank P-1 for every P here.
awk 'NR == 690 { $0 = "1,2,oops,0.5" } { print }' "$D/S.csv" >"$D/bad.csv"
one bad pann-match --exact "$D/bad.csv" "$D/T.csv"
check "a bad query cell: one located line from one process" \
    grep -Eq "^pann-match: .*bad.csv:690:3: " "$D/bad.one.err"
for p in 1 2 3 4; do
    rm -f "$D/bad-out.csv"
    ranks bad $p pann-match --exact -o "$D/bad-out.csv" "$D/bad.csv" "$D/T.csv"
    same bad $p "pann-match, a bad cell on one rank's share"
    check "pann-match, a bad cell, P = $p: one line, no -o file" \
        test "$(wc -l <"$D/bad.$p.err")" -eq 1 -a ! -e "$D/bad-out.csv"
done
one knnbad pann-knn --exact -k 3 -o "$D/bad-out.csv" "$D/T.csv" "$D/bad.csv"
check "pann-knn, a bad query cell: one located line from one process, no -o file" \
    sh -c 'grep -Eq "^pann-knn: .*bad.csv:690:3: " "$1" && test ! -e "$2"' sh \
    "$D/knnbad.one.err" "$D/bad-out.csv"
for p in 1 2 3 4; do
    rm -f "$D/bad-out.csv"
    ranks knnbad $p pann-knn --exact -k 3 -o "$D/bad-out.csv" "$D/T.csv" "$D/bad.csv"
    same knnbad $p "pann-knn, a bad cell on one rank's share"
    check "pann-knn, a bad cell, P = $p: one line, no -o file" \
        test "$(wc -l <"$D/knnbad.$p.err")" -eq 1 -a ! -e "$D/bad-out.csv"
done
# On stdout: what the one process wrote before it stopped (the header).
one knnbad-stdout pann-knn --exact -k 3 "$D/T.csv" "$D/bad.csv"
for p in 2 4; do
    ranks knnbad-stdout $p pann-knn --exact -k 3 "$D/T.csv" "$D/bad.csv"
    same knnbad-stdout $p "pann-knn, a bad cell on one rank's share, no -o"
done
# The reference file bad, read by every rank.
awk 'NR == 2000 { $0 = "1,2" } { print }' "$D/T.csv" >"$D/badT.csv"
one badT pann-match --exact "$D/S.csv" "$D/badT.csv"
for p in 2 4; do
    ranks badT $p pann-match --exact "$D/S.csv" "$D/badT.csv"
    same badT $p "pann-match, a short row in the reference"
done

# ---- -o: the file is whole, and what stdout gets ------------------------
for p in 2 3; do
    rm -f "$D/o.csv"
    timeout 300 "$MPIRUN" $MPIFLAGS -np $p pann-match -q --exact -o "$D/o.csv" \
        "$D/S.csv" "$D/T.csv" >"$D/o.stdout" 2>"$D/o.err"
    check "pann-match -o, P = $p: the file is one process's stdout, nothing on stdout" \
        sh -c 'cmp -s "$1" "$2" && test ! -s "$3"' sh "$D/o.csv" "$D/match-exact.one.out" \
        "$D/o.stdout"
done

for p in 2 4; do
    rm -f "$D/o.csv"
    timeout 300 "$MPIRUN" $MPIFLAGS -np $p pann-knn -q --exact -k 3 -o "$D/o.csv" \
        "$D/T.csv" "$D/S.csv" >"$D/o.stdout" 2>"$D/o.err"
    check "pann-knn -o, P = $p: the file is one process's stdout, nothing on stdout" \
        sh -c 'cmp -s "$1" "$2" && test ! -s "$3"' sh "$D/o.csv" "$D/knn-exact-3.one.out" \
        "$D/o.stdout"
done

# ---- the work is shared: each rank reads only its share of the query file
size=$(wc -c <"$D/S.csv")
PANN_MPI_TRACE=1 timeout 300 "$MPIRUN" $MPIFLAGS -np 3 pann-match --exact "$D/S.csv" "$D/T.csv" \
    >/dev/null 2>"$D/trace.err"
check "pann-match --exact, P = 3: every rank read less than the query file, all of it in all" \
    awk -v size="$size" '/bytes of the query file read/ { n++; if ($6 >= size) bad = 1; sum += $6 }
        END { exit !(n == 3 && !bad && sum > size) }' "$D/trace.err"
PANN_MPI_TRACE=1 timeout 300 "$MPIRUN" $MPIFLAGS -np 3 pann-knn --exact -k 3 "$D/T.csv" "$D/S.csv" \
    >/dev/null 2>"$D/trace.err"
check "pann-knn --exact, P = 3: every rank read less than the query file, all of it in all" \
    awk -v size="$size" '/bytes of the query file read/ { n++; if ($6 >= size) bad = 1; sum += $6 }
        END { exit !(n == 3 && !bad && sum > size) }' "$D/trace.err"
