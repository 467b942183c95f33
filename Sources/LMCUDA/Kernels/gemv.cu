// out[t, n] = Σ_k x[t, k] · W[n, k] for a few tokens (T <= 8): memory-bound, so one pass over
// the weights serves every token. SPLIT warps share a row, each summing one K segment (so a
// matrix of few rows still puts enough warps, and bytes in flight, on every multiprocessor);
// a block of 8 warps covers 8 / SPLIT rows per round, grid-stride. Lanes read 16 bytes (8 bf16)
// per load, GEMV_LOADS (4) loads in flight; fp32 accumulation; segments meet in shared memory.
//   x [T, K] bf16, W [N, K] bf16, out [T, N] (bf16 or f32). K a multiple of 8; 256 threads.
#define GEMV_MAX_T 8
#define GEMV_WARPS 8
#ifndef GEMV_LOADS
#define GEMV_LOADS 4   // 16-byte weight loads in flight per lane
#endif
// A row segment's last, partial batch as one predicated batch (one round trip) instead of single
// loads in turn; off until measured on a GPU (PEREGRINE_CUDA_KERNEL_DEFINES="GEMV_TAIL_BATCH=1").
#ifndef GEMV_TAIL_BATCH
#define GEMV_TAIL_BATCH 0
#endif

// Lane's vectors v, v + 32, ... below end (fewer than GEMV_LOADS), loaded together, then summed.
template <typename F> __device__ __forceinline__ void tail_batch(const uint4* w4, int v, int end, F&& fma) {
    uint4 w[GEMV_LOADS];
    #pragma unroll
    for (int u = 0; u < GEMV_LOADS; u++) if (v + 32 * u < end) w[u] = w4[v + 32 * u];
    #pragma unroll
    for (int u = 0; u < GEMV_LOADS; u++) if (v + 32 * u < end) fma(w[u], v + 32 * u);
}

// acc[t] += W[v] · x[t, v] over 8 values, t < tokens <= MAX_T.
template <int MAX_T = GEMV_MAX_T> __device__ __forceinline__ void gemv_fma(uint4 w, const uint4* x4, int v, int vectors, int tokens, float* acc) {
    float wf[8];
    unpack8(w, wf);
    #pragma unroll
    for (int t = 0; t < MAX_T; t++) {
        if (t >= tokens) break;
        float xf[8];
        unpack8(x4[(long)t * vectors + v], xf);
        #pragma unroll
        for (int i = 0; i < 8; i++) acc[t] += wf[i] * xf[i];
    }
}

// Where row n of token t goes: one output [T, N], or (packed q/k/v, gate/up) up to three
// outputs of the row ranges [0, end0), [end0, end1), [end1, N), each [T, its width].
template <typename T> struct GemvOutputs {
    T* out[3];
    int end0, end1;
    __device__ __forceinline__ void store(int t, int n, int rows, float value) const {
        if (n < end0) store_float(out[0], (long)t * end0 + n, value);
        else if (n < end1) store_float(out[1], (long)t * (end1 - end0) + (n - end0), value);
        else store_float(out[2], (long)t * (rows - end1) + (n - end1), value);
    }
};

// acc[t] += Σ W[v] · x[t, v] over a lane's vectors v, v + 32, ... below end of one row (w4).
template <int MAX_T = GEMV_MAX_T> __device__ __forceinline__ void gemv_segment(const uint4* w4, const uint4* x4, int v, int end, int vectors,
                                                                              int tokens, float* acc) {
    for (; v + 32 * (GEMV_LOADS - 1) < end; v += 32 * GEMV_LOADS) {
        uint4 w[GEMV_LOADS];
        #pragma unroll
        for (int u = 0; u < GEMV_LOADS; u++) w[u] = w4[v + 32 * u];
        #pragma unroll
        for (int u = 0; u < GEMV_LOADS; u++) gemv_fma<MAX_T>(w[u], x4, v + 32 * u, vectors, tokens, acc);
    }
#if GEMV_TAIL_BATCH
    tail_batch(w4, v, end, [&](uint4 w, int at) { gemv_fma<MAX_T>(w, x4, at, vectors, tokens, acc); });
#else
    for (; v < end; v += 32) gemv_fma<MAX_T>(w4[v], x4, v, vectors, tokens, acc);
#endif
}

// residual[t, n] += row n's sum, rounded to bf16 first as a linear's output is, then the sum
// rounded as the add stores it (addLinear; the unfused linear + add, bit for bit)   residual [T, N].
struct GemvResidualAdd {
    bf16* residual;
    __device__ __forceinline__ void store(int t, int n, int rows, float value) const {
        long i = (long)t * rows + n;
        residual[i] = float_to_bf16(bf16_to_float(residual[i]) + bf16_to_float(float_to_bf16(value)));
    }
};

// MAX_T: the most tokens an instance takes (the one-token instances hold one sum a lane).
template <typename Outputs, int SPLIT, int MAX_T = GEMV_MAX_T> __device__ void gemv(const bf16* __restrict__ x, const bf16* __restrict__ weight,
                                                                                   Outputs outputs, int tokens, int rows, int columns) {
    constexpr int ROWS_PER_BLOCK = GEMV_WARPS / SPLIT;
    __shared__ float partial[GEMV_WARPS][GEMV_MAX_T];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int segment = warp % SPLIT;
    int vectors = columns / 8;
    int per_segment = (vectors + SPLIT - 1) / SPLIT;
    int begin = segment * per_segment, end = min(vectors, begin + per_segment);
    const uint4* x4 = (const uint4*)x;
    begin_after_previous_kernel();
    // Every thread of a block runs the same rounds (base is per block), so the barriers below are uniform.
    for (int base = blockIdx.x * ROWS_PER_BLOCK; base < rows; base += gridDim.x * ROWS_PER_BLOCK) {
        int n = base + warp / SPLIT;
        float acc[MAX_T];
        #pragma unroll
        for (int t = 0; t < MAX_T; t++) acc[t] = 0.f;
        if (n < rows) gemv_segment<MAX_T>((const uint4*)(weight + (long)n * columns), x4, begin + lane, end, vectors, tokens, acc);
        #pragma unroll
        for (int t = 0; t < MAX_T; t++) {
            if (t >= tokens) break;
            acc[t] = warp_sum(acc[t]);
        }
        if constexpr (SPLIT == 1) {
            if (lane == 0 && n < rows) {
                #pragma unroll
                for (int t = 0; t < MAX_T; t++) if (t < tokens) outputs.store(t, n, rows, acc[t]);
            }
        } else {
            if (lane == 0) {
                #pragma unroll
                for (int t = 0; t < MAX_T; t++) partial[warp][t] = acc[t];
            }
            __syncthreads();
            if (segment == 0 && lane < tokens && n < rows) {
                float sum = 0.f;
                #pragma unroll
                for (int s = 0; s < SPLIT; s++) sum += partial[warp + s][lane];
                outputs.store(lane, n, rows, sum);
            }
            __syncthreads();
        }
    }
}

// One token only (MAX_T 1): one sum a lane. Launch bounds (256, GEMV_ONE_BLOCKS); the default 1
// leaves registers to the compiler (56-64 for the linears, 72 for gemv_gated_one under NVRTC
// 12.9). With them capped at 40 for 6 blocks a multiprocessor (GEMV_ONE_BLOCKS=6, the default
// before), batch-1 decode on an H200 ran 241.1 tok/s against 247.5 uncapped, the difference mostly
// in gemv_gated_one (bench linear moved little); 5 spills gemv_gated_one (224.9). On an H100 the
// cap of 6 gave 183.0 against the 8-token instances' 180.3; uncapped has not run there.
#ifndef GEMV_ONE_BLOCKS
#define GEMV_ONE_BLOCKS 1
#endif
#define GEMV_ONE_BOUNDS __launch_bounds__(256, GEMV_ONE_BLOCKS)
// Instances of up to MAX_T tokens under BOUNDS (empty: the compiler's register choice).
#define GEMV_INSTANCE(NAME, TYPE, SPLIT, MAX_T, BOUNDS) \
extern "C" __global__ void BOUNDS NAME(const bf16* x, const bf16* w, TYPE* out, int tokens, int rows, int columns) { \
    GemvOutputs<TYPE> outputs = {{out, out, out}, rows, rows}; \
    gemv<GemvOutputs<TYPE>, SPLIT, MAX_T>(x, w, outputs, tokens, rows, columns); \
}
#define GEMV_PACKED_INSTANCE(NAME, SPLIT, MAX_T, BOUNDS) \
extern "C" __global__ void BOUNDS NAME(const bf16* x, const bf16* w, bf16* out0, bf16* out1, bf16* out2, int end0, int end1, \
                                       int tokens, int rows, int columns) { \
    GemvOutputs<bf16> outputs = {{out0, out1, out2}, end0, end1}; \
    gemv<GemvOutputs<bf16>, SPLIT, MAX_T>(x, w, outputs, tokens, rows, columns); \
}
#define GEMV_ADD_INSTANCE(NAME, SPLIT) \
extern "C" __global__ void NAME(const bf16* x, const bf16* w, bf16* residual, int tokens, int rows, int columns) { \
    gemv<GemvResidualAdd, SPLIT>(x, w, GemvResidualAdd{residual}, tokens, rows, columns); \
}
GEMV_INSTANCE(gemv_bf16_s1, bf16, 1, GEMV_MAX_T, )
GEMV_INSTANCE(gemv_bf16_s2, bf16, 2, GEMV_MAX_T, )
GEMV_INSTANCE(gemv_bf16_s4, bf16, 4, GEMV_MAX_T, )
GEMV_INSTANCE(gemv_bf16_s8, bf16, 8, GEMV_MAX_T, )
GEMV_INSTANCE(gemv_f32_s1, float, 1, GEMV_MAX_T, )
GEMV_INSTANCE(gemv_f32_s2, float, 2, GEMV_MAX_T, )
GEMV_INSTANCE(gemv_f32_s4, float, 4, GEMV_MAX_T, )
GEMV_INSTANCE(gemv_f32_s8, float, 8, GEMV_MAX_T, )
GEMV_PACKED_INSTANCE(gemv_packed_s1, 1, GEMV_MAX_T, )
GEMV_PACKED_INSTANCE(gemv_packed_s2, 2, GEMV_MAX_T, )
GEMV_PACKED_INSTANCE(gemv_packed_s4, 4, GEMV_MAX_T, )
GEMV_PACKED_INSTANCE(gemv_packed_s8, 8, GEMV_MAX_T, )
GEMV_INSTANCE(gemv_bf16_s1_one, bf16, 1, 1, GEMV_ONE_BOUNDS)
GEMV_INSTANCE(gemv_bf16_s2_one, bf16, 2, 1, GEMV_ONE_BOUNDS)
GEMV_INSTANCE(gemv_bf16_s4_one, bf16, 4, 1, GEMV_ONE_BOUNDS)
GEMV_INSTANCE(gemv_bf16_s8_one, bf16, 8, 1, GEMV_ONE_BOUNDS)
GEMV_INSTANCE(gemv_f32_s1_one, float, 1, 1, GEMV_ONE_BOUNDS)
GEMV_INSTANCE(gemv_f32_s2_one, float, 2, 1, GEMV_ONE_BOUNDS)
GEMV_INSTANCE(gemv_f32_s4_one, float, 4, 1, GEMV_ONE_BOUNDS)
GEMV_INSTANCE(gemv_f32_s8_one, float, 8, 1, GEMV_ONE_BOUNDS)
GEMV_PACKED_INSTANCE(gemv_packed_s1_one, 1, 1, GEMV_ONE_BOUNDS)
GEMV_PACKED_INSTANCE(gemv_packed_s2_one, 2, 1, GEMV_ONE_BOUNDS)
GEMV_PACKED_INSTANCE(gemv_packed_s4_one, 4, 1, GEMV_ONE_BOUNDS)
GEMV_PACKED_INSTANCE(gemv_packed_s8_one, 8, 1, GEMV_ONE_BOUNDS)
GEMV_ADD_INSTANCE(gemv_add_s1, 1)
GEMV_ADD_INSTANCE(gemv_add_s2, 2)
GEMV_ADD_INSTANCE(gemv_add_s4, 4)
GEMV_ADD_INSTANCE(gemv_add_s8, 8)

// The input rows of a normed GEMV (gemv_gated_normed, gemv_rope_kv_normed_s*): rmsNorm(residual[t])
// · weight for a few tokens, computed by every block into its shared memory, so a layer's norm
// needs no launch of its own. rms_norm.cu's one-pass kernel, bit for bit: its block of K/8 threads
// (whole warps) is emulated by this block's warps in turn, each virtual warp summing its 8-value
// squares in the same order and the warps' sums summed as block_sum does.
//   residual [T, K] bf16, weight [K], to [T, K/8] 16-byte vectors; K a multiple of 8, at most 8192.
__device__ void norm_rows_to_shared(const bf16* residual, const bf16* weight, float epsilon, uint4* to, int tokens, int columns) {
    __shared__ float warp_sums[32];
    int lane = threadIdx.x & 31;
    int vectors = columns / 8, virtual_warps = (vectors + 31) / 32;
    const uint4* w4 = (const uint4*)weight;
    for (int t = 0; t < tokens; t++) {
        const uint4* row = (const uint4*)(residual + (long)t * columns);
        for (int j = threadIdx.x; j < virtual_warps * 32; j += blockDim.x) {   // whole warps: the shuffles are uniform
            float v[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f}, sum = 0.f;
            if (j < vectors) unpack8(row[j], v);
            #pragma unroll
            for (int i = 0; i < 8; i++) sum += v[i] * v[i];
            sum = warp_sum(sum);
            if (lane == 0) warp_sums[j >> 5] = sum;
        }
        __syncthreads();
        float inverse = rsqrtf(warp_sum(lane < virtual_warps ? warp_sums[lane] : 0.f) / columns + epsilon);
        for (int j = threadIdx.x; j < vectors; j += blockDim.x) {
            float v[8], w[8];
            unpack8(row[j], v);
            unpack8(w4[j], w);
            #pragma unroll
            for (int i = 0; i < 8; i++) v[i] = v[i] * inverse * w[i];
            to[(long)t * vectors + j] = pack8(v);
        }
        __syncthreads();   // the rows are read by every warp, and warp_sums is reused
    }
}

// Where a GEMV's input rows come from: x itself, or (NORMED) the rows normed into shared memory.
// Call after the wait for the previous kernel (the residual is its output).
template <bool NORMED> __device__ __forceinline__ const uint4* gemv_input(const bf16* x, const bf16* norm_weight, float epsilon,
                                                                          int tokens, int columns) {
    if constexpr (NORMED) {
        extern __shared__ uint4 normed_rows[];   // [T, K/8], sized by the launch
        norm_rows_to_shared(x, norm_weight, epsilon, normed_rows, tokens, columns);
        return normed_rows;
    } else {
        return (const uint4*)x;
    }
}

// An MLP's gated input for a few tokens from its packed gate/up matrix W [2F, K]:
// out[t, i] = act(x[t] · W[i]) * (x[t] · W[F + i]), each dot rounded to bf16 first as the gate
// and up outputs of the unfused path are, so both paths agree bit for bit. One warp per i (its
// two rows' loads in flight together), grid-stride; no activation launch, no gate/up outputs.
//   x [T, K] bf16, out [T, F] bf16; 256 threads.
template <bool NORMED, int MAX_T = GEMV_MAX_T> __device__ void gemv_gated_rows(const bf16* __restrict__ x, const bf16* norm_weight, float epsilon,
                                                       const bf16* __restrict__ weight, bf16* out, int activation,
                                                       int tokens, int width, int columns) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int vectors = columns / 8;
    int i = blockIdx.x * GEMV_WARPS + warp;
    // Normed: the first round's first loads go out before the wait (weights depend on no kernel),
    // so the norm's latency hides behind them.
    uint4 g[GEMV_LOADS], u[GEMV_LOADS];
    bool early = NORMED && i < width && lane + 32 * (GEMV_LOADS - 1) < vectors;
    if (early) {
        #pragma unroll
        for (int k = 0; k < GEMV_LOADS; k++) {
            g[k] = ((const uint4*)(weight + (long)i * columns))[lane + 32 * k];
            u[k] = ((const uint4*)(weight + (long)(width + i) * columns))[lane + 32 * k];
        }
    }
    begin_after_previous_kernel();
    const uint4* x4 = gemv_input<NORMED>(x, norm_weight, epsilon, tokens, columns);
    for (; i < width; i += gridDim.x * GEMV_WARPS) {
        float gate[MAX_T], up[MAX_T];
        #pragma unroll
        for (int t = 0; t < MAX_T; t++) gate[t] = up[t] = 0.f;
        const uint4* g4 = (const uint4*)(weight + (long)i * columns);
        const uint4* u4 = (const uint4*)(weight + (long)(width + i) * columns);
        int v = lane;
        for (; v + 32 * (GEMV_LOADS - 1) < vectors; v += 32 * GEMV_LOADS) {
            if (!early) {
                #pragma unroll
                for (int k = 0; k < GEMV_LOADS; k++) { g[k] = g4[v + 32 * k]; u[k] = u4[v + 32 * k]; }
            }
            early = false;
            #pragma unroll
            for (int k = 0; k < GEMV_LOADS; k++) {
                gemv_fma<MAX_T>(g[k], x4, v + 32 * k, vectors, tokens, gate);
                gemv_fma<MAX_T>(u[k], x4, v + 32 * k, vectors, tokens, up);
            }
        }
#if GEMV_TAIL_BATCH
        tail_batch(g4, v, vectors, [&](uint4 w, int at) { gemv_fma<MAX_T>(w, x4, at, vectors, tokens, gate); });
        tail_batch(u4, v, vectors, [&](uint4 w, int at) { gemv_fma<MAX_T>(w, x4, at, vectors, tokens, up); });
#else
        for (; v < vectors; v += 32) {
            gemv_fma<MAX_T>(g4[v], x4, v, vectors, tokens, gate);
            gemv_fma<MAX_T>(u4[v], x4, v, vectors, tokens, up);
        }
#endif
        #pragma unroll
        for (int t = 0; t < MAX_T; t++) {
            if (t >= tokens) break;
            float g = bf16_to_float(float_to_bf16(warp_sum(gate[t]))), u = bf16_to_float(float_to_bf16(warp_sum(up[t])));
            if (lane == 0) out[(long)t * width + i] = float_to_bf16(gated_value(g, u, activation));
        }
    }
}
extern "C" __global__ void gemv_gated(const bf16* x, const bf16* weight, bf16* out, int activation, int tokens, int width, int columns) {
    gemv_gated_rows<false>(x, nullptr, 0.f, weight, out, activation, tokens, width, columns);
}
// gemv_gated for one token.
extern "C" __global__ void GEMV_ONE_BOUNDS gemv_gated_one(const bf16* x, const bf16* weight, bf16* out, int activation, int tokens, int width,
                                                         int columns) {
    gemv_gated_rows<false, 1>(x, nullptr, 0.f, weight, out, activation, tokens, width, columns);
}
// gemv_gated of rmsNorm(residual) · norm_weight (normedGatedLinear); dynamic shared memory T · K · 2 bytes.
extern "C" __global__ void gemv_gated_normed(const bf16* residual, const bf16* norm_weight, float epsilon, const bf16* weight, bf16* out,
                                             int activation, int tokens, int width, int columns) {
    gemv_gated_rows<true>(residual, norm_weight, epsilon, weight, out, activation, tokens, width, columns);
}

// q/k/v of a few tokens from the packed matrix W [(Hq + 2 Hkv) D, K] with rope_write_kv.cu's work as
// the epilogue, so the layer's input needs no launch between its GEMV and its attention. The rows
// run in the pairs a rotation mixes (neox (i, i + rot/2), interleaved (2i, 2i + 1); the dims past
// the rotation and the value heads in adjacent pairs), a pair's rows on warps of one block, so one
// thread holds both sums. Each sum is rounded to bf16 (then + bias, rounded) as the packed GEMV and
// bias add store it, and rotated by rope_write_kv's expressions; the unfused path's results, bit for bit.
//   x [T, K] (NORMED: the residual, normed first; see gemv_input); q_out [T, Hq, D] rotated queries; key_cache, value_cache [slots, Hkv, D] at slot[t];
//   biases [Hq D], [Hkv D], [Hkv D] or null; cos/sin [T, rot/2] f32. D and rot even, SPLIT 1, 2
//   or 4 (8 / SPLIT rows a round, pairs whole); 256 threads.
__device__ __forceinline__ int rope_pair_dim(int i, int second, int half, int style, bool rotated) {
    if (rotated && i < half && style == 0) return i + second * half;
    return 2 * i + second;   // interleaved pairs, and past the rotation: rotary + 2 (i - half) = 2i
}

template <int SPLIT, bool NORMED, int MAX_T = GEMV_MAX_T> __device__ void gemv_rope_kv(
    const bf16* __restrict__ x, const bf16* norm_weight, float epsilon,
    const bf16* __restrict__ weight, const bf16* q_bias, const bf16* k_bias, const bf16* v_bias,
    bf16* q_out, bf16* key_cache, bf16* value_cache, const float* cos_in, const float* sin_in, const int* slots,
    int tokens, int columns, int q_heads, int kv_heads, int dim, int rotary, int style) {
    constexpr int ROWS_PER_BLOCK = GEMV_WARPS / SPLIT, PAIRS_PER_BLOCK = ROWS_PER_BLOCK / 2;
    static_assert(PAIRS_PER_BLOCK >= 1, "a block holds whole pairs");
    __shared__ float partial[GEMV_WARPS][MAX_T];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int segment = warp % SPLIT, row_slot = warp / SPLIT;
    int vectors = columns / 8;
    int per_segment = (vectors + SPLIT - 1) / SPLIT;
    int begin = segment * per_segment, end = min(vectors, begin + per_segment);
    int half_dim = dim / 2, half = rotary / 2, rotated_heads = q_heads + kv_heads;
    int pairs = (rotated_heads + kv_heads) * half_dim;
    // No loads before the wait here, unlike gemv_gated_rows: under the 48-register cap they spill.
    begin_after_previous_kernel();
    const uint4* x4 = gemv_input<NORMED>(x, norm_weight, epsilon, tokens, columns);
    // Uniform rounds per block, as in gemv, so the barriers are too.
    for (int base = blockIdx.x * PAIRS_PER_BLOCK; base < pairs; base += gridDim.x * PAIRS_PER_BLOCK) {
        int pair = base + row_slot / 2;
        float acc[MAX_T];
        #pragma unroll
        for (int t = 0; t < MAX_T; t++) acc[t] = 0.f;
        if (pair < pairs) {
            int head = pair / half_dim;
            int n = head * dim + rope_pair_dim(pair % half_dim, row_slot & 1, half, style, head < rotated_heads);
            gemv_segment<MAX_T>((const uint4*)(weight + (long)n * columns), x4, begin + lane, end, vectors, tokens, acc);
        }
        #pragma unroll
        for (int t = 0; t < MAX_T; t++) {
            if (t >= tokens) break;
            acc[t] = warp_sum(acc[t]);
        }
        if (lane == 0) {
            #pragma unroll
            for (int t = 0; t < MAX_T; t++) partial[warp][t] = acc[t];
        }
        __syncthreads();
        int slot_pair = threadIdx.x / MAX_T, t = threadIdx.x % MAX_T, p = base + slot_pair;
        if (slot_pair < PAIRS_PER_BLOCK && t < tokens && p < pairs) {
            float sums[2];
            #pragma unroll
            for (int r = 0; r < 2; r++) {
                float sum = 0.f;
                #pragma unroll
                for (int s = 0; s < SPLIT; s++) sum += partial[(2 * slot_pair + r) * SPLIT + s][t];
                sums[r] = sum;
            }
            int head = p / half_dim, i = p % half_dim;
            bool is_query = head < q_heads, is_key = !is_query && head < rotated_heads;
            int kv_head = head - (is_query ? 0 : is_key ? q_heads : rotated_heads);
            int first = rope_pair_dim(i, 0, half, style, head < rotated_heads), second = rope_pair_dim(i, 1, half, style, head < rotated_heads);
            const bf16* bias = is_query ? q_bias : is_key ? k_bias : v_bias;
            if (bias) bias += (long)(is_query ? head : kv_head) * dim;
            // What the GEMV stores, then what the bias add stores.
            float a = bf16_to_float(float_to_bf16(sums[0])), b = bf16_to_float(float_to_bf16(sums[1]));
            if (bias) {
                a = bf16_to_float(float_to_bf16(a + bf16_to_float(bias[first])));
                b = bf16_to_float(float_to_bf16(b + bf16_to_float(bias[second])));
            }
            if (head < rotated_heads && i < half) {
                float cosine = cos_in[t * half + i], sine = sin_in[t * half + i];
                float rx = a * cosine - b * sine, ry = b * cosine + a * sine;
                a = rx; b = ry;
            }
            bf16* out = is_query ? q_out + ((long)t * q_heads + head) * dim
                                 : (is_key ? key_cache : value_cache) + ((long)slots[t] * kv_heads + kv_head) * dim;
            out[first] = float_to_bf16(a);
            out[second] = float_to_bf16(b);
        }
        __syncthreads();
    }
}

// 256 threads, 5 blocks an SM: caps registers at 48 (no spills) so the blocks of a 4096-row projection all fit at once.
#define ROPE_KV_BOUNDS __launch_bounds__(256, 5)
// Up to MAX_T tokens under BOUNDS (the one-token instances: 1 under GEMV_ONE_BOUNDS).
#define GEMV_ROPE_KV_INSTANCE(NAME, SPLIT, MAX_T, BOUNDS) \
extern "C" __global__ void BOUNDS NAME(const bf16* x, const bf16* w, const bf16* q_bias, const bf16* k_bias, const bf16* v_bias, \
                                bf16* q_out, bf16* key_cache, bf16* value_cache, const float* c, const float* s, const int* slots, \
                                int tokens, int columns, int q_heads, int kv_heads, int dim, int rotary, int style) { \
    gemv_rope_kv<SPLIT, false, MAX_T>(x, nullptr, 0.f, w, q_bias, k_bias, v_bias, q_out, key_cache, value_cache, c, s, slots, \
                                      tokens, columns, q_heads, kv_heads, dim, rotary, style); \
}
// The same of rmsNorm(residual) · norm_weight (normedProjectRopeWriteKV); dynamic shared memory T · K · 2 bytes.
#define GEMV_ROPE_KV_NORMED_INSTANCE(NAME, SPLIT) \
extern "C" __global__ void ROPE_KV_BOUNDS NAME(const bf16* residual, const bf16* norm_weight, float epsilon, const bf16* w, \
                                const bf16* q_bias, const bf16* k_bias, const bf16* v_bias, \
                                bf16* q_out, bf16* key_cache, bf16* value_cache, const float* c, const float* s, const int* slots, \
                                int tokens, int columns, int q_heads, int kv_heads, int dim, int rotary, int style) { \
    gemv_rope_kv<SPLIT, true>(residual, norm_weight, epsilon, w, q_bias, k_bias, v_bias, q_out, key_cache, value_cache, c, s, slots, \
                              tokens, columns, q_heads, kv_heads, dim, rotary, style); \
}
GEMV_ROPE_KV_INSTANCE(gemv_rope_kv_s1, 1, GEMV_MAX_T, ROPE_KV_BOUNDS)
GEMV_ROPE_KV_INSTANCE(gemv_rope_kv_s2, 2, GEMV_MAX_T, ROPE_KV_BOUNDS)
GEMV_ROPE_KV_INSTANCE(gemv_rope_kv_s4, 4, GEMV_MAX_T, ROPE_KV_BOUNDS)
GEMV_ROPE_KV_INSTANCE(gemv_rope_kv_s1_one, 1, 1, GEMV_ONE_BOUNDS)
GEMV_ROPE_KV_INSTANCE(gemv_rope_kv_s2_one, 2, 1, GEMV_ONE_BOUNDS)
GEMV_ROPE_KV_INSTANCE(gemv_rope_kv_s4_one, 4, 1, GEMV_ONE_BOUNDS)
GEMV_ROPE_KV_NORMED_INSTANCE(gemv_rope_kv_normed_s1, 1)
GEMV_ROPE_KV_NORMED_INSTANCE(gemv_rope_kv_normed_s2, 2)
GEMV_ROPE_KV_NORMED_INSTANCE(gemv_rope_kv_normed_s4, 4)
