// Split-K ("flash-decoding") attention for tokens that are alone in their sequence's step
// (decode), GQA-aware: one block reads each key and value once for all G = Hq/Hkv query heads
// that share it.
//   grid (N decode tokens, Hkv, splits); 4 warps. Each sequence divides its own keys: it uses
//   min(splits, ceil(keys / min_chunk)) splits of equal size and its other blocks return at
//   once, so the grid does not depend on the lengths (a CUDA graph replays it at any length).
//   rows [N]: the token's row in query/out; positions, token_tables, block_tables as in
//   paged_attention.cu. Partials (f32): part_out [N, Hq, splits, D], part_max/part_sum [N, Hq, splits].
// Warps take tiles of 8 keys in turn (the generic instances: every 4th key) with an online
// softmax per head; lanes own dims; the warps then merge through shared memory. D <= 256, G <= 8.
#define DECODE_WARPS 4
#define DECODE_TILE 8
#define GENERIC_G 8
#define GENERIC_LANE_DIMS 8
// Shared-memory stages per warp in the bf16 instances' key pipeline (1 or more). On an H200 at 64
// sequences of ~1,100 tokens: 3 stages 7,599 tok/s, 2 7,585, tiles loaded into registers 6,952
// (before the occupancy bound below, under which 2 stages win: 32 KB a block, 5 blocks fit).
#ifndef DECODE_STAGES
#define DECODE_STAGES 2
#endif

// G query heads per KV head and LANE_DIMS = ceil(D / 32) are compile-time in the common
// instances (registers stay registers); the generic instance bounds them at 8 and 8.
// Specialized instances (D = 32 * LANE_DIMS exactly) give each lane LANE_DIMS contiguous dims,
// read with one vector load; the generic one strides lanes over dims (lane, lane + 32, ...).
template <int LANE_DIMS> __device__ __forceinline__ void load_lane_dims(const bf16* p, int lane, float* out) {
    if constexpr (LANE_DIMS == 4) {
        uint2 raw = *(const uint2*)(p + lane * 4);
        out[0] = __uint_as_float(raw.x << 16); out[1] = __uint_as_float(raw.x & 0xffff0000u);
        out[2] = __uint_as_float(raw.y << 16); out[3] = __uint_as_float(raw.y & 0xffff0000u);
    } else if constexpr (LANE_DIMS == 2) {
        u32 raw = *(const u32*)(p + lane * 2);
        out[0] = __uint_as_float(raw << 16); out[1] = __uint_as_float(raw & 0xffff0000u);
    } else {
        #pragma unroll
        for (int i = 0; i < LANE_DIMS; i++) out[i] = bf16_to_float(p[lane * LANE_DIMS + i]);
    }
}
template <int LANE_DIMS> __device__ __forceinline__ void load_lane_dims(const float* p, int lane, float* out) {
    #pragma unroll
    for (int i = 0; i < LANE_DIMS; i++) out[i] = p[lane * LANE_DIMS + i];
}

// One lane's LANE_DIMS contiguous bf16 values, kept raw (half the registers of floats) while
// the load is in flight.
template <int LANE_DIMS> struct LaneRaw { u32 word[(LANE_DIMS + 1) / 2]; };
template <int LANE_DIMS> __device__ __forceinline__ LaneRaw<LANE_DIMS> load_raw(const bf16* p, int lane) {
    LaneRaw<LANE_DIMS> raw;
    if constexpr (LANE_DIMS == 8) {
        uint4 v = *(const uint4*)(p + lane * 8);
        raw.word[0] = v.x; raw.word[1] = v.y; raw.word[2] = v.z; raw.word[3] = v.w;
    } else if constexpr (LANE_DIMS == 4) {
        uint2 v = *(const uint2*)(p + lane * 4);
        raw.word[0] = v.x; raw.word[1] = v.y;
    } else if constexpr (LANE_DIMS == 2) {
        raw.word[0] = *(const u32*)(p + lane * 2);
    } else {
        raw.word[0] = p[lane];
    }
    return raw;
}
template <int LANE_DIMS> __device__ __forceinline__ void unpack(const LaneRaw<LANE_DIMS>& raw, float* out) {
    if constexpr (LANE_DIMS == 1) {
        out[0] = __uint_as_float(raw.word[0] << 16);
    } else {
        #pragma unroll
        for (int i = 0; i < LANE_DIMS / 2; i++) {
            out[2 * i] = __uint_as_float(raw.word[i] << 16);
            out[2 * i + 1] = __uint_as_float(raw.word[i] & 0xffff0000u);
        }
    }
}

// Sums part[u] over the warp for each of 8 keys at once: three halving exchanges (lanes with
// bit 4, 3, 2 set keep the upper half) then two plain ones. Lane L ends with key (L >> 2) & 7.
__device__ __forceinline__ float reduce_tile8(float* part, int lane) {
    bool upper = lane & 16;
    #pragma unroll
    for (int k = 0; k < 4; k++) {
        float send = upper ? part[k] : part[k + 4], keep = upper ? part[k + 4] : part[k];
        part[k] = keep + __shfl_xor_sync(0xffffffffu, send, 16);
    }
    upper = lane & 8;
    #pragma unroll
    for (int k = 0; k < 2; k++) {
        float send = upper ? part[k] : part[k + 2], keep = upper ? part[k + 2] : part[k];
        part[k] = keep + __shfl_xor_sync(0xffffffffu, send, 8);
    }
    upper = lane & 4;
    float send = upper ? part[0] : part[1], keep = upper ? part[1] : part[0];
    float v = keep + __shfl_xor_sync(0xffffffffu, send, 4);
    v += __shfl_xor_sync(0xffffffffu, v, 2);
    return v + __shfl_xor_sync(0xffffffffu, v, 1);
}

// The online softmax of G query heads over one more key: scores by warp sums, then the
// running maximum, normalizer and weighted values.
template <int G, int LANE_DIMS> __device__ __forceinline__ void online_update(
    const float (*q)[LANE_DIMS], float (*acc)[LANE_DIMS], float* m, float* l, const float* k, const float* v, int group) {
    #pragma unroll
    for (int g = 0; g < G; g++) {
        if (g < group) {
            float dot = 0.f;
            #pragma unroll
            for (int i = 0; i < LANE_DIMS; i++) dot += q[g][i] * k[i];
            float s = warp_sum(dot);
            float m_new = fmaxf(m[g], s);
            float correction = __expf(m[g] - m_new), p = __expf(s - m_new);
            l[g] = l[g] * correction + p;
            #pragma unroll
            for (int i = 0; i < LANE_DIMS; i++) acc[g][i] = acc[g][i] * correction + p * v[i];
            m[g] = m_new;
        }
    }
}

// The online softmax of G query heads over a tile of 8 keys starting at `tile` (those at end or
// past it masked): the 8 scores of a head are reduced together (a transposing butterfly: 9
// shuffles for 8 keys, after which lane L holds key (L >> 2) & 7), and the running maximum,
// normalizer and accumulators advance once per tile. p[g]: this lane's key's weight.
template <int G, int LANE_DIMS> __device__ __forceinline__ void tile_scores(
    const float (*q)[LANE_DIMS], const LaneRaw<LANE_DIMS>* key_raw, int tile, int end, int lane,
    float (*acc)[LANE_DIMS], float* m, float* l, float* p) {
    bool mine_valid = tile + ((lane >> 2) & 7) < end;
    #pragma unroll
    for (int g = 0; g < G; g++) {
        float part[DECODE_TILE];
        #pragma unroll
        for (int u = 0; u < DECODE_TILE; u++) {
            float kf[LANE_DIMS];
            unpack(key_raw[u], kf);
            part[u] = 0.f;
            #pragma unroll
            for (int i = 0; i < LANE_DIMS; i++) part[u] += q[g][i] * kf[i];
        }
        float score = reduce_tile8(part, lane);
        score = mine_valid ? score : NEG_INF;
        float tile_max = fmaxf(score, __shfl_xor_sync(0xffffffffu, score, 4));
        tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 8));
        tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 16));
        float m_new = fmaxf(m[g], tile_max);
        float correction = __expf(m[g] - m_new);
        p[g] = __expf(score - m_new);
        float sum = p[g] + __shfl_xor_sync(0xffffffffu, p[g], 4);
        sum += __shfl_xor_sync(0xffffffffu, sum, 8);
        sum += __shfl_xor_sync(0xffffffffu, sum, 16);
        l[g] = l[g] * correction + sum;
        m[g] = m_new;
        #pragma unroll
        for (int i = 0; i < LANE_DIMS; i++) acc[g][i] *= correction;
    }
}

// Adds the tile's weighted values (key u's weight is held by lane 4u) into the accumulators.
template <int G, int LANE_DIMS> __device__ __forceinline__ void tile_values(
    const LaneRaw<LANE_DIMS>* value_raw, const float* p, float (*acc)[LANE_DIMS]) {
    #pragma unroll
    for (int u = 0; u < DECODE_TILE; u++) {
        float vf[LANE_DIMS];
        unpack(value_raw[u], vf);
        #pragma unroll
        for (int g = 0; g < G; g++) {
            float weight = __shfl_sync(0xffffffffu, p[g], u * 4);
            #pragma unroll
            for (int i = 0; i < LANE_DIMS; i++) acc[g][i] += weight * vf[i];
        }
    }
}

template <typename T, int G, int LANE_DIMS, bool CONTIGUOUS> __device__ void paged_decode(
    const T* query, const T* key_cache, const T* value_cache, const int* rows,
    const int* token_positions, const int* token_tables, const int* block_tables, int max_blocks,
    int q_heads, int kv_heads, int dim, int block_size, float scale, int window, int min_chunk,
    float* part_out, float* part_max, float* part_sum)
{
    // The bf16 instances' cp.async rings, then (after the key loop) the warps' softmax states.
    constexpr int RING_BYTES = CONTIGUOUS && sizeof(T) == 2 ? DECODE_WARPS * DECODE_STAGES * 2 * DECODE_TILE * LANE_DIMS * 32 * 2 : 0;
    constexpr int MERGE_BYTES = DECODE_WARPS * G * (2 + LANE_DIMS * 32) * 4;
    __shared__ __align__(16) unsigned char shared_bytes[RING_BYTES > MERGE_BYTES ? RING_BYTES : MERGE_BYTES];
    begin_after_previous_kernel();
    int n = blockIdx.x, kv_head = blockIdx.y, split = blockIdx.z, splits = gridDim.z;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int group = q_heads / kv_heads;
    int t = rows[n];
    int position = token_positions[t];
    const int* table = block_tables + (long)token_tables[t] * max_blocks;
    DecodeSplit range(position, window, split, splits, min_chunk);
    if (split >= range.used) return;   // the combine reads only the splits a sequence used
    int begin = range.begin, end = range.end;

    float q[G][LANE_DIMS], acc[G][LANE_DIMS], m[G], l[G];
    #pragma unroll
    for (int g = 0; g < G; g++) {
        m[g] = NEG_INF; l[g] = 0.f;
        const T* qh = query + ((long)t * q_heads + kv_head * group + min(g, group - 1)) * dim;
        #pragma unroll
        for (int i = 0; i < LANE_DIMS; i++) {
            int d = CONTIGUOUS ? lane * LANE_DIMS + i : lane + 32 * i;
            q[g][i] = (g < group && d < dim) ? load_as_float(qh, d) * scale : 0.f;
            acc[g][i] = 0.f;
        }
    }
    if constexpr (CONTIGUOUS && sizeof(T) == 2) {
        // Each warp streams its tiles of 8 consecutive keys through its own ring of
        // DECODE_STAGES shared-memory stages (cp.async: the bytes in flight hold no registers),
        // so the next tiles' loads run while this one is computed.
        constexpr int D = LANE_DIMS * 32, STAGE = 2 * DECODE_TILE * D;
        bf16* ring = (bf16*)shared_bytes + warp * DECODE_STAGES * STAGE;
        int tiles = (end - begin + DECODE_TILE - 1) / DECODE_TILE;
        int mine = tiles > warp ? (tiles - warp + DECODE_WARPS - 1) / DECODE_WARPS : 0;
        auto copy_tile = [&](int k) {   // this warp's tile k into stage k % DECODE_STAGES
            copy_kv_tile_async<D, DECODE_TILE, D>(ring + k % DECODE_STAGES * STAGE, (const bf16*)key_cache, (const bf16*)value_cache, table,
                                                  begin + (warp + k * DECODE_WARPS) * DECODE_TILE, end, block_size, kv_heads, kv_head, lane);
        };
        #pragma unroll
        for (int k = 0; k < DECODE_STAGES - 1; k++) {
            if (k < mine) copy_tile(k);
            commit_async_copies();
        }
        for (int k = 0; k < mine; k++) {
            int ahead = k + DECODE_STAGES - 1;
            if (ahead < mine) copy_tile(ahead);
            commit_async_copies();
            wait_async_copies<DECODE_STAGES - 1>();
            __syncwarp();
            const bf16* stage = ring + k % DECODE_STAGES * STAGE;
            LaneRaw<LANE_DIMS> key_raw[DECODE_TILE];
            #pragma unroll
            for (int u = 0; u < DECODE_TILE; u++) key_raw[u] = load_raw<LANE_DIMS>(stage + u * D, lane);
            float p[G];
            tile_scores<G, LANE_DIMS>(q, key_raw, begin + (warp + k * DECODE_WARPS) * DECODE_TILE, end, lane, acc, m, l, p);
            LaneRaw<LANE_DIMS> value_raw[DECODE_TILE];
            #pragma unroll
            for (int u = 0; u < DECODE_TILE; u++) value_raw[u] = load_raw<LANE_DIMS>(stage + (DECODE_TILE + u) * D, lane);
            tile_values<G, LANE_DIMS>(value_raw, p, acc);
            __syncwarp();   // every lane has read the stage before it is refilled
        }
    } else {
        // Two keys per iteration, both loaded before either is used.
        for (int j = begin + warp; j < end; j += 2 * DECODE_WARPS) {
            float kv[2][LANE_DIMS], vv[2][LANE_DIMS];
            bool valid[2] = {true, j + DECODE_WARPS < end};
            #pragma unroll
            for (int u = 0; u < 2; u++) {
                int key = valid[u] ? j + u * DECODE_WARPS : j;
                long slot = (long)table[key / block_size] * block_size + key % block_size;
                const T* k = key_cache + (slot * kv_heads + kv_head) * dim;
                const T* v = value_cache + (slot * kv_heads + kv_head) * dim;
                if constexpr (CONTIGUOUS) {
                    load_lane_dims<LANE_DIMS>(k, lane, kv[u]);
                    load_lane_dims<LANE_DIMS>(v, lane, vv[u]);
                } else {
                    #pragma unroll
                    for (int i = 0; i < LANE_DIMS; i++) {
                        int d = lane + 32 * i;
                        kv[u][i] = d < dim ? load_as_float(k, d) : 0.f;
                        vv[u][i] = d < dim ? load_as_float(v, d) : 0.f;
                    }
                }
            }
            #pragma unroll
            for (int u = 0; u < 2; u++) {
                if (!valid[u]) break;
                online_update<G, LANE_DIMS>(q, acc, m, l, kv[u], vv[u], group);
            }
        }
    }
    __syncthreads();   // the rings are free: the merge reuses their shared memory
    float (*shared_m)[G] = (float (*)[G])shared_bytes;
    float (*shared_l)[G] = shared_m + DECODE_WARPS;
    float (*shared_acc)[G][LANE_DIMS * 32] = (float (*)[G][LANE_DIMS * 32])(shared_l + DECODE_WARPS);
    #pragma unroll
    for (int g = 0; g < G; g++) {
        if (lane == 0) { shared_m[warp][g] = m[g]; shared_l[warp][g] = l[g]; }
        #pragma unroll
        for (int i = 0; i < LANE_DIMS; i++) shared_acc[warp][g][CONTIGUOUS ? lane * LANE_DIMS + i : lane + 32 * i] = acc[g][i];
    }
    __syncthreads();
    write_split_partials<DECODE_WARPS, G, LANE_DIMS * 32>(shared_m, shared_l, shared_acc, group, dim, ((long)n * q_heads + kv_head * group) * splits + split,
                                           splits, part_out, part_max, part_sum);
}

// The specialized instances keep registers for DECODE_MIN_BLOCKS blocks per multiprocessor. On an
// H200 at 64 sequences of ~1,100 tokens (G 4, D 128): 2 stages and 5 blocks 7,787/7,931 full-width
// tok/s, 3 stages unbounded (108 registers, 4 blocks) 7,753/7,728, 2 stages and 6 blocks 7,453/7,612.
// G 8 would spill under the bound and the generic instances are not the hot path: they go unbounded.
#ifndef DECODE_MIN_BLOCKS
#define DECODE_MIN_BLOCKS 5
#endif
#define OCCUPANCY_BOUND __launch_bounds__(DECODE_WARPS * 32, DECODE_MIN_BLOCKS)
#define DECODE_INSTANCE(NAME, TYPE, G, LANE_DIMS, CONTIGUOUS, BOUND) \
extern "C" __global__ void BOUND NAME(const TYPE* q, const TYPE* kc, const TYPE* vc, const int* rows, \
    const int* positions, const int* tables_of_tokens, const int* tables, int max_blocks, int q_heads, int kv_heads, int dim, \
    int block_size, float scale, int window, int min_chunk, float* part_out, float* part_max, float* part_sum) { \
    paged_decode<TYPE, G, LANE_DIMS, CONTIGUOUS>(q, kc, vc, rows, positions, tables_of_tokens, tables, max_blocks, q_heads, kv_heads, dim, \
                                      block_size, scale, window, min_chunk, part_out, part_max, part_sum); \
}
DECODE_INSTANCE(paged_decode_bf16, bf16, GENERIC_G, GENERIC_LANE_DIMS, false, )
DECODE_INSTANCE(paged_decode_f32, float, GENERIC_G, GENERIC_LANE_DIMS, false, )
DECODE_INSTANCE(paged_decode_bf16_g1_d4, bf16, 1, 4, true, OCCUPANCY_BOUND)
DECODE_INSTANCE(paged_decode_bf16_g2_d4, bf16, 2, 4, true, OCCUPANCY_BOUND)
DECODE_INSTANCE(paged_decode_bf16_g4_d4, bf16, 4, 4, true, OCCUPANCY_BOUND)
DECODE_INSTANCE(paged_decode_bf16_g8_d4, bf16, 8, 4, true, )
DECODE_INSTANCE(paged_decode_bf16_g3_d2, bf16, 3, 2, true, OCCUPANCY_BOUND)
DECODE_INSTANCE(paged_decode_bf16_g4_d2, bf16, 4, 2, true, OCCUPANCY_BOUND)
DECODE_INSTANCE(paged_decode_bf16_g2_d2, bf16, 2, 2, true, OCCUPANCY_BOUND)
DECODE_INSTANCE(paged_decode_bf16_g1_d2, bf16, 1, 2, true, OCCUPANCY_BOUND)

// Merges the splits a sequence used: out[rows[n], h, :] = Σ_s e^(m_s − M) o_s / Σ_s e^(m_s − M) l_s.
// grid (N, Hq), threads over D. The token's row and position are step inputs (uploaded before the
// step's first kernel), read before waiting for the previous kernel; each thread then merges the
// splits in one pass (online rescaling), its loads independent of the running state, so they
// are in flight together.
template <typename T> __device__ void combine(const float* part_out, const float* part_max, const float* part_sum,
                                              const int* rows, const int* token_positions, int window, int min_chunk,
                                              T* out, int q_heads, int dim, int splits) {
    int n = blockIdx.x, h = blockIdx.y;
    int row = rows[n];
    int position = token_positions[row];
    begin_after_previous_kernel();
    int used = DecodeSplit(position, window, 0, splits, min_chunk).used;
    long base = ((long)n * q_heads + h) * splits;
    T* o = out + ((long)row * q_heads + h) * dim;
    for (int d = threadIdx.x; d < dim; d += blockDim.x) {
        float m = NEG_INF, l = 0.f, acc = 0.f;
        #pragma unroll 8
        for (int s = 0; s < used; s++) {
            float split_max = part_max[base + s], split_sum = part_sum[base + s], split_out = part_out[(base + s) * dim + d];
            if (split_max == NEG_INF) continue;   // a split that saw no visible key
            float m_new = fmaxf(m, split_max), old_scale = __expf(m - m_new), new_scale = __expf(split_max - m_new);
            l = l * old_scale + split_sum * new_scale;
            acc = acc * old_scale + split_out * new_scale;
            m = m_new;
        }
        store_float(o, d, acc / l);
    }
}
#define COMBINE_INSTANCE(NAME, TYPE) \
extern "C" __global__ void NAME(const float* po, const float* pm, const float* ps, const int* rows, const int* positions, int window, \
                                int min_chunk, TYPE* out, int q_heads, int dim, int splits) { \
    combine(po, pm, ps, rows, positions, window, min_chunk, out, q_heads, dim, splits); \
}
COMBINE_INSTANCE(decode_combine_bf16, bf16)
COMBINE_INSTANCE(decode_combine_f32, float)
