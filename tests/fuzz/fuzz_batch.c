/* libFuzzer target: nuc_sample_batch on hostile batches: 1..8 rows (each decoded like a single
 * row, so some rows are fine and some are not), row_stride n..n+3 (the gap filled with NaN that
 * must never be read), one shared or one parameter set per row, explicit or default streams,
 * thread counts 0..3 and negative.
 * Invariants: row r's token equals nuc_sample on that row alone; on failure no token is written
 * and the code is one of the faults' (the first failing row's, or NUC_EINVAL for a bad
 * parameter or argument); the logits are never written; every kernel set agrees. */
#include "fuzz_common.h"

#define MAX_ROWS 8
#define MAX_STRIDE (FZ_MAX_N / 4 + 3)

static float rows_buf[MAX_ROWS * MAX_STRIDE + 8], copy[MAX_ROWS * MAX_STRIDE + 8];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_reader r;
    fz_init(&r, data, size);
    const uint8_t head = fz_u8(&r);
    const size_t rows = 1 + head % MAX_ROWS;
    const int per_row_params = (head >> 3) & 1;
    const int default_streams = (head >> 4) & 1;
    const int threads = (int)((head >> 5) & 3) - ((head >> 7) ? 1 : 0) * 4; /* -4..3 */
    const nuc_isa first_isa = (nuc_isa)(fz_u8(&r) % 4);
    const uint8_t shape = fz_u8(&r);
    size_t n = fz_length(&r, shape);
    if (n > MAX_STRIDE - 3)
        n = 1 + n % (MAX_STRIDE - 3);
    const size_t stride = n + (shape >> 3) % 4;
    const uint64_t seed = fz_u8(&r), step = fz_u8(&r);

    nuc_params ps[MAX_ROWS];
    uint64_t streams[MAX_ROWS];
    for (size_t i = 0; i < rows; i++) {
        ps[i].temperature = fz_temperature(&r);
        ps[i].top_k = fz_top_k(&r, n);
        ps[i].top_p = fz_unit(&r, 1.0f);
        ps[i].min_p = fz_unit(&r, 0.0f);
        streams[i] = fz_u8(&r);
    }
    float *base = rows_buf + (shape >> 6); /* misaligned by 0..3 floats */
    for (size_t i = 0; i < rows; i++) {
        fz_logits(&r, fz_u8(&r), base + i * stride, n);
        for (size_t j = n; j < stride; j++)
            base[i * stride + j] = NAN; /* between rows: never read */
    }
    const size_t total = (rows - 1) * stride + n;
    memcpy(copy, base, total * sizeof *base);
    const size_t np = per_row_params ? rows : 1;
    const uint64_t *sp = default_streams ? NULL : streams;

    /* The expected answer, row by row, under the first kernel set. */
    nuc_isa isas[4];
    const int ni = fz_isas(first_isa, isas);
    fz_force(isas[0]);
    nuc_sampler *s = fz_sampler();
    int32_t want[MAX_ROWS];
    int first_bad_rc = NUC_OK, any_param_bad = threads < 0;
    for (size_t i = 0; i < np; i++)
        any_param_bad |= fz_params_bad(&ps[i]);
    for (size_t i = 0; i < rows; i++) {
        want[i] = FZ_TOK_SENTINEL;
        const int rc = nuc_sample(s, base + i * stride, n, &ps[per_row_params ? i : 0], seed,
                                  sp ? sp[i] : i, step, &want[i]);
        if (rc != NUC_OK && first_bad_rc == NUC_OK)
            first_bad_rc = rc;
    }

    int rc_first = 0;
    int32_t tok_first[MAX_ROWS + 1];
    for (int k = 0; k < ni; k++) {
        fz_force(isas[k]);
        const char *name = nuc_isa_name(isas[k]);
        int32_t tok[MAX_ROWS + 1];
        for (size_t i = 0; i <= MAX_ROWS; i++)
            tok[i] = FZ_TOK_SENTINEL;
        const int rc = nuc_sample_batch(base, rows, n, stride, ps, np, seed, sp, step, tok,
                                        threads);
        fuzz_check(memcmp(base, copy, total * sizeof *base) == 0, "[%s] the batch wrote the logits",
                   name);
        fuzz_check(tok[rows] == FZ_TOK_SENTINEL, "[%s] the batch wrote past tokens[rows-1]",
                   name);
        if (first_bad_rc == NUC_OK && !any_param_bad) {
            fuzz_check(rc == NUC_OK, "[%s] the batch returned %d; every row samples", name, rc);
            for (size_t i = 0; i < rows; i++)
                fuzz_check(tok[i] == want[i], "[%s] row %zu of %zu: batch %d, nuc_sample %d",
                           name, i, rows, (int)tok[i], (int)want[i]);
        } else {
            fuzz_check((first_bad_rc != NUC_OK && rc == first_bad_rc) ||
                           (any_param_bad && rc == NUC_EINVAL),
                       "[%s] the batch returned %d; first failing row %d, bad parameter %d",
                       name, rc, first_bad_rc, any_param_bad);
            for (size_t i = 0; i < rows; i++)
                fuzz_check(tok[i] == FZ_TOK_SENTINEL, "[%s] failed batch wrote token %zu", name,
                           i);
        }
        if (k == 0) {
            rc_first = rc;
            memcpy(tok_first, tok, sizeof tok);
        } else {
            fuzz_check(rc == rc_first && memcmp(tok, tok_first, sizeof tok) == 0,
                       "the batch differs between %s and %s", name, nuc_isa_name(isas[0]));
        }
    }
    return 0;
}
