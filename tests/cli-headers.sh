#!/bin/sh
# cli-headers.sh — the installed headers are a C and C++ interface: a C++
# translation unit that includes every lib/pann*.h compiles with
# -std=c++11 -pedantic -Werror, and a call declared in each header links
# against the built libpann (extern "C" linkage).  Skipped (77) without a
# C++ compiler.
. "${top_srcdir:-.}/tests/lib.sh"
CXX=${CXX:-g++}
if ! command -v "$CXX" >/dev/null 2>&1; then
    echo "# no C++ compiler ($CXX): skipped"
    trap - EXIT
    rm -rf "$TMPD"
    exit 77
fi
LIBDIR="$top_builddir/lib/.libs"
# A library built with sanitizers needs their runtime linked first.
SAN=""
if command -v ldd >/dev/null 2>&1 && ldd "$LIBDIR/libpann.so" 2>/dev/null | grep -q asan; then
    SAN="-fsanitize=address,undefined"
fi
src="$TMPD/all.cc"
{
    for h in "$top_srcdir"/lib/pann*.h; do
        echo "#include \"$(basename "$h")\""
    done
    cat <<'CC'
#include <cstdio>
int main()
{
    pann_ecdf_opts eo;  pann_ecdf_opts_init(&eo);
    pann_filter_opts fo; pann_filter_opts_init(&fo);
    pann_synth_opts so; pann_synth_opts_init(&so);
    pann_profile_opts po; pann_profile_opts_init(&po);
    pann_sparse_vocab *v = pann_sparse_vocab_new();
    size_t nv = pann_sparse_vocab_size(v);
    pann_sparse_vocab_free(v);
    double ticks[16], step;
    size_t nt = pann_nice_ticks(0.0, 1.0, 5, ticks, 16, &step);
    pann_knn_result kr = pann_knn_result();
    pann_knn_result_free(&kr);
    std::printf("%s %zu %s\n", pann_version(), nv, nt > 0 ? "ticks" : "none");
    return 0;
}
CC
} >"$src"
nh=$(ls "$top_srcdir"/lib/pann*.h | wc -l)
if "$CXX" -std=c++11 -pedantic -Werror -Wall -I"$top_srcdir/lib" -I"$top_builddir/lib" \
    -c "$src" -o "$TMPD/all.o" 2>"$TMPD/cxx.err"; then
    ok "$nh public headers compile as C++11 (-pedantic -Werror)"
else
    not_ok "$nh public headers compile as C++11 (-pedantic -Werror)"
    sed 's/^/# /' "$TMPD/cxx.err" | head -20
fi
if [ -f "$TMPD/all.o" ] && "$CXX" $SAN "$TMPD/all.o" -L"$LIBDIR" -lpann -Wl,-rpath,"$LIBDIR" \
    -o "$TMPD/all" 2>"$TMPD/ld.err"; then
    ok "a call from each header links with C linkage"
    run "$TMPD/all"
    check "the C++ program runs and prints the library version" \
        test "$rc" -eq 0 -a "$out" = "$(pann-match --version | head -1 | awk '{print $NF}') 0 ticks"
else
    not_ok "a call from each header links with C linkage"
    sed 's/^/# /' "$TMPD/ld.err" | head -20
fi
exit $((tap_failed > 0))
