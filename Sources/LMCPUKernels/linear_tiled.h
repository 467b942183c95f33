// The tiled linear driver shared by the SIMD levels. A level supplies:
//   TILE(x, ldx, w, ldw, K, nr, nt, out)     dots of nr weight rows (<= 4) with nt tokens
//                                             (<= MAX_NT), written to out[r][t]
//   TILE_F32(...)                             the same for f32 weights (the widened panel)
//   WIDEN(w_row, out_row, K)                  widen one weight row to f32 (NULL-like for f32)
// Small batches (decode) read the packed weights directly; larger ones widen a 4-row panel once
// into per-thread scratch and reuse it across a block of tokens.
// Tiles prefetch the next panel's rows: each row is only K elements long, too short a stream
// for the hardware prefetcher to ramp up on (decode bandwidth from memory rose from 8.8 to
// 14.1 GB/s per core for bf16 with this on a Xeon here).
#define LM_DEFINE_TILED_LINEAR(NAME, WTYPE, TILE, TILE_F32, WIDEN, MAX_NT, WIDEN_AT)            \
    static void NAME(const float *x, int64_t ldx, const void *w_, int64_t ldw, const float *bias, \
                     float *y, int64_t ldy, int64_t T, int64_t n0, int64_t n1, int64_t K,        \
                     float *scratch) {                                                            \
        const WTYPE *w = (const WTYPE *)w_;                                                       \
        float out[4][4];                                                                          \
        if (T < (WIDEN_AT)) {                                                                     \
            for (int64_t n = n0; n < n1; n += LM_PANEL_ROWS) {                                    \
                const int nr = (int)(n1 - n < LM_PANEL_ROWS ? n1 - n : LM_PANEL_ROWS);            \
                for (int64_t t = 0; t < T; t += (MAX_NT)) {                                       \
                    const int nt = (int)(T - t < (MAX_NT) ? T - t : (MAX_NT));                    \
                    TILE(x + t * ldx, ldx, w + n * ldw, ldw, K, nr, nt, out);                     \
                    lm_store_tile(out, y + t * ldy + n, ldy, bias ? bias + n : NULL, nr, nt);     \
                }                                                                                 \
            }                                                                                     \
            return;                                                                               \
        }                                                                                         \
        for (int64_t tb = 0; tb < T; tb += LM_TOKEN_BLOCK) {                                      \
            const int64_t te = T - tb < LM_TOKEN_BLOCK ? T : tb + LM_TOKEN_BLOCK;                 \
            for (int64_t n = n0; n < n1; n += LM_PANEL_ROWS) {                                    \
                const int nr = (int)(n1 - n < LM_PANEL_ROWS ? n1 - n : LM_PANEL_ROWS);            \
                for (int r = 0; r < nr; r++) WIDEN(w + (n + r) * ldw, scratch + r * K, K);        \
                for (int64_t t = tb; t < te; t += (MAX_NT)) {                                     \
                    const int nt = (int)(te - t < (MAX_NT) ? te - t : (MAX_NT));                  \
                    TILE_F32(x + t * ldx, ldx, scratch, K, K, nr, nt, out);                       \
                    lm_store_tile(out, y + t * ldy + n, ldy, bias ? bias + n : NULL, nr, nt);     \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
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
