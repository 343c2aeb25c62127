/* pann_ecdf.h — declarations of the ecdf module (see lib/ecdf.c). */
#ifndef PANN_ECDF_H
#define PANN_ECDF_H
#endif
