// AVX-512 kernels: generic bodies vectorized for 512-bit registers plus hand-tiled linears
// (4 weight rows x 4 tokens of 16-lane accumulators; bf16/f16 widened in registers).
#if defined(__x86_64__)
#include <immintrin.h>
#include "kernels_internal.h"

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c"))), apply_to = function)

#include "kernels_generic.h"
#include "linear_tiled.h"

static inline __m512 load16_f32(const float *p) { return _mm512_loadu_ps(p); }
static inline __m512 load16_f32_masked(const float *p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
static inline __m512 widen16_bf16(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
static inline __m512 load16_bf16(const uint16_t *p) { return widen16_bf16(_mm256_loadu_si256((const __m256i *)p)); }
static inline __m512 load16_bf16_masked(const uint16_t *p, __mmask16 m) { return widen16_bf16(_mm256_maskz_loadu_epi16(m, p)); }
static inline __m512 load16_f16(const uint16_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }
static inline __m512 load16_f16_masked(const uint16_t *p, __mmask16 m) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p)); }

#define DEFINE_TILE_512(NAME, WTYPE, LOAD, LOAD_MASKED, PREFETCH)                                         \
    static inline __attribute__((always_inline)) void NAME##_fixed(                             \
        const float *x, int64_t ldx, const WTYPE *w, int64_t ldw, int64_t K, const int nr,       \
        const int nt, float out[4][4]) {                                                         \
        __m512 acc[4][4];                                                                        \
        for (int r = 0; r < nr; r++)                                                             \
            for (int t = 0; t < nt; t++) acc[r][t] = _mm512_setzero_ps();                        \
        int64_t k = 0;                                                                           \
        for (; k + 16 <= K; k += 16) {                                                           \
            __m512 wv[4];                                                                        \
            for (int r = 0; r < nr; r++) {                                                       \
                wv[r] = LOAD(w + r * ldw + k);                                                   \
                if (PREFETCH) _mm_prefetch((const char *)(w + (r + LM_PANEL_ROWS) * ldw + k), _MM_HINT_T0); \
            }                                                                                    \
            for (int t = 0; t < nt; t++) {                                                       \
                const __m512 xv = _mm512_loadu_ps(x + t * ldx + k);                              \
                for (int r = 0; r < nr; r++) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);  \
            }                                                                                    \
        }                                                                                        \
        if (k < K) {                                                                             \
            const __mmask16 m = (__mmask16)((1u << (K - k)) - 1u);                               \
            __m512 wv[4];                                                                        \
            for (int r = 0; r < nr; r++) wv[r] = LOAD_MASKED(w + r * ldw + k, m);                \
            for (int t = 0; t < nt; t++) {                                                       \
                const __m512 xv = _mm512_maskz_loadu_ps(m, x + t * ldx + k);                     \
                for (int r = 0; r < nr; r++) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);  \
            }                                                                                    \
        }                                                                                        \
        for (int r = 0; r < nr; r++)                                                             \
            for (int t = 0; t < nt; t++) out[r][t] = _mm512_reduce_add_ps(acc[r][t]);            \
    }                                                                                            \
    static void NAME(const float *x, int64_t ldx, const WTYPE *w, int64_t ldw, int64_t K, int nr, \
                     int nt, float out[4][4]) {                                                  \
        LM_TILE_SWITCH_4x4(NAME##_BODY, nr, nt)                                                  \
    }

#define tile_f32_BODY(R, T) tile_f32_fixed(x, ldx, w, ldw, K, R, T, out)
#define tile_bf16_BODY(R, T) tile_bf16_fixed(x, ldx, w, ldw, K, R, T, out)
#define tile_f16_BODY(R, T) tile_f16_fixed(x, ldx, w, ldw, K, R, T, out)
#define tile_panel_BODY(R, T) tile_panel_fixed(x, ldx, w, ldw, K, R, T, out)

// Tiles over weights in memory prefetch the next panel; the tile over a widened panel in
// scratch (already in cache) does not.
DEFINE_TILE_512(tile_f32, float, load16_f32, load16_f32_masked, 1)
DEFINE_TILE_512(tile_bf16, uint16_t, load16_bf16, load16_bf16_masked, 1)
DEFINE_TILE_512(tile_f16, uint16_t, load16_f16, load16_f16_masked, 1)
DEFINE_TILE_512(tile_panel, float, load16_f32, load16_f32_masked, 0)

static inline void widen_bf16(const uint16_t *w, float *out, int64_t K) {
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) _mm512_storeu_ps(out + k, load16_bf16(w + k));
    if (k < K) {
        const __mmask16 m = (__mmask16)((1u << (K - k)) - 1u);
        _mm512_mask_storeu_ps(out + k, m, load16_bf16_masked(w + k, m));
    }
}
static inline void widen_f16(const uint16_t *w, float *out, int64_t K) {
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) _mm512_storeu_ps(out + k, load16_f16(w + k));
    if (k < K) {
        const __mmask16 m = (__mmask16)((1u << (K - k)) - 1u);
        _mm512_mask_storeu_ps(out + k, m, load16_f16_masked(w + k, m));
    }
}

// f32 weights never need widening: the threshold is unreachable so the direct path always runs.
LM_DEFINE_TILED_LINEAR(linear_f32, float, tile_f32, tile_f32, lm_widen_none, 4, INT64_MAX)
LM_DEFINE_TILED_LINEAR(linear_bf16, uint16_t, tile_bf16, tile_panel, widen_bf16, 4, 8)
LM_DEFINE_TILED_LINEAR(linear_f16, uint16_t, tile_f16, tile_panel, widen_f16, 4, 8)

LM_DEFINE_QUANTIZED_LINEAR(linear_quantized_panels, tile_panel, 4)

#include "quant_tiles_avx512.h"

static void linear_quantized(lm_wtype type, const float *x, int64_t ldx, const void *w, int64_t row_bytes,
                             const float *bias, float *y, int64_t ldy, int64_t T, int64_t n0, int64_t n1,
                             int64_t K, float *scratch) {
    if (T < LM_QUANT_DIRECT_BELOW)
        linear_quantized_direct(type, x, ldx, w, row_bytes, bias, y, ldy, T, n0, n1, K);
    else
        linear_quantized_panels(type, x, ldx, w, row_bytes, bias, y, ldy, T, n0, n1, K, scratch);
}

LM_DEFINE_LINEAR_DISPATCH(linear, linear_f32, linear_bf16, linear_f16, linear_quantized)

lm_kernels lm_kernels_avx512(void) {
    lm_kernels k = g_table(LM_ISA_AVX512);
    k.linear = linear;
    return k;
}

#pragma clang attribute pop
#endif
