/* pann_extreme.h — declarations of the extreme module (see lib/extreme.c). */
#ifndef PANN_EXTREME_H
#define PANN_EXTREME_H
#endif
