/* pann_mpi.h — the pieces of libpann that let several processes (the ranks
 * of mpirun) share one search: a file's data rows cut into shares at line
 * starts (mpi_share.c, no MPI needed), and, in builds with MPI, the exact
 * search of a reference split across the ranks and passed around a ring
 * (mpi_ring.c).  Included by the programs' MPI layer (bin/cli_mpi.c), not by
 * pann.h: the default library neither needs nor links MPI. */
#ifndef PANN_MPI_H
#define PANN_MPI_H

#include "pann.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Share `part` of `parts` of a regular file's data rows: the bytes from
 * data_begin (after a BOM and the header line, which must be the text of
 * header->text) cut into `parts` spans of about equal size, each starting at
 * a line start, as lib/load.c cuts a file for its threads.  The share is
 * copied, behind the file's own header bytes, into an anonymous file named
 * `path` (memfd, else an unlinked file in $TMPDIR): any loader reads it as
 * it would read a file holding only those rows.  `plain` is false when the
 * share holds a quote or a lone CR, where a line need not be a record (the
 * caller then reads the whole file); `lines` counts its LFs, so the lines
 * before a share are the sum of the earlier shares' (MPI_Exscan). */
typedef struct pann_share {
    size_t data_begin;       /* first byte of the data rows in the file */
    size_t begin, end;       /* this share's bytes, whole lines */
    size_t lines;            /* LFs in [begin, end) */
    bool plain;              /* lines are records: the cut is safe */
    int fd;                  /* the copy, -1 when none */
    char path[64];           /* the copy's name, for the loaders */
} pann_share;

/* 0 with sh filled (sh->plain false and no copy when the file cannot be
 * cut safely: stdin, a header that is not one LF-terminated line), or a
 * system error. */
int pann_share_open(pann_share *sh, const char *path, const pann_table *header,
                    const pann_read_opts *o, size_t part, size_t parts, pann_error *err);
void pann_share_close(pann_share *sh);

#ifdef __cplusplus
}
#endif
#endif
