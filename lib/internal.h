/* internal.h — helpers shared by libpann's search modules, not installed. */
#ifndef PANN_INTERNAL_H
#define PANN_INTERNAL_H

#include "pann.h"

/* The checks every search makes: same columns, a usable reference. */
int pann_check_search(const pann_matrix *S, const pann_matrix *T, const pann_metric *m,
                      pann_error *err);
/* A zeroed result for n rows: no neighbour, NaN distances, nothing proven. */
int pann_result_alloc(pann_result *r, size_t n, pann_error *err);

#endif
