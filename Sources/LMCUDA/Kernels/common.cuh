// Shared by every kernel (prepended by the Swift side; NVRTC sees no include paths).
// bf16 is handled as raw 16-bit patterns so no CUDA headers are needed.
typedef unsigned short bf16;
typedef unsigned int u32;
typedef unsigned long long u64;
#define NEG_INF __int_as_float(0xff800000)

__device__ __forceinline__ float bf16_to_float(bf16 x) { return __uint_as_float(((u32)x) << 16); }

// Round to nearest even; NaN stays NaN.
__device__ __forceinline__ bf16 float_to_bf16(float f) {
    u32 bits = __float_as_uint(f);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (bf16)((bits >> 16) | 0x40);
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return (bf16)(bits >> 16);
}

// A float's value as stored in a tensor of either activation dtype.
template <typename T> __device__ __forceinline__ float load_as_float(const T* p, long i);
template <> __device__ __forceinline__ float load_as_float<float>(const float* p, long i) { return p[i]; }
template <> __device__ __forceinline__ float load_as_float<bf16>(const bf16* p, long i) { return bf16_to_float(p[i]); }
template <typename T> __device__ __forceinline__ void store_float(T* p, long i, float v);
template <> __device__ __forceinline__ void store_float<float>(float* p, long i, float v) { p[i] = v; }
template <> __device__ __forceinline__ void store_float<bf16>(bf16* p, long i, float v) { p[i] = float_to_bf16(v); }

// x[i] (+ bias[i], rounded to T as a separate bias add would store it): a projection's output
// read by a kernel that adds the bias itself (rope_write_kv.cu).
template <typename T> __device__ __forceinline__ float load_biased(const T* x, const T* bias, int i) {
    float v = load_as_float(x, i);
    if (bias == nullptr) return v;
    T rounded;
    store_float(&rounded, 0, v + load_as_float(bias, i));
    return load_as_float(&rounded, 0);
}

// act(g) * u; activation 0: silu, 1: gelu (tanh approximation).
__device__ __forceinline__ float gated_value(float g, float u, int activation) {
    float a;
    if (activation == 0) {
        a = g / (1.f + expf(-g));
    } else {
        float inner = 0.7978845608028654f * (g + 0.044715f * g * g * g);
        a = 0.5f * g * (1.f + tanhf(inner));
    }
    return a * u;
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
__device__ __forceinline__ float block_sum(float v) {
    __shared__ float partial[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    int warps = blockDim.x >> 5;
    v = lane < warps ? partial[lane] : 0.f;
    return warp_sum(v);
}

// Programmatic dependent launch (sm_90 and later): the backend lets every kernel start while the
// kernel before it in the stream is finishing, so every kernel calls this before it touches memory
// that any earlier kernel writes or reads. It returns once the previous kernel has completed and
// its writes are visible (each kernel waiting in turn, so every earlier one has too), then lets the
// next kernel be scheduled: one kernel at most waits ahead. Work that depends on no earlier kernel
// may come before it (weights, a step's inputs, which are copied in before the step's first
// kernel, and KV-cache entries of earlier steps), but no block may return before calling it (a grid whose blocks all left
// early would release the next kernel before the previous one finished). On older GPUs, or
// launched plainly, it does nothing.
__device__ __forceinline__ void begin_after_previous_kernel() {
#if __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// Copies 16 bytes from global to shared memory without passing through registers (sm_80 and
// later; older GPUs copy through registers). A thread's copies since its last commit form a group;
// wait_async_copies<N> returns once at most N of its groups are still in flight.
__device__ __forceinline__ void copy_async_16(void* shared, const void* global) {
#if __CUDA_ARCH__ >= 800
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" :: "r"((u32)__cvta_generic_to_shared(shared)), "l"(global) : "memory");
#else
    *(uint4*)shared = *(const uint4*)global;
#endif
}
__device__ __forceinline__ void commit_async_copies() {
#if __CUDA_ARCH__ >= 800
    asm volatile("cp.async.commit_group;" ::: "memory");
#endif
}
template <int PENDING> __device__ __forceinline__ void wait_async_copies() {
#if __CUDA_ARCH__ >= 800
    asm volatile("cp.async.wait_group %0;" :: "n"(PENDING) : "memory");
#endif
}

// c += a · b on tensor cores (mma.sync m16n8k16, bf16 in, f32 accumulation; sm_80 and later).
// Fragments (PTX ISA, .bf16), lane = 4 g + c: a (16 x 16, row-major) {(g, 2c..2c+1), (g+8, 2c..),
// (g, 2c+8..), (g+8, 2c+8..)}; b (16 x 8, column-major) {(2c..2c+1, g), (2c+8..2c+9, g)};
// c (16 x 8) {(g, 2c), (g, 2c+1), (g+8, 2c), (g+8, 2c+1)}.
__device__ __forceinline__ void mma_bf16(float* c, const u32* a, u32 b0, u32 b1) {
#if __CUDA_ARCH__ >= 800
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#endif
}

// Two floats as a bf16 pair, the first in the low half (an mma operand register).
__device__ __forceinline__ u32 pack_bf16(float low, float high) { return (u32)float_to_bf16(low) | ((u32)float_to_bf16(high) << 16); }

// Eight bf16 (one 16-byte load) as floats, and eight floats rounded back into one 16-byte store.
__device__ __forceinline__ void unpack8(uint4 v, float* f) {
    f[0] = __uint_as_float(v.x << 16); f[1] = __uint_as_float(v.x & 0xffff0000u);
    f[2] = __uint_as_float(v.y << 16); f[3] = __uint_as_float(v.y & 0xffff0000u);
    f[4] = __uint_as_float(v.z << 16); f[5] = __uint_as_float(v.z & 0xffff0000u);
    f[6] = __uint_as_float(v.w << 16); f[7] = __uint_as_float(v.w & 0xffff0000u);
}
__device__ __forceinline__ uint4 pack8(const float* f) {
    return make_uint4(pack_bf16(f[0], f[1]), pack_bf16(f[2], f[3]), pack_bf16(f[4], f[5]), pack_bf16(f[6], f[7]));
}

// Split-K decode attention (paged_decode.cu, paged_decode_mma.cu, and their combine): the keys a
// decode token at `position` attends to (the last `window`, or all) divide into as many of the
// grid's `splits` as give each at least min_chunk keys; split `split` takes [begin, end).
struct DecodeSplit {
    int used, begin, end;
    __device__ __forceinline__ DecodeSplit(int position, int window, int split, int splits, int min_chunk) {
        int first = window > 0 ? max(0, position - window + 1) : 0;
        int keys = position + 1 - first;
        used = min(splits, (keys + min_chunk - 1) / min_chunk);
        int chunk = (keys + used - 1) / used;
        begin = first + split * chunk;
        end = min(position + 1, begin + chunk);
    }
};

// Split-K decode attention (paged_decode.cu, paged_decode_mma.cu): merges the WARPS warps'
// online-softmax states of `heads` query heads (maximum, normalizer and weighted values, stored in
// shared memory before a __syncthreads) into this block's split partials; head h goes to partial
// first_part + h * splits.
template <int WARPS, int G, int DS> __device__ __forceinline__ void write_split_partials(
    const float (*shared_m)[G], const float (*shared_l)[G], const float (*shared_acc)[G][DS], int heads, int dim,
    long first_part, int splits, float* part_out, float* part_max, float* part_sum) {
    for (int h = 0; h < heads; h++) {
        float total_m = NEG_INF;
        for (int w = 0; w < WARPS; w++) total_m = fmaxf(total_m, shared_m[w][h]);
        float total_l = 0.f;
        for (int w = 0; w < WARPS; w++) if (shared_m[w][h] != NEG_INF) total_l += shared_l[w][h] * __expf(shared_m[w][h] - total_m);
        long part = first_part + (long)h * splits;
        for (int d = threadIdx.x; d < dim; d += blockDim.x) {
            float sum = 0.f;
            for (int w = 0; w < WARPS; w++) if (shared_m[w][h] != NEG_INF) sum += shared_acc[w][h][d] * __expf(shared_m[w][h] - total_m);
            part_out[part * dim + d] = sum;
        }
        if (threadIdx.x == 0) { part_max[part] = total_m; part_sum[part] = total_l; }
    }
}

// Split-K decode attention: starts copying (cp.async) keys tile .. tile + KEYS - 1 of one KV head
// from the paged cache into a warp's stage, keys in rows 0 .. KEYS - 1 and values in rows KEYS ..
// 2 KEYS - 1, STRIDE bf16 apart; keys past end - 1 repeat it, so masked keys still read finite
// values. Lanes take 16-byte chunks, D / 8 of them per row, each a key's key and value chunk per pass.
template <int D, int KEYS, int STRIDE> __device__ __forceinline__ void copy_kv_tile_async(
    bf16* stage, const bf16* key_cache, const bf16* value_cache, const int* table, int tile, int end,
    int block_size, int kv_heads, int kv_head, int lane) {
    constexpr int CHUNKS = D / 8, KEYS_PER_PASS = 32 / CHUNKS;
    static_assert(KEYS_PER_PASS <= KEYS && KEYS % KEYS_PER_PASS == 0, "passes cover the tile exactly");
    int chunk = lane % CHUNKS;
    #pragma unroll
    for (int pass = 0; pass < KEYS / KEYS_PER_PASS; pass++) {
        int u = pass * KEYS_PER_PASS + lane / CHUNKS;
        int key = min(tile + u, end - 1);
        long row = ((long)table[key / block_size] * block_size + key % block_size) * kv_heads + kv_head;
        copy_async_16(stage + u * STRIDE + chunk * 8, key_cache + row * D + chunk * 8);
        copy_async_16(stage + (KEYS + u) * STRIDE + chunk * 8, value_cache + row * D + chunk * 8);
    }
}
