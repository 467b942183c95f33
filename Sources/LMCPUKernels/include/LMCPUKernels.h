// CPU kernels of the reference backend. Each instruction-set level (portable, AVX2+FMA+F16C,
// AVX-512) provides the same table of functions; the Swift backend picks one table at run time
// from what the CPU reports, and tests compare every table against the portable one.
//
// Shape legend: T tokens, H heads, D head dim, C channels, K reduction length, N output rows.
// All matrices are row-major with an explicit leading dimension (elements between rows).
#ifndef LM_CPU_KERNELS_H
#define LM_CPU_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    LM_ISA_PORTABLE = 0,
    LM_ISA_AVX2 = 1,    // AVX2 + FMA + F16C
    LM_ISA_AVX512 = 2,  // AVX-512 F/BW/VL/DQ
} lm_isa;

/// The best level this CPU and OS support.
lm_isa lm_cpu_detect_isa(void);

/// A spin-wait hint (x86 `pause`), for threads polling a flag another core will set.
static inline void lm_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

/// Weight storage types: plain floats and the GGUF block formats (ggml-common.h layouts).
typedef enum {
    LM_W_F32 = 0,
    LM_W_F16,
    LM_W_BF16,
    LM_W_Q8_0,   // 32 values: f16 scale, 32 x i8                          (34 bytes)
    LM_W_Q4_0,   // 32 values: f16 scale, 32 x 4-bit, offset 8             (18 bytes)
    LM_W_Q4_1,   // 32 values: f16 scale and min, 32 x 4-bit               (20 bytes)
    LM_W_Q5_0,   // 32 values: f16 scale, 32 x 5-bit, offset 16            (22 bytes)
    LM_W_Q5_1,   // 32 values: f16 scale and min, 32 x 5-bit               (24 bytes)
    LM_W_Q4_K,   // 256 values: 8 sub-blocks of 32 with 6-bit scales/mins  (144 bytes)
    LM_W_Q5_K,   // 256 values: as Q4_K with a fifth bit                   (176 bytes)
    LM_W_Q6_K,   // 256 values: 16 sub-blocks of 16 with i8 scales         (210 bytes)
    LM_W_COUNT
} lm_wtype;

/// Values per block and bytes per block of a weight type (1 and the scalar size for floats).
int64_t lm_wtype_block_values(lm_wtype type);
int64_t lm_wtype_block_bytes(lm_wtype type);

/// y[t, n] = sum_k x[t, k] * w[n, k] + bias[n]   for t in [0, T), n in [n0, n1).
/// x: [T, K] f32 (row stride ldx elements), w: [N, K] of weight type `type` with rows
/// `w_row_bytes` apart (K a whole number of blocks), bias: [N] f32 or NULL,
/// y: [T, N] f32 (row stride ldy elements).
/// scratch: at least lm_linear_scratch_floats(K) floats owned by the calling thread.
typedef void (*lm_linear_fn)(lm_wtype type, const float *x, int64_t ldx, const void *w,
                             int64_t w_row_bytes, const float *bias, float *y, int64_t ldy,
                             int64_t T, int64_t n0, int64_t n1, int64_t K, float *scratch);

/// Floats of per-thread scratch a linear kernel may use for a reduction length K.
int64_t lm_linear_scratch_floats(int64_t K);

/// Attention of one query position for the G query heads that share one KV head, over keys
/// [k0, k1) of a paged cache (a split of the keys when k0 > 0 or k1 < the context).
/// q: [G, D] (consecutive heads); caches: [blocks, block_size, Hkv, D] f32 viewed through
/// block_table: the key at position j lives at slot block_table[j / block_size] * block_size +
/// j % block_size, element offset slot * slot_stride + head_offset.
/// scores: scratch of G * (k1 - k0) floats.
/// Outputs per head g: out[g, :] = Σ_j exp(s_j - max_g) v_j, max_out[g] = max_g,
/// sum_out[g] = Σ_j exp(s_j - max_g); with normalize != 0, out is divided by sum_out already.
typedef void (*lm_attention_fn)(const float *q, int64_t G, const float *k_cache, const float *v_cache,
                                const int32_t *block_table, int64_t block_size, int64_t slot_stride,
                                int64_t head_offset, int64_t k0, int64_t k1, int64_t D, float scale,
                                float *scores, float *out, float *max_out, float *sum_out, int normalize);

typedef struct {
    lm_isa isa;
    lm_linear_fn linear;
    /// Dequantizes (or widens) K values of weight type `type`, whole blocks, to f32.
    void (*dequantize_row)(lm_wtype type, const void *src, float *out, int64_t K);
    lm_attention_fn attention;
    /// out[c] = x[c] / sqrt(mean(x^2) + eps) * w[c]; x, w, out: [C]. out may alias x.
    void (*rms_norm_row)(const float *x, const float *w, float *out, int64_t C, float eps);
    /// out[i] = silu(gate[i]) * up[i]; out may alias either input.
    void (*silu_mul)(const float *gate, const float *up, float *out, int64_t n);
    /// out[i] = gelu_tanh(gate[i]) * up[i] (PyTorch's approximate="tanh"); out may alias.
    void (*gelu_tanh_mul)(const float *gate, const float *up, float *out, int64_t n);
    /// out[i] = x[i] * factor; out may alias x.
    void (*scale)(const float *x, float factor, float *out, int64_t n);
    /// out[i] = a[i] + b[i]; out may alias either input.
    void (*add)(const float *a, const float *b, float *out, int64_t n);
    /// y[i] += a * x[i]
    void (*axpy)(float a, const float *x, float *y, int64_t n);
    /// In-place rotary embedding of one token: x [H, D], cos/sin [rot/2] for this position.
    /// neox != 0: pairs (i, i + rot/2) ("rotate_half"); otherwise adjacent pairs (2i, 2i + 1).
    void (*rope_row)(float *x, int64_t H, int64_t D, int64_t rot, const float *cos,
                     const float *sin, int neox);
    /// In-place softmax over n values.
    void (*softmax)(float *x, int64_t n);
    /// Sum of n values (also the memory-read bandwidth probe).
    float (*sum)(const float *x, int64_t n);
    /// Runs independent multiply-add chains in registers for `iterations` rounds and returns
    /// the floating-point operations done: the compute-ceiling probe of benchmarks.
    double (*fma_probe)(int64_t iterations, float seed);
} lm_kernels;

/// The kernel table of one level; levels above what the CPU supports must not be used.
lm_kernels lm_kernels_for_isa(lm_isa isa);

/// Scalar conversions shared with Swift (round-to-nearest-even for narrowing).
float lm_bf16_to_f32(uint16_t h);
uint16_t lm_f32_to_bf16(float f);
float lm_f16_to_f32(uint16_t h);
uint16_t lm_f32_to_f16(float f);

#ifdef __cplusplus
}
#endif
#endif
