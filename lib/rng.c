/* rng.c — counter-based random streams and keyed permutations.
 *
 * Results must not depend on the thread count, so nothing here has state
 * that threads share: a random number is a hash of (seed, stream, counter),
 * and a row's sequence of candidates is a keyed permutation of [0, m)
 * evaluated at 0, 1, 2, ...  The permutation is a 4-round Feistel network on
 * the smallest even-bit domain covering m, with cycle walking to stay inside
 * [0, m): a bijection, so a row never sees a candidate twice and needs only
 * a counter to remember which candidates it has tried.
 */
#include <config.h>
#include "pann.h"
#include "internal.h"

static inline uint64_t mix64(uint64_t z)
{   /* splitmix64's finaliser: a good 64-bit avalanche */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t pann_hash3(uint64_t seed, uint64_t a, uint64_t b)
{
    uint64_t h = mix64(seed + 0x9e3779b97f4a7c15ULL);
    h = mix64(h ^ (a + 0x632be59bd9b4e019ULL));
    return mix64(h ^ (b + 0x85157af5ULL));
}

double pann_uniform3(uint64_t seed, uint64_t a, uint64_t b)
{
    return (double)(pann_hash3(seed, a, b) >> 11) * 0x1.0p-53;
}

void pann_perm_init(pann_perm *p, uint64_t m, uint64_t seed, uint64_t stream)
{
    unsigned bits = 2;
    while (bits < 64 && (1ULL << bits) < m)
        bits += 2;
    p->m = m;
    p->half_bits = bits / 2;
    p->half_mask = (1ULL << p->half_bits) - 1;
    for (int i = 0; i < 4; i++)
        p->key[i] = pann_hash3(seed, stream, 0x5eed0000ULL + (uint64_t)i);
}

static inline uint64_t feistel(const pann_perm *p, uint64_t x)
{
    uint64_t left = x >> p->half_bits, right = x & p->half_mask;
    for (int round = 0; round < 4; round++) {
        uint64_t f = mix64(right ^ p->key[round]) & p->half_mask;
        uint64_t next = left ^ f;
        left = right;
        right = next;
    }
    return (left << p->half_bits) | right;
}

uint64_t pann_perm_at(const pann_perm *p, uint64_t i)
{
    /* The domain is at most 4m, so the expected walk is short. */
    uint64_t x = feistel(p, i);
    while (x >= p->m)
        x = feistel(p, x);
    return x;
}
