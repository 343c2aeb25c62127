/* reader_internal.h — the record parser of reader.c shared by the parallel
 * parse (reader_parallel.c) and the reading in chunks (reader_stream.c),
 * not installed. */
#ifndef PANN_READER_INTERNAL_H
#define PANN_READER_INTERNAL_H

#include <stdlib.h>
#include <csv.h>
#include "pann.h"

/* Make room for at least need elements of size elem in *p (capacity *cap),
 * doubling so that appending n elements costs O(n) in total. */
static inline int reader_grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / elem)
            return -1;
        ncap *= 2;
    }
    void *q = realloc(*(void **)p, ncap * elem);
    if (!q)
        return -1;
    *(void **)p = q;
    *cap = ncap;
    return 0;
}

/* The state of a parse: a table being filled by libcsv's callbacks, one
 * line at a time (reader.c). */
typedef struct reader {
    pann_table *t;
    pann_error *err;
    bool header;              /* the first record is still to be the header */
    int (*blank)(unsigned char);
    char delim;
    bool delim_given;
    int status;               /* first error met inside a callback */
    size_t line, line_start, line_end;  /* the line being fed */
    bool in_record;
    size_t rec_line, rec_start;
    size_t field_line;        /* line where the next field starts */
    size_t nfields;           /* fields seen in the current record */
    size_t extra_line;        /* line of the first field past ncols */
    bool have_ncols;
    size_t ncells, cells_len; /* used parts of cell_off and cells */
    size_t row_base;          /* cells_len where the current record began */
    size_t cap_off, cap_cells, cap_rows;
    bool fixed_cells;         /* cells is a slice of a shared arena: never grow */
    bool in_place;            /* cells is the text itself (split_line) */
} reader;

void reader_init(reader *r, pann_table *t, const pann_read_opts *o, pann_error *err);
/* libcsv set up for o and r (delimiter, blanks, LF as the terminator);
 * -1 when out of memory. */
int reader_parser_init(struct csv_parser *p, const pann_read_opts *o, reader *r);
/* Whether a line holds nothing but blanks. */
bool reader_blank_line(const reader *r, const char *s, size_t len);
/* Feed one line (with its terminator) to libcsv; a NUL byte stops it. */
void reader_feed_line(reader *r, struct csv_parser *p, const char *s, size_t len);
/* Feed text[begin, end) line by line, the first line being number line0 + 1;
 * returns r->status. */
int reader_parse_range(reader *r, struct csv_parser *p, const char *text, size_t begin,
                       size_t end, size_t line0);
/* libcsv's callbacks, data being the reader. */
void reader_on_field(void *s, size_t len, void *data);
void reader_on_record(int c, void *data);
/* A libcsv error as the located message of the field it is in. */
void reader_parser_error(reader *r, struct csv_parser *p, const char *what);
/* Split in place (split_line): the text is not kept and has no quotes. */
bool reader_in_place_suits(const pann_table *t, const pann_read_opts *o);

/* The parse by several threads (reader_parallel.c), or PARSE_SERIAL when
 * the text is not for it (quotes, too small, one thread). */
enum { PARSE_SERIAL = -1 };  /* not an error (those are > 0): parse serially */
int reader_parse_parallel(pann_table *t, const pann_read_opts *o, int threads,
                          pann_error *err);

#endif
