/* pann_svg.h — declarations of the svg module (see lib/svg.c). */
#ifndef PANN_SVG_H
#define PANN_SVG_H
#endif
