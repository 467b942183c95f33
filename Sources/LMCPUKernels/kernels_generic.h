// Plain-C kernel bodies shared by every instruction-set level. Each kernels_<isa>.c includes this
// file inside a `#pragma clang attribute` region that sets its target, so the compiler
// vectorizes the same source for that level. Reductions opt into reassociation locally.
// Not a public header: included only by kernels_*.c.
#include <math.h>
#include <string.h>

#define LM_REASSOCIATE _Pragma("clang fp reassociate(on)")

static inline float g_bf16_to_f32(uint16_t h) {
    const uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

// binary16 -> f32 for normal numbers and zero; subnormals, infinities and NaNs take the slow path.
static inline float g_f16_to_f32(uint16_t h) {
    const uint32_t exponent = h & 0x7c00;
    if (exponent == 0 || exponent == 0x7c00) return lm_f16_to_f32(h);
    const uint32_t u = ((uint32_t)(h & 0x8000) << 16) | (((uint32_t)(h & 0x7fff) << 13) + 0x38000000u);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

// exp(x) with about 2 ulp error over the float range (Cephes' expf polynomial); branch free so
// that loops calling it vectorize. Results below exp(-87.3) flush towards 2^-126.
static inline float g_exp(float x) {
    x = fminf(fmaxf(x, -87.3f), 88.3f);
    const float fx = floorf(x * 1.44269504088896341f + 0.5f);
    x = x - fx * 0.693359375f;
    x = x - fx * -2.12194440e-4f;
    const float z = x * x;
    float y = 1.9875691500e-4f;
    y = y * x + 1.3981999507e-3f;
    y = y * x + 8.3334519073e-3f;
    y = y * x + 4.1665795894e-2f;
    y = y * x + 1.6666665459e-1f;
    y = y * x + 5.0000001201e-1f;
    y = y * z + x + 1.0f;
    const int32_t bits = ((int32_t)fx + 127) << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    return y * scale;
}

static float g_dot(const float *restrict a, const float *restrict b, int64_t n) {
    LM_REASSOCIATE
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static float g_sum(const float *x, int64_t n) {
    LM_REASSOCIATE
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += x[i];
    return s;
}

// Eight independent chains of 16-lane vectors (clang vector extensions, lowered to the level's
// register width): enough in flight to cover FMA latency on two ports.
typedef float g_v16 __attribute__((vector_size(64)));

static double g_fma_probe(int64_t iterations, float seed) {
    g_v16 acc[8];
    for (int c = 0; c < 8; c++) acc[c] = (g_v16){0} + seed * (float)(c + 1);
    const g_v16 a = (g_v16){0} + 0.999999f, b = (g_v16){0} + 1e-7f;
    for (int64_t i = 0; i < iterations; i++)
        for (int c = 0; c < 8; c++) acc[c] = acc[c] * a + b;
    float s = 0.0f;
    for (int c = 0; c < 8; c++)
        for (int l = 0; l < 16; l++) s += acc[c][l];
    volatile float sink = s;
    (void)sink;
    return 2.0 * 8.0 * 16.0 * (double)iterations;
}

static void g_axpy(float a, const float *restrict x, float *restrict y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

static void g_add(const float *a, const float *b, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

static void g_silu_mul(const float *gate, const float *up, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const float g = gate[i];
        out[i] = g / (1.0f + g_exp(-g)) * up[i];
    }
}

// gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), tanh(y) = 1 - 2 / (exp(2y) + 1).
static void g_gelu_tanh_mul(const float *gate, const float *up, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const float g = gate[i];
        const float y = 0.7978845608028654f * (g + 0.044715f * g * g * g);
        const float t = 1.0f - 2.0f / (g_exp(2.0f * y) + 1.0f);
        out[i] = 0.5f * g * (1.0f + t) * up[i];
    }
}

static void g_scale(const float *x, float factor, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = x[i] * factor;
}

static void g_rms_norm_row(const float *x, const float *restrict w, float *out, int64_t C, float eps) {
    LM_REASSOCIATE
    float sum = 0.0f;
    for (int64_t i = 0; i < C; i++) sum += x[i] * x[i];
    const float inv = 1.0f / sqrtf(sum / (float)C + eps);
    for (int64_t i = 0; i < C; i++) out[i] = x[i] * inv * w[i];
}

static void g_softmax(float *x, int64_t n) {
    LM_REASSOCIATE
    float m = -INFINITY;
    for (int64_t i = 0; i < n; i++) m = fmaxf(m, x[i]);
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        x[i] = g_exp(x[i] - m);
        sum += x[i];
    }
    const float inv = 1.0f / sum;
    for (int64_t i = 0; i < n; i++) x[i] *= inv;
}

static void g_bf16_to_f32_row(const uint16_t *restrict x, float *restrict out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = g_bf16_to_f32(x[i]);
}

static void g_f16_to_f32_row(const uint16_t *restrict x, float *restrict out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = g_f16_to_f32(x[i]);
}

static void g_rope_row(float *x, int64_t H, int64_t D, int64_t rot, const float *cos,
                       const float *sin, int neox) {
    const int64_t half = rot / 2;
    for (int64_t h = 0; h < H; h++) {
        float *v = x + h * D;
        if (neox) {
            for (int64_t i = 0; i < half; i++) {
                const float a = v[i], b = v[i + half];
                v[i] = a * cos[i] - b * sin[i];
                v[i + half] = b * cos[i] + a * sin[i];
            }
        } else {
            for (int64_t i = 0; i < half; i++) {
                const float a = v[2 * i], b = v[2 * i + 1];
                v[2 * i] = a * cos[i] - b * sin[i];
                v[2 * i + 1] = b * cos[i] + a * sin[i];
            }
        }
    }
}

static void g_attention(const float *q, int64_t G, const float *k_cache, const float *v_cache,
                        const int32_t *block_table, int64_t block_size, int64_t slot_stride,
                        int64_t head_offset, int64_t k0, int64_t k1, int64_t D, float scale,
                        float *scores, float *out, float *max_out, float *sum_out, int normalize) {
    const int64_t n = k1 - k0;
    // Pass 1: scores of every head against each key (the key row is read once for G heads),
    // walking the block table one block at a time.
    for (int64_t pos = k0; pos < k1;) {
        const int64_t in_block = pos % block_size;
        const int64_t count = (block_size - in_block < k1 - pos) ? block_size - in_block : k1 - pos;
        const int64_t first_slot = (int64_t)block_table[pos / block_size] * block_size + in_block;
        for (int64_t j = 0; j < count; j++) {
            const float *k = k_cache + (first_slot + j) * slot_stride + head_offset;
            for (int64_t g = 0; g < G; g++) scores[g * n + pos - k0 + j] = g_dot(q + g * D, k, D) * scale;
        }
        pos += count;
    }
    // Pass 2: exponentials against each head's maximum.
    for (int64_t g = 0; g < G; g++) {
        LM_REASSOCIATE
        float *s = scores + g * n;
        float m = -INFINITY;
        for (int64_t j = 0; j < n; j++) m = fmaxf(m, s[j]);
        float sum = 0.0f;
        for (int64_t j = 0; j < n; j++) {
            s[j] = g_exp(s[j] - m);
            sum += s[j];
        }
        max_out[g] = m;
        sum_out[g] = sum;
    }
    // Pass 3: weighted sum of values (each value row read once for G heads).
    for (int64_t i = 0; i < G * D; i++) out[i] = 0.0f;
    for (int64_t pos = k0; pos < k1;) {
        const int64_t in_block = pos % block_size;
        const int64_t count = (block_size - in_block < k1 - pos) ? block_size - in_block : k1 - pos;
        const int64_t first_slot = (int64_t)block_table[pos / block_size] * block_size + in_block;
        for (int64_t j = 0; j < count; j++) {
            const float *v = v_cache + (first_slot + j) * slot_stride + head_offset;
            for (int64_t g = 0; g < G; g++) g_axpy(scores[g * n + pos - k0 + j], v, out + g * D, D);
        }
        pos += count;
    }
    if (normalize) {
        for (int64_t g = 0; g < G; g++) {
            const float inv = 1.0f / sum_out[g];
            for (int64_t d = 0; d < D; d++) out[g * D + d] *= inv;
        }
    }
}

#include "dequantize_generic.h"

// Portable linear: dequantize (or widen) one weight row at a time into scratch, then one dot
// per token.
static void g_linear(lm_wtype type, const float *x, int64_t ldx, const void *w, int64_t w_row_bytes,
                     const float *bias, float *y, int64_t ldy, int64_t T, int64_t n0, int64_t n1,
                     int64_t K, float *scratch) {
    for (int64_t n = n0; n < n1; n++) {
        const uint8_t *packed = (const uint8_t *)w + n * w_row_bytes;
        const float *row = (const float *)packed;
        if (type != LM_W_F32) {
            g_dequantize_row(type, packed, scratch, K);
            row = scratch;
        }
        const float b = bias ? bias[n] : 0.0f;
        for (int64_t t = 0; t < T; t++) y[t * ldy + n] = g_dot(x + t * ldx, row, K) + b;
    }
}

// The table entries every level shares; a level overrides what it hand-writes.
static lm_kernels g_table(lm_isa isa) {
    lm_kernels k;
    k.isa = isa;
    k.linear = g_linear;
    k.dequantize_row = g_dequantize_row;
    k.attention = g_attention;
    k.rms_norm_row = g_rms_norm_row;
    k.silu_mul = g_silu_mul;
    k.gelu_tanh_mul = g_gelu_tanh_mul;
    k.scale = g_scale;
    k.add = g_add;
    k.axpy = g_axpy;
    k.rope_row = g_rope_row;
    k.softmax = g_softmax;
    k.sum = g_sum;
    k.fma_probe = g_fma_probe;
    return k;
}
