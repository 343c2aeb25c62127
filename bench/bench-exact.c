/* bench-exact.c — times the phases of an exact 1-NN search on two CSV files
 * (read, encode, brute force, tree search) and the distance kernel's
 * throughput in element-distances per second per core, so the README can
 * quote where the time goes.  Usage: bench-exact S.csv T.csv [threads] */
#include <config.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "pann.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu(void)
{   /* CPU seconds of the whole process: with other work on the machine,
       this is the cost; wall time is what a user waits */
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const pann_error *err)
{
    fprintf(stderr, "bench-exact: %s\n", err->msg);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench-exact S.csv T.csv [threads]\n");
        return 1;
    }
    int threads = argc > 3 ? atoi(argv[3]) : 0;
    pann_error err = {0};
    pann_read_opts ro;
    pann_read_opts_init(&ro);
    pann_table tables[2];
    double t0 = now();
    for (int i = 0; i < 2; i++)
        if (pann_table_read(&tables[i], argv[2 - i], &ro, &err)) die(&err);
    double t1 = now();
    const pann_table *tp[2] = { &tables[0], &tables[1] };
    pann_encode_opts eo;
    pann_encode_opts_init(&eo);
    pann_schema schema;
    pann_matrix mats[2];
    if (pann_encode(tp, 2, &eo, &schema, mats, NULL, &err)) die(&err);
    double t2 = now();
    pann_metric m;
    if (pann_metric_init(&m, PANN_L1, &schema, &err)) die(&err);
    pann_engine_opts o;
    pann_engine_opts_init(&o);
    o.threads = threads;
    pann_result brute, tree;
    o.exact_method = PANN_EXACT_BRUTE;
    double t3 = now(), c3 = cpu();
    if (pann_match_exact(&mats[1], &mats[0], &m, &o, &brute, &err)) die(&err);
    double t4 = now(), c4 = cpu();
    o.exact_method = PANN_EXACT_TREE;
    if (pann_match_exact(&mats[1], &mats[0], &m, &o, &tree, &err)) die(&err);
    double t5 = now(), c5 = cpu();
    size_t differ = 0;
    for (size_t k = 0; k < brute.n; k++)
        differ += brute.nn[k] != tree.nn[k] || brute.dist[k] != tree.dist[k];
    double elems = (double)mats[1].n * mats[0].n * mats[0].d;
    int used = pann_threads(threads);
    printf("rows %zu x %zu, d %zu, %d threads, kernel %s\n", mats[1].n, mats[0].n, mats[0].d,
           used, pann_kernel_name());
    printf("read %.3f s, encode %.3f s (wall)\n", t1 - t0, t2 - t1);
    printf("brute force %.3f s wall, %.3f s CPU: %.1f G element-distances per CPU-second\n",
           t4 - t3, c4 - c3, elems / (c4 - c3) * 1e-9);
    printf("tree search %.3f s wall, %.3f s CPU (%.1fx less CPU than brute force); "
           "answers differing from brute force: %zu\n",
           t5 - t4, c5 - c4, (c4 - c3) / (c5 - c4), differ);
    pann_result_free(&brute);
    pann_result_free(&tree);
    pann_metric_free(&m);
    for (int i = 0; i < 2; i++) {
        pann_matrix_free(&mats[i]);
        pann_table_free(&tables[i]);
    }
    pann_schema_free(&schema);
    return differ != 0;
}
