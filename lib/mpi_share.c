/* mpi_share.c — one rank's share of a file's data rows (see pann_mpi.h).
 *
 * Every rank cuts the file alike without talking to the others: share k
 * starts at the first line start at or after data_begin + k * (bytes /
 * parts) and ends where share k + 1 starts, so the shares tile the data
 * rows.  A rank reads only its own bytes (and the header's) and copies them
 * in windows behind the header into an anonymous file, which the numeric
 * loader and the general reader then read as a small file of their own:
 * their results, and their refusals, are those they give on whole files.
 */
#define _GNU_SOURCE
#include <config.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "pann_mpi.h"

#define WINDOW ((size_t)4 << 20)

static bool read_at(int fd, char *buf, size_t len, size_t offset)
{
    while (len) {
        ssize_t got = pread(fd, buf, len, (off_t)offset);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return false;
        buf += got, len -= (size_t)got, offset += (size_t)got;
    }
    return true;
}

static bool write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t put = write(fd, buf, len);
        if (put < 0 && errno == EINTR)
            continue;
        if (put <= 0)
            return false;
        buf += put, len -= (size_t)put;
    }
    return true;
}

/* Where the data rows start: after a BOM and the header's exact text. */
static bool data_begin(int fd, size_t size, const pann_table *header, bool has_header,
                       size_t *begin)
{
    size_t want = 3 + header->text_len, have = want < size ? want : size;
    char *head = malloc(want ? want : 1);
    bool ok = head && read_at(fd, head, have, 0);
    size_t at = ok && have >= 3 && memcmp(head, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    if (ok && has_header)
        ok = header->text_len > 0 && header->text[header->text_len - 1] == '\n' &&
             have - at >= header->text_len && memcmp(head + at, header->text,
                                                     header->text_len) == 0;
    free(head);
    *begin = at + (has_header ? header->text_len : 0);
    return ok;
}

/* The first line start at or after offset (a line starts where an LF ends
 * the one before), or size when none. */
static bool line_start(int fd, size_t size, size_t offset, size_t *start, char *buf)
{
    if (offset == 0) {
        *start = 0;
        return true;
    }
    for (size_t pos = offset - 1; pos < size;) {
        size_t len = size - pos < WINDOW ? size - pos : WINDOW;
        if (!read_at(fd, buf, len, pos))
            return false;
        const char *lf = memchr(buf, '\n', len);
        if (lf) {
            *start = pos + (size_t)(lf - buf) + 1;
            return true;
        }
        pos += len;
    }
    *start = size;
    return true;
}

static bool cut(int fd, size_t size, size_t first, size_t k, size_t parts, size_t *at,
                char *buf)
{
    if (k == 0) {
        *at = first;
        return true;
    }
    if (k == parts) {
        *at = size;
        return true;
    }
    size_t target = first + (size - first) / parts * k;
    return line_start(fd, size, target > first ? target : first, at, buf);
}

static int open_copy(pann_share *sh, pann_error *err)
{
#ifdef HAVE_MEMFD_CREATE
    sh->fd = memfd_create("pann-share", MFD_CLOEXEC);
    if (sh->fd >= 0) {
        snprintf(sh->path, sizeof sh->path, "/proc/self/fd/%d", sh->fd);
        return 0;
    }
#endif
    const char *dir = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/pann-share.XXXXXX", dir && *dir ? dir : "/tmp");
    sh->fd = mkstemp(tmpl);
    if (sh->fd < 0)
        return pann_fail(err, PANN_ESYSTEM, "%s: %s", tmpl, strerror(errno));
    unlink(tmpl);   /* the name goes; the open file stays readable as below */
    snprintf(sh->path, sizeof sh->path, "/proc/self/fd/%d", sh->fd);
    return 0;
}

/* Copy bytes [from, to) of fd behind what the copy holds; with scan, count
 * the LFs and look for what makes a line differ from a record. */
static bool copy_span(pann_share *sh, int fd, size_t from, size_t to, bool scan, char *buf)
{
    char prev = 0;
    for (size_t pos = from; pos < to;) {
        size_t len = to - pos < WINDOW ? to - pos : WINDOW;
        if (!read_at(fd, buf, len, pos) || !write_all(sh->fd, buf, len))
            return false;
        for (size_t i = 0; scan && i < len; i++) {
            char ch = buf[i];
            if (ch == '\n')
                sh->lines++;
            else if (ch == '"' || (prev == '\r'))
                sh->plain = false;
            prev = ch;
        }
        pos += len;
    }
    if (scan && prev == '\r')
        sh->plain = false;
    return true;
}

int pann_share_open(pann_share *sh, const char *path, const pann_table *header,
                    const pann_read_opts *o, size_t part, size_t parts, pann_error *err)
{
    memset(sh, 0, sizeof *sh);
    sh->fd = -1;
    if (strcmp(path, "-") == 0)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return 0;   /* the general path names what is wrong */
    }
    size_t size = (size_t)st.st_size;
    char *buf = malloc(WINDOW);
    int rc = buf ? 0 : pann_fail(err, PANN_ESYSTEM, "out of memory");
    bool ok = !rc && data_begin(fd, size, header, o->header, &sh->data_begin) &&
              sh->data_begin <= size;
    if (ok)
        ok = cut(fd, size, sh->data_begin, part, parts, &sh->begin, buf) &&
             cut(fd, size, sh->data_begin, part + 1, parts, &sh->end, buf);
    if (ok && !(rc = open_copy(sh, err))) {
        sh->plain = true;
        if (!copy_span(sh, fd, 0, sh->data_begin, false, buf) ||
            !copy_span(sh, fd, sh->begin, sh->end, true, buf))
            rc = pann_fail(err, PANN_ESYSTEM, "%s: %s", path, strerror(errno ? errno : EIO));
    }
    free(buf);
    close(fd);
    if (rc || !sh->plain)
        pann_share_close(sh);
    return rc;
}

void pann_share_close(pann_share *sh)
{
    if (sh->fd >= 0)
        close(sh->fd);
    sh->fd = -1;
    sh->path[0] = '\0';
}
