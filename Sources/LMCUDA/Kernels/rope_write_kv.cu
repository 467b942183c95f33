// RoPE on a token's query and key heads, then its keys and values into the paged cache, in one
// launch instead of three (rope.cu twice, write_kv.cu): q [T, Hq, D] and k [T, Hkv, D] rotated in
// place (first `rotary` dims; style 0 neox pairs (i, i + rotary/2), 1 interleaved (2i, 2i + 1)),
// then cache[slot[t], :, :] = k[t], v[t]. cos/sin [T, rotary/2] f32. One block per token.
template <typename T> __device__ void rope_write_kv(T* q, T* k, const T* v, T* key_cache, T* value_cache, const float* cos_in,
                                                    const float* sin_in, const int* slots, int q_heads, int kv_heads, int dim,
                                                    int rotary, int style) {
    long t = blockIdx.x;
    int half = rotary / 2;
    const float* c = cos_in + t * half;
    const float* s = sin_in + t * half;
    for (int i = threadIdx.x; i < (q_heads + kv_heads) * half; i += blockDim.x) {
        int head = i / half, pair = i % half;
        T* base = head < q_heads ? q + (t * q_heads + head) * dim : k + (t * kv_heads + head - q_heads) * dim;
        int first = style == 0 ? pair : 2 * pair, second = style == 0 ? pair + half : 2 * pair + 1;
        // Loaded before the stores, as rope.cu does, so the compiler fuses the same products and
        // the fused and unfused paths round alike.
        float a = load_as_float(base, first), b = load_as_float(base, second);
        float cosine = c[pair], sine = s[pair];
        store_float(base, first, a * cosine - b * sine);
        store_float(base, second, b * cosine + a * sine);
    }
    __syncthreads();   // the rotated keys, written by other threads of this block, go to the cache
    long slot = slots[t], width = (long)kv_heads * dim;
    for (long i = threadIdx.x; i < width; i += blockDim.x) {
        key_cache[slot * width + i] = k[t * width + i];
        value_cache[slot * width + i] = v[t * width + i];
    }
}
#define ROPE_WRITE_KV_INSTANCE(NAME, TYPE) \
extern "C" __global__ void NAME(TYPE* q, TYPE* k, const TYPE* v, TYPE* kc, TYPE* vc, const float* c, const float* s, const int* slots, \
                                int q_heads, int kv_heads, int dim, int rotary, int style) { \
    rope_write_kv(q, k, v, kc, vc, c, s, slots, q_heads, kv_heads, dim, rotary, style); \
}
ROPE_WRITE_KV_INSTANCE(rope_write_kv_bf16, bf16)
ROPE_WRITE_KV_INSTANCE(rope_write_kv_f32, float)
