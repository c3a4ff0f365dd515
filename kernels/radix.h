/* Rank-order cuts over a list of candidates, by radix digits of the float bits: no sort. */
#ifndef NUC_RADIX_H
#define NUC_RADIX_H
#include <stddef.h>
#include <stdint.h>

typedef enum { NUC_CUT_COUNT, NUC_CUT_MASS } nuc_cut_mode;

typedef struct nuc_cut {
    int found;      /* 0: the whole list lies before the cut */
    uint32_t index; /* the last token (in rank order) on the kept side of the cut */
    float value;    /* its weight, */
    size_t tie;     /* and how many tokens of that weight precede it in the list */
    double mass;    /* above + the mass of the list tokens up to it, in double */
    size_t rank;    /* how many list tokens rank before it */
    size_t group;   /* how many list tokens have its weight */
} nuc_cut;

/* list[0..len) holds ascending token indices (or is NULL: index is then not set) and
 * vals[0..len) their weights, which lie in [lo, hi], lo > 0; rank order
 * is w descending, then index ascending. NUC_CUT_COUNT finds the token of rank k (1 <= k).
 * NUC_CUT_MASS finds the last token whose exclusive prefix mass, above + the weights of the
 * list tokens ranked before it, is <= target (the top-p rule; the caller guarantees
 * above <= target). Both arrays are overwritten. */
nuc_cut nuc_radix_cut(uint32_t *list, float *vals, size_t len, float lo, float hi,
                      nuc_cut_mode mode, size_t k, double target, double above);

/* A histogram of 256 buckets that split [lo, hi] by the float bits; shared by the cut and by
 * the samplers of the pipeline. Bucket d holds bits in [base + (d << shift), ... + (1 << shift)). */
typedef struct nuc_hist {
    uint32_t base;
    int shift;
    uint32_t count[256];
    double mass[256];
} nuc_hist;

void nuc_hist_range(nuc_hist *h, float lo, float hi);
/* The histogram of the values v[0..len), each within the range. */
void nuc_hist_fill(nuc_hist *h, const float *v, size_t len);
float nuc_hist_lower_edge(const nuc_hist *h, int d);
#endif
