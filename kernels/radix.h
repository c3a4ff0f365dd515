/* Rank-order cuts over a list of candidates, by radix digits of the float bits: no sort. */
#ifndef NUC_RADIX_H
#define NUC_RADIX_H
#include <stddef.h>
#include <stdint.h>

typedef enum { NUC_CUT_COUNT, NUC_CUT_MASS } nuc_cut_mode;

typedef struct nuc_cut {
    int found;      /* 0: the whole list lies before the cut */
    uint32_t index; /* the last token (in rank order) on the kept side of the cut */
    size_t rank;    /* its 1-based rank within the list */
} nuc_cut;

/* list[0..len) holds ascending token indices with w > 0; rank order is w descending, then index
 * ascending. NUC_CUT_COUNT finds the token of rank k (1 <= k). NUC_CUT_MASS finds the last token
 * whose exclusive prefix mass, above + the weights of the list tokens ranked before it, is
 * <= target (the top-p rule; the caller guarantees above <= target). The list is overwritten. */
nuc_cut nuc_radix_cut(const float *w, uint32_t *list, size_t len, nuc_cut_mode mode, size_t k,
                      double target, double above);
#endif
