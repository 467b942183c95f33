// Split-K decode attention on tensor cores (mma.sync m16n8k16, bf16 in, f32 accumulation; sm_80
// and later), for the same grid, splits and partials as paged_decode.cu (its combine merges
// them). The G ≤ 8 query heads that share a KV head are the rows of mma's A operand (the other
// rows are zero), so each key and value is read once for all of them and the scores and the
// weighted sum are mma's work instead of warp shuffles.
//   grid (N decode tokens, Hkv, splits); 4 warps. Arguments as paged_decode.cu's (dim = D); q [T, Hq, D] bf16; caches bf16. D 64 or 128. Dynamic shared memory:
//   DECODE_MMA_WARPS · STAGES stages of 2 · 16 rows of D + 8 bf16 (69,632 bytes at D 128, 2 stages).
// Each warp streams its own tiles of 16 consecutive keys (tiles warp, warp + 4, ...) through its
// own ring of stages (cp.async), keeps an online softmax per row on the S fragments, and the warps
// merge through shared memory at the end (write_split_partials, common.cuh).
// Fragments (lane = 4 g + c): S = Q Kᵀ in two 8-key accumulators, row g's scores at keys 2c, 2c+1
// of each; K's B fragments by ldmatrix (rows = keys), V's by ldmatrix.trans (rows = keys, so each
// lane gets two consecutive keys of one dim); P goes from the S accumulators to an A fragment.
#define DECODE_MMA_WARPS 4
#define DECODE_MMA_KEYS 16

// Four 8 x 8 bf16 matrices from shared memory; lane L gives the address of row L % 8 of matrix
// L / 8. Plain: lane 4 g + c receives row g, columns 2c and 2c + 1 of each; transposed: column g,
// rows 2c and 2c + 1.
__device__ __forceinline__ void load_matrices(u32* r, const bf16* row) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"((u32)__cvta_generic_to_shared(row)));
}
__device__ __forceinline__ void load_matrices_transposed(u32* r, const bf16* row) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"((u32)__cvta_generic_to_shared(row)));
}

template <int D, int STAGES> __device__ void paged_decode_mma(
    const bf16* query, const bf16* key_cache, const bf16* value_cache, const int* rows,
    const int* token_positions, const int* token_tables, const int* block_tables, int max_blocks,
    int q_heads, int kv_heads, int block_size, float scale, int window, int min_chunk,
    float* part_out, float* part_max, float* part_sum)
{
    constexpr int STRIDE = D + 8;   // 16 padding bytes: the 8 rows an ldmatrix phase reads fall on distinct banks
    constexpr int STAGE = 2 * DECODE_MMA_KEYS * STRIDE;
    extern __shared__ __align__(16) unsigned char shared_bytes[];
    // The step's inputs (rows, positions, tables) are uploaded before its first kernel and the
    // cache holds every key before `position` from earlier steps; the previous kernel writes the
    // queries and the key and value at `position`. So the indices, and the first tile when all
    // its keys precede `position`, are read before waiting for the previous kernel.
    int n = blockIdx.x, kv_head = blockIdx.y, split = blockIdx.z, splits = gridDim.z;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, c = lane & 3;
    int group = q_heads / kv_heads;
    int t = rows[n];
    int position = token_positions[t];
    const int* table = block_tables + (long)token_tables[t] * max_blocks;
    DecodeSplit range(position, window, split, splits, min_chunk);
    int used = range.used, begin = range.begin, end = range.end;

    bf16* ring = (bf16*)shared_bytes + warp * STAGES * STAGE;
    int tiles = split < used ? (end - begin + DECODE_MMA_KEYS - 1) / DECODE_MMA_KEYS : 0;
    int mine = tiles > warp ? (tiles - warp + DECODE_MMA_WARPS - 1) / DECODE_MMA_WARPS : 0;
    auto tile_start = [&](int k) { return begin + (warp + k * DECODE_MMA_WARPS) * DECODE_MMA_KEYS; };
    auto copy_tile = [&](int k) {   // this warp's tile k into stage k % STAGES
        copy_kv_tile_async<D, DECODE_MMA_KEYS, STRIDE>(ring + k % STAGES * STAGE, key_cache, value_cache, table, tile_start(k), end,
                                                       block_size, kv_heads, kv_head, lane);
    };
    bool early[STAGES - 1];
    #pragma unroll
    for (int k = 0; k < STAGES - 1; k++) {
        early[k] = k < mine && min(tile_start(k) + DECODE_MMA_KEYS, end) - 1 < position;
        if (early[k]) copy_tile(k);
    }
    begin_after_previous_kernel();
    if (split >= used) return;   // the combine reads only the splits a sequence used
    // Q's A fragments over D in chunks of 16 dims: row g is query head kv_head · G + g (zero past
    // the group), rows 8-15 are zero.
    u32 qf[D / 16][2];
    int head = kv_head * group + min(g, group - 1);
    const bf16* q = query + ((long)t * q_heads + head) * D + 2 * c;
    #pragma unroll
    for (int kc = 0; kc < D / 16; kc++) {
        qf[kc][0] = g < group ? *(const u32*)(q + kc * 16) : 0u;
        qf[kc][1] = g < group ? *(const u32*)(q + kc * 16 + 8) : 0u;
    }
    float o[D / 8][4], m = NEG_INF, l = 0.f;   // row g's state (o's elements 2, 3 are the zero rows')
    #pragma unroll
    for (int dt = 0; dt < D / 8; dt++) o[dt][0] = o[dt][1] = o[dt][2] = o[dt][3] = 0.f;
    #pragma unroll
    for (int k = 0; k < STAGES - 1; k++) {
        if (k < mine && !early[k]) copy_tile(k);
        commit_async_copies();
    }
    // This lane's ldmatrix rows: for K, key (lane / 16) · 8 + lane % 8 at dims +8 for odd
    // matrices; for V, key ((lane / 8) & 1) · 8 + lane % 8 at dims +8 for matrices 2 and 3.
    int key_row = (lane >> 4) * 8 + (lane & 7), key_dims = ((lane >> 3) & 1) * 8;
    int value_row = ((lane >> 3) & 1) * 8 + (lane & 7), value_dims = (lane >> 4) * 8;
    for (int k = 0; k < mine; k++) {
        int ahead = k + STAGES - 1;
        if (ahead < mine) copy_tile(ahead);
        commit_async_copies();
        wait_async_copies<STAGES - 1>();
        __syncwarp();
        bf16* stage = ring + k % STAGES * STAGE;
        // S [16 rows, 16 keys]: s[nt] holds keys nt · 8 .. nt · 8 + 7.
        float s[2][4] = {{0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}};
        #pragma unroll
        for (int kc = 0; kc < D / 16; kc++) {
            u32 b[4];   // keys 0-7 dims +0, +8; keys 8-15 dims +0, +8
            load_matrices(b, stage + key_row * STRIDE + kc * 16 + key_dims);
            u32 a[4] = {qf[kc][0], 0u, qf[kc][1], 0u};
            mma_bf16(s[0], a, b[0], b[1]);
            mma_bf16(s[1], a, b[2], b[3]);
        }
        // Row g's online softmax: its 16 scores lie in the 4 lanes of its quad.
        int key0 = tile_start(k);
        float tile_max = NEG_INF;
        #pragma unroll
        for (int nt = 0; nt < 2; nt++) {
            #pragma unroll
            for (int e = 0; e < 2; e++) {
                float score = key0 + nt * 8 + 2 * c + e < end ? s[nt][e] * scale : NEG_INF;
                s[nt][e] = score;
                tile_max = fmaxf(tile_max, score);
            }
        }
        tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
        tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 2));
        float m_new = fmaxf(m, tile_max);   // finite: a warp's tile starts before end
        float correction = __expf(m - m_new), sum = 0.f;
        #pragma unroll
        for (int nt = 0; nt < 2; nt++) {
            #pragma unroll
            for (int e = 0; e < 2; e++) { s[nt][e] = __expf(s[nt][e] - m_new); sum += s[nt][e]; }
        }
        sum += __shfl_xor_sync(0xffffffffu, sum, 1);
        sum += __shfl_xor_sync(0xffffffffu, sum, 2);
        l = l * correction + sum;
        m = m_new;
        // O += P V: P [16 rows, 16 keys] as an A fragment (rows 8-15 zero), V's B fragments
        // two 8-dim tiles per ldmatrix.
        u32 p[4] = {pack_bf16(s[0][0], s[0][1]), 0u, pack_bf16(s[1][0], s[1][1]), 0u};
        #pragma unroll
        for (int dt = 0; dt < D / 8; dt += 2) {
            u32 b[4];   // dims dt: keys 0-7, 8-15; dims dt + 1: keys 0-7, 8-15
            load_matrices_transposed(b, stage + (DECODE_MMA_KEYS + value_row) * STRIDE + dt * 8 + value_dims);
            o[dt][0] *= correction; o[dt][1] *= correction;
            o[dt + 1][0] *= correction; o[dt + 1][1] *= correction;
            mma_bf16(o[dt], p, b[0], b[1]);
            mma_bf16(o[dt + 1], p, b[2], b[3]);
        }
        __syncwarp();   // every lane has read the stage before it is refilled
    }
    __syncthreads();   // the rings are free: the merge reuses their shared memory
    float (*shared_m)[8] = (float (*)[8])shared_bytes;
    float (*shared_l)[8] = shared_m + DECODE_MMA_WARPS;
    float (*shared_acc)[8][D] = (float (*)[8][D])(shared_l + DECODE_MMA_WARPS);
    if (g < group) {
        if (c == 0) { shared_m[warp][g] = m; shared_l[warp][g] = l; }
        #pragma unroll
        for (int dt = 0; dt < D / 8; dt++) { shared_acc[warp][g][dt * 8 + 2 * c] = o[dt][0]; shared_acc[warp][g][dt * 8 + 2 * c + 1] = o[dt][1]; }
    }
    __syncthreads();
    write_split_partials<DECODE_MMA_WARPS, 8, D>(shared_m, shared_l, shared_acc, group, D, ((long)n * q_heads + kv_head * group) * splits + split,
                               splits, part_out, part_max, part_sum);
}

#define DECODE_MMA_INSTANCE(NAME, DIM, STAGES) \
extern "C" __global__ void NAME(const bf16* q, const bf16* kc, const bf16* vc, const int* rows, const int* positions, \
    const int* tables_of_tokens, const int* tables, int max_blocks, int q_heads, int kv_heads, int dim, int block_size, float scale, \
    int window, int min_chunk, float* part_out, float* part_max, float* part_sum) { \
    paged_decode_mma<DIM, STAGES>(q, kc, vc, rows, positions, tables_of_tokens, tables, max_blocks, q_heads, kv_heads, block_size, scale, \
                                  window, min_chunk, part_out, part_max, part_sum); \
}
DECODE_MMA_INSTANCE(paged_decode_mma_d64_s2, 64, 2)
DECODE_MMA_INSTANCE(paged_decode_mma_d64_s3, 64, 3)
DECODE_MMA_INSTANCE(paged_decode_mma_d128_s2, 128, 2)
DECODE_MMA_INSTANCE(paged_decode_mma_d128_s3, 128, 3)
