/* use-pann.c — a program built only from the installed libpann (pann.h and
 * pkg-config pann): the exact nearest neighbour of each of four points in
 * the plane among the others, checked against the answer worked out by
 * hand.  Run by debian/tests/control and by .ci/run against the packages.
 *
 *   cc use-pann.c $(pkg-config --cflags --libs pann) -o use-pann
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <pann.h>

int main(int argc, char **argv)
{
    /* (0,0) (1,0) (5,5) (5,7): 0 and 1 are 1 apart, 2 and 3 are 2 apart. */
    static const float xy[] = {0, 0, 1, 0, 5, 5, 5, 7};
    static const uint32_t want_nn[] = {1, 0, 3, 2};
    static const double want_dist[] = {1, 1, 2, 2};
    pann_error err = {0};
    pann_matrix m;
    pann_result r;
    pann_engine_opts o;
    pann_metric l2 = {.kind = PANN_L2, .d = 2, .is_cat = NULL};
    int bad = 0;

    if (argc > 1 && strcmp(argv[1], pann_version()) != 0) {
        fprintf(stderr, "use-pann: libpann says version %s, expected %s\n",
                pann_version(), argv[1]);
        return 1;
    }
    if (pann_matrix_alloc(&m, 4, 2, &err) != 0) {
        fprintf(stderr, "use-pann: %s\n", err.msg);
        return 2;
    }
    memcpy(m.v, xy, sizeof xy);
    pann_engine_opts_init(&o);
    o.self_exclude = true;
    o.threads = 1;
    if (pann_match_exact(&m, &m, &l2, &o, &r, &err) != 0) {
        fprintf(stderr, "use-pann: %s\n", err.msg);
        return err.status;
    }
    for (size_t i = 0; i < 4; i++) {
        if (r.nn[i] != want_nn[i] || fabs(r.dist[i] - want_dist[i]) > 1e-6) {
            fprintf(stderr, "use-pann: row %zu: neighbour %u at %g, expected %u at %g\n",
                    i + 1, r.nn[i], r.dist[i], want_nn[i], want_dist[i]);
            bad = 1;
        }
    }
    if (!bad)
        printf("libpann %s: the nearest neighbours of 4 points are those worked out by hand\n",
               pann_version());
    pann_result_free(&r);
    pann_matrix_free(&m);
    return bad;
}
