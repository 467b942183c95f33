// Split-K decode attention on tensor cores (experiment, `PEREGRINE_CUDA_DECODE_MMA=1`): the same
// grid, splits and partial outputs as paged_decode.cu (decode_combine merges them), with both
// products of a tile of 16 keys as bf16 mma.m16n8k16 instead of lane dot products and shuffle
// reductions: S = Q·Kᵀ with the G query heads of a KV head as rows 0..G-1 of A (the rest zero),
// then O += P·V with P in bf16 straight from S's accumulators (the flash-attention-2 layout).
//   grid (N decode tokens, Hkv, splits); 4 warps, each taking tiles of 16 keys in turn.
//   Fragment coordinates: lane = 4 g + t. Dims are permuted inside each group of 32 so that a lane
//   reads 8 contiguous dims (one 16-byte load) of a key: k-chunk 2p+h of Q·Kᵀ gives lane t the
//   dims 32p + 8t + 4h + {0,1} (a0/b0) and + {2,3} (a2/b1); the P·V output tile 4p+i holds, at
//   its column 2t+e, dim 32p + 8t + 2i + e. V's fragments are transposed in registers (movmatrix).
#define MMA_WARPS 4
#define MMA_TILE 16

__device__ __forceinline__ void mma_16816(float* d, u32 a0, u32 a1, u32 a2, u32 a3, u32 b0, u32 b1) {
#if __CUDA_ARCH__ >= 800
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
#else
    __trap();
#endif
}

// The 8x8 b16 matrix held a row per 4 lanes (lane 4r + c: row r, columns 2c and 2c+1) transposed.
__device__ __forceinline__ u32 transpose_8x8(u32 x) {
#if __CUDA_ARCH__ >= 800
    u32 y;
    asm volatile("movmatrix.sync.aligned.m8n8.trans.b16 %0, %1;\n" : "=r"(y) : "r"(x));
    return y;
#else
    __trap();
    return x;
#endif
}

__device__ __forceinline__ u32 pack_bf16x2(float lo, float hi) { return (u32)float_to_bf16(lo) | ((u32)float_to_bf16(hi) << 16); }

__device__ __forceinline__ u32 word(const uint4& v, int i) { return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w; }

// G query heads per KV head (at most 8), D = 32 * PAIRS.
template <int G, int PAIRS> __device__ void paged_decode_mma(
    const bf16* query, const bf16* key_cache, const bf16* value_cache, const int* rows,
    const int* token_positions, const int* token_tables, const int* block_tables, int max_blocks,
    int q_heads, int kv_heads, int block_size, float scale, int window, int min_chunk,
    float* part_out, float* part_max, float* part_sum)
{
    constexpr int D = 32 * PAIRS;
    int n = blockIdx.x, kv_head = blockIdx.y, split = blockIdx.z, splits = gridDim.z;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int g = lane >> 2, t = lane & 3;
    int row = rows[n];
    int position = token_positions[row];
    const int* table = block_tables + (long)token_tables[row] * max_blocks;
    int first = window > 0 ? max(0, position - window + 1) : 0;
    int keys = position + 1 - first;
    int used = min(splits, (keys + min_chunk - 1) / min_chunk);
    if (split >= used) return;   // the combine reads only the splits a sequence used
    int chunk = (keys + used - 1) / used;
    int begin = first + split * chunk, end = min(position + 1, begin + chunk);

    // Q as A: row g is query head g of this KV head (rows G..15 zero).
    u32 qa[2 * PAIRS][2];
    const bf16* qh = query + ((long)row * q_heads + kv_head * G + min(g, G - 1)) * D + 8 * t;
    #pragma unroll
    for (int p = 0; p < PAIRS; p++) {
        uint4 raw = g < G ? *(const uint4*)(qh + 32 * p) : make_uint4(0, 0, 0, 0);
        qa[2 * p][0] = raw.x; qa[2 * p][1] = raw.y; qa[2 * p + 1][0] = raw.z; qa[2 * p + 1][1] = raw.w;
    }
    float o[4 * PAIRS][4];
    #pragma unroll
    for (int j = 0; j < 4 * PAIRS; j++) { o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.f; }
    float m = NEG_INF, l = 0.f;   // of head g, over this warp's keys

    for (int base = begin + warp * MMA_TILE; base < end; base += MMA_TILE * MMA_WARPS) {
        // Lane (g, t) reads keys base + g and base + 8 + g: 8 dims of each 32 with one load.
        uint4 kr[2][PAIRS], vr[2][PAIRS];
        #pragma unroll
        for (int half = 0; half < 2; half++) {
            int key = min(base + 8 * half + g, end - 1);
            long slot = (long)table[key / block_size] * block_size + key % block_size;
            const bf16* k = key_cache + (slot * kv_heads + kv_head) * D + 8 * t;
            const bf16* v = value_cache + (slot * kv_heads + kv_head) * D + 8 * t;
            #pragma unroll
            for (int p = 0; p < PAIRS; p++) { kr[half][p] = *(const uint4*)(k + 32 * p); vr[half][p] = *(const uint4*)(v + 32 * p); }
        }
        // S[head g][key 8 half + 2t + e] in s[half][e].
        float s[2][4];
        #pragma unroll
        for (int half = 0; half < 2; half++) {
            s[half][0] = s[half][1] = s[half][2] = s[half][3] = 0.f;
            #pragma unroll
            for (int p = 0; p < PAIRS; p++) {
                mma_16816(s[half], qa[2 * p][0], 0u, qa[2 * p][1], 0u, kr[half][p].x, kr[half][p].y);
                mma_16816(s[half], qa[2 * p + 1][0], 0u, qa[2 * p + 1][1], 0u, kr[half][p].z, kr[half][p].w);
            }
        }
        float tile_max = NEG_INF;
        #pragma unroll
        for (int half = 0; half < 2; half++) {
            #pragma unroll
            for (int e = 0; e < 2; e++) {
                s[half][e] = base + 8 * half + 2 * t + e < end ? s[half][e] * scale : NEG_INF;
                tile_max = fmaxf(tile_max, s[half][e]);
            }
        }
        tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
        tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 2));
        float m_new = fmaxf(m, tile_max);   // finite: key `base` is always in range
        float correction = __expf(m - m_new);
        // P goes into P·V in bf16; the normalizer sums the same rounded weights.
        float p[2][2], sum = 0.f;
        #pragma unroll
        for (int half = 0; half < 2; half++) {
            #pragma unroll
            for (int e = 0; e < 2; e++) { p[half][e] = bf16_to_float(float_to_bf16(__expf(s[half][e] - m_new))); sum += p[half][e]; }
        }
        sum += __shfl_xor_sync(0xffffffffu, sum, 1);
        sum += __shfl_xor_sync(0xffffffffu, sum, 2);
        l = l * correction + sum;
        m = m_new;
        u32 pa0 = pack_bf16x2(p[0][0], p[0][1]), pa2 = pack_bf16x2(p[1][0], p[1][1]);
        #pragma unroll
        for (int q = 0; q < PAIRS; q++) {
            #pragma unroll
            for (int i = 0; i < 4; i++) {
                float* acc = o[4 * q + i];
                acc[0] *= correction; acc[1] *= correction;
                // Lane (g, t) holds V[key g][dims 2t, 2t+1 of this output tile]; transposed, it
                // holds V[keys 2t, 2t+1][dim g]: the B fragment.
                u32 b0 = transpose_8x8(word(vr[0][q], i)), b1 = transpose_8x8(word(vr[1][q], i));
                mma_16816(acc, pa0, 0u, pa2, 0u, b0, b1);
            }
        }
    }

    __shared__ float shared_m[MMA_WARPS][G], shared_l[MMA_WARPS][G];
    __shared__ float shared_acc[MMA_WARPS][G][D];
    if (g < G) {
        if (t == 0) { shared_m[warp][g] = m; shared_l[warp][g] = l; }
        #pragma unroll
        for (int q = 0; q < PAIRS; q++) {
            #pragma unroll
            for (int i = 0; i < 4; i++) {
                shared_acc[warp][g][32 * q + 8 * t + 2 * i] = o[4 * q + i][0];
                shared_acc[warp][g][32 * q + 8 * t + 2 * i + 1] = o[4 * q + i][1];
            }
        }
    }
    __syncthreads();
    for (int h = 0; h < G; h++) {
        float total_m = NEG_INF;
        for (int w = 0; w < MMA_WARPS; w++) total_m = fmaxf(total_m, shared_m[w][h]);
        float total_l = 0.f;
        for (int w = 0; w < MMA_WARPS; w++) if (shared_m[w][h] != NEG_INF) total_l += shared_l[w][h] * __expf(shared_m[w][h] - total_m);
        long part = ((long)n * q_heads + kv_head * G + h) * splits + split;
        for (int d = threadIdx.x; d < D; d += blockDim.x) {
            float value = 0.f;
            for (int w = 0; w < MMA_WARPS; w++) if (shared_m[w][h] != NEG_INF) value += shared_acc[w][h][d] * __expf(shared_m[w][h] - total_m);
            part_out[part * D + d] = value;
        }
        if (threadIdx.x == 0) { part_max[part] = total_m; part_sum[part] = total_l; }
    }
}

#define DECODE_MMA_INSTANCE(NAME, G, PAIRS) \
extern "C" __global__ void NAME(const bf16* q, const bf16* kc, const bf16* vc, const int* rows, const int* positions, \
    const int* tables_of_tokens, const int* tables, int max_blocks, int q_heads, int kv_heads, int block_size, float scale, \
    int window, int min_chunk, float* part_out, float* part_max, float* part_sum) { \
    paged_decode_mma<G, PAIRS>(q, kc, vc, rows, positions, tables_of_tokens, tables, max_blocks, q_heads, kv_heads, block_size, \
                               scale, window, min_chunk, part_out, part_max, part_sum); \
}
DECODE_MMA_INSTANCE(paged_decode_mma_g1_p4, 1, 4)
DECODE_MMA_INSTANCE(paged_decode_mma_g2_p4, 2, 4)
DECODE_MMA_INSTANCE(paged_decode_mma_g4_p4, 4, 4)
DECODE_MMA_INSTANCE(paged_decode_mma_g8_p4, 8, 4)
DECODE_MMA_INSTANCE(paged_decode_mma_g3_p2, 3, 2)
DECODE_MMA_INSTANCE(paged_decode_mma_g4_p2, 4, 2)
DECODE_MMA_INSTANCE(paged_decode_mma_g2_p2, 2, 2)
DECODE_MMA_INSTANCE(paged_decode_mma_g8_p2, 8, 2)
