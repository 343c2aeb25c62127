/* dict.c — the category dictionary: a column's distinct texts and the codes
 * the encoder gives them, 0, 1, 2 ... in order of first appearance.  Open
 * addressing on FNV-1a hashes, at most half full; keys are copied, so a
 * caller may look up a span of a buffer it then overwrites (the numeric
 * loader's read windows).  The encoder and the loader share it, so both give
 * a text the same code. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pann.h"
#include "internal.h"

static uint64_t hash_span(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;     /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static int dict_rehash(pann_dict *dc, size_t nslots)
{
    size_t *slot = calloc(nslots, sizeof *slot);
    if (!slot)
        return -1;
    for (size_t c = 0; c < dc->n; c++) {
        size_t h = (size_t)hash_span(dc->keys[c], strlen(dc->keys[c])) & (nslots - 1);
        while (slot[h])
            h = (h + 1) & (nslots - 1);
        slot[h] = c + 1;
    }
    free(dc->slot);
    dc->slot = slot;
    dc->mask = nslots - 1;
    return 0;
}

static int dict_grow_keys(pann_dict *dc)
{
    size_t cap = dc->cap ? 2 * dc->cap : 64;
    char **keys = realloc(dc->keys, cap * sizeof *keys);
    if (keys)
        dc->keys = keys;
    size_t *count = realloc(dc->count, cap * sizeof *count);
    if (count)
        dc->count = count;
    if (!keys || !count)
        return -1;
    dc->cap = cap;
    return 0;
}

/* The slot that holds key[0..len), or the empty slot where it would go. */
static size_t dict_probe(const pann_dict *dc, const char *key, size_t len)
{
    size_t h = (size_t)hash_span(key, len) & dc->mask;
    for (; dc->slot[h]; h = (h + 1) & dc->mask) {
        const char *k = dc->keys[dc->slot[h] - 1];
        if (strncmp(k, key, len) == 0 && k[len] == '\0')
            break;
    }
    return h;
}

size_t pann_dict_find(const pann_dict *dc, const char *key, size_t len)
{
    return dc->slot ? dc->slot[dict_probe(dc, key, len)] - 1 : SIZE_MAX;
}

size_t pann_dict_code(pann_dict *dc, const char *key, size_t len)
{
    if (!dc->slot || 2 * (dc->n + 1) > dc->mask + 1)
        if (dict_rehash(dc, dc->slot ? 2 * (dc->mask + 1) : 64) != 0)
            return SIZE_MAX;
    size_t h = dict_probe(dc, key, len);
    if (dc->slot[h])
        return dc->slot[h] - 1;
    if (dc->n == dc->cap && dict_grow_keys(dc) != 0)
        return SIZE_MAX;
    char *copy = malloc(len + 1);
    if (!copy)
        return SIZE_MAX;
    memcpy(copy, key, len);
    copy[len] = '\0';
    dc->keys[dc->n] = copy;
    dc->count[dc->n] = 0;
    dc->slot[h] = ++dc->n;
    return dc->n - 1;
}

size_t pann_dict_mode(const pann_dict *dc)
{
    size_t mode = 0;
    for (size_t c = 1; c < dc->n; c++)
        if (dc->count[c] > dc->count[mode])
            mode = c;
    return mode;
}

char **pann_dict_take_keys(pann_dict *dc)
{
    char **keys = dc->keys;
    if (!keys)
        keys = calloc(1, sizeof *keys);
    dc->keys = NULL;
    dc->n = dc->cap = 0;
    return keys;
}

void pann_dict_free(pann_dict *dc)
{
    for (size_t c = 0; dc->keys && c < dc->n; c++)
        free(dc->keys[c]);
    free(dc->keys);
    free(dc->count);
    free(dc->slot);
    memset(dc, 0, sizeof *dc);
}
