/* pann_synth.h — declarations of the synth module (see lib/synth.c). */
#ifndef PANN_SYNTH_H
#define PANN_SYNTH_H
#endif
