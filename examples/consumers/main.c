/* The smallest program built against an installed (or vendored) nucleus. The three consumer
 * builds next to this file (pkgconfig/, meson-subproject/, cmake/) all compile it, and
 * tests/test_install.sh checks that each prints the same valid tokens. */
#include <stdio.h>
#include <nucleus.h>

enum { ROWS = 4, VOCAB = 1000 };

int main(void)
{
    static float logits[ROWS][VOCAB];
    for (int r = 0; r < ROWS; r++)
        for (int i = 0; i < VOCAB; i++)
            logits[r][i] = (float)((i * 7919 + r * 104729) % 1009) / 100.0f;

    nuc_params p = nuc_params_default();
    p.temperature = 0.8f;
    p.top_p = 0.9f;
    int32_t tokens[ROWS];
    /* seed 42, streams NULL (stream = row), step 0, threads 0 (all cores) */
    int rc = nuc_sample_batch(&logits[0][0], ROWS, VOCAB, VOCAB, &p, 1, 42, NULL, 0, tokens, 0);
    if (rc != NUC_OK) {
        fprintf(stderr, "nuc_sample_batch: %s\n", nuc_strerror(rc));
        return 1;
    }
    /* Row 0 again, alone: the same token. */
    nuc_sampler *s = nuc_sampler_new(VOCAB);
    int32_t again = -1;
    rc = s ? nuc_sample(s, logits[0], VOCAB, &p, 42, 0, 0, &again) : NUC_ENOMEM;
    nuc_sampler_free(s);
    if (rc != NUC_OK || again != tokens[0]) {
        fprintf(stderr, "nuc_sample: %s, token %d (batch: %d)\n", nuc_strerror(rc), (int)again,
                (int)tokens[0]);
        return 1;
    }
    printf("nucleus %s: tokens", nuc_version());
    for (int r = 0; r < ROWS; r++) {
        if (tokens[r] < 0 || tokens[r] >= VOCAB)
            return 1;
        printf(" %d", (int)tokens[r]);
    }
    printf("\n");
    return 0;
}
