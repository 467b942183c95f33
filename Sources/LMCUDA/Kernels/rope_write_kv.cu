// RoPE on a token's query and key heads, then its keys and values into the paged cache, in one
// launch instead of three (rope.cu twice, write_kv.cu). The heads are read from rows of any stride,
// so a packed q/k/v GEMM output [T, (Hq + 2 Hkv) D] feeds it without being split first:
//   q_in, k_in, v_in: token t's heads at t · q_stride / t · kv_stride, each head D contiguous;
//   biases (or null): [Hq D], [Hkv D], [Hkv D], added (and rounded to T) before the rotation;
//   q_out [T, Hq, D] gets the rotated queries, k_out [T, Hkv, D] (or null) the rotated keys (either
//   may be its input: in place), cache[slot[t], h, :] the keys and values. First `rotary` dims
//   rotate: style 0 neox pairs (i, i + rotary/2), 1 interleaved (2i, 2i + 1). cos/sin [T, rotary/2] f32.
//   grid (T, Hq + Hkv): one block per head of a token, query heads first; a key head's block
//   stores the pairs it rotated straight into the cache, with the head's value.

// Off until measured on a GPU (PEREGRINE_CUDA_KERNEL_DEFINES="ROPE_PRELOAD_VALUES=1" turns it on).
#ifndef ROPE_PRELOAD_VALUES
#define ROPE_PRELOAD_VALUES 0
#endif


template <typename T> __device__ void rope_write_kv(
    const T* q_in, const T* k_in, const T* v_in, long q_stride, long kv_stride, const T* q_bias, const T* k_bias, const T* v_bias,
    T* q_out, T* k_out, T* key_cache, T* value_cache, const float* cos_in, const float* sin_in, const int* slots,
    int q_heads, int kv_heads, int dim, int rotary, int style) {
    begin_after_previous_kernel();
    long t = blockIdx.x;
    int head = blockIdx.y, half = rotary / 2;
    bool is_key = head >= q_heads;
    int kv_head = head - q_heads;
    long slot = slots[t];
    const T* source = is_key ? k_in + t * kv_stride + (long)kv_head * dim : q_in + t * q_stride + (long)head * dim;
    const T* bias = is_key ? (k_bias ? k_bias + kv_head * dim : nullptr) : (q_bias ? q_bias + head * dim : nullptr);
    T* rotated = is_key ? (k_out ? k_out + (t * kv_heads + kv_head) * dim : nullptr) : q_out + (t * q_heads + head) * dim;
    T* cached = key_cache + (slot * kv_heads + kv_head) * dim;
    const float* c = cos_in + t * half;
    const float* s = sin_in + t * half;
#if ROPE_PRELOAD_VALUES
    // A key head's values (at most 8 per thread: D <= 256, 32 threads or more) are loaded before
    // any store, so the value copy costs no round trip of its own (stores may alias the loads for
    // all the compiler knows, so it would not hoist them).
    float values[8];
    const T* value = v_in + t * kv_stride + (long)kv_head * dim;
    const T* value_bias = v_bias ? v_bias + kv_head * dim : nullptr;
    if (is_key) {
        #pragma unroll
        for (int i = 0; i < 8; i++) {
            int d = threadIdx.x + i * blockDim.x;
            values[i] = d < dim ? load_biased(value, value_bias, d) : 0.f;
        }
    }
#endif
    for (int pair = threadIdx.x; pair < half; pair += blockDim.x) {
        int first = style == 0 ? pair : 2 * pair, second = style == 0 ? pair + half : 2 * pair + 1;
        // The same expressions as rope.cu, so the compiler fuses the same products and the fused
        // and unfused paths round alike.
        float a = load_biased(source, bias, first), b = load_biased(source, bias, second);
        float cosine = c[pair], sine = s[pair];
        float x = a * cosine - b * sine, y = b * cosine + a * sine;
        if (rotated) { store_float(rotated, first, x); store_float(rotated, second, y); }
        if (is_key) { store_float(cached, first, x); store_float(cached, second, y); }
    }
    // The dims past the rotation: copied unless the output is the input.
    for (int d = rotary + threadIdx.x; d < dim; d += blockDim.x) {
        float x = load_biased(source, bias, d);
        if (rotated && (const T*)rotated != source) store_float(rotated, d, x);
        if (is_key) store_float(cached, d, x);
    }
    if (!is_key) return;
    T* value_cached = value_cache + (slot * kv_heads + kv_head) * dim;
#if ROPE_PRELOAD_VALUES
    #pragma unroll
    for (int i = 0; i < 8; i++) {
        int d = threadIdx.x + i * blockDim.x;
        if (d < dim) store_float(value_cached, d, values[i]);
    }
#else
    const T* value = v_in + t * kv_stride + (long)kv_head * dim;
    const T* value_bias = v_bias ? v_bias + kv_head * dim : nullptr;
    for (int d = threadIdx.x; d < dim; d += blockDim.x) store_float(value_cached, d, load_biased(value, value_bias, d));
#endif
}
#define ROPE_WRITE_KV_INSTANCE(NAME, TYPE) \
extern "C" __global__ void NAME(const TYPE* q_in, const TYPE* k_in, const TYPE* v_in, long q_stride, long kv_stride, \
                                const TYPE* q_bias, const TYPE* k_bias, const TYPE* v_bias, TYPE* q_out, TYPE* k_out, TYPE* kc, TYPE* vc, \
                                const float* c, const float* s, const int* slots, int q_heads, int kv_heads, int dim, int rotary, int style) { \
    rope_write_kv(q_in, k_in, v_in, q_stride, kv_stride, q_bias, k_bias, v_bias, q_out, k_out, kc, vc, c, s, slots, \
                  q_heads, kv_heads, dim, rotary, style); \
}
ROPE_WRITE_KV_INSTANCE(rope_write_kv_bf16, bf16)
ROPE_WRITE_KV_INSTANCE(rope_write_kv_f32, float)
