/* output.c — where results go: stdout, or a file that appears only when it
 * is complete.
 *
 * A file named with -o is written under a temporary name in the same
 * directory and renamed over the target on commit, so an interrupted or
 * failed run never leaves a half-written file that looks finished.  Write
 * errors (a full disk, a closed stdout) are only certain after the last
 * flush, so commit checks ferror, fflush and fclose and reports them.
 * Outputs not yet committed are remembered, so that a program stopping on
 * an error can remove their temporary files (pann_output_abort_all).
 */
#include <config.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pann.h"

/* The outputs with a temporary file not yet committed or aborted.  Programs
 * open a handful, from one thread. */
#define PENDING_MAX 16
static pann_output *pending[PENDING_MAX];

static void remember(pann_output *o)
{
    for (size_t i = 0; i < PENDING_MAX; i++)
        if (!pending[i]) {
            pending[i] = o;
            return;
        }
}

static void forget(pann_output *o)
{
    for (size_t i = 0; i < PENDING_MAX; i++)
        if (pending[i] == o)
            pending[i] = NULL;
}

void pann_output_abort_all(void)
{
    for (size_t i = 0; i < PENDING_MAX; i++)
        if (pending[i])
            pann_output_abort(pending[i]);
}

/* An existing target that is not a regular file (/dev/null, a FIFO) or is
 * a symbolic link (/dev/stdout, /dev/stderr) is written in place: renaming
 * a temporary file over it would replace the device node or the link. */
static int open_in_place(pann_output *o, const char *path, pann_error *err)
{
    o->path = strdup(path);
    o->fp = o->path ? fopen(path, "w") : NULL;
    if (!o->fp) {
        int saved = o->path ? errno : ENOMEM;
        pann_output_abort(o);
        return pann_fail(err, PANN_ESYSTEM, "%s: %s", path, strerror(saved));
    }
    return 0;
}

int pann_output_open(pann_output *o, const char *path, pann_error *err)
{
    o->fp = NULL;
    o->path = o->tmp = NULL;
    if (!path || strcmp(path, "-") == 0) {
        o->fp = stdout;
        return 0;
    }
    struct stat st;
    if ((lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) ||
        (stat(path, &st) == 0 && !S_ISREG(st.st_mode)))
        return open_in_place(o, path, err);
    size_t len = strlen(path);
    o->path = strdup(path);
    o->tmp = malloc(len + 16);
    if (!o->path || !o->tmp) {
        pann_output_abort(o);
        return pann_fail(err, PANN_ESYSTEM, "out of memory");
    }
    snprintf(o->tmp, len + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        int saved = errno;
        free(o->tmp);
        o->tmp = NULL;
        pann_output_abort(o);
        return pann_fail(err, PANN_ESYSTEM, "%s: %s", path, strerror(saved));
    }
    o->fp = fdopen(fd, "w");
    if (!o->fp) {
        int saved = errno;
        close(fd);
        pann_output_abort(o);
        return pann_fail(err, PANN_ESYSTEM, "%s: %s", path, strerror(saved));
    }
    remember(o);
    return 0;
}

int pann_output_commit(pann_output *o, pann_error *err)
{
    forget(o);
    const char *name = o->path ? o->path : "stdout";
    int failed = ferror(o->fp);
    int saved = failed ? EIO : 0;
    if (fflush(o->fp) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    if (o->path) {
        if (fclose(o->fp) != 0 && !failed) {
            failed = 1;
            saved = errno;
        }
        o->fp = NULL;
        if (!failed && o->tmp && rename(o->tmp, o->path) != 0) {
            failed = 1;
            saved = errno;
        }
        if (failed && o->tmp)
            unlink(o->tmp);
    }
    free(o->tmp);
    o->tmp = NULL;
    if (failed) {
        int rc = pann_fail(err, PANN_ESYSTEM, "write error on %s: %s", name,
                           strerror(saved ? saved : EIO));
        free(o->path);
        o->path = NULL;
        return rc;
    }
    free(o->path);
    o->path = NULL;
    return 0;
}

void pann_output_abort(pann_output *o)
{
    forget(o);
    if (o->fp && o->fp != stdout)
        fclose(o->fp);
    if (o->tmp)
        unlink(o->tmp);
    free(o->tmp);
    free(o->path);
    o->fp = NULL;
    o->tmp = o->path = NULL;
}

void pann_csv_field(FILE *fp, const char *s)
{
    size_t len = strlen(s);
    int needs_quotes = len > 0 && (s[0] == ' ' || s[len - 1] == ' ');
    if (!needs_quotes && strpbrk(s, ",\"\r\n\t") == NULL) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (const char *c = s; *c; c++) {
        if (*c == '"')
            fputc('"', fp);
        fputc(*c, fp);
    }
    fputc('"', fp);
}
