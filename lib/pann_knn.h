/* pann_knn.h — declarations of the knn module (see lib/knn.c). */
#ifndef PANN_KNN_H
#define PANN_KNN_H
#endif
