// The tiled linear drivers shared by the SIMD levels (included after kernels_generic.h).
// A level supplies tiles: TILE(x, ldx, w, ldw, K, nr, nt, out) computes the dots of nr weight
// rows (<= 4, ldw elements apart) with nt tokens (<= MAX_NT) into out[r][t].
//
// Plain float weights: small batches (decode) read the weights directly; larger ones widen a
// 4-row panel once into per-thread scratch and reuse it across a block of tokens.
// Block-quantized weights: always dequantized panel by panel into scratch (an L1-sized buffer),
// so the packed model is the only copy in memory.
// Tiles over weights in memory prefetch the next panel: each row is only K elements long, too
// short a stream for the hardware prefetcher to ramp up on (decode bandwidth from memory rose
// from 8.8 to 14.1 GB/s per core for bf16 with this, on the Xeon of BENCHMARKS.md).

#define LM_DEFINE_TILED_LINEAR(NAME, WTYPE, TILE, TILE_PANEL, WIDEN, MAX_NT, WIDEN_AT)          \
    static void NAME(const float *x, int64_t ldx, const void *w_, int64_t w_row_bytes,             \
                     const float *bias, float *y, int64_t ldy, int64_t T, int64_t n0, int64_t n1,  \
                     int64_t K, float *scratch) {                                                  \
        const WTYPE *w = (const WTYPE *)w_;                                                        \
        const int64_t ldw = w_row_bytes / (int64_t)sizeof(WTYPE);                                  \
        float out[4][4];                                                                           \
        if (T < (WIDEN_AT)) {                                                                      \
            for (int64_t n = n0; n < n1; n += LM_PANEL_ROWS) {                                     \
                const int nr = (int)(n1 - n < LM_PANEL_ROWS ? n1 - n : LM_PANEL_ROWS);             \
                for (int64_t t = 0; t < T; t += (MAX_NT)) {                                        \
                    const int nt = (int)(T - t < (MAX_NT) ? T - t : (MAX_NT));                     \
                    TILE(x + t * ldx, ldx, w + n * ldw, ldw, K, nr, nt, out);                      \
                    lm_store_tile(out, y + t * ldy + n, ldy, bias ? bias + n : NULL, nr, nt);      \
                }                                                                                  \
            }                                                                                      \
            return;                                                                                \
        }                                                                                          \
        for (int64_t tb = 0; tb < T; tb += LM_TOKEN_BLOCK) {                                       \
            const int64_t te = T - tb < LM_TOKEN_BLOCK ? T : tb + LM_TOKEN_BLOCK;                  \
            for (int64_t n = n0; n < n1; n += LM_PANEL_ROWS) {                                     \
                const int nr = (int)(n1 - n < LM_PANEL_ROWS ? n1 - n : LM_PANEL_ROWS);             \
                for (int r = 0; r < nr; r++) WIDEN(w + (n + r) * ldw, scratch + r * K, K);         \
                for (int64_t t = tb; t < te; t += (MAX_NT)) {                                      \
                    const int nt = (int)(te - t < (MAX_NT) ? te - t : (MAX_NT));                   \
                    TILE_PANEL(x + t * ldx, ldx, scratch, K, K, nr, nt, out);                      \
                    lm_store_tile(out, y + t * ldy + n, ldy, bias ? bias + n : NULL, nr, nt);      \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

// Linear over block-quantized weights: dequantize a 4-row panel (prefetching the next one),
// then run the f32 panel tile over every token of the block.
#define LM_DEFINE_QUANTIZED_LINEAR(NAME, TILE_PANEL, MAX_NT)                                       \
    static void NAME(lm_wtype type, const float *x, int64_t ldx, const void *w_,                   \
                     int64_t w_row_bytes, const float *bias, float *y, int64_t ldy, int64_t T,     \
                     int64_t n0, int64_t n1, int64_t K, float *scratch) {                          \
        const uint8_t *w = (const uint8_t *)w_;                                                    \
        float out[4][4];                                                                           \
        for (int64_t tb = 0; tb < T; tb += LM_TOKEN_BLOCK) {                                       \
            const int64_t te = T - tb < LM_TOKEN_BLOCK ? T : tb + LM_TOKEN_BLOCK;                  \
            for (int64_t n = n0; n < n1; n += LM_PANEL_ROWS) {                                     \
                const int nr = (int)(n1 - n < LM_PANEL_ROWS ? n1 - n : LM_PANEL_ROWS);             \
                const uint8_t *next = w + (n + LM_PANEL_ROWS) * w_row_bytes;                       \
                for (int64_t byte = 0; byte < LM_PANEL_ROWS * w_row_bytes; byte += 64)             \
                    __builtin_prefetch(next + byte, 0, 3);                                         \
                for (int r = 0; r < nr; r++)                                                       \
                    g_dequantize_row(type, w + (n + r) * w_row_bytes, scratch + r * K, K);         \
                for (int64_t t = tb; t < te; t += (MAX_NT)) {                                      \
                    const int nt = (int)(te - t < (MAX_NT) ? te - t : (MAX_NT));                   \
                    TILE_PANEL(x + t * ldx, ldx, scratch, K, K, nr, nt, out);                      \
                    lm_store_tile(out, y + t * ldy + n, ldy, bias ? bias + n : NULL, nr, nt);      \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

static inline void lm_widen_none(const float *w, float *out, int64_t K) {
    (void)w; (void)out; (void)K;
}

static inline void lm_store_tile(float out[4][4], float *y, int64_t ldy, const float *bias, int nr,
                                 int nt) {
    for (int t = 0; t < nt; t++)
        for (int r = 0; r < nr; r++) y[t * ldy + r] = out[r][t] + (bias ? bias[r] : 0.0f);
}

// Expands a tile body specialised for every (nr, nt) pair so that the accumulators live in
// registers: BODY(NR, NT) must be an always-inline call with constant sizes.
#define LM_TILE_SWITCH_4x4(BODY, nr, nt)                                              \
    switch ((nr) * 8 + (nt)) {                                                        \
    case 1 * 8 + 1: BODY(1, 1); break; case 1 * 8 + 2: BODY(1, 2); break;             \
    case 1 * 8 + 3: BODY(1, 3); break; case 1 * 8 + 4: BODY(1, 4); break;             \
    case 2 * 8 + 1: BODY(2, 1); break; case 2 * 8 + 2: BODY(2, 2); break;             \
    case 2 * 8 + 3: BODY(2, 3); break; case 2 * 8 + 4: BODY(2, 4); break;             \
    case 3 * 8 + 1: BODY(3, 1); break; case 3 * 8 + 2: BODY(3, 2); break;             \
    case 3 * 8 + 3: BODY(3, 3); break; case 3 * 8 + 4: BODY(3, 4); break;             \
    case 4 * 8 + 1: BODY(4, 1); break; case 4 * 8 + 2: BODY(4, 2); break;             \
    case 4 * 8 + 3: BODY(4, 3); break; case 4 * 8 + 4: BODY(4, 4); break;             \
    default: break;                                                                   \
    }

#define LM_TILE_SWITCH_4x2(BODY, nr, nt)                                              \
    switch ((nr) * 8 + (nt)) {                                                        \
    case 1 * 8 + 1: BODY(1, 1); break; case 1 * 8 + 2: BODY(1, 2); break;             \
    case 2 * 8 + 1: BODY(2, 1); break; case 2 * 8 + 2: BODY(2, 2); break;             \
    case 3 * 8 + 1: BODY(3, 1); break; case 3 * 8 + 2: BODY(3, 2); break;             \
    case 4 * 8 + 1: BODY(4, 1); break; case 4 * 8 + 2: BODY(4, 2); break;             \
    default: break;                                                                   \
    }

// The level's `linear` entry: plain floats to their tiled kernels, blocks to the panel path.
#define LM_DEFINE_LINEAR_DISPATCH(NAME, F32, BF16, F16, QUANTIZED)                                 \
    static void NAME(lm_wtype type, const float *x, int64_t ldx, const void *w,                    \
                     int64_t w_row_bytes, const float *bias, float *y, int64_t ldy, int64_t T,     \
                     int64_t n0, int64_t n1, int64_t K, float *scratch) {                          \
        switch (type) {                                                                            \
        case LM_W_F32: F32(x, ldx, w, w_row_bytes, bias, y, ldy, T, n0, n1, K, scratch); break;    \
        case LM_W_BF16: BF16(x, ldx, w, w_row_bytes, bias, y, ldy, T, n0, n1, K, scratch); break;  \
        case LM_W_F16: F16(x, ldx, w, w_row_bytes, bias, y, ldy, T, n0, n1, K, scratch); break;    \
        default: QUANTIZED(type, x, ldx, w, w_row_bytes, bias, y, ldy, T, n0, n1, K, scratch);     \
        }                                                                                          \
    }
