/* tmpdir.h — where the C tests write their scratch files: $TMPDIR when it
 * is set and not empty, /tmp otherwise. */
#ifndef PANN_TEST_TMPDIR_H
#define PANN_TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

#define TEST_PATH_MAX 4096

/* Write "$TMPDIR/NAME" into buf (TEST_PATH_MAX bytes). */
static inline char *test_tmp_path(char *buf, const char *name)
{
    const char *dir = getenv("TMPDIR");
    snprintf(buf, TEST_PATH_MAX, "%s/%s", dir && *dir ? dir : "/tmp", name);
    return buf;
}

#endif
