// AVX2 + FMA + F16C kernels: generic bodies vectorized for 256-bit registers plus hand-tiled
// linears (4 weight rows x 2 tokens of 8-lane accumulators, within the 16 YMM registers).
#if defined(__x86_64__)
#include <immintrin.h>
#include "kernels_internal.h"

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)

#include "kernels_generic.h"
#include "linear_tiled.h"

static inline __m256 load8_f32(const float *p) { return _mm256_loadu_ps(p); }
static inline __m256 load8_bf16(const uint16_t *p) {
    const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(h, 16));
}
static inline __m256 load8_f16(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }

static inline float scalar_f32(const float *p) { return *p; }
static inline float scalar_bf16(const uint16_t *p) { return g_bf16_to_f32(*p); }
static inline float scalar_f16(const uint16_t *p) { return g_f16_to_f32(*p); }

static inline float hsum8(__m256 v) {
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    __m128 shuf = _mm_movehdup_ps(lo);
    lo = _mm_add_ps(lo, shuf);
    shuf = _mm_movehl_ps(shuf, lo);
    return _mm_cvtss_f32(_mm_add_ss(lo, shuf));
}

#define DEFINE_TILE_256(NAME, WTYPE, LOAD, SCALAR, PREFETCH)                                               \
    static inline __attribute__((always_inline)) void NAME##_fixed(                             \
        const float *x, int64_t ldx, const WTYPE *w, int64_t ldw, int64_t K, const int nr,       \
        const int nt, float out[4][4]) {                                                         \
        __m256 acc[4][2];                                                                        \
        for (int r = 0; r < nr; r++)                                                             \
            for (int t = 0; t < nt; t++) acc[r][t] = _mm256_setzero_ps();                        \
        int64_t k = 0;                                                                           \
        for (; k + 8 <= K; k += 8) {                                                             \
            __m256 wv[4];                                                                        \
            for (int r = 0; r < nr; r++) {                                                       \
                wv[r] = LOAD(w + r * ldw + k);                                                   \
                if (PREFETCH) _mm_prefetch((const char *)(w + (r + LM_PANEL_ROWS) * ldw + k), _MM_HINT_T0); \
            }                                                                                    \
            for (int t = 0; t < nt; t++) {                                                       \
                const __m256 xv = _mm256_loadu_ps(x + t * ldx + k);                              \
                for (int r = 0; r < nr; r++) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);  \
            }                                                                                    \
        }                                                                                        \
        for (int r = 0; r < nr; r++)                                                             \
            for (int t = 0; t < nt; t++) {                                                       \
                float s = hsum8(acc[r][t]);                                                      \
                for (int64_t j = k; j < K; j++) s += SCALAR(w + r * ldw + j) * x[t * ldx + j];   \
                out[r][t] = s;                                                                   \
            }                                                                                    \
    }                                                                                            \
    static void NAME(const float *x, int64_t ldx, const WTYPE *w, int64_t ldw, int64_t K, int nr, \
                     int nt, float out[4][4]) {                                                  \
        LM_TILE_SWITCH_4x2(NAME##_BODY, nr, nt)                                                  \
    }

#define tile_f32_BODY(R, T) tile_f32_fixed(x, ldx, w, ldw, K, R, T, out)
#define tile_bf16_BODY(R, T) tile_bf16_fixed(x, ldx, w, ldw, K, R, T, out)
#define tile_f16_BODY(R, T) tile_f16_fixed(x, ldx, w, ldw, K, R, T, out)
#define tile_panel_BODY(R, T) tile_panel_fixed(x, ldx, w, ldw, K, R, T, out)

// Tiles over weights in memory prefetch the next panel; the tile over a widened panel in
// scratch (already in cache) does not.
DEFINE_TILE_256(tile_f32, float, load8_f32, scalar_f32, 1)
DEFINE_TILE_256(tile_bf16, uint16_t, load8_bf16, scalar_bf16, 1)
DEFINE_TILE_256(tile_f16, uint16_t, load8_f16, scalar_f16, 1)
DEFINE_TILE_256(tile_panel, float, load8_f32, scalar_f32, 0)

static inline void widen_bf16(const uint16_t *w, float *out, int64_t K) { g_bf16_to_f32_row(w, out, K); }
static inline void widen_f16(const uint16_t *w, float *out, int64_t K) { g_f16_to_f32_row(w, out, K); }

LM_DEFINE_TILED_LINEAR(linear_f32, float, tile_f32, tile_f32, lm_widen_none, 2, INT64_MAX)
LM_DEFINE_TILED_LINEAR(linear_bf16, uint16_t, tile_bf16, tile_panel, widen_bf16, 2, 8)
LM_DEFINE_TILED_LINEAR(linear_f16, uint16_t, tile_f16, tile_panel, widen_f16, 2, 8)

LM_DEFINE_QUANTIZED_LINEAR(linear_quantized, tile_panel, 2)
LM_DEFINE_LINEAR_DISPATCH(linear, linear_f32, linear_bf16, linear_f16, linear_quantized)

lm_kernels lm_kernels_avx2(void) {
    lm_kernels k = g_table(LM_ISA_AVX2);
    k.linear = linear;
    return k;
}

#pragma clang attribute pop
#endif
