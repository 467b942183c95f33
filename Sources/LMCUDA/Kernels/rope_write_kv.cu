// RoPE on a token's query and key heads, then its keys and values into the paged cache, in one
// launch instead of three (rope.cu twice, write_kv.cu): q [T, Hq, D] and k [T, Hkv, D] rotated in
// place (first `rotary` dims; style 0 neox pairs (i, i + rotary/2), 1 interleaved (2i, 2i + 1)),
// and cache[slot[t], h, :] = k[t, h], v[t, h]. cos/sin [T, rotary/2] f32.
//   grid (T, Hq + Hkv): one block per head of a token, query heads first; a key head's block
//   stores the pairs it rotated straight into the cache, with the head's value.
template <typename T> __device__ void rope_write_kv(T* q, T* k, const T* v, T* key_cache, T* value_cache, const float* cos_in,
                                                    const float* sin_in, const int* slots, int q_heads, int kv_heads, int dim,
                                                    int rotary, int style) {
    begin_after_previous_kernel();
    long t = blockIdx.x;
    int head = blockIdx.y, half = rotary / 2;
    bool is_key = head >= q_heads;
    long kv_index = t * kv_heads + (head - q_heads), slot = slots[t];
    T* base = is_key ? k + kv_index * dim : q + (t * q_heads + head) * dim;
    T* cached = key_cache + (slot * kv_heads + (head - q_heads)) * dim;
    const float* c = cos_in + t * half;
    const float* s = sin_in + t * half;
    for (int pair = threadIdx.x; pair < half; pair += blockDim.x) {
        int first = style == 0 ? pair : 2 * pair, second = style == 0 ? pair + half : 2 * pair + 1;
        // The same expressions as rope.cu, so the compiler fuses the same products and the fused
        // and unfused paths round alike.
        float a = load_as_float(base, first), b = load_as_float(base, second);
        float cosine = c[pair], sine = s[pair];
        float x = a * cosine - b * sine, y = b * cosine + a * sine;
        store_float(base, first, x);
        store_float(base, second, y);
        if (is_key) { store_float(cached, first, x); store_float(cached, second, y); }
    }
    if (!is_key) return;
    for (int d = rotary + threadIdx.x; d < dim; d += blockDim.x) cached[d] = base[d];
    const T* value = v + kv_index * dim;
    T* value_cached = value_cache + (slot * kv_heads + (head - q_heads)) * dim;
    for (int d = threadIdx.x; d < dim; d += blockDim.x) value_cached[d] = value[d];
}
#define ROPE_WRITE_KV_INSTANCE(NAME, TYPE) \
extern "C" __global__ void NAME(TYPE* q, TYPE* k, const TYPE* v, TYPE* kc, TYPE* vc, const float* c, const float* s, const int* slots, \
                                int q_heads, int kv_heads, int dim, int rotary, int style) { \
    rope_write_kv(q, k, v, kc, vc, c, s, slots, q_heads, kv_heads, dim, rotary, style); \
}
ROPE_WRITE_KV_INSTANCE(rope_write_kv_bf16, bf16)
ROPE_WRITE_KV_INSTANCE(rope_write_kv_f32, float)
