/* pann_npy.h — numpy's .npy files as input matrices and as outputs.
 *
 * A .npy file is recognised by its magic bytes (\x93NUMPY), whatever its
 * name.  Read: versions 1.0, 2.0 and 3.0 of the format, a 2-D array of
 * little-endian float32 ('<f4') or float64 ('<f8') in C order, as
 * numpy.save writes it; the numbers go straight into the float32 matrices,
 * no text is made.  Written: 1-D or 2-D arrays of '<f4' or '<i8', version
 * 1.0, the header padded to 64 bytes as numpy pads it.  Included at the
 * end of pann.h; uses its types.
 */
#ifndef PANN_NPY_H
#define PANN_NPY_H

#ifdef __cplusplus
extern "C" {
#endif

/* Whether path names a regular file that starts with the .npy magic. */
bool pann_npy_is(const char *path);
/* Whether any of the n paths does. */
bool pann_npy_any(const char *const *paths, size_t n);

/* The header of a .npy file: rows, columns, bytes per value (4 or 8) and
 * where the values start. */
typedef struct pann_npy_info {
    size_t rows, cols;
    size_t elem;
    size_t data_offset;
} pann_npy_info;

/* Parse the header of the open file fd (size bytes; display names it in
 * messages).  Errors, "FILE: what is wrong": not a .npy file, an unknown
 * version, a header that is not numpy's dictionary, fortran_order True, a
 * dtype other than '<f4'/'<f8', a shape that is not 2-D, data shorter or
 * longer than the shape says. */
int pann_npy_header(int fd, size_t size, const char *display, pann_npy_info *info,
                    pann_error *err);

/* What pann_tables_read then pann_encode give for text files, for n .npy
 * files (files[0] the reference, whose statistics scale all of them): each
 * table gets its path, display name, shape and the column names "1", "2",
 * ... (as a file without header), but no text or cells; each matrix the
 * chosen columns (eo->columns), scaled (eo->scale) and, with eo->cosine,
 * unit-normalised.  Forced categorical columns are refused; a value that
 * is not finite is an error located as FILE:ROW:COLUMN (1-based). */
int pann_npy_load(pann_table *tables, const char *const *files, size_t n,
                  const pann_encode_opts *eo, pann_schema *schema, pann_matrix *out,
                  pann_error *err);

/* Write a 2-D (cols > 0) or 1-D (cols == 0: rows values) array to fp:
 * float32 values or int64 values. */
int pann_npy_write_f32(FILE *fp, const float *v, size_t rows, size_t cols);
int pann_npy_write_i64(FILE *fp, const int64_t *v, size_t rows, size_t cols);

/* Neighbour lists as two arrays, each file written atomically
 * (pann_output_open; nn_path NULL or "-" is stdout): to nn_path the int64
 * rows of the reference (0-based table rows, -1 for none), to dist_path
 * (when not NULL) the float32 distances (NaN for none).  One row per query
 * table row (a row left out of the matrix gets -1 and NaN), k entries
 * each: shape (rows, k), or (rows,) with flat.  nn and dist hold k entries
 * for each of the n matrix rows; s_ids and t_ids map matrix rows to table
 * rows (NULL: the same). */
int pann_npy_save_neighbours(const char *nn_path, const char *dist_path, size_t rows,
                             size_t k, bool flat, const size_t *s_ids, const size_t *t_ids,
                             const uint32_t *nn, const float *dist, size_t n,
                             pann_error *err);

#ifdef __cplusplus
}
#endif

#endif
