/* error.c — the small things every module shares: how an error is recorded
 * (pann_fail), the version string and how many threads "all cores" means.
 * Errors are plain values in a caller-owned struct so that the library never
 * prints and never exits; programs decide what to do with the message. */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <stdarg.h>
#include <stdio.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "pann.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

const char *pann_version(void)
{
    return PACKAGE_VERSION;
}

int pann_fail(pann_error *err, int status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

int pann_threads(int requested)
{
    if (requested > 0)
        return requested;
#ifdef _OPENMP
    return omp_get_num_procs();
#else
    return 1;
#endif
}
