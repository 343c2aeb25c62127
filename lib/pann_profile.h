/* pann_profile.h — declarations of the profile module (see lib/profile.c). */
#ifndef PANN_PROFILE_H
#define PANN_PROFILE_H
#endif
