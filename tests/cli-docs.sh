#!/bin/sh
# cli-docs.sh — the documents are tests: every "$ command" example of
# README.md and man/*.1 (extracted by tests/docs-examples.awk) runs from a
# copy of the source tree's layout (datasets/, examples/, tests/ and the
# built bin/), in order (an example may read what an earlier one of its
# document wrote), and must print exactly the output shown, its standard
# output followed by its standard error; an example that shows no output
# must exit 0.  Also: the man pages name no source-tree
# path that does not exist once installed and no benchmark run, and no
# --help ends with a placeholder address.
. "${top_srcdir:-.}/tests/lib.sh"
top_builddir=$(cd "$top_builddir" && pwd); top_srcdir=$(cd "$top_srcdir" && pwd)
W="$TMPD/work"
unset MAKEFLAGS MFLAGS MAKELEVEL     # not the flags of the make running the tests
mkdir -p "$W" "$TMPD/ex"
for d in datasets examples tests; do ln -s "$top_srcdir/$d" "$W/$d"; done
ln -s "$top_builddir/bin" "$W/bin"
n=0
for f in "$top_srcdir/README.md" "$top_srcdir"/man/*.1; do
    case $f in *.1) man=1 ;; *) man=0 ;; esac
    n=$(cd "$top_srcdir" && awk -v dir="$TMPD/ex" -v first=$((n + 1)) -v man=$man \
        -f tests/docs-examples.awk "${f#"$top_srcdir"/}")
done
check "the documents hold examples ($n)" test "$n" -ge 15
i=1
while [ "$i" -le "$n" ]; do
    where=$(cat "$TMPD/ex/$i.where")
    (cd "$W" && sh "$TMPD/ex/$i.cmd") >"$TMPD/o" 2>"$TMPD/e"
    rc=$?
    cat "$TMPD/o" "$TMPD/e" >"$TMPD/got"
    if [ ! -s "$TMPD/ex/$i.out" ] && [ "$rc" -ne 0 ]; then
        not_ok "$where: exits 0 ($(head -c 60 "$TMPD/ex/$i.cmd"))"
        echo "# exit $rc: $(head -c 300 "$TMPD/e")"
    elif [ -s "$TMPD/ex/$i.out" ] && ! cmp -s "$TMPD/got" "$TMPD/ex/$i.out"; then
        not_ok "$where: prints what is shown ($(head -c 60 "$TMPD/ex/$i.cmd"))"
        diff "$TMPD/ex/$i.out" "$TMPD/got" | head -10 | sed 's/^/# /'
    else
        ok "$where: $(head -n 1 "$TMPD/ex/$i.cmd" | cut -c 1-70)"
    fi
    i=$((i + 1))
done
paths=$(grep -nE '(^|[^a-z])(bench|tests)/' "$top_srcdir"/man/*.1 | sed "s|$top_srcdir/||" | head -5)
check "man pages name no source-tree path (bench/, tests/)" test -z "$paths"
[ -z "$paths" ] || printf '# %s\n' "$paths"
bad=""
for p in "$top_builddir"/bin/*; do
    [ -x "$p" ] && [ -f "$p" ] || continue
    case $(basename "$p") in *.*|libcli*) continue ;; esac
    "$p" --help 2>/dev/null | grep -qE 'example\.invalid|Report bugs to: *$' && bad="$bad $(basename "$p")"
done
check "no --help ends with a placeholder address" test -z "$bad"
exit $((tap_failed > 0))
