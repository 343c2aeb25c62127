/* pann_sparse.h — declarations of the sparse module (see lib/sparse.c). */
#ifndef PANN_SPARSE_H
#define PANN_SPARSE_H
#endif
