/* pann_filter.h — declarations of the filter module (see lib/filter.c). */
#ifndef PANN_FILTER_H
#define PANN_FILTER_H
#endif
