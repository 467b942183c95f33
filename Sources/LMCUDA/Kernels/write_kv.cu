// Stores the new tokens' keys and values in the paged cache: cache[slot[t], h, d] = new[t, h, d]
// key, value [T, Hkv, D]; caches [blocks * block_size, Hkv, D]; slot_mapping [T]. One block per token.
template <typename T> __device__ void write_kv(const T* key, const T* value, T* key_cache, T* value_cache, const int* slots, int width) {
    begin_after_previous_kernel();
    long t = blockIdx.x;
    long slot = slots[t];
    for (int i = threadIdx.x; i < width; i += blockDim.x) {
        key_cache[slot * width + i] = key[t * width + i];
        value_cache[slot * width + i] = value[t * width + i];
    }
}
extern "C" __global__ void write_kv_bf16(const bf16* k, const bf16* v, bf16* kc, bf16* vc, const int* slots, int width) { write_kv(k, v, kc, vc, slots, width); }
extern "C" __global__ void write_kv_f32(const float* k, const float* v, float* kc, float* vc, const int* slots, int width) { write_kv(k, v, kc, vc, slots, width); }
