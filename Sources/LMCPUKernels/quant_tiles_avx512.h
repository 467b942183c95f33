// AVX-512 decode tiles over block-quantized weights (included by kernels_avx512.c): each 32
// values of a block are dequantized in registers (two 16-lane vectors) and multiplied straight
// into the accumulators, so batch-1 decode streams the packed weights once with no scratch
// round trip. Dequantization here fuses scale and offset (one rounding instead of numpy's two);
// the difference is within f32 noise and the bit-exact reference lives in dequantize_generic.h.

static inline float q_half(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

static inline __m512 q_u8_to_ps(__m128i v) { return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(v)); }
static inline __m512 q_i8_to_ps(__m128i v) { return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(v)); }

// 16 bytes of packed nibbles -> low nibbles (values 0..15) and high nibbles (values 16..31).
static inline void q_nibbles(__m128i q, __m128i *lo, __m128i *hi) {
    const __m128i mask = _mm_set1_epi8(0x0F);
    *lo = _mm_and_si128(q, mask);
    *hi = _mm_and_si128(_mm_srli_epi16(q, 4), mask);
}

// Dequantize values 32c .. 32c + 31 of a block into two vectors.



// Five-bit values: the nibble plus 16 where the value's bit in qh is set.
static inline void q5_values(const uint8_t *qs, uint32_t qh, __m512 *lo, __m512 *hi) {
    __m128i l, h;
    q_nibbles(_mm_loadu_si128((const __m128i *)qs), &l, &h);
    const __m512i sixteen = _mm512_set1_epi32(16);
    const __m512i li = _mm512_cvtepu8_epi32(l), hi_ = _mm512_cvtepu8_epi32(h);
    *lo = _mm512_cvtepi32_ps(_mm512_mask_or_epi32(li, (__mmask16)(qh & 0xFFFF), li, sixteen));
    *hi = _mm512_cvtepi32_ps(_mm512_mask_or_epi32(hi_, (__mmask16)(qh >> 16), hi_, sixteen));
}



// Q4_K / Q5_K chunk c: sub-block c, whose nibbles are the low (c even) or high (c odd) halves
// of bytes qs[32 (c / 2) ...]; x = (d * scale) q - dmin * min.
static inline void k4_scale(const uint8_t *b, int c, __m512 *scale, __m512 *offset) {
    int sc, m;
    g_scale_min_k4(c, b + 4, &sc, &m);
    *scale = _mm512_set1_ps(q_half(b) * (float)sc);
    *offset = _mm512_set1_ps(-(q_half(b + 2) * (float)m));
}

static inline void k4_nibbles(const uint8_t *qs, int c, __m128i *lo, __m128i *hi) {
    const __m128i a = _mm_loadu_si128((const __m128i *)(qs + 32 * (c / 2)));
    const __m128i b = _mm_loadu_si128((const __m128i *)(qs + 32 * (c / 2) + 16));
    const __m128i mask = _mm_set1_epi8(0x0F);
    if (c & 1) {
        *lo = _mm_and_si128(_mm_srli_epi16(a, 4), mask);
        *hi = _mm_and_si128(_mm_srli_epi16(b, 4), mask);
    } else {
        *lo = _mm_and_si128(a, mask);
        *hi = _mm_and_si128(b, mask);
    }
}

static inline void dq32_q4_k(const uint8_t *b, int c, __m512 *lo, __m512 *hi) {
    __m512 scale, offset;
    k4_scale(b, c, &scale, &offset);
    __m128i l, h;
    k4_nibbles(b + 16, c, &l, &h);
    *lo = _mm512_fmadd_ps(q_u8_to_ps(l), scale, offset);
    *hi = _mm512_fmadd_ps(q_u8_to_ps(h), scale, offset);
}

static inline void dq32_q5_k(const uint8_t *b, int c, __m512 *lo, __m512 *hi) {
    __m512 scale, offset;
    k4_scale(b, c, &scale, &offset);
    __m128i l, h;
    k4_nibbles(b + 48, c, &l, &h);
    const __m128i bit = _mm_set1_epi8((char)(1 << c));
    const __mmask16 ml = _mm_test_epi8_mask(_mm_loadu_si128((const __m128i *)(b + 16)), bit);
    const __mmask16 mh = _mm_test_epi8_mask(_mm_loadu_si128((const __m128i *)(b + 32)), bit);
    const __m512i sixteen = _mm512_set1_epi32(16);
    const __m512i li = _mm512_cvtepu8_epi32(l), hi_ = _mm512_cvtepu8_epi32(h);
    *lo = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_mask_or_epi32(li, ml, li, sixteen)), scale, offset);
    *hi = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_mask_or_epi32(hi_, mh, hi_, sixteen)), scale, offset);
}

// Q6_K chunk c = 4h + i: values l < 32 take nibble i / 2 of ql[64h + 32 (i % 2) + l] and bits
// 2i of qh[32h + l]; the first 16 use scale 8h + 2i, the next 16 scale 8h + 2i + 1.
static inline void dq32_q6_k(const uint8_t *b, int c, __m512 *lo, __m512 *hi) {
    const int h = c / 4, i = c % 4;
    const uint8_t *ql = b + 64 * h + 32 * (i % 2), *qh = b + 128 + 32 * h;
    const int8_t *scales = (const int8_t *)(b + 192) + 8 * h + 2 * i;
    const float d = q_half(b + 208);
    const __m128i mask = _mm_set1_epi8(0x0F), three = _mm_set1_epi8(3);
    __m128i vals[2];
    for (int part = 0; part < 2; part++) {
        __m128i low = _mm_loadu_si128((const __m128i *)(ql + 16 * part));
        if (i / 2) low = _mm_srli_epi16(low, 4);
        low = _mm_and_si128(low, mask);
        __m128i high = _mm_loadu_si128((const __m128i *)(qh + 16 * part));
        high = _mm_and_si128(_mm_srl_epi16(high, _mm_cvtsi32_si128(2 * i)), three);
        vals[part] = _mm_or_si128(low, _mm_slli_epi16(high, 4));
    }
    const __m512 bias = _mm512_set1_ps(-32.0f);
    *lo = _mm512_mul_ps(_mm512_add_ps(q_u8_to_ps(vals[0]), bias), _mm512_set1_ps(d * (float)scales[0]));
    *hi = _mm512_mul_ps(_mm512_add_ps(q_u8_to_ps(vals[1]), bias), _mm512_set1_ps(d * (float)scales[1]));
}


// ---- 32-value block formats: scales of up to 16 blocks converted at once ----
// The f16 scale (and min) of each block are gathered for 16 blocks, widened together, and kept
// in a small f32 array the dequantizing FMAs read as broadcast memory operands: per block this
// replaces two scalar conversions and broadcasts (most of the per-block overhead) with ~1 uop.

typedef struct {
    int stride;         // block bytes
    int has_min;        // Q4_1, Q5_1: f16 min after the scale
    float zero_point;   // Q4_0: 8, Q5_0: 16 (offset = -zero_point * d); else 0
} q_block_layout;

// scale[b], offset[b] for `count` (1..16) consecutive blocks starting at `blocks`.
static inline void q_prep16(const uint8_t *blocks, int count, q_block_layout layout, float *scale, float *offset) {
    const __mmask16 mask = (__mmask16)((1u << count) - 1u);
    const __m512i index = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                             _mm512_set1_epi32(layout.stride));
    const __m512i words = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), mask, index, blocks, 1);
    const __m512 d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(words));
    _mm512_storeu_ps(scale, d);
    if (layout.has_min)
        _mm512_storeu_ps(offset, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(words, 16))));
    else
        _mm512_storeu_ps(offset, _mm512_mul_ps(d, _mm512_set1_ps(-layout.zero_point)));
}

static inline void q32_q4(const uint8_t *qs, float scale, float offset, __m512 *lo, __m512 *hi) {
    __m128i l, h;
    q_nibbles(_mm_loadu_si128((const __m128i *)qs), &l, &h);
    const __m512 vd = _mm512_set1_ps(scale), vm = _mm512_set1_ps(offset);
    *lo = _mm512_fmadd_ps(q_u8_to_ps(l), vd, vm);
    *hi = _mm512_fmadd_ps(q_u8_to_ps(h), vd, vm);
}

static inline void q32_q5(const uint8_t *qh_at, const uint8_t *qs, float scale, float offset, __m512 *lo, __m512 *hi) {
    uint32_t qh;
    memcpy(&qh, qh_at, 4);
    __m512 l, h;
    q5_values(qs, qh, &l, &h);
    const __m512 vd = _mm512_set1_ps(scale), vm = _mm512_set1_ps(offset);
    *lo = _mm512_fmadd_ps(l, vd, vm);
    *hi = _mm512_fmadd_ps(h, vd, vm);
}

static inline void q32_q8(const uint8_t *qs, float scale, __m512 *lo, __m512 *hi) {
    const __m512 vd = _mm512_set1_ps(scale);
    *lo = _mm512_mul_ps(q_i8_to_ps(_mm_loadu_si128((const __m128i *)qs)), vd);
    *hi = _mm512_mul_ps(q_i8_to_ps(_mm_loadu_si128((const __m128i *)(qs + 16))), vd);
}

// Dequantize block b of a row given its prepared scale and offset.
#define Q32_Q8_0(blk, sc, off, lo, hi) q32_q8((blk) + 2, sc, lo, hi)
#define Q32_Q4_0(blk, sc, off, lo, hi) q32_q4((blk) + 2, sc, off, lo, hi)
#define Q32_Q4_1(blk, sc, off, lo, hi) q32_q4((blk) + 4, sc, off, lo, hi)
#define Q32_Q5_0(blk, sc, off, lo, hi) q32_q5((blk) + 2, (blk) + 6, sc, off, lo, hi)
#define Q32_Q5_1(blk, sc, off, lo, hi) q32_q5((blk) + 4, (blk) + 8, sc, off, lo, hi)

#define DEFINE_Q32TILE_512(NAME, BLOCK_BYTES, HAS_MIN, ZERO_POINT, DEQUANT)                       \
    static inline __attribute__((always_inline)) void NAME##_fixed(                              \
        const float *x, int64_t ldx, const uint8_t *w, int64_t row_bytes, int64_t K, const int nr, \
        const int nt, float out[4][4]) {                                                          \
        const q_block_layout layout = {BLOCK_BYTES, HAS_MIN, ZERO_POINT};                         \
        __m512 acc[4][4];                                                                         \
        for (int r = 0; r < nr; r++)                                                              \
            for (int t = 0; t < nt; t++) acc[r][t] = _mm512_setzero_ps();                         \
        float scale[4][16], offset[4][16];                                                        \
        const int64_t blocks = K / 32;                                                            \
        for (int64_t g = 0; g < blocks; g += 16) {                                                \
            const int count = (int)(blocks - g < 16 ? blocks - g : 16);                           \
            for (int r = 0; r < nr; r++) {                                                        \
                q_prep16(w + r * row_bytes + g * (BLOCK_BYTES), count, layout, scale[r], offset[r]); \
                for (int64_t byte = 0; byte < count * (BLOCK_BYTES); byte += 64)                  \
                    _mm_prefetch((const char *)(w + (r + LM_PANEL_ROWS) * row_bytes + g * (BLOCK_BYTES) + byte), _MM_HINT_T0); \
            }                                                                                     \
            for (int i = 0; i < count; i++) {                                                     \
                const int64_t k = (g + i) * 32;                                                   \
                __m512 lo[4], hi[4];                                                              \
                for (int r = 0; r < nr; r++)                                                      \
                    DEQUANT(w + r * row_bytes + (g + i) * (BLOCK_BYTES), scale[r][i], offset[r][i], &lo[r], &hi[r]); \
                for (int t = 0; t < nt; t++) {                                                    \
                    const __m512 xl = _mm512_loadu_ps(x + t * ldx + k);                           \
                    const __m512 xh = _mm512_loadu_ps(x + t * ldx + k + 16);                      \
                    for (int r = 0; r < nr; r++) {                                                \
                        acc[r][t] = _mm512_fmadd_ps(lo[r], xl, acc[r][t]);                        \
                        acc[r][t] = _mm512_fmadd_ps(hi[r], xh, acc[r][t]);                        \
                    }                                                                             \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
        for (int r = 0; r < nr; r++)                                                              \
            for (int t = 0; t < nt; t++) out[r][t] = _mm512_reduce_add_ps(acc[r][t]);             \
    }                                                                                             \
    static void NAME(const float *x, int64_t ldx, const uint8_t *w, int64_t row_bytes, int64_t K, \
                     int nr, int nt, float out[4][4]) {                                           \
        LM_TILE_SWITCH_4x4(NAME##_BODY, nr, nt)                                                   \
    }

// A decode tile over nr rows of quantized blocks and nt tokens.
#define DEFINE_QTILE_512(NAME, BLOCK_VALUES, BLOCK_BYTES, DEQUANT32)                              \
    static inline __attribute__((always_inline)) void NAME##_fixed(                              \
        const float *x, int64_t ldx, const uint8_t *w, int64_t row_bytes, int64_t K, const int nr, \
        const int nt, float out[4][4]) {                                                          \
        __m512 acc[4][4];                                                                         \
        for (int r = 0; r < nr; r++)                                                              \
            for (int t = 0; t < nt; t++) acc[r][t] = _mm512_setzero_ps();                         \
        for (int64_t b = 0; b < K / (BLOCK_VALUES); b++) {                                        \
            for (int r = 0; r < nr; r++)                                                          \
                _mm_prefetch((const char *)(w + (r + LM_PANEL_ROWS) * row_bytes + b * (BLOCK_BYTES)), \
                             _MM_HINT_T0);                                                        \
            for (int c = 0; c < (BLOCK_VALUES) / 32; c++) {                                       \
                const int64_t k = b * (BLOCK_VALUES) + 32 * c;                                    \
                __m512 lo[4], hi[4];                                                              \
                for (int r = 0; r < nr; r++) DEQUANT32(w + r * row_bytes + b * (BLOCK_BYTES), c, &lo[r], &hi[r]); \
                for (int t = 0; t < nt; t++) {                                                    \
                    const __m512 xl = _mm512_loadu_ps(x + t * ldx + k);                           \
                    const __m512 xh = _mm512_loadu_ps(x + t * ldx + k + 16);                      \
                    for (int r = 0; r < nr; r++) {                                                \
                        acc[r][t] = _mm512_fmadd_ps(lo[r], xl, acc[r][t]);                        \
                        acc[r][t] = _mm512_fmadd_ps(hi[r], xh, acc[r][t]);                        \
                    }                                                                             \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
        for (int r = 0; r < nr; r++)                                                              \
            for (int t = 0; t < nt; t++) out[r][t] = _mm512_reduce_add_ps(acc[r][t]);             \
    }                                                                                             \
    static void NAME(const float *x, int64_t ldx, const uint8_t *w, int64_t row_bytes, int64_t K, \
                     int nr, int nt, float out[4][4]) {                                           \
        LM_TILE_SWITCH_4x4(NAME##_BODY, nr, nt)                                                   \
    }

#define qtile_q8_0_BODY(R, T) qtile_q8_0_fixed(x, ldx, w, row_bytes, K, R, T, out)
#define qtile_q4_0_BODY(R, T) qtile_q4_0_fixed(x, ldx, w, row_bytes, K, R, T, out)
#define qtile_q4_1_BODY(R, T) qtile_q4_1_fixed(x, ldx, w, row_bytes, K, R, T, out)
#define qtile_q5_0_BODY(R, T) qtile_q5_0_fixed(x, ldx, w, row_bytes, K, R, T, out)
#define qtile_q5_1_BODY(R, T) qtile_q5_1_fixed(x, ldx, w, row_bytes, K, R, T, out)
#define qtile_q4_k_BODY(R, T) qtile_q4_k_fixed(x, ldx, w, row_bytes, K, R, T, out)
#define qtile_q5_k_BODY(R, T) qtile_q5_k_fixed(x, ldx, w, row_bytes, K, R, T, out)
#define qtile_q6_k_BODY(R, T) qtile_q6_k_fixed(x, ldx, w, row_bytes, K, R, T, out)

DEFINE_Q32TILE_512(qtile_q8_0, 34, 0, 0.0f, Q32_Q8_0)
DEFINE_Q32TILE_512(qtile_q4_0, 18, 0, 8.0f, Q32_Q4_0)
DEFINE_Q32TILE_512(qtile_q4_1, 20, 1, 0.0f, Q32_Q4_1)
DEFINE_Q32TILE_512(qtile_q5_0, 22, 0, 16.0f, Q32_Q5_0)
DEFINE_Q32TILE_512(qtile_q5_1, 24, 1, 0.0f, Q32_Q5_1)
DEFINE_QTILE_512(qtile_q4_k, 256, 144, dq32_q4_k)
DEFINE_QTILE_512(qtile_q5_k, 256, 176, dq32_q5_k)
DEFINE_QTILE_512(qtile_q6_k, 256, 210, dq32_q6_k)

// Batch sizes below this read the packed blocks directly; larger ones dequantize panels.
#define LM_QUANT_DIRECT_BELOW 8

static void linear_quantized_direct(lm_wtype type, const float *x, int64_t ldx, const void *w_,
                                    int64_t row_bytes, const float *bias, float *y, int64_t ldy,
                                    int64_t T, int64_t n0, int64_t n1, int64_t K) {
    const uint8_t *w = (const uint8_t *)w_;
    float out[4][4];
    for (int64_t n = n0; n < n1; n += LM_PANEL_ROWS) {
        const int nr = (int)(n1 - n < LM_PANEL_ROWS ? n1 - n : LM_PANEL_ROWS);
        const uint8_t *rows = w + n * row_bytes;
        for (int64_t t = 0; t < T; t += 4) {
            const int nt = (int)(T - t < 4 ? T - t : 4);
            const float *xt = x + t * ldx;
            switch (type) {
            case LM_W_Q8_0: qtile_q8_0(xt, ldx, rows, row_bytes, K, nr, nt, out); break;
            case LM_W_Q4_0: qtile_q4_0(xt, ldx, rows, row_bytes, K, nr, nt, out); break;
            case LM_W_Q4_1: qtile_q4_1(xt, ldx, rows, row_bytes, K, nr, nt, out); break;
            case LM_W_Q5_0: qtile_q5_0(xt, ldx, rows, row_bytes, K, nr, nt, out); break;
            case LM_W_Q5_1: qtile_q5_1(xt, ldx, rows, row_bytes, K, nr, nt, out); break;
            case LM_W_Q4_K: qtile_q4_k(xt, ldx, rows, row_bytes, K, nr, nt, out); break;
            case LM_W_Q5_K: qtile_q5_k(xt, ldx, rows, row_bytes, K, nr, nt, out); break;
            case LM_W_Q6_K: qtile_q6_k(xt, ldx, rows, row_bytes, K, nr, nt, out); break;
            default: return;
            }
            lm_store_tile(out, y + t * ldy + n, ldy, bias ? bias + n : NULL, nr, nt);
        }
    }
}
