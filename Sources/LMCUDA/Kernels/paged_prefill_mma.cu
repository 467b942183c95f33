// Flash-attention prefill on tensor cores (mma.sync m16n8k16, bf16 in, f32 accumulation; sm_80
// and later) for the same query tiles as paged_prefill.cu: up to 32 consecutive new tokens of one
// sequence and one query head per block, 2 warps of 16 rows. Key and value tiles of 32 stream
// through two shared-memory stages (cp.async) over the paged cache; per tile S = Q Kᵀ (scaled,
// causal and window masks), an online softmax on the S fragments, and O += P V with P taken from
// the S accumulators as they lie (rounded to bf16, as FlashAttention does).
//   grid (tiles, Hq); 64 threads. tiles [n, 2]: first row, row count ≤ 32. positions,
//   token_tables, block_tables as in paged_prefill.cu; q, out [T, Hq, D] bf16. D 64 or 128.
// Fragment layouts (PTX ISA, mma.m16n8k16 .bf16): lane = 4 g + c; A (16 x 16, row-major) regs
// {(g, 2c..2c+1), (g+8, 2c..), (g, 2c+8..), (g+8, 2c+8..)}; B (16 x 8, column-major) regs
// {(2c..2c+1, g), (2c+8..2c+9, g)}; C (16 x 8) {(g, 2c), (g, 2c+1), (g+8, 2c), (g+8, 2c+1)}.
#define MMA_KEYS 32
#define MMA_WARPS 2

template <int D> __device__ void paged_prefill_mma(
    const bf16* query, const bf16* key_cache, const bf16* value_cache, bf16* out, const int* tiles,
    const int* token_positions, const int* token_tables, const int* block_tables, int max_blocks,
    int q_heads, int kv_heads, int block_size, float scale, int window)
{
    constexpr int STRIDE = D + 8;   // bf16 per shared row: the 16 padding bytes put the 8 rows a fragment reads on distinct banks
    __shared__ __align__(16) bf16 keys[2][MMA_KEYS * STRIDE], values[2][MMA_KEYS * STRIDE];
    begin_after_previous_kernel();
    int tile = blockIdx.x, h = blockIdx.y, kv_head = h / (q_heads / kv_heads);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, c = lane & 3;
    int first_row = tiles[2 * tile], count = tiles[2 * tile + 1];
    const int* table = block_tables + (long)token_tables[first_row] * max_blocks;
    int first_position = token_positions[first_row], last_position = first_position + count - 1;
    int rows[2] = {warp * 16 + g, warp * 16 + g + 8};   // this lane's two query rows in the tile

    // Q as A fragments over D in chunks of 16 dims (rows past the tile are zero).
    u32 qf[D / 16][4];
    #pragma unroll
    for (int half = 0; half < 2; half++) {
        const bf16* q = query + ((long)(first_row + rows[half]) * q_heads + h) * D + 2 * c;
        bool valid = rows[half] < count;
        #pragma unroll
        for (int kc = 0; kc < D / 16; kc++) {
            qf[kc][half] = valid ? *(const u32*)(q + kc * 16) : 0u;
            qf[kc][2 + half] = valid ? *(const u32*)(q + kc * 16 + 8) : 0u;
        }
    }
    float o[D / 8][4], m[2] = {NEG_INF, NEG_INF}, l[2] = {0.f, 0.f};
    #pragma unroll
    for (int dt = 0; dt < D / 8; dt++) o[dt][0] = o[dt][1] = o[dt][2] = o[dt][3] = 0.f;

    int begin = window > 0 ? max(0, first_position - window + 1) : 0;
    int key_tiles = (last_position - begin) / MMA_KEYS + 1;
    // Starts copying key tile i into stage i & 1: each thread 16-byte chunks of keys and values
    // (keys past the last position repeat it, so masked lanes still read finite values).
    auto copy_tile = [&](int i) {
        int key0 = begin + i * MMA_KEYS;
        #pragma unroll
        for (int chunk = threadIdx.x; chunk < MMA_KEYS * D / 8; chunk += MMA_WARPS * 32) {
            int k = chunk / (D / 8), d = chunk % (D / 8) * 8;
            int j = min(key0 + k, last_position);
            long offset = (((long)table[j / block_size] * block_size + j % block_size) * kv_heads + kv_head) * D + d;
            copy_async_16(&keys[i & 1][k * STRIDE + d], key_cache + offset);
            copy_async_16(&values[i & 1][k * STRIDE + d], value_cache + offset);
        }
        commit_async_copies();
    };
    copy_tile(0);
    for (int i = 0; i < key_tiles; i++) {
        if (i + 1 < key_tiles) copy_tile(i + 1); else commit_async_copies();
        wait_async_copies<1>();
        __syncthreads();
        const bf16* ks = keys[i & 1];
        const bf16* vs = values[i & 1];
        int key0 = begin + i * MMA_KEYS;
        // S [16 rows, 32 keys] in four 8-key accumulators.
        float s[4][4];
        #pragma unroll
        for (int nt = 0; nt < 4; nt++) s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
        #pragma unroll
        for (int kc = 0; kc < D / 16; kc++) {
            #pragma unroll
            for (int nt = 0; nt < 4; nt++) {
                const bf16* k = ks + (nt * 8 + g) * STRIDE + kc * 16 + 2 * c;
                mma_bf16(s[nt], qf[kc], *(const u32*)k, *(const u32*)(k + 8));
            }
        }
        // Online softmax per row: the row's 32 scores lie in the 4 lanes of its quad.
        #pragma unroll
        for (int half = 0; half < 2; half++) {
            int row = rows[half], position = first_position + row;
            float tile_max = NEG_INF;
            #pragma unroll
            for (int nt = 0; nt < 4; nt++) {
                #pragma unroll
                for (int e = 0; e < 2; e++) {
                    int j = key0 + nt * 8 + 2 * c + e;
                    bool visible = row < count && j <= position && (window <= 0 || j > position - window);
                    float score = visible ? s[nt][2 * half + e] * scale : NEG_INF;
                    s[nt][2 * half + e] = score;
                    tile_max = fmaxf(tile_max, score);
                }
            }
            tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
            tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 2));
            float m_new = fmaxf(m[half], tile_max);
            // A row that has seen no visible key yet keeps m = -inf: nothing to rescale or add.
            float correction = m_new == NEG_INF ? 1.f : __expf(m[half] - m_new);
            float sum = 0.f;
            #pragma unroll
            for (int nt = 0; nt < 4; nt++) {
                #pragma unroll
                for (int e = 0; e < 2; e++) {
                    float p = m_new == NEG_INF ? 0.f : __expf(s[nt][2 * half + e] - m_new);
                    s[nt][2 * half + e] = p;
                    sum += p;
                }
            }
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            sum += __shfl_xor_sync(0xffffffffu, sum, 2);
            l[half] = l[half] * correction + sum;
            m[half] = m_new;
            #pragma unroll
            for (int dt = 0; dt < D / 8; dt++) { o[dt][2 * half] *= correction; o[dt][2 * half + 1] *= correction; }
        }
        // O += P V: P's C fragments are A fragments of the 16-key halves of the tile; V's
        // B fragments pair two keys' values of one dim.
        #pragma unroll
        for (int kc = 0; kc < 2; kc++) {
            u32 p[4] = {pack_bf16(s[2 * kc][0], s[2 * kc][1]), pack_bf16(s[2 * kc][2], s[2 * kc][3]),
                        pack_bf16(s[2 * kc + 1][0], s[2 * kc + 1][1]), pack_bf16(s[2 * kc + 1][2], s[2 * kc + 1][3])};
            const bf16* v = vs + (kc * 16 + 2 * c) * STRIDE + g;
            #pragma unroll
            for (int dt = 0; dt < D / 8; dt++) {
                u32 b0 = (u32)v[dt * 8] | ((u32)v[STRIDE + dt * 8] << 16);
                u32 b1 = (u32)v[8 * STRIDE + dt * 8] | ((u32)v[9 * STRIDE + dt * 8] << 16);
                mma_bf16(o[dt], p, b0, b1);
            }
        }
        __syncthreads();   // the stage is read; the next iteration's copy may refill it
    }
    #pragma unroll
    for (int half = 0; half < 2; half++) {
        if (rows[half] >= count) continue;
        bf16* row = out + ((long)(first_row + rows[half]) * q_heads + h) * D + 2 * c;
        float inverse = 1.f / l[half];
        #pragma unroll
        for (int dt = 0; dt < D / 8; dt++)
            *(u32*)(row + dt * 8) = pack_bf16(o[dt][2 * half] * inverse, o[dt][2 * half + 1] * inverse);
    }
}

#define PREFILL_MMA_INSTANCE(NAME, DIM) \
extern "C" __global__ void NAME(const bf16* q, const bf16* kc, const bf16* vc, bf16* out, const int* tiles, const int* positions, \
    const int* tables_of_tokens, const int* tables, int max_blocks, int q_heads, int kv_heads, int block_size, float scale, int window) { \
    paged_prefill_mma<DIM>(q, kc, vc, out, tiles, positions, tables_of_tokens, tables, max_blocks, q_heads, kv_heads, block_size, scale, window); \
}
PREFILL_MMA_INSTANCE(paged_prefill_mma_d64, 64)
PREFILL_MMA_INSTANCE(paged_prefill_mma_d128, 128)
